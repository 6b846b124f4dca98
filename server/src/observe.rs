//! Watching the server: a request id on every request (in its log lines and the
//! `X-Request-Id` header), per-route counts and latencies for `/metrics`, and `/metrics` itself.
use std::time::Instant;

use app::auth::{Auth, ClientAddress};
use app::metrics::{PoolStats, metrics};
use app::orchestrator::Error;
use app::state::AppState;
use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::RngCore;
use sea_orm::{ConnectionTrait, DbBackend, sqlx};
use tracing::Instrument;

/// The header carrying a request's id, both ways.
pub const REQUEST_ID: &str = "x-request-id";

/// A request id sent by a proxy is kept when it is short and plain; otherwise a new one.
fn request_id(request: &Request<Body>) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(String::from)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            rand::thread_rng().fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        })
}

/// Runs the request inside a span that names its id (so every log line of it carries the
/// id), counts it for `/metrics`, logs one line when answered, and returns the id.
pub async fn observe(request: Request<Body>, next: Next) -> Response {
    let id = request_id(&request);
    // The router's pattern, never the address itself: labels stay few.
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "other".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut response = app::orchestrator::kept::arrived_at(started, next.run(request)).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    metrics().observe_request(&route, &method, status, seconds);
    span.in_scope(|| tracing::info!(status, ms = (seconds * 1000.0).round(), "answered"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// `GET /metrics`: for the addresses allowed (`PIPESHARE_METRICS_ALLOW`, loopback by
/// default) or an instance admin's token.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)),
    security((), ("bearer" = [])))]
pub async fn metrics_page(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    Auth(caller): Auth,
) -> Result<Response, Error> {
    let allowed = client.is_some_and(|address| state.metrics_allow.contains(&address)) || caller.is_some_and(|c| c.is_admin);
    if !allowed {
        return Err(Error::Forbidden("Metrics are for the allowed addresses and instance admins".into()));
    }
    let db = state.orchestrator.db();
    let pool = match db.get_database_backend() {
        DbBackend::Postgres => pool_stats(db.get_postgres_connection_pool()),
        _ => pool_stats(db.get_sqlite_connection_pool()),
    };
    let queues = app::orchestrator::webhooks::queue_stats(db).await?;
    let sources = app::orchestrator::sources::source_stats(db).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics().render(&pool, &queues, &sources)).into_response())
}

fn pool_stats<D: sqlx::Database>(pool: &sqlx::Pool<D>) -> PoolStats {
    let (size, idle) = (u64::from(pool.size()), pool.num_idle() as u64);
    PoolStats { in_use: size.saturating_sub(idle), idle, max: u64::from(pool.options().get_max_connections()) }
}
