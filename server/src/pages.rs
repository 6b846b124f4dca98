//! HTML pages served by the server itself: a pipe's public share page and the 404 page.
use app::orchestrator::{Error, Orchestrator, access, catalog};
use axum::{
    extract::{Path, State},
    http::{StatusCode, Uri},
    response::{Html, IntoResponse, Response},
};

use crate::api;

const STYLE: &str = include_str!("../../style/main.css");

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · pipeshare</title><style>{STYLE}</style></head>\
<body><header class=\"site\"><a href=\"/\">pipeshare</a></header><main>{body}</main></body></html>",
        escape(title)
    )
}

fn not_found_page() -> Response {
    let body = "<div class=\"card\"><h1>Not found</h1><p>There is no page here, or it is not shared with you.</p></div>";
    (StatusCode::NOT_FOUND, Html(page("Not found", body))).into_response()
}

/// The unknown-path answer: an envelope under `/api/`, a page elsewhere.
pub async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        api::failure(StatusCode::NOT_FOUND, format!("No API endpoint at {}; use POST /api/v1/process", uri.path()))
    } else {
        not_found_page()
    }
}

/// `GET /pipes/<name>`: the public share page, shown while the pipe has an active public
/// share; anyone else gets the same 404 as for a pipe that does not exist.
pub async fn pipe_page(State(orchestrator): State<Orchestrator>, Path(name): Path<String>) -> Response {
    match render_pipe(&orchestrator, &name).await {
        Ok(html) => Html(html).into_response(),
        Err(Error::NotFound(_)) => not_found_page(),
        Err(err) => {
            tracing::error!("pipe page {name}: {err}");
            let body = "<div class=\"card\"><h1>Something went wrong</h1><p>The page could not be built. Try again later.</p></div>";
            (StatusCode::INTERNAL_SERVER_ERROR, Html(page("Error", body))).into_response()
        }
    }
}

async fn render_pipe(orchestrator: &Orchestrator, name: &str) -> Result<String, Error> {
    let db = orchestrator.db();
    let pipe = access::public_pipe(db, name).await?;
    let versions = catalog::versions_of(db, pipe.id).await?;
    let owner = catalog::usernames(db, [pipe.owner_id]).await?.remove(&pipe.owner_id).unwrap_or_default();
    let manifest = versions
        .first()
        .and_then(|v| serde_json::from_str::<serde_json::Value>(&v.spec).ok())
        .and_then(|spec| serde_norway::to_string(&spec).ok())
        .unwrap_or_default();
    let fact = |label: &str, value: Option<&str>| {
        value.map(|v| format!("<dt>{label}</dt><dd>{}</dd>", escape(v))).unwrap_or_default()
    };
    let version_list = versions.iter().map(|v| escape(&v.version)).collect::<Vec<_>>().join(", ");
    let tags: String = catalog::tags(&pipe).iter().map(|t| format!("<span class=\"tag\">{}</span>", escape(t))).collect();
    let body = format!(
        "<article class=\"card\"><h1>{name}</h1><p class=\"meta\">{description}</p>\
<dl class=\"facts\">{owner}{latest}<dt>Versions</dt><dd>{version_list}</dd>{category}{status}{author}</dl>\
<p>{tags}</p></article>\
<section class=\"card\"><h2>Manifest</h2><pre class=\"manifest\">{manifest}</pre></section>",
        name = escape(&pipe.name),
        description = escape(pipe.description.as_deref().unwrap_or("")),
        owner = fact("Owner", Some(&owner)),
        latest = fact("Latest version", Some(&pipe.latest_version)),
        category = fact("Category", pipe.category.as_deref()),
        status = fact("Status", pipe.status.as_deref()),
        author = fact("Author", pipe.author.as_deref()),
        manifest = escape(&manifest),
    );
    Ok(page(&pipe.name, &body))
}
