//! SeaORM entities: the Rust view of the tables created in `migrations/`.
pub mod api_tokens;
pub mod audit_events;
pub mod downloads;
pub mod grants;
pub mod group_members;
pub mod login_failures;
pub mod pipe_versions;
pub mod pipes;
pub mod sessions;
pub mod settings;
pub mod shares;
pub mod user_groups;
pub mod users;
