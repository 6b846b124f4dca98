//! Opening the database and bringing its schema up to date.
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use super::entities::users;
use super::error::Result;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://pipeshare.db?mode=rwc";
/// Connections each process keeps open at most.
pub const DEFAULT_POOL_SIZE: u32 = 10;

/// What a process does with the database, which decides how SQLite reads its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// A server: many reads at once, on several connections.
    Serving,
    /// A command (a scan, an import, a user added): mostly writes, on one connection or few.
    Command,
}

/// Connects and applies every pending migration, so a new database file just works.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    connect_with_pool(url, DEFAULT_POOL_SIZE, Workload::Command).await
}

/// `connect` with at most `pool_size` connections, set up for `workload`.
pub async fn connect_with_pool(url: &str, pool_size: u32, workload: Workload) -> Result<DatabaseConnection> {
    let db = connect_only(url, pool_size, workload).await?;
    Migrator::up(&db, None).await?;
    super::tallies::ensure_current(&db).await?;
    Ok(db)
}

/// Pages in SQLite's write-ahead log that start a checkpoint (32 MiB).
const CHECKPOINT_PAGES: u32 = 8192;

/// How much of a SQLite file a serving connection reads through a memory map (SQLite caps it
/// at its own limit, just under 2 GiB).
const MAPPED_BYTES: u64 = 2 << 30;

/// Connects without touching the schema (for `pipeshare migrate`).
pub async fn connect_only(url: &str, pool_size: u32, workload: Workload) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false).acquire_timeout(Duration::from_secs(30)).max_connections(pool_size.max(1));
    // A connection to a SQLite file cannot drop, so it is not pinged before each use (a
    // round trip per query); a PostgreSQL connection can, and is.
    let sqlite = url.starts_with("sqlite:");
    options.test_before_acquire(!sqlite);
    if sqlite {
        // SQLite copies the log into the database file once it holds this many pages (4 KiB
        // each; its default is 1,000). Pages that several transactions change in between
        // (indexes of random hashes, the search index) are copied once: a scan of 100k pipes
        // wrote 9% less and took 6% less time than with the default.
        //
        // A server's connections read the file through a memory map: a page another connection
        // read is there already, not copied into each connection's own small cache by a system
        // call. At 100k pipes, 64 clients at once, a listing without kept answers answered 24%
        // more requests and a text search 65% more. A command does not: it mostly writes, and
        // every page it mapped would count in its resident memory (a scan of 100k pipes showed
        // 328 MiB instead of 92).
        options.map_sqlx_sqlite_opts(move |sqlite| {
            let sqlite = sqlite.pragma("wal_autocheckpoint", CHECKPOINT_PAGES.to_string());
            match workload {
                Workload::Serving => sqlite.pragma("mmap_size", MAPPED_BYTES.to_string()),
                Workload::Command => sqlite,
            }
        });
    }
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers go on while one writer writes; it is stored in the file, so
        // setting it once per start is enough.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
        // A database analysed by an earlier version may still hold the samples; the
        // connections opened from now on load the statistics without them.
        let txn = sea_orm::TransactionTrait::begin(&db).await?;
        drop_value_samples(&txn).await?;
        txn.commit().await?;
    }
    Ok(db)
}

/// Writers of this process take turns here on SQLite, which lets one connection write at a
/// time: waiting in this queue costs nothing, while SQLite's busy handler sleeps up to 100 ms
/// between tries (sixteen clients sharing at once waited 350 ms at p99 for writes of about a
/// millisecond). Other processes on the same file still meet the busy handler.
static WRITE_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// This process's turn to write, held until the transaction ends (nothing on PostgreSQL).
pub struct WriteTurn {
    _guard: Option<tokio::sync::MutexGuard<'static, ()>>,
}

/// A transaction that begins with a write, with the process's turn to write: it takes
/// `user_id`'s lock row. On SQLite a transaction that reads first cannot always become a
/// writer when another connection wrote meanwhile (it fails at once, whatever the busy
/// timeout); one that writes first waits its turn. On PostgreSQL it orders one user's writes.
/// Keep the turn until the transaction is committed or rolled back.
pub async fn begin_writing(db: &DatabaseConnection, user_id: i32) -> Result<(sea_orm::DatabaseTransaction, WriteTurn)> {
    let (txn, turn) = begin_turn(db).await?;
    lock_user(&txn, user_id).await?;
    Ok((txn, turn))
}

