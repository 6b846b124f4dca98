use super::m20261126_000015_search_index::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite's search index merges its segments sixteen at a time instead of four. Every
/// statement that writes pipes leaves a segment (a scan: one per batch of 1,000), and with
/// four each entry was rewritten about three times over a scan of 100k pipes; with sixteen,
/// about half as often. In such a scan the database thread's share of the CPU went from
/// 22.5% to 19.9%. A search reads a few more segments (at most fifteen per level).
/// PostgreSQL's trigram indexes have no segments.
const SQLITE_UP: &[&str] = &["INSERT INTO pipes_search(pipes_search, rank) VALUES ('automerge', 16)"];
const SQLITE_DOWN: &[&str] = &["INSERT INTO pipes_search(pipes_search, rank) VALUES ('automerge', 4)"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run::<&str>(manager, SQLITE_UP, &[]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run::<&str>(manager, SQLITE_DOWN, &[]).await
    }
}
