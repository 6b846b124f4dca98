//! Download counts kept by the writes (`download_tallies`), which reports read instead of the
//! downloads themselves: a year of a million downloads is a few thousand tally rows per
//! dimension, whatever the number of downloads.
//!
//! Each download adds one, in the owner of its pipe's rows, to its pipe, version, category,
//! environment, client, user and day, in every window. Windows are whole UTC days: on day D
//! the window of N days holds days D-N through D (so "7 days" is today and the seven days
//! before, as a report's trend lists them). When the day changes, [`ensure_current`]
//! subtracts the days that left each window, counted again from `downloads` (a few days'
//! rows, by the time index). Without the state row (a new or imported database) the tallies
//! are rebuilt from every download.
use chrono::{DateTime, Days, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, Iterable, QueryFilter, Statement, Value,
    sea_query::{Expr, OnConflict},
};

use super::entities::download_tallies::{self, Dimension};
use super::entities::{download_tally_state, downloads};
use super::error::Result;

/// The windows, in days, of the columns `d1` to `d365`.
const WINDOW_DAYS: [u64; 5] = [1, 7, 30, 90, 365];
/// The count columns: the five windows, then all time.
const COLUMN_NAMES: [&str; 6] = ["d1", "d7", "d30", "d90", "d365", "total"];

/// Counts in the order of the columns.
type Counts = [i64; 6];

/// A window a report reads, in the order of the count columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Days1,
    Days7,
    Days30,
    Days90,
    Days365,
    AllTime,
}

impl Window {
    /// Its place among the count columns.
    fn index(self) -> usize {
        self as usize
    }

    /// The first day the window holds on `today`; `None` for all time.
    pub fn first_day(self, today: NaiveDate) -> Option<NaiveDate> {
        WINDOW_DAYS.get(self.index()).map(|days| before(today, *days))
    }
}

/// The start (midnight UTC) of `day`.
pub fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// `day` minus `days`, or the earliest date.
fn before(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN)
}

/// The UTC day of a time column, as `YYYY-MM-DD`, computed by the database.
pub fn day_of(backend: DbBackend, table: &str, column: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("to_char({table}.{column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
        // Times are stored as UTC text beginning with the date.
        _ => format!("substr({table}.{column}, 1, 10)"),
    }
}

/// A dimension's (pipe id, key) of a download, as SQL over `downloads`.
fn key_sql(dimension: Dimension, backend: DbBackend) -> (&'static str, String) {
    match dimension {
        Dimension::Pipe => ("downloads.pipe_id", "''".into()),
        Dimension::Version => ("downloads.pipe_id", "downloads.version".into()),
        Dimension::Category => ("0", "COALESCE(downloads.category, '')".into()),
        Dimension::Environment => ("0", "COALESCE(downloads.environment, 'direct')".into()),
        Dimension::Client => ("0", "COALESCE(downloads.client, 'unknown')".into()),
        Dimension::User => ("0", "COALESCE(CAST(downloads.user_id AS TEXT), '')".into()),
        Dimension::Day => ("0", day_of(backend, "downloads", "downloaded_at")),
    }
}

/// The same (pipe id, key) of one download, as [`key_sql`] computes them.
fn keys_of(download: &downloads::Model) -> [(Dimension, i32, String); 7] {
    [
        (Dimension::Pipe, download.pipe_id, String::new()),
        (Dimension::Version, download.pipe_id, download.version.clone()),
        (Dimension::Category, 0, download.category.clone().unwrap_or_default()),
        (Dimension::Environment, 0, download.environment.clone().unwrap_or_else(|| "direct".into())),
        (Dimension::Client, 0, download.client.map_or("unknown", |c| c.as_str()).into()),
        (Dimension::User, 0, download.user_id.map(|id| id.to_string()).unwrap_or_default()),
        (Dimension::Day, 0, download.downloaded_at.format("%Y-%m-%d").to_string()),
    ]
}

/// Counts to add to one tally row.
struct Tally {
    dimension: Dimension,
    owner_id: i32,
    pipe_id: i32,
    key: String,
    counts: Counts,
}

