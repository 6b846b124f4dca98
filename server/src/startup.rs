//! Building the router and serving it; used by `main` and by the tests.
use std::{net::SocketAddr, sync::Arc};

use app::orchestrator::{Error, Orchestrator};
use app::state::AppState;
use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use leptos::config::LeptosOptions;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::{services::ServeDir, timeout::TimeoutLayer, trace::TraceLayer};
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};

use crate::{api, download, export, observe, openapi, packages, page_cache, sessions::DbSessionStore};

/// The browser session's cookie.
pub const SESSION_COOKIE: &str = "pipeshare_session";
/// Requests larger than this are refused with 413 before they are read in full.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;
/// The name of the wasm and JavaScript files of the browser app under `<site root>/pkg`.
pub const OUTPUT_NAME: &str = "pipeshare";

pub struct ServerConfig {
    /// Public address used in share URLs, e.g. `https://pipes.example.com`.
    pub base_url: String,
    /// Whether the operator named `base_url` (`PIPESHARE_BASE_URL`): browser writes must then
    /// come from its origin. Otherwise they must come from the `Host` they were sent to.
    pub base_url_set: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`PIPESHARE_TRUSTED_PROXIES`); the
    /// connection's peer is the client otherwise.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Client addresses that may read `/metrics` without an admin token.
    pub metrics_allow: Vec<std::net::IpAddr>,
    /// Folder holding `pkg/` with the browser app's wasm, JavaScript and CSS.
    pub site_root: String,
}

impl ServerConfig {
    /// Session cookies are marked `Secure` when the site is served over https.
    fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// The origin browser writes must come from, when the operator named the public address:
    /// `https://pipes.example.com` of `https://pipes.example.com/hub/`.
    fn trusted_origin(&self) -> Option<String> {
        self.base_url_set.then(|| {
            let (scheme, rest) = self.base_url.split_once("://").unwrap_or(("http", &self.base_url));
            let host = rest.split('/').next().unwrap_or_default();
            format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase())
        })
    }
}

/// A request that takes longer than this is answered 408 and dropped.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub fn router(orchestrator: Orchestrator, config: &ServerConfig, addr: SocketAddr) -> Router {
    let leptos_options =
        LeptosOptions::builder().output_name(OUTPUT_NAME).site_root(config.site_root.as_str()).site_pkg_dir("pkg").site_addr(addr).build();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(orchestrator.db().clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    let pages = Arc::new(page_cache::PageCache::new(orchestrator.clone()));
    let state = AppState {
        leptos_options: leptos_options.clone(),
        orchestrator,
        trusted_proxies: config.trusted_proxies.clone().into(),
        metrics_allow: config.metrics_allow.clone().into(),
        api_document: openapi::document_json(),
    };
    let routes = generate_route_list(app::App);

    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(observe::metrics_page))
        .route("/api/v1/process", post(api::process).fallback(api::method_not_allowed))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route("/api/v1/catalogue", get(download::catalogue))
        .route("/pipes/{name}/download", get(download::download_manifest))
        .route("/pipes/{name}/versions/{version}/package.tar.gz", get(packages::download_package))
        .route("/publish", post(packages::publish_form).layer(DefaultBodyLimit::max(packages::MAX_UPLOAD_BYTES)))
        .route(
            "/api/v1/pipes/publish",
            post(packages::upload).fallback(api::method_not_allowed).layer(DefaultBodyLimit::max(packages::MAX_UPLOAD_BYTES)),
        )
        .route("/reports/export", get(export::export_report))
        .leptos_routes_with_context(&state, routes, app::auth::provide_request_context, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(fallback)
        .layer(middleware::from_fn(sign_in_redirect))
        .layer(middleware::from_fn_with_state(Arc::new(config.trusted_origin()), same_origin_writes))
        .layer(sessions)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn_with_state(pages, page_cache::serve_kept))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(observe::observe))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Unknown addresses: a JSON envelope under `/api/v1/`, otherwise a static file of the site
/// or the app's 404 page.
async fn fallback(State(state): State<AppState>, request: Request<Body>) -> Response {
    if request.uri().path().starts_with("/api/v1/") {
        return Error::NotFound(format!("No API endpoint at {}; use POST /api/v1/process", request.uri().path())).into_response();
    }
    // The site's files (the browser app under /pkg) are served here rather than by
    // leptos_axum's file handler, which can give a file the status of a page rendered at the
    // same moment: a 404 page made the app's wasm answer 404, and the page never came alive.
    let mut file_request = Request::new(Body::empty());
    *file_request.method_mut() = request.method().clone();
    *file_request.uri_mut() = request.uri().clone();
    *file_request.headers_mut() = request.headers().clone();
    let files = ServeDir::new(&*state.leptos_options.site_root).precompressed_gzip().precompressed_br();
    if let Ok(mut file) = files.oneshot(file_request).await
        && file.status() != StatusCode::NOT_FOUND
    {
        // Revalidated on each use (a 304 when unchanged): a rebuilt app is never stale.
        file.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return file.into_response();
    }
    let uri = request.uri().clone();
    leptos_axum::file_and_error_handler::<AppState, _>(app::shell)(uri, State(state), request).await
}

