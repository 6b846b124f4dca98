//! The browser's doors onto the orchestrator. Each server function finds the caller from the
//! session, calls the orchestrator, and turns its error into a message; no rule lives here.
pub mod account;
pub mod admin;
pub mod pipes;
pub mod reports;

use leptos::prelude::ServerFnError;

/// The text of a server function's error, for showing on the page.
pub fn error_text(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        other => format!("The server could not be reached ({other})"),
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use leptos::prelude::*;
    use leptos_axum::ResponseOptions;
    use tower_sessions::Session;

    use crate::orchestrator::{Caller, Error, Orchestrator};
    use crate::state::{AppState, RequestViewer, session_caller};

    /// A form checkbox sends a value only when ticked.
    pub fn ticked(value: &Option<String>) -> bool {
        value.as_deref().is_some_and(|v| !v.is_empty() && v != "false")
    }

    pub fn state() -> Result<AppState, ServerFnError> {
        use_context::<AppState>().ok_or_else(|| ServerFnError::new("The server is missing its state"))
    }

    pub fn orchestrator() -> Result<Orchestrator, ServerFnError> {
        Ok(state()?.orchestrator)
    }

    pub async fn session() -> Result<Session, ServerFnError> {
        leptos_axum::extract::<Session>().await.map_err(|_| ServerFnError::new("No session"))
    }

    /// The signed-in user, or `None` for an anonymous visitor.
    pub async fn viewer() -> Result<Option<Caller>, ServerFnError> {
        let session = session().await?;
        let db = orchestrator()?;
        match use_context::<RequestViewer>() {
            Some(viewer) => viewer.get_or_load(&session, db.db()).await,
            None => session_caller(&session, db.db()).await,
        }
        .map_err(to_server_error)
    }

    /// The signed-in user; anyone else is told to sign in (HTTP 401).
    pub async fn caller() -> Result<Caller, ServerFnError> {
        match viewer().await? {
            Some(caller) => Ok(caller),
            None => Err(to_server_error(Error::Unauthorized("Please sign in first".into()))),
        }
    }

    /// Maps an orchestrator error to a server function error, with the matching HTTP status
    /// on the response (a page rendered on the server answers 404 for a hidden pipe).
    pub fn to_server_error(error: Error) -> ServerFnError {
        use axum::http::StatusCode;
        if let Error::Internal(detail) = &error {
            tracing::error!("{detail}");
        }
        let status = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(response) = use_context::<ResponseOptions>() {
            response.set_status(status);
        }
        ServerFnError::new(error.public_message())
    }
}
