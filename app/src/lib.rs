//! pipeshare's application crate: the orchestrator (server side, feature `ssr`) and, with the
//! browser app, the Leptos UI.
#[cfg(feature = "ssr")]
pub mod orchestrator;
