//! Who is calling: the one authentication check of every door over HTTP. A request names its
//! caller with an `Authorization: Bearer <token>` header (scripts) or a session cookie
//! (browsers); the JSON API, downloads, exports and server functions all ask here.
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, FromRef, FromRequestParts},
    http::{header, request::Parts},
};
use sea_orm::{ConnectionTrait, EntityTrait};
use tokio::sync::OnceCell;
use tower_sessions::Session;

use crate::orchestrator::{Caller, Error, Orchestrator, Result, entities::users};
use crate::state::AppState;

/// The session key holding the signed-in user's id.
pub const SESSION_USER: &str = "user_id";
/// The session key holding the user's session epoch when the session began: a password
/// change raises the user's epoch, which ends every session begun before it.
pub const SESSION_EPOCH: &str = "epoch";

/// The answer to a request that needs a caller and names none.
pub fn sign_in_required() -> Error {
    Error::Unauthorized("Please sign in first (/login), or send an API token as 'Authorization: Bearer <token>'".into())
}

/// The caller of a request, if it names one. Extract it in a handler (`auth: Auth`) and call
/// [`Auth::require`] where a caller is needed; a bad token is refused during extraction.
#[derive(Clone, Debug)]
pub struct Auth(pub Option<Caller>);

impl Auth {
    /// The caller, or the 401 that asks to sign in or send a token.
    pub fn require(self) -> Result<Caller> {
        self.0.ok_or_else(sign_in_required)
    }
}

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let state = AppState::from_ref(state);
        authenticate(parts, &state.orchestrator).await.map(Auth)
    }
}

/// The bearer token of a request, if it sends one. An `Authorization` header of another
/// scheme (a proxy's Basic credentials, say) is not ours and is left alone.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Finds the caller of a request: the owner of its bearer token, else the user of its
/// session, else nobody.
pub async fn authenticate(parts: &Parts, orchestrator: &Orchestrator) -> Result<Option<Caller>> {
    if let Some(token) = bearer(&parts.headers) {
        let caller = orchestrator.token_caller(token).await?;
        return caller.map(Some).ok_or_else(|| Error::Unauthorized("Invalid API token".into()));
    }
    match parts.extensions.get::<Session>() {
        Some(session) => session_caller(session, orchestrator.db()).await,
        None => Ok(None),
    }
}

/// The signed-in user of a browser session, if any: not when the account is disabled, nor
/// when the session began before the user's last password change.
pub async fn session_caller(session: &Session, db: &impl ConnectionTrait) -> Result<Option<Caller>> {
    let Some(user_id) = session.get::<i32>(SESSION_USER).await.ok().flatten() else {
        return Ok(None);
    };
    let epoch = session.get::<i32>(SESSION_EPOCH).await.ok().flatten().unwrap_or(0);
    let user = users::Entity::find_by_id(user_id).one(db).await?;
    Ok(user.filter(|u| u.disabled_at.is_none() && u.session_epoch == epoch).as_ref().map(Caller::from))
}

/// The address of the client: the peer of the connection; or, when that peer is a trusted
/// proxy, the nearest address in `X-Forwarded-For` that is not one (a client can write
/// anything in that header, so only what trusted proxies appended counts).
pub fn client_address(parts: &Parts, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    Some(forwarded.into_iter().rev().find(|a| !trusted_proxies.contains(a)).unwrap_or(peer))
}

/// The client's address as an extractor (see [`client_address`]).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientAddress
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        Ok(ClientAddress(client_address(parts, &AppState::from_ref(state).trusted_proxies)))
    }
}

/// The caller, looked up once per request: a page rendered on the server runs several server
/// functions, and each asks.
#[derive(Clone, Default)]
pub struct RequestCaller(Arc<OnceCell<Option<Caller>>>);

impl RequestCaller {
    pub async fn get_or_load(&self, parts: &Parts, orchestrator: &Orchestrator) -> Result<Option<Caller>> {
        self.0.get_or_try_init(|| authenticate(parts, orchestrator)).await.cloned()
    }
}

/// What each request to a page or server function gets in its context.
pub fn provide_request_context() {
    leptos::prelude::provide_context(RequestCaller::default());
}
