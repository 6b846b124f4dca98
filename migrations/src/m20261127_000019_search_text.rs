use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL's search in one column and one index: `search_text`, the lower-cased name,
/// description and tags joined by a unit separator (U+001F), kept by the database on every
/// write, under one trigram GIN index. The three indexes of migration 15 made a search OR
/// three `LIKE`s, which the planner answered by reading every pipe (17 ms at 10k pipes); one
/// `LIKE` over the stored column is one index scan, and its recheck reads the column instead
/// of lower-casing three (1 ms). SQLite keeps its FTS5 table.
///
/// New rows wait in the index's pending list, which every search reads whole, until a vacuum
/// or the list's limit merges them. At the default limit (4 MB) a scan of 10k pipes left 366
/// pages there, and a search took 6 ms instead of 1; at 256 kB the list stays small.
const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE pipes ADD COLUMN search_text text GENERATED ALWAYS AS \
       (lower(name || E'\\x1f' || coalesce(description, '') || E'\\x1f' || coalesce(tags, ''))) STORED",
    "CREATE INDEX idx_pipes_search_text ON pipes USING gin (search_text gin_trgm_ops) WITH (gin_pending_list_limit = 256)",
    "DROP INDEX IF EXISTS idx_pipes_search_name",
    "DROP INDEX IF EXISTS idx_pipes_search_description",
    "DROP INDEX IF EXISTS idx_pipes_search_tags",
];
const POSTGRES_DOWN: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_name ON pipes USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_description ON pipes USING gin (lower(description) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_tags ON pipes USING gin (lower(tags) gin_trgm_ops)",
    "DROP INDEX IF EXISTS idx_pipes_search_text",
    "ALTER TABLE pipes DROP COLUMN IF EXISTS search_text",
];

async fn run(manager: &SchemaManager<'_>, postgres: &[&str]) -> Result<(), DbErr> {
    if manager.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    for statement in postgres {
        manager.get_connection().execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, POSTGRES_DOWN).await
    }
}
