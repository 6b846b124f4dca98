//! Registry sources: the places pipes come from, rescanned on their interval by the server
//! (one process at a time per source, by a lease in the database), with their health as a
//! state machine and a report of every scan. A pipe its source no longer holds is marked gone,
//! never deleted; a scan that fails or reads nothing marks nothing gone.
pub use crate::model::{
    PipeSource, ScanDetails, ScanIssue, SourceKind, SourceList, SourceRemoved, SourceScanReport, SourceState, SourceView,
};
use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde_json::{Map, Value, json};

use super::accounts::{Caller, require_user};
use super::admin::require_admin_or_operator;
use super::audit;
use super::catalog::usernames;
use super::entities::{JsonText, pipes, source_scans, sources};
use super::error::{Error, Result};
use super::input::Fields;
use super::remote::{self, ReadFailure};
use super::scan::{self, ScanSummary, ScanTarget, scan_dir};
use crate::model::{AuditAction, UserName};

/// The shortest interval between scheduled scans, in seconds: a minute, unless the operator
/// sets `PIPESHARE_SOURCE_MIN_INTERVAL_SECONDS` (tests use one second).
pub fn min_interval() -> i64 {
    std::env::var("PIPESHARE_SOURCE_MIN_INTERVAL_SECONDS").ok().and_then(|v| v.parse().ok()).filter(|n| *n >= 1).unwrap_or(60)
}
/// Failed scans are retried after the interval floor, doubling, at most an hour apart.
const MAX_BACKOFF_SECONDS: i64 = 3600;
/// A failure this soon after a success is `degraded`; later, `offline`.
const RECENT: TimeDelta = TimeDelta::hours(1);
/// Scan reports kept per source.
const REPORTS_KEPT: u64 = 50;
/// Reports each source lists.
const REPORTS_SHOWN: u64 = 5;

/// `add_source`: what to read, for whom, how often.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSource {
    pub name: String,
    pub kind: SourceKind,
    pub location: String,
    pub owner: UserName,
    pub token: Option<String>,
    /// Seconds between scans; `None`: by hand only.
    pub interval: Option<i64>,
    /// Add it even if its location cannot be read now.
    pub force: bool,
}

/// A source's name: 1 to 64 letters, digits, `-` or `_` (`local` is the built-in one).
pub fn source_name(text: &str) -> Result<String> {
    let text = text.trim();
    let ok = (1..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        return Err(Error::bad(format!(
            "Source name '{}' is not valid: use 1 to 64 letters, digits, '-' or '_'",
            crate::model::shown(text)
        )));
    }
    if text == "local" {
        return Err(Error::bad("'local' names the pipes published here; choose another source name"));
    }
    Ok(text.to_string())
}

/// `"15m"`, `"2h"`, `"90s"`, `"1d"`, or `"manual"` (no schedule).
pub fn parse_interval(text: &str) -> Result<Option<i64>> {
    let text = text.trim();
    if text == "manual" {
        return Ok(None);
    }
    let bad = || Error::bad(format!("interval '{}' is not valid: write 15m, 2h, 1d or manual", crate::model::shown(text)));
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number.parse().ok().filter(|n| *n > 0 && *n <= 366 * 24 * 3600).ok_or_else(bad)?;
    let seconds = match unit {
        "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        "d" => number * 86400,
        _ => return Err(bad()),
    };
    if seconds < min_interval() {
        return Err(Error::bad(format!("interval must be at least {} seconds, or manual", min_interval())));
    }
    Ok(Some(seconds))
}

impl NewSource {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let text = |key: &str| -> Result<String> {
            context.str(key)?.map(String::from).ok_or_else(|| Error::bad(format!("context.{key} is required")))
        };
        Ok(NewSource {
            name: source_name(&text("name")?)?,
            kind: context.parsed("kind")?.ok_or_else(|| Error::bad("context.kind is required: folder or pipeshare"))?,
            location: text("location")?,
            owner: context.parsed("owner")?.ok_or_else(|| Error::bad("context.owner is required: the user who owns what it brings in"))?,
            token: context.str("token")?.map(String::from),
            interval: parse_interval(context.str("interval")?.unwrap_or("15m"))?,
            force: context.bool("force")?.unwrap_or(false),
        })
    }
}