impl Tally {
    fn into_row(self) -> download_tallies::ActiveModel {
        use sea_orm::ActiveValue::Set;
        let c = self.counts;
        download_tallies::ActiveModel {
            dimension: Set(self.dimension),
            owner_id: Set(self.owner_id),
            pipe_id: Set(self.pipe_id),
            key: Set(self.key),
            d1: Set(c[0]),
            d7: Set(c[1]),
            d30: Set(c[2]),
            d90: Set(c[3]),
            d365: Set(c[4]),
            total: Set(c[5]),
        }
    }
}

/// The count columns, in [`Counts`] order.
const COUNT_COLUMNS: [download_tallies::Column; 6] = {
    use download_tallies::Column;
    [Column::D1, Column::D7, Column::D30, Column::D90, Column::D365, Column::Total]
};

/// Adds `rows` to the stored tallies, creating the missing ones.
async fn add(db: &impl ConnectionTrait, tallies: Vec<Tally>) -> Result<()> {
    use download_tallies::Column;
    let mut conflict = OnConflict::columns([Column::Dimension, Column::OwnerId, Column::PipeId, Column::Key]);
    for column in COUNT_COLUMNS {
        let name = sea_orm::IdenStatic::as_str(&column);
        conflict.value(column, Expr::col((download_tallies::Entity, column)).add(Expr::cust(format!("excluded.{name}"))));
    }
    for rows in super::scan::per_statement::<download_tallies::Entity, _>(tallies) {
        download_tallies::Entity::insert_many(rows.into_iter().map(Tally::into_row))
            .on_conflict(conflict.clone())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Counts new downloads, in the transaction that stored them. Their pipes' owners are read
/// here, after any transfer that holds a pipe (PostgreSQL waits for it): the counts go to
/// whoever owns the pipe when this transaction ends.
pub async fn count_downloads(txn: &impl ConnectionTrait, downloads: &[downloads::Model]) -> Result<()> {
    use super::entities::pipes;
    use sea_orm::QuerySelect;
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    let ids: BTreeSet<i32> = downloads.iter().map(|d| d.pipe_id).collect();
    let owners: BTreeMap<i32, i32> = pipes::Entity::find()
        .select_only()
        .columns([pipes::Column::Id, pipes::Column::OwnerId])
        .filter(pipes::Column::Id.is_in(ids))
        .lock_shared()
        .into_tuple::<(i32, i32)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    // One row per tally: an upsert may not touch a row twice (PostgreSQL refuses).
    let mut counted: HashMap<(Dimension, i32, i32, String), i64> = HashMap::new();
    for download in downloads {
        let Some(&owner) = owners.get(&download.pipe_id) else { continue };
        for (dimension, pipe_id, key) in keys_of(download) {
            *counted.entry((dimension, owner, pipe_id, key)).or_default() += 1;
        }
    }
    let tallies = counted
        .into_iter()
        .map(|((dimension, owner_id, pipe_id, key), n)| Tally { dimension, owner_id, pipe_id, key, counts: [n; 6] })
        .collect();
    add(txn, tallies).await
}

/// SQL text with its values, numbered for the backend.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".into(),
        }
    }
}

