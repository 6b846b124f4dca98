use super::m20261126_000015_search_index::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite's search index merges its segments sixteen at a time instead of four. Every
/// statement that writes pipes leaves a segment (a scan: one per batch), and with four each
/// entry was rewritten about three times over a scan of 100k pipes: the merging was a quarter
/// of the scan's database work. With sixteen an entry is rewritten about twice as few times;
/// a search reads a few more segments (at most fifteen per level), which at 100k pipes is
/// within the noise of a search's time. PostgreSQL's trigram indexes have no segments.
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
