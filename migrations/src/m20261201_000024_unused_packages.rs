use super::m20261126_000015_search_index::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Packages no version refers to are removed from now on (a rescan that replaces a version's
/// files left the old package behind); this removes those earlier scans left. `NOT IN` a list
/// of the references passes over the versions once.
const REMOVE_UNUSED: &str = "DELETE FROM packages WHERE sha256 NOT IN \
     (SELECT package_sha256 FROM pipe_versions WHERE package_sha256 IS NOT NULL)";

/// On PostgreSQL the table is locked against writes first: a transaction that stored a
/// package and the version referring to it has committed before the removal looks, and one
/// that stores a package after it waits and stores the row anew.
const POSTGRES_UP: &[&str] = &["LOCK TABLE packages IN SHARE ROW EXCLUSIVE MODE", REMOVE_UNUSED];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &[REMOVE_UNUSED], POSTGRES_UP).await
    }

    /// Removed packages are not brought back: nothing referred to them.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
