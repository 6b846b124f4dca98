//! One module per page.
pub mod access;
pub mod api;
pub mod approvals;
pub mod audit;
pub mod browse;
pub mod inbox;
pub mod login;
pub mod not_found;
pub mod pipe;
pub mod publish;
pub mod reports;
pub mod settings;
pub mod sources;
pub mod tokens;
pub mod webhooks;
