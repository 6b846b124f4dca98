//! The browser's doors onto the orchestrator. Each server function finds the caller (one
//! helper, [`ssr::caller`]), calls the orchestrator, and returns `Result<_, AppError>`: an
//! orchestrator error becomes an `AppError` with `?`, which also sets the response status.
pub mod account;
pub mod admin;
pub mod api;
pub mod inbox;
pub mod pipes;
pub mod reports;
pub mod sources;
pub mod webhooks;

use std::fmt;

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What a failed server function answers, the same on both sides of the wire; pages show
/// [`AppError::message`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// The server refused or failed the call: its HTTP status and the message for the page.
    Refused { status: u16, message: String },
    /// The call itself failed: the server could not be reached, or its answer not read.
    Transport(String),
}

impl AppError {
    /// The text to show on the page.
    pub fn message(&self) -> String {
        match self {
            AppError::Refused { message, .. } => message.clone(),
            AppError::Transport(detail) => format!("The server could not be reached ({detail})"),
        }
    }

    /// The page needs a signed-in user.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, AppError::Refused { status: 401, .. })
    }

    /// A refusal made in the page's own code (a form left empty), as a 400.
    pub fn bad(message: impl Into<String>) -> Self {
        AppError::Refused { status: 400, message: message.into() }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::ServerError(message) => AppError::Refused { status: 500, message },
            // The server could not read the call's arguments: a bad form value.
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => AppError::bad(message),
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::orchestrator::Error> for AppError {
    /// Logs what the page is not shown and sets the response's status (a page rendered on
    /// the server answers 404 for a hidden pipe).
    fn from(error: crate::orchestrator::Error) -> Self {
        error.log();
        let status = error.status();
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
            if let crate::orchestrator::Error::TooManyRequests(_, seconds) = &error {
                response.insert_header(axum::http::header::RETRY_AFTER, (*seconds).into());
            }
        }
        AppError::Refused { status: status.as_u16(), message: error.public_message() }
    }
}

#[cfg(feature = "ssr")]
impl From<tower_sessions::session::Error> for AppError {
    fn from(error: tower_sessions::session::Error) -> Self {
        crate::orchestrator::Error::Internal(format!("session: {error}")).into()
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use axum::http::request::Parts;
    use leptos::prelude::*;
    use tower_sessions::Session;

    use super::AppError;
    use crate::auth::{RequestCaller, authenticate, sign_in_required};
    use crate::orchestrator::{Caller, Error, Orchestrator};
    use crate::state::AppState;

    /// A form checkbox sends a value only when ticked.
    pub fn ticked(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| !v.is_empty() && v != "false")
    }

    pub fn state() -> Result<AppState, AppError> {
        Ok(use_context::<AppState>().ok_or_else(|| Error::Internal("the server is missing its state".into()))?)
    }

    pub fn orchestrator() -> Result<Orchestrator, AppError> {
        Ok(state()?.orchestrator)
    }

    pub async fn session() -> Result<Session, AppError> {
        Ok(leptos_axum::extract::<Session>().await.map_err(|e| Error::Internal(format!("no session: {e}")))?)
    }

    /// The caller of this request (session or bearer token, checked as every door checks
    /// it), or `None` for an anonymous visitor.
    pub async fn caller_if_any() -> Result<Option<Caller>, AppError> {
        let parts = use_context::<Parts>().ok_or_else(|| Error::Internal("no request parts".into()))?;
        let orchestrator = orchestrator()?;
        let found = match use_context::<RequestCaller>() {
            Some(cached) => cached.get_or_load(&parts, &orchestrator).await,
            None => authenticate(&parts, &orchestrator).await,
        };
        Ok(found?)
    }

    /// The address of the client of this request, when known.
    pub fn client_address() -> Option<std::net::IpAddr> {
        let parts = use_context::<Parts>()?;
        let state = use_context::<AppState>()?;
        crate::auth::client_address(&parts, &state.trusted_proxies)
    }

    /// The signed-in caller; anyone else is told to sign in (HTTP 401).
    pub async fn caller() -> Result<Caller, AppError> {
        Ok(caller_if_any().await?.ok_or_else(sign_in_required)?)
    }
}

#[cfg(test)]
mod tests {
    use leptos::server_fn::{ServerFn, xxhash_rust::const_xxh64::xxh64};

    #[test]
    fn server_function_addresses_do_not_depend_on_the_folder_built_in() {
        // `.cargo/config.toml` sets the key (without it this does not compile); with the
        // folder in the hash, a site and a server built in two checkouts would not find each
        // other's functions (405).
        let hash = xxh64(concat!(env!("SERVER_FN_OVERRIDE_KEY"), ":app::server_fns::pipes").as_bytes(), 0);
        assert_eq!(super::pipes::SharePipe::PATH, format!("/api/share_pipe{hash}"));
        assert_eq!(super::account::Login::PATH, "/api/login", "named endpoints keep their names");
    }
}
