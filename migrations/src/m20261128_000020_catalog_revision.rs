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

/// A revision row and the triggers that move it: writes to each of `tables`, and to users
/// (an update of `user_columns`, a deletion). Migration 22 keeps a second one the same way.
pub(crate) struct Revision {
    pub row: i32,
    /// Names its triggers (`{table}_{name}...`) and its PostgreSQL function and mark.
    pub name: &'static str,
    pub tables: &'static [&'static str],
    pub user_columns: &'static str,
}

impl Revision {
    /// SQLite's triggers: each one's name and what fires it.
    fn sqlite_triggers(&self) -> Vec<(String, String)> {
        let name = self.name;
        let mut triggers: Vec<(String, String)> = self
            .tables
            .iter()
            .flat_map(|table| {
                ["INSERT", "UPDATE", "DELETE"]
                    .map(|event| (format!("{table}_{name}_{}", event.to_lowercase()), format!("{event} ON {table}")))
            })
            .collect();
        triggers.push((format!("users_{name}_update"), format!("UPDATE OF {} ON users", self.user_columns)));
        triggers.push((format!("users_{name}_delete"), "DELETE ON users".into()));
        triggers
    }

    pub fn sqlite_triggers_up(&self) -> Vec<String> {
        let bump = format!("BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = {}; END", self.row);
        self.sqlite_triggers().into_iter().map(|(name, fired_by)| format!("CREATE TRIGGER {name} AFTER {fired_by} {bump}")).collect()
    }

    pub fn sqlite_triggers_down(&self) -> Vec<String> {
        self.sqlite_triggers().into_iter().map(|(name, _)| format!("DROP TRIGGER IF EXISTS {name}")).collect()
    }

    /// PostgreSQL's function and its deferred triggers.
    pub fn postgres_triggers_up(&self) -> Vec<String> {
        let (name, row) = (self.name, self.row);
        // Every changed row queues the function; the first of a transaction moves the number,
        // the others see the transaction's own mark and return.
        let mut statements = vec![format!(
            "CREATE FUNCTION pipeshare_next_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
               IF current_setting('pipeshare.{name}_moved', true) IS DISTINCT FROM 'yes' THEN \
                 PERFORM set_config('pipeshare.{name}_moved', 'yes', true); \
                 UPDATE catalog_revision SET revision = revision + 1 WHERE id = {row}; \
               END IF; \
               RETURN NULL; \
             END $$"
        )];
        let deferred = format!("DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pipeshare_next_{name}()");
        for table in self.tables {
            statements.push(format!("CREATE CONSTRAINT TRIGGER {table}_{name} AFTER INSERT OR UPDATE OR DELETE ON {table} {deferred}"));
        }
        statements
            .push(format!("CREATE CONSTRAINT TRIGGER users_{name} AFTER UPDATE OF {} OR DELETE ON users {deferred}", self.user_columns));
        statements
    }

    pub fn postgres_triggers_down(&self) -> Vec<String> {
        let name = self.name;
        let mut statements: Vec<String> =
            self.tables.iter().chain(&["users"]).map(|table| format!("DROP TRIGGER IF EXISTS {table}_{name} ON {table}")).collect();
        statements.push(format!("DROP FUNCTION IF EXISTS pipeshare_next_{name}()"));
        statements
    }
}

/// The catalogue's revision, row 1. Of a user, a page shows only the name (a lock row's
/// counter moves on every write).
const CATALOG: Revision = Revision { row: 1, name: "revision", tables: TABLES, user_columns: "username" };

const CREATE_TABLE: [&str; 2] = [
    "CREATE TABLE catalog_revision (id integer PRIMARY KEY, revision bigint NOT NULL)",
    "INSERT INTO catalog_revision (id, revision) VALUES (1, 0)",
];

fn sqlite_up() -> Vec<String> {
    [CREATE_TABLE.map(String::from).to_vec(), CATALOG.sqlite_triggers_up()].concat()
}

fn sqlite_down() -> Vec<String> {
    [CATALOG.sqlite_triggers_down(), vec!["DROP TABLE IF EXISTS catalog_revision".into()]].concat()
}

fn postgres_up() -> Vec<String> {
    [CREATE_TABLE.map(String::from).to_vec(), CATALOG.postgres_triggers_up()].concat()
}

fn postgres_down() -> Vec<String> {
    [CATALOG.postgres_triggers_down(), vec!["DROP TABLE IF EXISTS catalog_revision".into()]].concat()
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
