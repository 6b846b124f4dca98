use super::m20261126_000015_search_index::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The catalogue's revision: one number the database itself moves on every committed change
/// to what a public pipe page shows (pipes, shares, versions, packages, owners' and
/// publishers' names, settings, environments, sources, download tallies), whoever writes it:
/// any instance, a scan, an import, an operator's SQL. A page kept at revision `n` is still
/// right while the revision reads `n`, one cheap read instead of the page's own.
///
/// - SQLite: a trigger per row; its writers take turns, so the row is no contention.
/// - PostgreSQL: a deferred trigger that moves the number once per transaction, at commit.
///   Taking the row's lock last means a transaction holding it waits for nothing else (no
///   deadlock), and it is held only while the transaction commits.
const TABLES: &[&str] =
    &["pipes", "shares", "pipe_versions", "packages", "settings", "environments", "environment_events", "sources", "download_tallies"];

/// SQLite's triggers: each one's name and what fires it.
fn sqlite_triggers() -> Vec<(String, String)> {
    let mut triggers: Vec<(String, String)> = TABLES
        .iter()
        .flat_map(|table| {
            ["INSERT", "UPDATE", "DELETE"]
                .map(|event| (format!("{table}_revision_{}", event.to_lowercase()), format!("{event} ON {table}")))
        })
        .collect();
    // Of a user, a page shows only the name (a lock row's counter moves on every write).
    triggers.push(("users_revision_update".into(), "UPDATE OF username ON users".into()));
    triggers.push(("users_revision_delete".into(), "DELETE ON users".into()));
    triggers
}

fn sqlite_up() -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE catalog_revision (id integer PRIMARY KEY, revision bigint NOT NULL)".to_string(),
        "INSERT INTO catalog_revision (id, revision) VALUES (1, 0)".to_string(),
    ];
    let bump = "BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; END";
    statements.extend(sqlite_triggers().into_iter().map(|(name, fired_by)| format!("CREATE TRIGGER {name} AFTER {fired_by} {bump}")));
    statements
}

fn sqlite_down() -> Vec<String> {
    let mut statements: Vec<String> = sqlite_triggers().into_iter().map(|(name, _)| format!("DROP TRIGGER IF EXISTS {name}")).collect();
    statements.push("DROP TABLE IF EXISTS catalog_revision".into());
    statements
}

fn postgres_up() -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE catalog_revision (id integer PRIMARY KEY, revision bigint NOT NULL)".to_string(),
        "INSERT INTO catalog_revision (id, revision) VALUES (1, 0)".to_string(),
        // Every changed row queues the function; the first of a transaction moves the number,
        // the others see the transaction's own mark and return.
        "CREATE FUNCTION pipeshare_next_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
           IF current_setting('pipeshare.revision_moved', true) IS DISTINCT FROM 'yes' THEN \
             PERFORM set_config('pipeshare.revision_moved', 'yes', true); \
             UPDATE catalog_revision SET revision = revision + 1 WHERE id = 1; \
           END IF; \
           RETURN NULL; \
         END $$"
            .to_string(),
    ];
    let deferred = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pipeshare_next_revision()";
    for table in TABLES {
        statements.push(format!("CREATE CONSTRAINT TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE ON {table} {deferred}"));
    }
    statements.push(format!("CREATE CONSTRAINT TRIGGER users_revision AFTER UPDATE OF username OR DELETE ON users {deferred}"));
    statements
}

fn postgres_down() -> Vec<String> {
    let mut statements: Vec<String> =
        TABLES.iter().chain(&["users"]).map(|table| format!("DROP TRIGGER IF EXISTS {table}_revision ON {table}")).collect();
    statements.push("DROP FUNCTION IF EXISTS pipeshare_next_revision()".into());
    statements.push("DROP TABLE IF EXISTS catalog_revision".into());
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
