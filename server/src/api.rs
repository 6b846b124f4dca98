//! `POST /api/v1/process`: the seed's `process(context, config)` over HTTP, for a bearer
//! token or (from this site's pages) a browser session. Every answer, including every
//! rejection, is the seed's JSON envelope.
use app::auth::Auth;
use app::http::success;
use app::orchestrator::{Error, Orchestrator};
use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::StatusCode,
    response::Response,
};
use serde_json::{Value, json};

/// Splits the body into `context` and `config` (absent config means `{}`).
fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<(Value, Value), Error> {
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            Error::TooLarge(format!("The request body is larger than {} bytes", crate::startup::BODY_LIMIT_BYTES))
        }
        _ => Error::bad(rejection.body_text()),
    })?;
    let value: Value = serde_json::from_slice(&body).map_err(|err| Error::bad(format!("Malformed JSON: {err}")))?;
    let Value::Object(mut body) = value else {
        return Err(Error::bad("The request body must be a JSON object: {\"context\": {...}, \"config\": {...}}"));
    };
    let context = body.remove("context").ok_or_else(|| Error::bad("context is required"))?;
    let config = match body.remove("config") {
        None | Some(Value::Null) => json!({}),
        Some(config) => config,
    };
    Ok((context, config))
}

/// Runs one action of the orchestrator for the caller.
#[utoipa::path(post, path = "/api/v1/process", tag = "process",
    request_body(content = app::openapi::ProcessRequest, description = "`context.action` names the action; each variant of `context` lists its fields"),
    responses((status = 200, body = app::openapi::ProcessAnswer, description = "The action ran; `result` has the shape the action's `x-result` names")),
    security(("bearer" = []), ("session" = [])))]
pub async fn process(State(orchestrator): State<Orchestrator>, auth: Auth, body: Result<Bytes, BytesRejection>) -> Result<Response, Error> {
    let caller = auth.require()?;
    let (context, config) = parse_body(body)?;
    Ok(success(orchestrator.process(&caller, &context, &config).await?))
}

pub async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed("Use POST with a JSON body: {\"context\": {...}, \"config\": {...}}".into())
}
