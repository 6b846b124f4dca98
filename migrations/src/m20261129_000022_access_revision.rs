use super::m20261126_000015_search_index::run;
use super::m20261128_000020_catalog_revision::Revision;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The access revision: row 2 of `catalog_revision`, one number the database moves on every
/// committed change to what a caller may list or download and what those answers hold
/// (pipes, versions, packages, shares, grants, groups and their members, settings,
/// environments, sources, users' names and roles), whoever writes it. Unlike the catalogue's
/// revision (row 1), a counted download does not move it: a kept listing or download answer
/// stays right through them.
///
/// The triggers are migration 20's kind, on this row: SQLite's fire per row (its writers take
/// turns); PostgreSQL's are deferred and move the number once per transaction, at commit.
const ROW: i32 = 2;

const TABLES: &[&str] = &[
    "pipes",
    "shares",
    "pipe_versions",
    "packages",
    "settings",
    "environments",
    "environment_events",
    "sources",
    "grants",
    "group_members",
    "user_groups",
];

/// Of a user, the answers show the name, and the role decides what they may see.
const USER_COLUMNS: &str = "username, is_admin, disabled_at";

/// The grants' ends are looked up to know when a kept answer may change with no write at all.
const GRANT_END_INDEX: &str = "CREATE INDEX IF NOT EXISTS idx_grants_expires_at ON grants (expires_at)";

const ACCESS: Revision = Revision { row: ROW, name: "access_revision", tables: TABLES, user_columns: USER_COLUMNS };

fn row_up() -> Vec<String> {
    vec![format!("INSERT INTO catalog_revision (id, revision) VALUES ({ROW}, 0)"), GRANT_END_INDEX.to_string()]
}

fn row_down() -> Vec<String> {
    vec!["DROP INDEX IF EXISTS idx_grants_expires_at".into(), format!("DELETE FROM catalog_revision WHERE id = {ROW}")]
}

fn sqlite_up() -> Vec<String> {
    [row_up(), ACCESS.sqlite_triggers_up()].concat()
}

fn sqlite_down() -> Vec<String> {
    [ACCESS.sqlite_triggers_down(), row_down()].concat()
}

fn postgres_up() -> Vec<String> {
    [row_up(), ACCESS.postgres_triggers_up()].concat()
}

fn postgres_down() -> Vec<String> {
    [ACCESS.postgres_triggers_down(), row_down()].concat()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &sqlite_up(), &postgres_up()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &sqlite_down(), &postgres_down()).await
    }
}