/// A page for signed-in users answers 401 to anyone else; a browser asking for it is sent to
/// the sign-in page instead, and comes back to the page after signing in.
async fn sign_in_redirect(request: Request<Body>, next: Next) -> Response {
    let accepts_html = request.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"));
    let wants_page = request.method() == Method::GET && accepts_html && !request.uri().path().starts_with("/api/");
    // Where to come back to; only a page request needs it.
    let target = wants_page.then(|| request.uri().path_and_query().map_or_else(|| "/".to_string(), |p| p.to_string()));
    let response = next.run(request).await;
    match target {
        Some(target) if response.status() == StatusCode::UNAUTHORIZED => {
            let location = format!("/login?next={}", app::urls::encode(&target));
            (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
        }
        _ => response,
    }
}

/// Cross-site request forgery guard for every write made with a session cookie (forms,
/// server functions, and the JSON API called from this site's pages): a write must come from
/// a page of this site. A request with a bearer token is a script's, which a browser never
/// sends on its own, and is not concerned. Session cookies are also `SameSite=Lax`.
async fn same_origin_writes(State(trusted): State<Arc<Option<String>>>, request: Request<Body>, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || app::auth::bearer(request.headers()).is_some() {
        return next.run(request).await;
    }
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    let cross_site = match (origin, trusted.as_deref(), host) {
        // Behind a proxy the Host may be rewritten; the configured address is what browsers see.
        (Some(origin), Some(trusted), _) => !origin.eq_ignore_ascii_case(trusted),
        (Some(origin), None, Some(host)) => origin.split("://").nth(1) != Some(host),
        (Some(_), None, None) => true,
        // No Origin header: old browsers and scripts; browsers that send Fetch metadata say so.
        (None, _, _) => headers.get("sec-fetch-site").and_then(|s| s.to_str().ok()) == Some("cross-site"),
    };
    if cross_site {
        let refused = Error::Forbidden("Cross-site request refused".into());
        if request.uri().path().starts_with("/api/v1/") {
            return refused.into_response();
        }
        return (refused.status(), refused.public_message()).into_response();
    }
    next.run(request).await
}

/// Headers every answer carries: no content sniffing, no framing by other sites (against
/// click-jacking), no full addresses in the Referer sent elsewhere; and pages and API answers
/// for a signed-in caller are never stored by a shared cache.
async fn security_headers(request: Request<Body>, next: Next) -> Response {
    let personal = app::auth::bearer(request.headers()).is_some()
        || request.headers().get_all(header::COOKIE).iter().any(|c| c.to_str().is_ok_and(|c| c.contains(SESSION_COOKIE)));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|t| t.to_str().ok()).unwrap_or_default();
    if personal && (content_type.starts_with("text/html") || content_type.starts_with("application/json")) {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("private, no-store"));
    }
    response
}

/// 200 once the database answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()),
    responses((status = 200, description = "The database answers", body = String), (status = 503, description = "The database is unreachable", body = String)))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.orchestrator.db().ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(err) => {
            tracing::error!("health check: database unreachable: {err}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, sweeping expired sessions and stale throttle counts once
/// an hour, and sending webhook deliveries.
pub async fn serve(listener: TcpListener, orchestrator: Orchestrator, config: ServerConfig) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let store = DbSessionStore::new(orchestrator.db().clone());
    let db = orchestrator.db().clone();
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(err) = store.delete_expired().await {
                tracing::warn!("sweeping expired sessions: {err}");
            }
            // Counts no longer in force (anonymous downloads from many addresses add rows
            // between sign-ins, which also forget them).
            if let Err(err) = app::orchestrator::throttle::forget_stale(&db).await {
                tracing::warn!("sweeping old throttle counts: {err}");
            }
        }
    });
    let workers = crate::webhooks::WorkerConfig::from_env();
    crate::webhooks::spawn(orchestrator.db().clone(), workers);
    spawn_source_scans(orchestrator.db().clone());
    crate::mail::spawn(orchestrator.db().clone(), orchestrator.base_url().to_string(), workers.poll, workers.retry_base);
    let app = router(orchestrator, &config, addr).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
}

/// Rescans the registry sources that are due, one at a time, every few seconds
/// (`PIPESHARE_SOURCE_POLL_MS`, default 5000); a lease keeps two servers off one source.
fn spawn_source_scans(db: sea_orm::DatabaseConnection) {
    let poll = std::env::var("PIPESHARE_SOURCE_POLL_MS").ok().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0).unwrap_or(5000);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(poll));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = app::orchestrator::sources::scan_due(&db).await {
                tracing::warn!("scanning sources: {err}");
            }
        }
    });
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
