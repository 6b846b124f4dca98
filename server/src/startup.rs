//! Building the router and serving it; used by `main` and by the tests.
use app::orchestrator::Orchestrator;
use axum::{Router, extract::DefaultBodyLimit, http::StatusCode, routing::get, routing::post};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::{api, pages};

/// Requests larger than this are refused with 413 before they are read in full.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;

pub fn router(orchestrator: Orchestrator) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/v1/process", post(api::process).fallback(api::method_not_allowed))
        .route("/pipes/{name}", get(pages::pipe_page))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(TraceLayer::new_for_http())
        .with_state(orchestrator)
}

/// 200 once the database answers.
async fn healthz(axum::extract::State(orchestrator): axum::extract::State<Orchestrator>) -> (StatusCode, &'static str) {
    match orchestrator.db().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(err) => {
            tracing::error!("health check: database unreachable: {err}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(listener: TcpListener, orchestrator: Orchestrator) -> std::io::Result<()> {
    axum::serve(listener, router(orchestrator)).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
