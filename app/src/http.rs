//! How an orchestrator answer leaves over HTTP: the seed's JSON envelope, with the status of
//! the error. Every route (the JSON API, downloads, exports, and whatever comes next) answers
//! an error through this one mapping, so a handler returns `Result<_, Error>` and uses `?`.
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::openapi::ErrorEnvelope;
use crate::orchestrator::Error;

pub const SUCCESS_MESSAGE: &str = "Pipe sharing orchestration completed";
pub const FAILURE_MESSAGE: &str = "Pipe sharing orchestration failed";

/// `{"success": true, "message": ..., "result": ...}` with 200.
pub fn success(result: Value) -> Response {
    (StatusCode::OK, Json(json!({"success": true, "message": SUCCESS_MESSAGE, "result": result}))).into_response()
}

impl Error {
    /// The HTTP status of this error, the one place it is decided.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Logs what the caller is not shown; called once, where the error leaves a door.
    pub fn log(&self) {
        if let Error::Internal(detail) = self {
            tracing::error!("{detail}");
        }
    }
}

/// `{"success": false, "message": ..., "error": ...}` with the error's status; a 401 also
/// says how to authenticate, a 429 when to try again.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let status = self.status();
        let body = ErrorEnvelope { success: false, message: FAILURE_MESSAGE.into(), error: self.public_message() };
        let mut response = (status, Json(body)).into_response();
        match self {
            Error::Unauthorized(_) => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::TooManyRequests(_, seconds) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}
