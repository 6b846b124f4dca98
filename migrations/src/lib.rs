//! The database schema of pipeshare. Every table is created here and only here; the same
//! migrations run on SQLite and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261125_000001_initial;
mod m20261125_000002_sessions;
mod m20261125_000003_audit;
mod m20261125_000004_login_failures;
mod m20261126_000005_throttles;
mod m20261126_000006_account_lifecycle;
mod m20261126_000007_packages;
mod m20261126_000008_collaboration;
mod m20261126_000009_webhooks;
mod m20261126_000010_download_details;
mod m20261126_000011_notifications;
mod m20261126_000012_sources;
mod m20261126_000013_source_catalogue;
mod m20261126_000014_folder_stamps;
mod m20261126_000015_search_index;
mod m20261126_000016_listing_index;
mod m20261127_000017_download_tallies;
mod m20261127_000018_fork_index;
mod m20261127_000019_search_key;
mod m20261128_000020_catalog_revision;
mod m20261128_000021_spec_in_manifests;
mod m20261129_000022_access_revision;
mod m20261130_000023_token_revision;
mod m20261201_000024_unused_packages;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_initial::Migration),
            Box::new(m20261125_000002_sessions::Migration),
            Box::new(m20261125_000003_audit::Migration),
            Box::new(m20261125_000004_login_failures::Migration),
            Box::new(m20261126_000005_throttles::Migration),
            Box::new(m20261126_000006_account_lifecycle::Migration),
            Box::new(m20261126_000007_packages::Migration),
            Box::new(m20261126_000008_collaboration::Migration),
            Box::new(m20261126_000009_webhooks::Migration),
            Box::new(m20261126_000010_download_details::Migration),
            Box::new(m20261126_000011_notifications::Migration),
            Box::new(m20261126_000012_sources::Migration),
            Box::new(m20261126_000013_source_catalogue::Migration),
            Box::new(m20261126_000014_folder_stamps::Migration),
            Box::new(m20261126_000015_search_index::Migration),
            Box::new(m20261126_000016_listing_index::Migration),
            Box::new(m20261127_000017_download_tallies::Migration),
            Box::new(m20261127_000018_fork_index::Migration),
            Box::new(m20261127_000019_search_key::Migration),
            Box::new(m20261128_000020_catalog_revision::Migration),
            Box::new(m20261128_000021_spec_in_manifests::Migration),
            Box::new(m20261129_000022_access_revision::Migration),
            Box::new(m20261130_000023_token_revision::Migration),
            Box::new(m20261201_000024_unused_packages::Migration),
        ]
    }
}