/// A span of download times, `from` inclusive, `to` exclusive; `None` is open.
type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Downloads counted by `dimension` per owner, where count column `i` counts the downloads
/// within `spans[i]` (`None`: none). Only downloads within some span are read.
async fn counted(db: &impl ConnectionTrait, dimension: Dimension, spans: &[Option<Span>; 6]) -> Result<Vec<Tally>> {
    fn within(sql: &mut Sql, (from, to): Span) -> String {
        let mut parts = Vec::new();
        if let Some(from) = from {
            parts.push(format!("downloads.downloaded_at >= {}", sql.bind(from)));
        }
        if let Some(to) = to {
            parts.push(format!("downloads.downloaded_at < {}", sql.bind(to)));
        }
        if parts.is_empty() { "1 = 1".into() } else { parts.join(" AND ") }
    }
    let backend = db.get_database_backend();
    let mut sql = Sql { backend, text: String::new(), values: Vec::new() };
    let mut columns = Vec::new();
    let mut wheres = Vec::new();
    for span in spans {
        columns.push(match span {
            Some(span) => format!("SUM(CASE WHEN {} THEN 1 ELSE 0 END)", within(&mut sql, *span)),
            None => "CAST(0 AS BIGINT)".into(),
        });
    }
    for span in spans.iter().flatten() {
        wheres.push(format!("({})", within(&mut sql, *span)));
    }
    let (pipe_id, key) = key_sql(dimension, backend);
    sql.text = format!(
        "SELECT pipes.owner_id, {pipe_id}, {key}, {} FROM downloads JOIN pipes ON pipes.id = downloads.pipe_id WHERE {} GROUP BY 1, 2, 3",
        columns.join(", "),
        if wheres.is_empty() { "1 = 0".into() } else { wheres.join(" OR ") },
    );
    let rows = db.query_all(Statement::from_sql_and_values(backend, sql.text, sql.values)).await?;
    let mut tallies = Vec::with_capacity(rows.len());
    for found in rows {
        let mut counts = [0i64; 6];
        for (i, count) in counts.iter_mut().enumerate() {
            *count = found.try_get_by_index::<Option<i64>>(3 + i)?.unwrap_or(0);
        }
        tallies.push(Tally {
            dimension,
            owner_id: found.try_get_by_index(0)?,
            pipe_id: found.try_get_by_index(1)?,
            key: found.try_get_by_index(2)?,
            counts,
        });
    }
    Ok(tallies)
}

/// Takes the tallies for this transaction alone: a rebuild or a day's change must not
/// interleave with another, nor with a transfer, nor lose a download counted meanwhile.
/// (On SQLite the first write takes the database's one write lock.)
async fn lock(txn: &impl ConnectionTrait) -> Result<()> {
    let sql = match txn.get_database_backend() {
        DbBackend::Postgres => "LOCK TABLE download_tallies IN EXCLUSIVE MODE",
        _ => "UPDATE download_tally_state SET as_of = as_of",
    };
    txn.execute_unprepared(sql).await?;
    Ok(())
}

async fn as_of(db: &impl ConnectionTrait) -> Result<Option<NaiveDate>> {
    Ok(download_tally_state::Entity::find_by_id(1).one(db).await?.map(|state| state.as_of))
}

