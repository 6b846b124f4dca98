//! `POST /api/v1/process`: the seed's `process(context, config)` over HTTP, with a bearer
//! token. Every answer, including every rejection, is the seed's JSON envelope.
use app::orchestrator::{Caller, Error, Orchestrator, accounts};
use axum::{
    Json,
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

pub const SUCCESS_MESSAGE: &str = "Pipe sharing orchestration completed";
pub const FAILURE_MESSAGE: &str = "Pipe sharing orchestration failed";

pub fn success(result: Value) -> Response {
    (StatusCode::OK, Json(json!({"success": true, "message": SUCCESS_MESSAGE, "result": result}))).into_response()
}

pub fn failure(status: StatusCode, error: impl Into<String>) -> Response {
    let mut response = (status, Json(json!({"success": false, "message": FAILURE_MESSAGE, "error": error.into()}))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

pub fn status_of(error: &Error) -> StatusCode {
    StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn error_response(error: Error) -> Response {
    if let Error::Internal(detail) = &error {
        tracing::error!("{detail}");
    }
    failure(status_of(&error), error.public_message())
}

async fn caller_from(orchestrator: &Orchestrator, headers: &HeaderMap) -> Result<Caller, Error> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| Error::Unauthorized("Missing API token: send the header 'Authorization: Bearer <token>'".into()))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(|| Error::Unauthorized("The Authorization header must be 'Bearer <token>'".into()))?;
    accounts::authenticate_token(orchestrator.db(), token).await?.ok_or_else(|| Error::Unauthorized("Invalid API token".into()))
}

/// Splits the body into `context` and `config` (absent config means `{}`).
fn parse_body(body: &[u8]) -> Result<(Value, Value), Error> {
    let value: Value = serde_json::from_slice(body).map_err(|err| Error::bad(format!("Malformed JSON: {err}")))?;
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

pub async fn process(State(orchestrator): State<Orchestrator>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let caller = match caller_from(&orchestrator, &headers).await {
        Ok(caller) => caller,
        Err(err) => return error_response(err),
    };
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                format!("The request body is larger than {} bytes", crate::startup::BODY_LIMIT_BYTES)
            } else {
                rejection.body_text()
            };
            return failure(status, message);
        }
    };
    let (context, config) = match parse_body(&body) {
        Ok(parts) => parts,
        Err(err) => return error_response(err),
    };
    match orchestrator.process(&caller, &context, &config).await {
        Ok(result) => success(result),
        Err(err) => error_response(err),
    }
}

pub async fn method_not_allowed() -> Response {
    failure(StatusCode::METHOD_NOT_ALLOWED, "Use POST with a JSON body: {\"context\": {...}, \"config\": {...}}")
}
