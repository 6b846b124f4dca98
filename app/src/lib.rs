//! pipeshare's application crate: the orchestrator (server side, feature `ssr`), the data it
//! shares with the browser (`model`) and the Leptos UI (`app`, `pages`, `components`), whose
//! server functions (`server_fns`) call the orchestrator.
#![recursion_limit = "256"]

pub mod app;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod metrics;
pub mod model;
#[cfg(feature = "ssr")]
pub mod openapi;
#[cfg(feature = "ssr")]
pub mod orchestrator;
pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod state;
pub mod urls;

pub use app::{App, shell};
