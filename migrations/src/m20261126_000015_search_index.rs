use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A text index for searching pipes by name, description and tags, kept in step by the
/// database itself whatever writes a pipe (scans, publishing, imports): on SQLite an FTS5
/// trigram table fed by triggers, on PostgreSQL trigram GIN indexes (`pg_trgm`) that serve
/// the same `LIKE '%text%'` the search asks.
const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE pipes_search USING fts5(name, description, tags, content='pipes', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER pipes_search_insert AFTER INSERT ON pipes BEGIN \
       INSERT INTO pipes_search(rowid, name, description, tags) VALUES (new.id, new.name, new.description, new.tags); END",
    "CREATE TRIGGER pipes_search_delete AFTER DELETE ON pipes BEGIN \
       INSERT INTO pipes_search(pipes_search, rowid, name, description, tags) VALUES ('delete', old.id, old.name, old.description, old.tags); END",
    "CREATE TRIGGER pipes_search_update AFTER UPDATE OF name, description, tags ON pipes BEGIN \
       INSERT INTO pipes_search(pipes_search, rowid, name, description, tags) VALUES ('delete', old.id, old.name, old.description, old.tags); \
       INSERT INTO pipes_search(rowid, name, description, tags) VALUES (new.id, new.name, new.description, new.tags); END",
    "INSERT INTO pipes_search(pipes_search) VALUES ('rebuild')",
];
const SQLITE_DOWN: &[&str] = &[
    "DROP TRIGGER IF EXISTS pipes_search_update",
    "DROP TRIGGER IF EXISTS pipes_search_delete",
    "DROP TRIGGER IF EXISTS pipes_search_insert",
    "DROP TABLE IF EXISTS pipes_search",
];
const POSTGRES_UP: &[&str] = &[
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_name ON pipes USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_description ON pipes USING gin (lower(description) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_tags ON pipes USING gin (lower(tags) gin_trgm_ops)",
];
const POSTGRES_DOWN: &[&str] = &[
    "DROP INDEX IF EXISTS idx_pipes_search_tags",
    "DROP INDEX IF EXISTS idx_pipes_search_description",
    "DROP INDEX IF EXISTS idx_pipes_search_name",
];

/// Runs the statements of the database's backend (later migrations use it too).
pub(crate) async fn run<S: AsRef<str>>(manager: &SchemaManager<'_>, sqlite: &[S], postgres: &[S]) -> Result<(), DbErr> {
    let statements = match manager.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite,
        DatabaseBackend::Postgres => postgres,
        other => return Err(DbErr::Migration(format!("no statements for {other:?}"))),
    };
    for statement in statements {
        manager.get_connection().execute_unprepared(statement.as_ref()).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_UP, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
