use super::m20261126_000015_search_index::run;
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
/// The triggers are those of migration 20, on this row: SQLite's fire per row (its writers
/// take turns); PostgreSQL's are deferred and move the number once per transaction, at commit.
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

/// SQLite's triggers: each one's name and what fires it.
fn sqlite_triggers() -> Vec<(String, String)> {
    let mut triggers: Vec<(String, String)> = TABLES
        .iter()
        .flat_map(|table| {
            ["INSERT", "UPDATE", "DELETE"]
                .map(|event| (format!("{table}_access_revision_{}", event.to_lowercase()), format!("{event} ON {table}")))
        })
        .collect();
    triggers.push(("users_access_revision_update".into(), format!("UPDATE OF {USER_COLUMNS} ON users")));
    triggers.push(("users_access_revision_delete".into(), "DELETE ON users".into()));
    triggers
}

fn sqlite_up() -> Vec<String> {
    let mut statements = vec![format!("INSERT INTO catalog_revision (id, revision) VALUES ({ROW}, 0)"), GRANT_END_INDEX.to_string()];
    let bump = format!("BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = {ROW}; END");
    statements.extend(sqlite_triggers().into_iter().map(|(name, fired_by)| format!("CREATE TRIGGER {name} AFTER {fired_by} {bump}")));
    statements
}

fn sqlite_down() -> Vec<String> {
    let mut statements: Vec<String> = sqlite_triggers().into_iter().map(|(name, _)| format!("DROP TRIGGER IF EXISTS {name}")).collect();
    statements.push("DROP INDEX IF EXISTS idx_grants_expires_at".into());
    statements.push(format!("DELETE FROM catalog_revision WHERE id = {ROW}"));
    statements
}

fn postgres_up() -> Vec<String> {
    let mut statements = vec![
        format!("INSERT INTO catalog_revision (id, revision) VALUES ({ROW}, 0)"),
        GRANT_END_INDEX.to_string(),
        // As migration 20's function, with a mark of its own.
        format!(
            "CREATE FUNCTION pipeshare_next_access_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF current_setting('pipeshare.access_revision_moved', true) IS DISTINCT FROM 'yes' THEN \
                 PERFORM set_config('pipeshare.access_revision_moved', 'yes', true); \
                 UPDATE catalog_revision SET revision = revision + 1 WHERE id = {ROW}; \
               END IF; \
               RETURN NULL; \
             END $$"
        ),
    ];
    let deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pipeshare_next_access_revision()";
    for table in TABLES {
        statements
            .push(format!("CREATE CONSTRAINT TRIGGER {table}_access_revision AFTER INSERT OR UPDATE OR DELETE ON {table} {deferred}"));
    }
    statements
        .push(format!("CREATE CONSTRAINT TRIGGER users_access_revision AFTER UPDATE OF {USER_COLUMNS} OR DELETE ON users {deferred}"));
    statements
}

fn postgres_down() -> Vec<String> {
    let mut statements: Vec<String> =
        TABLES.iter().chain(&["users"]).map(|table| format!("DROP TRIGGER IF EXISTS {table}_access_revision ON {table}")).collect();
    statements.push("DROP FUNCTION IF EXISTS pipeshare_next_access_revision()".into());
    statements.push("DROP INDEX IF EXISTS idx_grants_expires_at".into());
    statements.push(format!("DELETE FROM catalog_revision WHERE id = {ROW}"));
    statements
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