/// Checks a folder location: absolute, normalised, an existing readable folder (unless
/// `force`).
fn check_folder(location: &str, force: bool) -> Result<String> {
    let path = Path::new(location.trim());
    if !path.is_absolute() {
        return Err(Error::bad(format!("A folder source's location must be an absolute path, not '{}'", crate::model::shown(location))));
    }
    if path.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(Error::bad("A folder source's location may not contain '..'"));
    }
    if !force && std::fs::read_dir(path).is_err() {
        return Err(Error::bad(format!("The folder {} cannot be read (add it with force to scan it later)", path.display())));
    }
    Ok(path.display().to_string())
}

pub async fn add_source(db: &DatabaseConnection, by: Option<&Caller>, new: &NewSource) -> Result<SourceView> {
    require_admin_or_operator(by, "manage sources")?;
    let location = match new.kind {
        SourceKind::Folder => check_folder(&new.location, new.force)?,
        SourceKind::Pipeshare => {
            let base = remote::remote_base(&new.location)?;
            if !new.force
                && let Err(failure) = remote::probe(&base, new.token.as_deref()).await
            {
                return Err(Error::bad(format!("{} (add it with force to scan it later)", failure.message)));
            }
            base
        }
    };
    let owner = require_user(db, &new.owner).await?;
    if sources::Entity::find().filter(sources::Column::Name.eq(&new.name)).count(db).await? > 0 {
        return Err(Error::bad(format!("A source named '{}' exists already", new.name)));
    }
    let now = crate::orchestrator::now();
    let row = sources::ActiveModel {
        name: Set(new.name.clone()),
        kind: Set(new.kind),
        location: Set(location),
        owner_id: Set(owner.id),
        token: Set(new.token.clone()),
        interval_seconds: Set(new.interval),
        state: Set(SourceState::Unknown),
        consecutive_failures: Set(0),
        next_scan_at: Set(new.interval.map(|_| now)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| Error::unique_violation(err, || format!("A source named '{}' exists already", new.name)))?;
    audit::record(db, by, AuditAction::AddSource, None, json!({"source": row.name, "kind": row.kind, "location": row.location})).await?;
    // Just added: it holds no pipe yet.
    view(db, row, 0, true).await
}

async fn find(db: &impl ConnectionTrait, name: &str) -> Result<sources::Model> {
    sources::Entity::find()
        .filter(sources::Column::Name.eq(name))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No source named '{}'", crate::model::shown(name))))
}

/// A source as listed; `pipes` it holds, counted by the caller for every source at once.
async fn view(db: &impl ConnectionTrait, row: sources::Model, pipes: u64, with_location: bool) -> Result<SourceView> {
    let owner = usernames(db, [row.owner_id]).await?.remove(&row.owner_id).unwrap_or_default();
    let reports = source_scans::Entity::find()
        .filter(source_scans::Column::SourceId.eq(row.id))
        .order_by_desc(source_scans::Column::Id)
        .limit(REPORTS_SHOWN)
        .all(db)
        .await?
        .into_iter()
        .map(report_of)
        .collect();
    Ok(SourceView {
        name: row.name,
        kind: row.kind,
        location: if with_location { row.location } else { String::new() },
        owner,
        interval: row.interval_seconds.map_or("manual".into(), |s| format!("{s}s")),
        state: row.state,
        pipes,
        last_scan_at: row.last_scan_at,
        last_success_at: row.last_success_at,
        last_error: row.last_error,
        consecutive_failures: row.consecutive_failures,
        next_scan_at: row.next_scan_at,
        has_token: row.token.is_some(),
        reports,
    })
}

fn report_of(row: source_scans::Model) -> SourceScanReport {
    let count = |n: i64| n.max(0) as u64;
    SourceScanReport {
        started_at: row.started_at,
        finished_at: row.finished_at,
        succeeded: row.succeeded,
        added: count(row.added),
        updated: count(row.updated),
        unchanged: count(row.unchanged),
        gone: count(row.gone),
        invalid: count(row.invalid),
        conflicts: count(row.conflicts),
        details: row.report.0,
    }
}

/// Every source, for instance admins (any token: it only reads) and the operator.
pub async fn list_sources(db: &DatabaseConnection, by: Option<&Caller>) -> Result<SourceList> {
    if let Some(caller) = by {
        super::access::require_admin(caller, "manage sources")?;
    }
    let rows = sources::Entity::find().order_by_asc(sources::Column::Name).all(db).await?;
    let counts = held_counts(db).await?;
    let mut sources = Vec::with_capacity(rows.len());
    for row in rows {
        let pipes = counts.get(&Some(row.id)).copied().unwrap_or(0).max(0) as u64;
        sources.push(view(db, row, pipes, true).await?);
    }
    Ok(SourceList { sources })
}

/// Removes a source; its pipes stay, as local pipes (`keep`) or marked gone.
pub async fn remove_source(db: &DatabaseConnection, by: Option<&Caller>, name: &str, keep: bool) -> Result<SourceRemoved> {
    require_admin_or_operator(by, "manage sources")?;
    let source = find(db, name).await?;
    let now = crate::orchestrator::now();
    let mut update = pipes::Entity::update_many().col_expr(pipes::Column::SourceId, Expr::value(Option::<i32>::None));
    if !keep {
        update = update.col_expr(pipes::Column::GoneAt, Expr::value(now));
    }
    let moved = update.filter(pipes::Column::SourceId.eq(source.id)).exec(db).await?.rows_affected;
    sources::Entity::delete_by_id(source.id).exec(db).await?;
    let what = if keep { "kept" } else { "gone" };
    audit::record(db, by, AuditAction::RemoveSource, None, json!({"source": source.name, "pipes": what, "count": moved})).await?;
    Ok(SourceRemoved { name: source.name, pipes: what.into(), count: moved })
}

/// Takes the source for this process until `lease` ends, unless another holds it.
async fn take(db: &DatabaseConnection, source: &sources::Model, lease: TimeDelta) -> Result<bool> {
    let now = crate::orchestrator::now();
    let taken = sources::Entity::update_many()
        .col_expr(sources::Column::LeaseUntil, Expr::value(now + lease))
        .filter(sources::Column::Id.eq(source.id))
        .filter(super::lease::free(sources::Column::LeaseUntil, now))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// `scan_source`: rescans now (refused while another process scans it).
pub async fn scan_now(db: &DatabaseConnection, by: Option<&Caller>, name: &str) -> Result<SourceScanReport> {
    require_admin_or_operator(by, "manage sources")?;
    // A scan writes: a read-only token may not start one.
    let source = find(db, name).await?;
    if !take(db, &source, TimeDelta::minutes(30)).await? {
        return Err(Error::Conflict(format!("Source '{}' is being scanned; try again shortly", source.name)));
    }
    run_apart(db, source).await
}

/// Scans the sources due now, one at a time; each taken by a lease so that with several
/// servers on one database exactly one scans it.
pub async fn scan_due(db: &DatabaseConnection) -> Result<usize> {
    let now = crate::orchestrator::now();
    let due = sources::Entity::find()
        .filter(sources::Column::NextScanAt.lte(now))
        .filter(sources::Column::IntervalSeconds.is_not_null())
        .filter(super::lease::free(sources::Column::LeaseUntil, now))
        .order_by_asc(sources::Column::NextScanAt)
        .all(db)
        .await?;
    let mut scanned = 0;
    for source in due {
        if take(db, &source, TimeDelta::minutes(30)).await? {
            run_apart(db, source).await?;
            scanned += 1;
        }
    }
    Ok(scanned)
}

/// Scans on a thread of its own: reading a large folder would otherwise hold one of the
/// server's few request workers for seconds.
async fn run_apart(db: &DatabaseConnection, source: sources::Model) -> Result<SourceScanReport> {
    let (db, handle) = (db.clone(), tokio::runtime::Handle::current());
    tokio::task::spawn_blocking(move || handle.block_on(run(&db, source)))
        .await
        .map_err(|err| Error::Internal(format!("a source scan stopped: {err}")))?
}

/// One scan of a held source: the pipes, the report, the health, the next time.
async fn run(db: &DatabaseConnection, source: sources::Model) -> Result<SourceScanReport> {
    let started = crate::orchestrator::now();
    let target = ScanTarget { owner_id: source.owner_id, source_id: Some(source.id) };
    let mut etag = None;
    let outcome = match source.kind {
        SourceKind::Folder => scan_folder(db, &source.location, target).await,
        SourceKind::Pipeshare => match remote::read(&source.location, source.token.as_deref(), source.catalogue_etag.as_deref()).await {
            Ok(remote::Read::Unchanged) => {
                etag = source.catalogue_etag.clone();
                Ok(unchanged(db, source.id).await?)
            }
            Ok(remote::Read::Changed { versions, etag: tag, mut summary }) => {
                etag = tag;
                scan::store_versions(db, target, versions, &mut summary).await.map(|()| summary).map_err(failed)
            }
            Err(failure) => Err(failure),
        },
    };
    let finished = crate::orchestrator::now();
    let seconds = (finished - started).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
    crate::metrics::metrics().observe_scan(source.last_scan_at.is_some(), outcome.is_ok(), seconds);
    let mut details = ScanDetails::default();
    let mut report = source_scans::ActiveModel {
        source_id: Set(source.id),
        started_at: Set(started),
        finished_at: Set(finished),
        succeeded: Set(outcome.is_ok()),
        added: Set(0),
        updated: Set(0),
        unchanged: Set(0),
        gone: Set(0),
        invalid: Set(0),
        conflicts: Set(0),
        ..Default::default()
    };
    let state = match &outcome {
        Ok(summary) => {
            let conflicts: std::collections::HashSet<&str> = summary.conflicts.iter().map(|c| c.path.as_str()).collect();
            details.invalid = summary
                .problems
                .iter()
                .filter(|p| !conflicts.contains(p.path.as_str()))
                .map(|p| ScanIssue { path: p.path.clone(), reason: p.reason.clone() })
                .collect();
            details.conflicts = summary.conflicts.iter().map(|p| ScanIssue { path: p.path.clone(), reason: p.reason.clone() }).collect();
            // A scan that read nothing never marks everything gone.
            if !summary.seen.is_empty() {
                details.gone = mark_gone(db, source.id, &summary.seen, finished).await?;
            }
            report.added = Set(summary.added as i64);
            report.updated = Set(summary.updated as i64);
            report.unchanged = Set(summary.unchanged as i64);
            report.invalid = Set(summary.invalid as i64);
            report.conflicts = Set(details.conflicts.len() as i64);
            report.gone = Set(details.gone.len() as i64);
            if summary.invalid > 0 { SourceState::Degraded } else { SourceState::Healthy }
        }
        Err(failure) => {
            details.error = Some(failure.message.clone());
            let recent = source.last_success_at.is_some_and(|at| finished - at <= RECENT);
            if recent && !failure.unreachable { SourceState::Degraded } else { SourceState::Offline }
        }
    };
    report.report = Set(JsonText(details));
    let saved = report.insert(db).await?;
    forget_old_reports(db, source.id).await?;

    let failures = if outcome.is_ok() { 0 } else { source.consecutive_failures.saturating_add(1) };
    let next = source.interval_seconds.map(|interval| {
        let wait = if failures == 0 { interval } else { (min_interval() << (failures - 1).min(20)).min(MAX_BACKOFF_SECONDS) };
        finished + TimeDelta::seconds(wait)
    });
    let before = source.state;
    let mut row = source.clone().into_active_model();
    row.state = Set(state);
    row.last_scan_at = Set(Some(finished));
    match &outcome {
        Ok(_) => {
            row.last_success_at = Set(Some(finished));
            row.last_error = Set(None);
        }
        Err(failure) => row.last_error = Set(Some(failure.message.clone())),
    }
    // Kept only from a complete read: the next rescan then asks whether anything changed.
    row.catalogue_etag = Set(etag);
    row.consecutive_failures = Set(failures);
    row.next_scan_at = Set(next);
    row.lease_until = Set(None);
    row.update(db).await?;
    if before != state {
        let detail = json!({"source": source.name, "from": before, "to": state, "error": outcome.as_ref().err().map(|f| &f.message)});
        audit::record(db, None, AuditAction::SourceState, None, detail).await?;
    }
    Ok(report_of(saved))
}

/// Reads a folder source: unreadable is unreachable.
async fn scan_folder(db: &DatabaseConnection, location: &str, target: ScanTarget) -> std::result::Result<ScanSummary, ReadFailure> {
    let root = std::path::PathBuf::from(location);
    if std::fs::read_dir(&root).is_err() {
        return Err(ReadFailure { message: format!("the folder {} cannot be read", root.display()), unreachable: true });
    }
    scan_dir(db, &root, target, |_| {}).await.map_err(failed)
}

/// A failure of pipeshare's own side (the database) while storing what was read.
fn failed(err: Error) -> ReadFailure {
    ReadFailure { message: err.public_message(), unreachable: false }
}

/// What an unchanged remote's rescan reports: every pipe it holds, unchanged.
async fn unchanged(db: &DatabaseConnection, source_id: i32) -> Result<ScanSummary> {
    let held =
        pipes::Entity::find().filter(pipes::Column::SourceId.eq(source_id)).filter(pipes::Column::GoneAt.is_null()).count(db).await?;
    Ok(ScanSummary { unchanged: held, ..Default::default() })
}

/// Marks gone this source's pipes the scan did not find, and brings back those it found again;
/// the names newly gone.
async fn mark_gone(db: &DatabaseConnection, source_id: i32, seen: &[String], now: DateTime<Utc>) -> Result<Vec<String>> {
    let held: Vec<(String, Option<DateTime<Utc>>)> = pipes::Entity::find()
        .select_only()
        .column(pipes::Column::Name)
        .column(pipes::Column::GoneAt)
        .filter(pipes::Column::SourceId.eq(source_id))
        .into_tuple()
        .all(db)
        .await?;
    let seen: std::collections::HashSet<&str> = seen.iter().map(String::as_str).collect();
    let newly_gone: Vec<String> =
        held.iter().filter(|(n, gone)| gone.is_none() && !seen.contains(n.as_str())).map(|(n, _)| n.clone()).collect();
    let back: Vec<String> = held.iter().filter(|(n, gone)| gone.is_some() && seen.contains(n.as_str())).map(|(n, _)| n.clone()).collect();
    for chunk in newly_gone.chunks(500) {
        pipes::Entity::update_many()
            .col_expr(pipes::Column::GoneAt, Expr::value(now))
            .filter(pipes::Column::SourceId.eq(source_id))
            .filter(pipes::Column::Name.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    for chunk in back.chunks(500) {
        pipes::Entity::update_many()
            .col_expr(pipes::Column::GoneAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(pipes::Column::SourceId.eq(source_id))
            .filter(pipes::Column::Name.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(newly_gone)
}

async fn forget_old_reports(db: &DatabaseConnection, source_id: i32) -> Result<()> {
    let keep_from: Option<i32> = source_scans::Entity::find()
        .select_only()
        .column(source_scans::Column::Id)
        .filter(source_scans::Column::SourceId.eq(source_id))
        .order_by_desc(source_scans::Column::Id)
        .offset(REPORTS_KEPT - 1)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    if let Some(oldest_kept) = keep_from {
        source_scans::Entity::delete_many()
            .filter(source_scans::Column::SourceId.eq(source_id))
            .filter(source_scans::Column::Id.lt(oldest_kept))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// `registry_status`: each source's health, and the built-in `local` one; `location` for
/// instance admins only; never a token.
pub async fn registry_status(db: &impl ConnectionTrait, with_location: bool) -> Result<Map<String, Value>> {
    let mut status = Map::new();
    let counts = held_counts(db).await?;
    let held = |id: Option<i32>| counts.get(&id).copied().unwrap_or(0).max(0);
    status.insert("local".into(), json!({"kind": "local", "state": SourceState::Healthy, "pipes": held(None)}));
    for row in sources::Entity::find().order_by_asc(sources::Column::Name).all(db).await? {
        let pipes = held(Some(row.id));
        let mut entry = json!({
            "kind": row.kind,
            "state": row.state,
            "pipes": pipes,
            "last_scan_at": row.last_scan_at,
            "last_success_at": row.last_success_at,
            "last_error": row.last_error,
            "next_scan_at": row.next_scan_at,
        });
        if with_location {
            entry["location"] = json!(row.location);
        }
        status.insert(row.name, entry);
    }
    Ok(status)
}

/// Pipes held (not gone) per source, `None` for local ones, in one grouped query.
async fn held_counts(db: &impl ConnectionTrait) -> Result<std::collections::HashMap<Option<i32>, i64>> {
    Ok(pipes::Entity::find()
        .select_only()
        .column(pipes::Column::SourceId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(pipes::Column::GoneAt.is_null())
        .group_by(pipes::Column::SourceId)
        .into_tuple::<(Option<i32>, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Every source as `/metrics` shows it.
pub async fn source_stats(db: &impl ConnectionTrait) -> Result<Vec<crate::metrics::SourceStats>> {
    let counts = held_counts(db).await?;
    let rows = sources::Entity::find().order_by_asc(sources::Column::Name).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| crate::metrics::SourceStats {
            pipes: counts.get(&Some(row.id)).copied().unwrap_or(0),
            kind: row.kind.to_string(),
            state: row.state.to_string(),
            consecutive_failures: row.consecutive_failures,
            last_success: row.last_success_at.map(|at| at.timestamp()),
            name: row.name,
        })
        .collect())
}

/// Where a pipe came from, for its page and `download_pipe`.
pub async fn source_of(db: &impl ConnectionTrait, pipe: &pipes::Model) -> Result<PipeSource> {
    let source = match pipe.source_id {
        Some(id) => sources::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(PipeSource {
        name: source.as_ref().map_or("local".into(), |s| s.name.clone()),
        kind: source.as_ref().map(|s| s.kind),
        origin: pipe.origin.clone(),
        gone_at: pipe.gone_at,
        last_success_at: source.and_then(|s| s.last_success_at),
    })
}
