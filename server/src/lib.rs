//! The `pipeshare` server: the HTTP router (browser app, JSON API, downloads, health) over
//! the orchestrator.
pub mod api;
pub mod download;
pub mod export;
pub mod mail;
pub mod observe;
pub mod openapi;
pub mod packages;
pub mod page_cache;
pub mod remote;
pub mod sessions;
pub mod startup;
pub mod terminal;
pub mod webhooks;
