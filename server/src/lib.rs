//! The `pipeshare` server: the HTTP router (JSON API, pages, health) over the orchestrator.
pub mod api;
pub mod pages;
pub mod startup;