async fn set_as_of(txn: &impl ConnectionTrait, day: NaiveDate) -> Result<()> {
    use sea_orm::ActiveValue::Set;
    let state = download_tally_state::ActiveModel { id: Set(1), as_of: Set(day) };
    download_tally_state::Entity::insert(state)
        .on_conflict(OnConflict::column(download_tally_state::Column::Id).update_column(download_tally_state::Column::AsOf).to_owned())
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Counts every download again, as of `today`.
pub async fn rebuild(txn: &impl ConnectionTrait, today: NaiveDate) -> Result<()> {
    lock(txn).await?;
    download_tallies::Entity::delete_many().exec(txn).await?;
    let mut spans = [None; 6];
    for (span, days) in spans.iter_mut().zip(WINDOW_DAYS) {
        *span = Some((Some(start_of(before(today, days))), None));
    }
    spans[5] = Some((None, None));
    for dimension in Dimension::iter() {
        let tallies = counted(txn, dimension, &spans).await?;
        add(txn, tallies).await?;
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        // Without statistics for the new rows PostgreSQL took the tallies for a handful and
        // compared every share with every pipe's (a report: 150 ms instead of 30 at 10k pipes).
        txn.execute_unprepared("ANALYZE download_tallies").await?;
    }
    set_as_of(txn, today).await
}

/// Moves the windows from `from` to `to`: each loses the days it no longer holds.
async fn roll(txn: &impl ConnectionTrait, from: NaiveDate, to: NaiveDate) -> Result<()> {
    let mut spans = [None; 6];
    for (span, days) in spans.iter_mut().zip(WINDOW_DAYS) {
        *span = Some((Some(start_of(before(from, days))), Some(start_of(before(to, days)))));
    }
    for dimension in Dimension::iter() {
        let mut left = counted(txn, dimension, &spans).await?;
        for tally in &mut left {
            tally.counts = tally.counts.map(|n| -n);
        }
        add(txn, left).await?;
    }
    set_as_of(txn, to).await
}

/// Brings the windows to today (or builds the tallies, the first time). Cheap when they are:
/// one read.
pub async fn ensure_current(db: &DatabaseConnection) -> Result<()> {
    bring_to(db, super::now().date_naive()).await
}

async fn bring_to(db: &DatabaseConnection, today: NaiveDate) -> Result<()> {
    if as_of(db).await?.is_some_and(|day| day >= today) {
        return Ok(());
    }
    let (txn, _turn) = super::db::begin_turn(db).await?;
    lock(&txn).await?;
    match as_of(&txn).await? {
        Some(day) if day >= today => {}
        Some(day) => roll(&txn, day, today).await?,
        None => rebuild(&txn, today).await?,
    }
    txn.commit().await?;
    Ok(())
}

/// Gives `from`'s counts to `to`, whose pipes they now are (in the transfer's transaction).
pub async fn move_owner(txn: &impl ConnectionTrait, from: i32, to: i32) -> Result<()> {
    lock(txn).await?;
    let rows = download_tallies::Entity::find().filter(download_tallies::Column::OwnerId.eq(from)).all(txn).await?;
    let moved = rows
        .into_iter()
        .map(|t| Tally {
            dimension: t.dimension,
            owner_id: to,
            pipe_id: t.pipe_id,
            key: t.key,
            counts: [t.d1, t.d7, t.d30, t.d90, t.d365, t.total],
        })
        .collect();
    add(txn, moved).await?;
    download_tallies::Entity::delete_many().filter(download_tallies::Column::OwnerId.eq(from)).exec(txn).await?;
    Ok(())
}

/// Every download of the pipe, ever.
pub async fn pipe_total(db: &impl ConnectionTrait, owner_id: i32, pipe_id: i32) -> Result<u64> {
    let found = download_tallies::Entity::find_by_id((Dimension::Pipe, owner_id, pipe_id, String::new())).one(db).await?;
    Ok(found.map_or(0, |t| t.total.max(0) as u64))
}

/// One key's downloads in a report's window.
pub struct Ranked {
    pub pipe_id: i32,
    /// The pipe's name, for the pipe and version dimensions.
    pub pipe_name: Option<String>,
    pub key: String,
    pub downloads: u64,
}

/// `owner`'s tallies (`None`: the instance's) of one dimension, for the report's queries.
fn scoped(sql: &mut Sql, owner: Option<i32>, dimension: Dimension) -> String {
    let mut condition = format!("t.dimension = {}", sql.bind(sea_orm::ActiveEnum::to_value(&dimension)));
    if let Some(owner) = owner {
        condition += &format!(" AND t.owner_id = {}", sql.bind(owner));
    }
    condition
}

fn column_name(window: Window) -> &'static str {
    COLUMN_NAMES[window.index()]
}

/// Keys of one dimension by their downloads in `window`, most first, summed over owners
/// (ties by pipe, the older first, then key).
pub async fn ranked(
    db: &impl ConnectionTrait,
    owner: Option<i32>,
    dimension: Dimension,
    window: Window,
    limit: u64,
) -> Result<Vec<Ranked>> {
    let backend = db.get_database_backend();
    let mut sql = Sql { backend, text: String::new(), values: Vec::new() };
    let scope = scoped(&mut sql, owner, dimension);
    let column = column_name(window);
    sql.text = if matches!(dimension, Dimension::Pipe | Dimension::Version) {
        // A pipe's rows are its owner's alone: no sum, a walk of the rows with a short sort.
        format!(
            "SELECT t.pipe_id, t.key, t.{column} FROM download_tallies t WHERE {scope} AND t.{column} > 0 \
             ORDER BY t.{column} DESC, t.pipe_id, t.key LIMIT {limit}"
        )
    } else {
        format!(
            "SELECT t.pipe_id, t.key, CAST(SUM(t.{column}) AS BIGINT) AS n FROM download_tallies t WHERE {scope} \
             GROUP BY t.pipe_id, t.key HAVING SUM(t.{column}) > 0 ORDER BY n DESC, t.pipe_id, t.key LIMIT {limit}"
        )
    };
    let rows = db.query_all(Statement::from_sql_and_values(backend, sql.text, sql.values)).await?;
    let mut ranked = Vec::with_capacity(rows.len());
    for found in rows {
        ranked.push(Ranked {
            pipe_id: found.try_get_by_index(0)?,
            pipe_name: None,
            key: found.try_get_by_index(1)?,
            downloads: found.try_get_by_index::<i64>(2)?.max(0) as u64,
        });
    }
    if matches!(dimension, Dimension::Pipe | Dimension::Version) {
        use super::entities::pipes;
        use sea_orm::QuerySelect;
        let ids: Vec<i32> = ranked.iter().map(|r| r.pipe_id).collect();
        let names: std::collections::HashMap<i32, String> = pipes::Entity::find()
            .select_only()
            .columns([pipes::Column::Id, pipes::Column::Name])
            .filter(pipes::Column::Id.is_in(ids))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for r in &mut ranked {
            r.pipe_name = names.get(&r.pipe_id).cloned();
        }
    }
    Ok(ranked)
}

