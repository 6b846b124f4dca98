//! Signing in and out, and API tokens.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator, session, to_server_error, viewer};
use crate::model::TokenInfo;

/// Who is signed in, as the pages need it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    pub is_admin: bool,
}

#[server]
pub async fn whoami() -> Result<Option<Me>, ServerFnError> {
    Ok(viewer().await?.map(|c| Me { username: c.username, is_admin: c.is_admin }))
}

/// Where to go after signing in: only a path on this site, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_string(),
        _ => "/".to_string(),
    }
}

/// The one message for a failed sign-in: it does not tell whether the user exists.
pub const WRONG_LOGIN: &str = "Wrong user name or password";

/// At a fixed address (`/api/login`), so scripts and tests can sign in with a form post.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), ServerFnError> {
    use crate::state::SESSION_USER;

    let found = crate::orchestrator::sign_in::sign_in(orchestrator()?.db(), &username, &password).await.map_err(to_server_error)?;
    let Some(caller) = found else {
        return Err(to_server_error(crate::orchestrator::Error::Unauthorized(WRONG_LOGIN.into())));
    };
    let session = session().await?;
    // A new session id at sign-in, so an id planted before it is worth nothing.
    session.cycle_id().await.map_err(|e| ServerFnError::new(format!("Session: {e}")))?;
    session.insert(SESSION_USER, caller.user_id).await.map_err(|e| ServerFnError::new(format!("Session: {e}")))?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let session = session().await?;
    session.flush().await.map_err(|e| ServerFnError::new(format!("Session: {e}")))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Whether the sign-in page offers to create an account.
#[server]
pub async fn signup_open() -> Result<bool, ServerFnError> {
    use crate::orchestrator::settings::Settings;
    Ok(Settings::load(orchestrator()?.db()).await.map_err(to_server_error)?.allow_self_signup)
}

#[server]
pub async fn signup(username: String, password: String) -> Result<(), ServerFnError> {
    use crate::orchestrator::admin;
    use crate::state::SESSION_USER;

    let caller = admin::sign_up(orchestrator()?.db(), &username, &password).await.map_err(to_server_error)?;
    let session = session().await?;
    session.cycle_id().await.map_err(|e| ServerFnError::new(format!("Session: {e}")))?;
    session.insert(SESSION_USER, caller.user_id).await.map_err(|e| ServerFnError::new(format!("Session: {e}")))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::accounts::list_tokens(orchestrator()?.db(), &caller).await.map_err(to_server_error)
}

/// Creates a token and returns it; this is the only time it is shown.
#[server]
pub async fn create_token(label: String) -> Result<String, ServerFnError> {
    let caller = caller().await?;
    let label = label.trim();
    let label = if label.is_empty() { "browser" } else { label };
    crate::orchestrator::accounts::create_token(orchestrator()?.db(), &caller.username, label).await.map_err(to_server_error)
}

#[server]
pub async fn revoke_token(id: i32) -> Result<(), ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::accounts::revoke_token(orchestrator()?.db(), &caller, id).await.map_err(to_server_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/pipes/x")), "/pipes/x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
