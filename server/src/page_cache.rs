//! Pipe pages as anonymous visitors see them, kept once rendered. A page is a function of
//! what `pipe_details` says to an anonymous visitor (who is then shown no personal part), and
//! the page is rendered from the details read here. A kept page is sent:
//! - while the catalogue's revision (one number the database moves on every committed change
//!   to what such a page shows, by any instance) is the one it was checked at, for at most
//!   `RECHECK_AFTER`: one read instead of the page's own;
//! - otherwise, while its details, read again, are exactly what it was rendered from (a
//!   change elsewhere in the catalogue moves the revision without changing this page).
//!
//! Anything else (a new version, a share withdrawn, a download counted) renders it again.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::metrics::PageOutcome;
use app::model::PipeName;
use app::orchestrator::Orchestrator;
use app::server_fns::pipes::AnonymousPipeDetails;
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// The most bytes of pages (and their details) kept; past it, others make room.
const BUDGET_BYTES: usize = 32 << 20;
/// A larger page is not kept.
const LARGEST_PAGE: usize = 1 << 20;
/// How long a page is sent on the revision alone before its details are read again anyway: a
/// safety net, should a change ever reach a page without moving the revision.
const RECHECK_AFTER: Duration = Duration::from_secs(10);

struct Kept {
    /// `pipe_details` for an anonymous visitor, as JSON, when the page was rendered.
    details: Vec<u8>,
    /// The catalogue's revision read before the details last found unchanged, and when.
    revision: i64,
    checked: Instant,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }

    fn size(&self, address: &str) -> usize {
        address.len() + self.details.len() + self.body.len()
    }
}

/// The kept pages of this process, by address (path and query).
pub struct PageCache {
    orchestrator: Orchestrator,
    pages: Mutex<(HashMap<String, Kept>, usize)>,
}

impl PageCache {
    pub fn new(orchestrator: Orchestrator) -> Self {
        PageCache { orchestrator, pages: Mutex::new((HashMap::new(), 0)) }
    }

    /// The page kept at `address`, if it was checked at `revision` lately.
    fn current(&self, address: &str, revision: i64) -> Option<Response> {
        let pages = self.pages.lock().ok()?;
        pages.0.get(address).filter(|kept| kept.revision == revision && kept.checked.elapsed() < RECHECK_AFTER).map(Kept::response)
    }

    /// The page kept at `address`, if it was rendered from `details`; it is then current at
    /// `revision` (read before the details).
    fn confirmed(&self, address: &str, details: &[u8], revision: i64) -> Option<Response> {
        let mut pages = self.pages.lock().ok()?;
        let kept = pages.0.get_mut(address).filter(|kept| kept.details == details)?;
        (kept.revision, kept.checked) = (revision, Instant::now());
        Some(kept.response())
    }

    fn keep(&self, address: String, kept: Kept) {
        let Ok(mut pages) = self.pages.lock() else {
            return;
        };
        let (pages, used) = &mut *pages;
        let size = kept.size(&address);
        if let Some(old) = pages.remove(&address) {
            *used -= old.size(&address);
        }
        while *used + size > BUDGET_BYTES {
            let Some(other) = pages.keys().next().cloned() else { break };
            if let Some(old) = pages.remove(&other) {
                *used -= old.size(&other);
            }
        }
        *used += size;
        pages.insert(address, kept);
    }
}

/// The pipe a request asks the page of, when it is an anonymous visitor's `GET /pipes/{name}`.
fn anonymous_pipe_page(request: &Request) -> Option<PipeName> {
    let headers = request.headers();
    let personal = headers.contains_key(header::AUTHORIZATION) || headers.contains_key(header::COOKIE);
    if request.method() != Method::GET || personal {
        return None;
    }
    let segment = request.uri().path().strip_prefix("/pipes/")?;
    if segment.contains('/') {
        return None;
    }
    app::urls::decode(segment)?.parse().ok()
}

/// Serves an anonymous visitor's pipe page from the cache while it is current, and keeps what
/// is rendered otherwise.
pub async fn serve_kept(State(cache): State<std::sync::Arc<PageCache>>, mut request: Request, next: Next) -> Response {
    let Some(name) = anonymous_pipe_page(&request) else {
        return next.run(request).await;
    };
    let address = request.uri().path_and_query().map_or_else(|| request.uri().path().to_string(), |p| p.as_str().to_string());
    let metrics = app::metrics::metrics();
    // Read before the details: a change committed between the two reads leaves the page
    // kept under an older revision, checked again on the next visit, never the other way.
    let Ok(revision) = cache.orchestrator.revisions().await.map(|r| r.catalog) else {
        return next.run(request).await;
    };
    if let Some(page) = cache.current(&address, revision) {
        metrics.count_page(PageOutcome::Kept);
        return page;
    }
    let details = match cache.orchestrator.pipe_details(None, &name).await {
        Ok(details) => details,
        Err(err) => {
            // A pipe the visitor may not see gets the page that says so, rendered each time
            // from this answer (not read again).
            request.extensions_mut().insert(AnonymousPipeDetails { name: name.to_string(), details: Err(err.into()) });
            return next.run(request).await;
        }
    };
    let Ok(key) = serde_json::to_vec(&details) else {
        return next.run(request).await;
    };
    if let Some(page) = cache.confirmed(&address, &key, revision) {
        metrics.count_page(PageOutcome::Confirmed);
        return page;
    }
    metrics.count_page(PageOutcome::Rendered);
    // The page is rendered from these details, so it is kept under them.
    request.extensions_mut().insert(AnonymousPipeDetails { name: name.to_string(), details: Ok(Arc::new(details)) });
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    // The page is this server's own rendering, already bounded by what it shows.
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("rendering the page: {err}")).into_response(),
    };
    if body.len() <= LARGEST_PAGE {
        let kept = Kept { details: key, revision, checked: Instant::now(), headers: parts.headers.clone(), body: body.clone() };
        cache.keep(address, kept);
    }
    Response::from_parts(parts, Body::from(body))
}
