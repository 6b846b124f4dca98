use super::m20261126_000015_search_index::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// PostgreSQL's search in one column and one index: `search_key`, the lower-cased name,
/// description and tags with every character that is not a letter or a digit written as `q`,
/// kept by the database on every write, under one trigram GIN index.
///
/// - One column: the three indexes of migration 15 made a search OR three `LIKE`s, which the
///   planner answered by reading every pipe (17 ms at 10k pipes).
/// - Why the `q`: `pg_trgm` makes trigrams of words alone, so "registry 3" looked up every pipe
///   with "registry" and a word starting with "3" (15,555 of 100k pipes to recheck, 14 ms).
///   Written as "registryq3", its trigrams span the space and find the few that hold it.
///   Such a key also matches texts that differ only in those characters ("registry-3"), so
///   the search checks the fields themselves too, on the few rows the index finds.
/// - New rows wait in the index's pending list, which every search reads whole, until a
///   vacuum or the list's limit merges them. At the default limit (4 MB) a scan of 10k pipes
///   left 366 pages there, and the planner read every pipe instead; at 256 kB it stays small.
///
/// SQLite keeps its FTS5 table, whose trigrams already span spaces: nothing changes there.
const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE pipes ADD COLUMN search_key text GENERATED ALWAYS AS \
       (regexp_replace(lower(name || ' ' || coalesce(description, '') || ' ' || coalesce(tags, '')), '[^[:alnum:]]', 'q', 'g')) STORED",
    "CREATE INDEX idx_pipes_search_key ON pipes USING gin (search_key gin_trgm_ops) WITH (gin_pending_list_limit = 256)",
    "DROP INDEX IF EXISTS idx_pipes_search_name",
    "DROP INDEX IF EXISTS idx_pipes_search_description",
    "DROP INDEX IF EXISTS idx_pipes_search_tags",
];
const POSTGRES_DOWN: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_name ON pipes USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_description ON pipes USING gin (lower(description) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS idx_pipes_search_tags ON pipes USING gin (lower(tags) gin_trgm_ops)",
    "DROP INDEX IF EXISTS idx_pipes_search_key",
    "ALTER TABLE pipes DROP COLUMN IF EXISTS search_key",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &[], POSTGRES_UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &[], POSTGRES_DOWN).await
    }
}
