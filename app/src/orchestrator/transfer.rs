//! Moving an instance's data between databases (SQLite and PostgreSQL, either way): `export`
//! writes every table as JSON lines, `import` loads them into an empty database, ids and
//! password and token hashes included, so nothing is lost and every link still holds.
//!
//! An export is one snapshot, even of a running instance: every table is read in one read
//! transaction (repeatable read on PostgreSQL; SQLite's read transaction is a snapshot),
//! in primary-key order. Its last line counts the rows of each table, and `import` refuses
//! an export whose rows do not match (a file cut short), loading nothing.
use std::io::{BufRead, Write};

use chrono::Utc;
use sea_orm::{
    AccessMode, ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, IntoActiveModel,
    IsolationLevel, Iterable, PaginatorTrait, PrimaryKeyToColumn, QueryOrder, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entities::*;
use super::error::{Error, Result};

/// The first line of an export names its format; version 2 ends with the row counts.
pub const FORMAT: &str = "pipeshare-export-2";
/// The format before the closing counts, still read.
const FORMAT_WITHOUT_END: &str = "pipeshare-export-1";
const PAGE: u64 = 1000;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    exported_at: chrono::DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct Line {
    table: String,
    row: Value,
}

/// The last line: how many rows of each table the export holds.
#[derive(Serialize, Deserialize)]
struct End {
    end: std::collections::BTreeMap<String, u64>,
}

/// Rows per table, in the order they were written or read.
pub type Counts = Vec<(&'static str, u64)>;

fn io(err: std::io::Error) -> Error {
    Error::Internal(format!("writing the export: {err}"))
}

fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(e.to_string()))
}

/// Runs `$body` once per table, parents before children, with `$table` the table's name and
/// `$entity` its entity module.
macro_rules! each_table {
    ($table:ident, $entity:ident, $body:block) => {
        each_table!(@in_order $table, $entity, $body;
            users, api_tokens, user_groups, group_members, pipes, packages, pipe_versions, shares, grants, downloads, settings, audit_events,
            environments, environment_events, promotions, sources, source_scans, access_requests, webhooks, webhook_deliveries, webhook_attempts, notifications)
    };
    (@in_order $table:ident, $entity:ident, $body:block; $($module:ident),*) => {{
        $({
            let $table = stringify!($module);
            use $module as $entity;
            $body
        })*
    }};
}

/// Writes every table, page by page, so an export of any size needs memory for one page.
pub async fn export(db: &DatabaseConnection, out: &mut impl Write) -> Result<Counts> {
    let snapshot = match db.get_database_backend() {
        DbBackend::Postgres => db.begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?,
        _ => db.begin().await?,
    };
    let mut counts = Counts::new();
    writeln!(out, "{}", json(&Header { format: FORMAT.into(), exported_at: crate::orchestrator::now() })?).map_err(io)?;
    each_table!(table, entity, {
        let mut query = entity::Entity::find();
        for key in <entity::PrimaryKey as Iterable>::iter() {
            query = query.order_by_asc(key.into_column());
        }
        let mut pages = query.paginate(&snapshot, PAGE);
        let mut rows = 0;
        while let Some(page) = pages.fetch_and_next().await? {
            for row in page {
                let line = Line { table: table.into(), row: serde_json::to_value(&row).map_err(|e| Error::Internal(e.to_string()))? };
                writeln!(out, "{}", json(&line)?).map_err(io)?;
                rows += 1;
            }
        }
        counts.push((table, rows));
    });
    snapshot.commit().await?;
    let end = End { end: counts.iter().map(|(table, rows)| (table.to_string(), *rows)).collect() };
    writeln!(out, "{}", json(&end)?).map_err(io)?;
    out.flush().map_err(io)?;
    Ok(counts)
}

/// Tables whose `id` comes from a sequence on PostgreSQL.
const SERIAL_TABLES: [&str; 19] = [
    "users",
    "api_tokens",
    "user_groups",
    "pipes",
    "pipe_versions",
    "shares",
    "grants",
    "downloads",
    "audit_events",
    "environments",
    "environment_events",
    "promotions",
    "access_requests",
    "webhooks",
    "webhook_deliveries",
    "webhook_attempts",
    "notifications",
    "sources",
    "source_scans",
];