/// Takes `user_id`'s lock row in `txn` until it ends (a write: see [`begin_writing`]).
pub async fn lock_user(txn: &sea_orm::DatabaseTransaction, user_id: i32) -> Result<()> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    users::Entity::update_many()
        .col_expr(users::Column::QuotaLock, Expr::col(users::Column::QuotaLock).add(1))
        .filter(users::Column::Id.eq(user_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// A transaction with the process's turn to write (see [`begin_writing`]), for writes that
/// take no user's lock row: its first statement must write.
pub async fn begin_turn(db: &DatabaseConnection) -> Result<(sea_orm::DatabaseTransaction, WriteTurn)> {
    use sea_orm::TransactionTrait;
    let turn = WriteTurn {
        _guard: match db.get_database_backend() {
            DbBackend::Sqlite => Some(WRITE_TURN.lock().await),
            _ => None,
        },
    };
    Ok((db.begin().await?, turn))
}

/// Refreshes the query planner's statistics (`ANALYZE` on SQLite and PostgreSQL). Run after a
/// scan: without them SQLite walks the owner index and sorts every pipe of the owner for a
/// page of 25, instead of walking the name index (at 100k pipes, 18 ms instead of 0.04 ms for
/// the first page, 88 ms instead of 13 ms for the last).
///
/// On SQLite only the summary (`sqlite_stat1`) is kept: with the per-value samples of
/// `sqlite_stat4`, SQLite prepares a statement again on every run whose bound values it could
/// plan by, which was most of a filtered listing's time. The samples are dropped in the same
/// transaction, so no other connection ever loads them.
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<()> {
    use sea_orm::TransactionTrait;
    if db.get_database_backend() != DbBackend::Sqlite {
        db.execute_unprepared("ANALYZE").await?;
        return Ok(());
    }
    let txn = db.begin().await?;
    txn.execute_unprepared("ANALYZE").await?;
    drop_value_samples(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Empties SQLite's per-value statistics (see [`refresh_statistics`]), where this build of
/// SQLite keeps them, in a transaction: its connection, which may have loaded them, then reads
/// the statistics again.
async fn drop_value_samples(txn: &sea_orm::DatabaseTransaction) -> Result<()> {
    let ask = |sql: &str| txn.query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, sql));
    if ask("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat4'").await?.is_some()
        && ask("SELECT 1 FROM sqlite_stat4 LIMIT 1").await?.is_some()
    {
        txn.execute_unprepared("DELETE FROM sqlite_stat4").await?;
        txn.execute_unprepared("ANALYZE sqlite_schema").await?;
    }
    Ok(())
}

/// The migrations, each with whether it has been applied.
pub async fn migration_status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>> {
    let applied: Vec<String> = Migrator::get_applied_migrations(db).await?.iter().map(|m| m.name().to_string()).collect();
    let pending: Vec<String> = Migrator::get_pending_migrations(db).await?.iter().map(|m| m.name().to_string()).collect();
    Ok(applied.into_iter().map(|name| (name, true)).chain(pending.into_iter().map(|name| (name, false))).collect())
}

/// Applies every pending migration; returns how many there were.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<usize> {
    let pending = Migrator::get_pending_migrations(db).await?.len();
    Migrator::up(db, None).await?;
    Ok(pending)
}

/// For tests: a SQLite database in a new folder, with the user `owner` and, under `tree/`
/// there, `files` (path and text) for them to scan.
#[cfg(test)]
pub(crate) async fn test_database(files: &[(&str, &str)]) -> (tempfile::TempDir, DatabaseConnection, super::entities::users::Model) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join("tree").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let db = connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
    let owner = super::accounts::create_user(&db, &"owner".parse().unwrap(), "correct horse battery", false).await.unwrap();
    (dir, db, owner)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn rows_of(db: &DatabaseConnection, table: &str) -> i64 {
        let row = db.query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, format!("SELECT COUNT(*) FROM {table}"))).await.unwrap();
        row.unwrap().try_get_by_index(0).unwrap()
    }

    #[tokio::test]
    async fn sqlite_keeps_the_summary_statistics_without_value_samples() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..40 {
            let folder = dir.path().join(format!("tree/pipe_{i}/1.0.0"));
            std::fs::create_dir_all(&folder).unwrap();
            let manifest = format!("name: pipe_{i}\nversion: 1.0.0\ncategory: c{}\nstatus: stable\n", i % 4);
            std::fs::write(folder.join("plug.yaml"), manifest).unwrap();
        }
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = connect(&url).await.unwrap();
        let owner = super::super::accounts::create_user(&db, &"owner".parse().unwrap(), "correct horse battery", false).await.unwrap();
        let target = super::super::scan::ScanTarget { owner_id: owner.id, source_id: None };
        super::super::scan::scan_dir(&db, &dir.path().join("tree"), target, |_| {}).await.unwrap();
        assert!(rows_of(&db, "sqlite_stat1").await > 0, "a scan refreshes the planner's statistics");
        assert_eq!(rows_of(&db, "sqlite_stat4").await, 0, "without value samples");

        // A database analysed before keeps samples until the next start.
        db.execute_unprepared("ANALYZE").await.unwrap();
        assert!(rows_of(&db, "sqlite_stat4").await > 0, "this SQLite keeps value samples");
        db.close().await.unwrap();
        let db = connect(&url).await.unwrap();
        assert_eq!(rows_of(&db, "sqlite_stat4").await, 0);
        assert!(rows_of(&db, "sqlite_stat1").await > 0);
    }

    #[tokio::test]
    async fn a_serving_connection_reads_the_file_through_a_memory_map_and_a_command_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        for (workload, mapped) in [(Workload::Serving, true), (Workload::Command, false)] {
            let db = connect_with_pool(&url, 3, workload).await.unwrap();
            // Every connection of the pool, each held by a transaction while asked.
            let mut txns = Vec::new();
            for _ in 0..3 {
                txns.push(sea_orm::TransactionTrait::begin(&db).await.unwrap());
            }
            for txn in &txns {
                let row = txn.query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, "PRAGMA mmap_size")).await.unwrap();
                let bytes: i64 = row.unwrap().try_get_by_index(0).unwrap();
                assert_eq!(bytes > 0, mapped, "{workload:?}: {bytes} bytes mapped");
            }
            drop(txns);
            db.close().await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_version_row_takes_its_spec_from_its_manifests_and_undoing_that_fills_the_column_again() {
        use sea_orm::EntityTrait;
        let (dir, db, owner) = test_database(&[
            ("p/1.0.0/pipe.yaml", "name: p\nversion: 1.0.0\ndescription: the pipe's\n"),
            ("p/1.0.0/plugin.yaml", "name: p\nversion: 1.0.0\ndescription: \"the plugin's, \\\"quoted\\\"\"\n"),
        ])
        .await;
        let target = super::super::scan::ScanTarget { owner_id: owner.id, source_id: None };
        super::super::scan::scan_dir(&db, &dir.path().join("tree"), target, |_| {}).await.unwrap();
        let row = super::super::entities::pipe_versions::Entity::find().one(&db).await.unwrap().unwrap();
        let spec = super::super::scan::strongest_manifest(|file| row.manifests.0.get(file)).unwrap();
        assert_eq!(spec["description"], "the plugin's, \"quoted\"", "plugin.yaml is stronger than pipe.yaml");

        let spec_column = || db.query_one(sea_orm::Statement::from_string(DbBackend::Sqlite, "SELECT spec FROM pipe_versions"));
        assert!(spec_column().await.is_err(), "the column is gone");
        // Undone down to migration 21, whatever came after it.
        let migrations: Vec<String> = Migrator::migrations().iter().map(|m| m.name().to_string()).collect();
        let index = migrations.iter().position(|name| name == "m20261128_000021_spec_in_manifests").unwrap();
        Migrator::down(&db, Some((migrations.len() - index) as u32)).await.unwrap();
        let text: String = spec_column().await.unwrap().unwrap().try_get_by_index(0).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), *spec, "{text}");
        Migrator::up(&db, None).await.unwrap();
        assert!(spec_column().await.is_err());
    }
}
