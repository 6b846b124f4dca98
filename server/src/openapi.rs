//! `GET /api/v1/openapi.json`: the whole HTTP API described for machines (OpenAPI 3.1),
//! built once from the handlers' `#[utoipa::path]` attributes and the orchestrator's types
//! (`app::openapi`). The app's **API** page shows the same document to people.
use std::sync::{Arc, LazyLock};

use app::http::FAILURE_MESSAGE;
use app::openapi::{ErrorEnvelope, ProcessAnswer, ProcessRequest};
use axum::{Json, extract::State, response::IntoResponse};
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use app::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pipeshare",
        description = "A hub for PlugPipe pipes. `POST /api/v1/process` runs one action of the orchestrator \
            (the seed's `process(context, config)`); every answer, success or failure, is the JSON envelope \
            `{success, message, result | error}`. Scripts authenticate with `Authorization: Bearer <token>` \
            (create one on the Tokens page or with `pipeshare token create`); this site's own pages use the \
            session cookie."
    ),
    paths(
        crate::api::process,
        crate::download::download_manifest,
        crate::download::catalogue,
        crate::packages::download_package,
        crate::packages::upload,
        crate::export::export_report,
        crate::observe::metrics_page,
        crate::startup::healthz,
        document,
    ),
    components(schemas(ProcessRequest, ProcessAnswer, ErrorEnvelope)),
    modifiers(&Security, &Failures),
    tags(
        (name = "process", description = "The orchestrator's actions"),
        (name = "files", description = "Downloads and exports"),
        (name = "operations", description = "Health, metrics and this description"),
    )
)]
struct ApiDoc;

/// The two ways in: a bearer token (scripts) and the session cookie (this site's pages).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API token of a pipeshare user")).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let session = ApiKey::Cookie(ApiKeyValue::with_description(
            crate::startup::SESSION_COOKIE,
            "A browser session; JSON calls only from this site's pages",
        ));
        components.add_security_scheme("session", SecurityScheme::ApiKey(session));
    }
}

/// Every route fails the same way: the error envelope, with the status of its kind
/// (`Error::http_status`). Listed once here, not on each handler.
struct Failures;

/// Status, what it means, and an `error` text it may carry.
const FAILURES: [(&str, &str, &str); 7] = [
    ("400", "The input is malformed or out of range; `error` names the field", "Pipe name is required for sharing operation"),
    ("401", "No caller: a bad or missing token where one is needed", "This API token has expired"),
    ("403", "The caller may see the thing but not do this", "Permission denied: User lacks sharing permissions for pipe 'data-cleaner'"),
    ("404", "No such thing, or the caller may not see it", "Pipe 'data-cleaner' not found"),
    ("409", "The action clashes with what is stored (a duplicate, a quota, a request already reviewed)", "User 'alice' already exists"),
    ("413", "The body or a value is larger than the instance accepts", "The request body is larger than 1048576 bytes"),
    ("429", "Too many attempts; `Retry-After` says when to try again", "Too many attempts; try again in 60 seconds"),
];

impl Modify for Failures {
    fn modify(&self, openapi: &mut Document) {
        let envelope = |error: &str| {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorEnvelope::name())))
                .example(Some(serde_json::json!({"success": false, "message": FAILURE_MESSAGE, "error": error})))
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [&mut item.get, &mut item.post, &mut item.head].into_iter().flatten() {
                for (status, description, error) in FAILURES {
                    let response = ResponseBuilder::new().description(description).content("application/json", envelope(error)).build();
                    operation.responses.responses.entry(status.to_string()).or_insert(response.into());
                }
            }
        }
    }
}

/// The document as JSON, built once.
pub fn document_json() -> Arc<Value> {
    static DOCUMENT: LazyLock<Arc<Value>> =
        LazyLock::new(|| Arc::new(serde_json::to_value(ApiDoc::openapi()).expect("the API description serialises")));
    DOCUMENT.clone()
}

/// The API description.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")))]
pub async fn document(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.api_document.as_ref().clone())
}
