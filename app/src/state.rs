//! What every request handler and server function reaches for: the orchestrator and the
//! Leptos options.
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::orchestrator::Orchestrator;

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