/// Loads an export into an empty database, all or nothing.
pub async fn import(db: &DatabaseConnection, input: impl BufRead) -> Result<Counts> {
    if users::Entity::find().count(db).await? > 0 || pipes::Entity::find().count(db).await? > 0 {
        return Err(Error::Conflict("The target database is not empty; import into a new one".into()));
    }
    let mut lines = input.lines();
    let header = lines.next().transpose().map_err(|e| Error::bad(format!("Cannot read the export: {e}")))?;
    let header: Header = header
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok())
        .ok_or_else(|| Error::bad("This is not a pipeshare export (no header line)"))?;
    if header.format != FORMAT && header.format != FORMAT_WITHOUT_END {
        return Err(Error::bad(format!("Unknown export format '{}'; this pipeshare reads {FORMAT}", header.format)));
    }
    let mut end: Option<End> = None;
    // Rows come grouped by table, parents first: insert them a page at a time as they are
    // read, so an import of any size needs memory for one page.
    let txn = db.begin().await?;
    let mut counts = Counts::new();
    let mut pending: Vec<Value> = Vec::with_capacity(PAGE as usize);
    let mut current: Option<String> = None;
    for (number, line) in lines.enumerate() {
        let line = line.map_err(|e| Error::bad(format!("Cannot read the export: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        if end.is_some() {
            return Err(Error::bad(format!("Line {}: the export goes on after its closing counts", number + 2)));
        }
        if let Ok(closing) = serde_json::from_str::<End>(&line) {
            end = Some(closing);
            continue;
        }
        let line: Line = serde_json::from_str(&line).map_err(|e| Error::bad(format!("Line {}: {e}", number + 2)))?;
        if current.as_deref() != Some(line.table.as_str()) || pending.len() >= PAGE as usize {
            if let Some(table) = &current {
                insert_rows(&txn, table, &mut pending, &mut counts).await?;
            }
            current = Some(line.table);
        }
        pending.push(line.row);
    }
    if let Some(table) = &current {
        insert_rows(&txn, table, &mut pending, &mut counts).await?;
    }
    if header.format == FORMAT {
        check_end(end.as_ref(), &counts)?;
    }
    // Backend switch: PostgreSQL hands out ids from sequences, which must continue after the
    // imported ids. (SQLite continues from the largest id by itself.)
    if txn.get_database_backend() == DbBackend::Postgres {
        for table in SERIAL_TABLES {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .await?;
        }
    }
    // Download tallies are derived, not exported: counted again from the imported downloads.
    super::tallies::rebuild(&txn, crate::orchestrator::now().date_naive()).await?;
    txn.commit().await?;
    Ok(counts)
}

/// An export is whole when its closing counts match the rows read (no table left out).
fn check_end(end: Option<&End>, counts: &Counts) -> Result<()> {
    let end = end.ok_or_else(|| Error::bad("The export is incomplete: its closing counts are missing; nothing was imported"))?;
    for (table, expected) in &end.end {
        let read = counts.iter().find(|(t, _)| t == table).map_or(0, |(_, rows)| *rows);
        if read != *expected {
            return Err(Error::bad(format!("The export is incomplete: {table} has {read} of {expected} rows; nothing was imported")));
        }
    }
    Ok(())
}

/// Inserts `rows` of `table` (every column, the id included) and empties the buffer.
async fn insert_rows(txn: &DatabaseTransaction, table: &str, rows: &mut Vec<Value>, counts: &mut Counts) -> Result<()> {
    let mut known = false;
    each_table!(name, entity, {
        if name == table {
            known = true;
            let mut models = Vec::with_capacity(rows.len());
            for value in rows.drain(..) {
                let model: entity::Model =
                    serde_json::from_value(value).map_err(|e| Error::bad(format!("A row of {table} does not fit: {e}")))?;
                models.push(model.into_active_model().reset_all());
            }
            let inserted = models.len() as u64;
            entity::Entity::insert_many(models).exec_without_returning(txn).await?;
            match counts.iter_mut().find(|(t, _)| *t == name) {
                Some((_, total)) => *total += inserted,
                None => counts.push((name, inserted)),
            }
        }
    });
    if known { Ok(()) } else { Err(Error::bad(format!("The export has an unknown table '{table}'"))) }
}
