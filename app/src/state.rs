//! What every request handler and server function reaches for: the orchestrator, the Leptos
//! options, and who is signed in.
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sea_orm::{ConnectionTrait, EntityTrait};
use tokio::sync::OnceCell;
use tower_sessions::Session;

use crate::orchestrator::{Caller, Orchestrator, entities::users};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub orchestrator: Orchestrator,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Orchestrator {
    fn from_ref(state: &AppState) -> Self {
        state.orchestrator.clone()
    }
}

/// The session key holding the signed-in user's id.
pub const SESSION_USER: &str = "user_id";

/// Who signed in, looked up once per request: a page rendered on the server runs several
/// server functions, and each asks.
#[derive(Clone, Default)]
pub struct RequestViewer(Arc<OnceCell<Option<Caller>>>);

impl RequestViewer {
    pub async fn get_or_load(&self, session: &Session, db: &impl ConnectionTrait) -> Result<Option<Caller>, crate::orchestrator::Error> {
        self.0.get_or_try_init(|| session_caller(session, db)).await.cloned()
    }
}

/// What each request to a page or server function gets in its context.
pub fn provide_request_context() {
    leptos::prelude::provide_context(RequestViewer::default());
}

/// The signed-in user of a browser session, if any.
pub async fn session_caller(session: &Session, db: &impl ConnectionTrait) -> Result<Option<Caller>, crate::orchestrator::Error> {
    let Some(user_id) = session.get::<i32>(SESSION_USER).await.ok().flatten() else {
        return Ok(None);
    };
    Ok(users::Entity::find_by_id(user_id).one(db).await?.as_ref().map(Caller::from))
}
