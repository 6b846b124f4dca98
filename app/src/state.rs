//! What every request handler and server function reaches for: the orchestrator, the Leptos
//! options, and which proxies may name the client's address.
use std::{net::IpAddr, sync::Arc};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::orchestrator::Orchestrator;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub orchestrator: Orchestrator,
    /// Proxies whose `X-Forwarded-For` names the client (`PIPESHARE_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Client addresses that may read `/metrics` without a token (`PIPESHARE_METRICS_ALLOW`).
    pub metrics_allow: Arc<[IpAddr]>,
    /// The API description (OpenAPI 3.1), built from the handlers and the orchestrator's types.
    pub api_document: Arc<serde_json::Value>,
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