/// Every download in `window`.
pub async fn total(db: &impl ConnectionTrait, owner: Option<i32>, window: Window) -> Result<u64> {
    // Each download has exactly one client row.
    single(db, owner, Dimension::Client, &format!("CAST(SUM(t.{}) AS BIGINT)", column_name(window)), "").await
}

/// Signed-in users who downloaded in `window`.
pub async fn unique_users(db: &impl ConnectionTrait, owner: Option<i32>, window: Window) -> Result<u64> {
    let column = column_name(window);
    single(db, owner, Dimension::User, "COUNT(DISTINCT t.key)", &format!(" AND t.key <> '' AND t.{column} > 0")).await
}

async fn single(db: &impl ConnectionTrait, owner: Option<i32>, dimension: Dimension, select: &str, and: &str) -> Result<u64> {
    let backend = db.get_database_backend();
    let mut sql = Sql { backend, text: String::new(), values: Vec::new() };
    let scope = scoped(&mut sql, owner, dimension);
    sql.text = format!("SELECT {select} FROM download_tallies t WHERE {scope}{and}");
    let found = db.query_one(Statement::from_sql_and_values(backend, sql.text, sql.values)).await?;
    let n = match found {
        Some(found) => found.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    };
    Ok(n.max(0) as u64)
}

/// Downloads per day from `first` (`None`: every day with downloads).
pub async fn per_day(db: &impl ConnectionTrait, owner: Option<i32>, first: Option<NaiveDate>) -> Result<Vec<(NaiveDate, u64)>> {
    let backend = db.get_database_backend();
    let mut sql = Sql { backend, text: String::new(), values: Vec::new() };
    let mut scope = scoped(&mut sql, owner, Dimension::Day);
    if let Some(first) = first {
        scope += &format!(" AND t.key >= {}", sql.bind(first.format("%Y-%m-%d").to_string()));
    }
    sql.text = format!("SELECT t.key, CAST(SUM(t.total) AS BIGINT) FROM download_tallies t WHERE {scope} GROUP BY t.key");
    let rows = db.query_all(Statement::from_sql_and_values(backend, sql.text, sql.values)).await?;
    let mut days = Vec::with_capacity(rows.len());
    for found in rows {
        let day: String = found.try_get_by_index(0)?;
        if let Ok(day) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") {
            days.push((day, found.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0).max(0) as u64));
        }
    }
    Ok(days)
}

