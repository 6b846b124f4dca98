//! Signing in and out, and API tokens.
use leptos::prelude::*;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, caller_if_any, client_address, orchestrator, session};
use crate::model::{Caller, TokenInfo};

/// Who is signed in, for the header of every page.
#[server]
pub async fn whoami() -> Result<Option<Caller>, AppError> {
    caller_if_any().await
}

/// Where to go after signing in: only a path on this site, never another site. Browsers drop
/// tabs and line breaks from addresses (`/\t/evil.example` becomes `//evil.example`) and read
/// `\` as `/`, so a path holding either, or any control character, is refused; so is one too
/// long for an address.
pub fn safe_next(next: Option<&str>) -> String {
    const LONGEST: usize = 2048;
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.len() <= LONGEST
                && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace()) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The one message for a failed sign-in: it does not tell whether the user exists.
pub const WRONG_LOGIN: &str = "Wrong user name or password";

/// Starts a session for `caller`, under a new session id so an id planted before it is worth
/// nothing.
#[cfg(feature = "ssr")]
async fn start_session(caller: &Caller) -> Result<(), AppError> {
    let epoch = orchestrator()?.session_epoch(caller).await?;
    let session = session().await?;
    session.cycle_id().await?;
    session.insert(crate::auth::SESSION_USER, caller.user_id).await?;
    session.insert(crate::auth::SESSION_EPOCH, epoch).await?;
    Ok(())
}

/// At a fixed address (`/api/login`), so scripts and tests can sign in with a form post.
#[server(endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let caller = orchestrator()?
        .sign_in(&username, &password, client_address())
        .await?
        .ok_or_else(|| crate::orchestrator::Error::Unauthorized(WRONG_LOGIN.into()))?;
    start_session(&caller).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    session().await?.flush().await?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Whether the sign-in page offers to create an account.
#[server]
pub async fn signup_open() -> Result<bool, AppError> {
    Ok(orchestrator()?.settings().await?.allow_self_signup)
}

/// At a fixed address (`/api/signup`), like sign-in.
#[server(endpoint = "signup")]
pub async fn signup(username: String, password: String) -> Result<(), AppError> {
    let caller = orchestrator()?.sign_up(&crate::orchestrator::input::parse(&username)?, &password, client_address()).await?;
    start_session(&caller).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The caller's own API tokens.
#[server]
pub async fn list_tokens() -> Result<Vec<TokenInfo>, AppError> {
    let caller = caller().await?;
    let own = crate::orchestrator::input::parse(&caller.username)?;
    Ok(orchestrator()?.list_tokens(Some(&caller), Some(&own)).await?)
}

/// Creates a token and returns it; this is the only time it is shown. `expires` is a
/// lifetime such as `90d` (empty: never); `read_only` a ticked checkbox.
#[server]
pub async fn create_token(label: String, #[server(default)] expires: String, read_only: Option<String>) -> Result<String, AppError> {
    use crate::orchestrator::accounts::{NewToken, parse_lifetime};

    let caller = caller().await?;
    let label = label.trim();
    let label = if label.is_empty() { "browser" } else { label };
    let expires = expires.trim();
    let expires_at = if expires.is_empty() { None } else { Some(crate::orchestrator::now() + parse_lifetime(expires)?) };
    let scope = if super::ssr::ticked(&read_only) { crate::model::TokenScope::ReadOnly } else { crate::model::TokenScope::Full };
    let username = crate::orchestrator::input::parse(&caller.username)?;
    let new = NewToken { label: label.to_string(), expires_at, scope };
    Ok(orchestrator()?.create_token(Some(&caller), &username, &new).await?)
}

/// Revokes a token of the caller's (an admin: anyone's).
#[server]
pub async fn revoke_token(id: i32) -> Result<(), AppError> {
    Ok(orchestrator()?.revoke_token(Some(&caller().await?), id).await?)
}

/// Sets where the caller's notification emails go (empty: nowhere).
#[server]
pub async fn set_my_email(email: String) -> Result<String, AppError> {
    let caller = caller().await?;
    let username = crate::orchestrator::input::parse(&caller.username)?;
    Ok(match orchestrator()?.set_email(Some(&caller), &username, Some(&email)).await? {
        Some(email) => format!("Notifications go to {email}"),
        None => "No notification emails".into(),
    })
}

/// Changes the caller's own password (the current one first, checked like a sign-in) and
/// ends every other session of theirs; this one goes on.
#[server]
pub async fn change_password(current: String, password: String) -> Result<String, AppError> {
    let caller = caller().await?;
    let orchestrator = orchestrator()?;
    orchestrator
        .sign_in(&caller.username, &current, client_address())
        .await?
        .ok_or_else(|| crate::orchestrator::Error::Forbidden("The current password is wrong".into()))?;
    let username = crate::orchestrator::input::parse(&caller.username)?;
    let epoch = orchestrator.set_password(Some(&caller), &username, &password).await?;
    let session = session().await?;
    session.cycle_id().await?;
    session.insert(crate::auth::SESSION_EPOCH, epoch).await?;
    Ok("Password changed; your other sessions are signed out".into())
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
        assert_eq!(safe_next(Some("/\t/evil.example")), "/", "browsers drop the tab: //evil.example");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/a\u{7}b")), "/", "a control character cannot go in a header");
        assert_eq!(safe_next(Some("/ok/\\evil")), "/");
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(5000)))), "/");
        assert_eq!(safe_next(Some("/tokens?x=1&y=%2F")), "/tokens?x=1&y=%2F");
    }
}
