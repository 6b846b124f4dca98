use super::m20261126_000015_search_index::run;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The access revision (migration 22) also moves when a bearer token is revoked or changed:
/// a token found lately is known without reading it again while that number stands. Its
/// last use, written down once a minute, does not move it.
const TOKEN_COLUMNS: &str = "token_hash, user_id, expires_at, scope";

/// SQLite's triggers fire per row, as migration 22's do.
fn sqlite_up() -> Vec<String> {
    let bump = "BEGIN UPDATE catalog_revision SET revision = revision + 1 WHERE id = 2; END";
    vec![
        format!("CREATE TRIGGER api_tokens_access_revision_update AFTER UPDATE OF {TOKEN_COLUMNS} ON api_tokens {bump}"),
        format!("CREATE TRIGGER api_tokens_access_revision_delete AFTER DELETE ON api_tokens {bump}"),
    ]
}

const SQLITE_DOWN: &[&str] =
    &["DROP TRIGGER IF EXISTS api_tokens_access_revision_update", "DROP TRIGGER IF EXISTS api_tokens_access_revision_delete"];

/// Migration 22's deferred function moves the number once per transaction, at commit.
fn postgres_up() -> Vec<String> {
    vec![format!(
        "CREATE CONSTRAINT TRIGGER api_tokens_access_revision AFTER UPDATE OF {TOKEN_COLUMNS} OR DELETE ON api_tokens \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pipeshare_next_access_revision()"
    )]
}

const POSTGRES_DOWN: &[&str] = &["DROP TRIGGER IF EXISTS api_tokens_access_revision ON api_tokens"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, &sqlite_up(), &postgres_up()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(manager, SQLITE_DOWN, POSTGRES_DOWN).await
    }
}