/// SQL true where the share's pipe (`shares.pipe_id`, owned by `pipes.owner_id`) was
/// downloaded in `window`.
pub fn downloaded_in(window: Window) -> String {
    format!(
        "EXISTS (SELECT 1 FROM download_tallies t WHERE t.dimension = 'pipe' AND t.owner_id = pipes.owner_id \
         AND t.pipe_id = shares.pipe_id AND t.key = '' AND t.{} > 0)",
        column_name(window)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DownloadClient;
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, QueryOrder, TransactionTrait};

    async fn stored(db: &DatabaseConnection) -> Vec<download_tallies::Model> {
        use download_tallies::Column;
        download_tallies::Entity::find()
            .order_by_asc(Column::Dimension)
            .order_by_asc(Column::OwnerId)
            .order_by_asc(Column::PipeId)
            .order_by_asc(Column::Key)
            .all(db)
            .await
            .unwrap()
    }

    /// Day by day over more than a year, with gaps of several days and a transfer, the
    /// tallies kept by the writes equal the tallies counted again from the downloads.
    #[tokio::test]
    async fn kept_tallies_equal_a_recount_whatever_the_days_and_owners() {
        use super::super::{accounts, admin, entities::pipes, scan};
        let dir = tempfile::tempdir().unwrap();
        for i in 0..3 {
            let folder = dir.path().join(format!("tree/pipe_{i}/1.0.{i}"));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("plug.yaml"), format!("name: pipe_{i}\nversion: 1.0.{i}\ncategory: c{i}\n")).unwrap();
        }
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = super::super::db::connect(&url).await.unwrap();
        let password = "correct horse battery";
        let alice = accounts::create_user(&db, &"alice".parse().unwrap(), password, false).await.unwrap();
        let bob = accounts::create_user(&db, &"bob".parse().unwrap(), password, false).await.unwrap();
        let root = accounts::create_user(&db, &"root".parse().unwrap(), password, true).await.unwrap();
        let target = scan::ScanTarget { owner_id: alice.id, source_id: None };
        scan::scan_dir(&db, &dir.path().join("tree"), target, |_| {}).await.unwrap();
        let pipe_ids: Vec<i32> =
            pipes::Entity::find().order_by_asc(pipes::Column::Id).all(&db).await.unwrap().iter().map(|p| p.id).collect();
        let root_caller =
            accounts::Caller { user_id: root.id, username: "root".into(), is_admin: true, read_only: false, via_token: false };

        let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let mut day = start;
        let mut n = 0u32;
        // The connection counted as of the real today: start over, in 2025.
        download_tally_state::Entity::delete_many().exec(&db).await.unwrap();
        bring_to(&db, day).await.unwrap();
        while day < start + Days::new(420) {
            // Some days nobody downloads, and nobody asks for the tallies for a while.
            n += 1;
            let step = [1, 1, 2, 1, 5, 1, 1, 3][n as usize % 8];
            day = day + Days::new(step);
            if !n.is_multiple_of(3) {
                bring_to(&db, day).await.unwrap();
            }
            for k in 0..(n % 4) {
                let at = day.and_hms_opt(k * 5, 30, 0).unwrap().and_utc();
                let txn = db.begin().await.unwrap();
                let download = downloads::ActiveModel {
                    pipe_id: Set(pipe_ids[((n + k) % 3) as usize]),
                    user_id: Set([Some(alice.id), Some(bob.id), None][(n % 3) as usize]),
                    version: Set(format!("1.0.{}", k % 2)),
                    downloaded_at: Set(at),
                    environment: Set((k == 1).then(|| "prod".to_string())),
                    client: Set([Some(DownloadClient::Token), Some(DownloadClient::Browser), None][(k % 3) as usize]),
                    category: Set([Some("c0".to_string()), None][(n % 2) as usize].clone()),
                    ..Default::default()
                }
                .insert(&txn)
                .await
                .unwrap();
                // Without a roll first, a download counts in the windows as they stand.
                count_downloads(&txn, &[download]).await.unwrap();
                txn.commit().await.unwrap();
            }
            if n == 60 {
                admin::transfer_pipes(&db, Some(&root_caller), &"alice".parse().unwrap(), &"bob".parse().unwrap()).await.unwrap();
            }
        }
        bring_to(&db, day).await.unwrap();
        let kept = stored(&db).await;
        assert!(kept.iter().any(|t| t.d7 > 0) && kept.iter().any(|t| t.total > t.d365), "the windows hold less than all time");
        assert!(kept.iter().all(|t| t.owner_id == bob.id), "the transfer moved every count");

        let txn = db.begin().await.unwrap();
        rebuild(&txn, day).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(kept, stored(&db).await);
    }
}
