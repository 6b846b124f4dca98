//! Answers kept in memory while nothing they depend on has changed. A caller's listing or
//! download is read from the database once, then sent again while:
//! - the access revision (migration 22: a number the database moves on every committed
//!   change to what a caller may list or download and what those answers hold, whoever
//!   writes it: any instance, a scan, an import, an operator's SQL) reads as it did before
//!   the answer was read; and
//! - no grant has ended since: a grant's end changes access with no write at all; and
//! - it was kept less than `MAX_AGE` ago: a safety net, should a change ever reach an
//!   answer without moving the revision.
//!
//! Checking costs one small read, shared by all the requests that wait while it runs.
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    sea_query::{Alias, Expr, Func, Query, SelectStatement, SimpleExpr},
};
use serde::Serialize;

use super::accounts::Caller;
use super::entities::grants;
use super::error::Result;

/// The database's revisions, as read at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revisions {
    /// What a public pipe page shows (migration 20), download counts included.
    pub catalog: i64,
    /// What a caller may list or download, and what those answers hold (migration 22).
    pub access: i64,
    /// When the first grant ends after this read (`None`: no grant will).
    pub next_grant_end: Option<DateTime<Utc>>,
}

/// Row `row` of `catalog_revision`, as a scalar subquery.
fn revision(row: i32) -> SimpleExpr {
    let select: SelectStatement = Query::select()
        .column(Alias::new("revision"))
        .from(Alias::new("catalog_revision"))
        .and_where(Expr::col(Alias::new("id")).eq(row))
        .to_owned();
    SimpleExpr::SubQuery(None, Box::new(select.into_sub_query_statement()))
}

/// The revisions, in one statement.
pub async fn read_revisions(db: &DatabaseConnection) -> Result<Revisions> {
    let next_end = grants::Entity::find()
        .select_only()
        .expr(Func::min(Expr::col(grants::Column::ExpiresAt)))
        .filter(grants::Column::ExpiresAt.gt(super::now()))
        .into_query();
    let statement = Query::select()
        .expr_as(revision(1), Alias::new("catalog"))
        .expr_as(revision(2), Alias::new("access"))
        .expr_as(SimpleExpr::SubQuery(None, Box::new(next_end.into_sub_query_statement())), Alias::new("next_grant_end"))
        .to_owned();
    let row = db.query_one(db.get_database_backend().build(&statement)).await?;
    let row = row.ok_or_else(|| super::Error::Internal("the revisions read no row".into()))?;
    Ok(Revisions {
        catalog: row.try_get("", "catalog")?,
        access: row.try_get("", "access")?,
        next_grant_end: row.try_get("", "next_grant_end")?,
    })
}

tokio::task_local! {
    /// When the request being answered came in.
    static ARRIVED: Instant;
}

/// Answers a request that came in at `arrived`: its reads of the revisions may share one
/// read begun after that moment (an answer checked by the token and again by the download
/// waits for one read, not two).
pub async fn arrived_at<F: Future>(arrived: Instant, answer: F) -> F::Output {
    ARRIVED.scope(arrived, answer).await
}

/// Reads the revisions for many requests at once.
#[derive(Default)]
pub struct RevisionReader(tokio::sync::Mutex<Option<(Instant, Revisions)>>);

impl RevisionReader {
    /// The revisions, from a read that began after the request came in (see [`arrived_at`];
    /// otherwise after this call): such a read saw every change committed before the request
    /// came. One read at a time, and each serves all the requests that were waiting when it
    /// began: a burst of requests costs a few reads.
    pub async fn read(&self, db: &DatabaseConnection) -> Result<Revisions> {
        let asked = ARRIVED.try_with(|arrived| *arrived).unwrap_or_else(|_| Instant::now());
        let mut last = self.0.lock().await;
        if let Some((began, revisions)) = *last
            && began >= asked
        {
            return Ok(revisions);
        }
        let began = Instant::now();
        let revisions = read_revisions(db).await?;
        *last = Some((began, revisions));
        Ok(revisions)
    }
}

/// The longest an answer is kept.
const MAX_AGE: Duration = Duration::from_secs(10);

/// Whose answer it is: a signed-in caller's (with their role), or anonymous visitors' (`None`).
pub type Asker = Option<(i32, bool)>;

/// Whose answer `caller`'s is: what decides what they may see, besides the database.
pub fn asker(caller: Option<&Caller>) -> Asker {
    caller.map(|c| (c.user_id, c.is_admin))
}

struct Answer<V> {
    /// The access revision read before the answer was.
    access: i64,
    /// The first grant's end after that read.
    until: Option<DateTime<Utc>>,
    kept_at: Instant,
    /// About the bytes it takes, with its key.
    size: usize,
    value: V,
}

/// Answers of one kind, by what was asked, within a budget of bytes.
pub struct Kept<K, V> {
    /// The kind, as the metrics name it.
    kind: &'static str,
    answers: Mutex<(HashMap<K, Answer<V>>, usize)>,
    budget: usize,
}

/// Counts the bytes written to it.
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// About the memory `value` takes: its size as JSON.
fn size_of(value: &impl Serialize) -> usize {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).map_or(usize::MAX, |_| counter.0)
}

impl<K: Eq + Hash + Serialize, V: Clone + Serialize> Kept<K, V> {
    pub fn new(kind: &'static str, budget: usize) -> Self {
        Kept { kind, answers: Mutex::new((HashMap::new(), 0)), budget }
    }

    /// The answer kept for `key`, if it is still right at `revisions` (read after the request
    /// came).
    pub fn current(&self, key: &K, revisions: &Revisions) -> Option<V> {
        let now = super::now();
        let value = self.answers.lock().ok().and_then(|answers| {
            let answer = answers.0.get(key)?;
            let current = answer.access == revisions.access && answer.until.is_none_or(|until| now < until);
            (current && answer.kept_at.elapsed() < MAX_AGE).then(|| answer.value.clone())
        });
        crate::metrics::metrics().count_answer(self.kind, value.is_some());
        value
    }

    /// Keeps `value`, the answer to `key` read after `revisions` were. One answer never
    /// takes more than a sixteenth of the budget. To make room, answers of older revisions
    /// go first, then all: they are read again.
    pub fn keep(&self, key: K, revisions: &Revisions, value: &V) {
        let kept_at = Instant::now();
        let size = size_of(&key).saturating_add(size_of(value));
        if size > self.budget / 16 {
            return;
        }
        let Ok(mut answers) = self.answers.lock() else {
            return;
        };
        let (answers, used) = &mut *answers;
        if let Some(old) = answers.remove(&key) {
            *used -= old.size;
        }
        if *used + size > self.budget {
            answers.retain(|_, answer| answer.access == revisions.access);
            *used = answers.values().map(|answer| answer.size).sum();
        }
        if *used + size > self.budget {
            answers.clear();
            *used = 0;
        }
        *used += size;
        let answer = Answer { access: revisions.access, until: revisions.next_grant_end, kept_at, size, value: value.clone() };
        answers.insert(key, answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessLevel, SubjectKind};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, TransactionTrait};

    async fn run(db: &DatabaseConnection, sql: &str) {
        db.execute_unprepared(sql).await.unwrap();
    }

    #[tokio::test]
    async fn the_access_revision_moves_with_what_answers_hold_and_not_with_downloads() {
        use super::super::entities::{downloads, group_members, pipes, user_groups};
        let plug = ("sqlite/1.0.0/plug.yaml", "name: sqlite\nversion: 1.0.0\ncategory: database\n");
        let (dir, db, owner) = super::super::db::test_database(&[plug]).await;
        let before = read_revisions(&db).await.unwrap();
        assert_eq!(before.next_grant_end, None);

        let target = super::super::scan::ScanTarget { owner_id: owner.id, source_id: None };
        super::super::scan::scan_dir(&db, &dir.path().join("tree"), target, |_| {}).await.unwrap();
        let scanned = read_revisions(&db).await.unwrap();
        assert!(scanned.access > before.access && scanned.catalog > before.catalog, "{before:?} {scanned:?}");

        // A counted download moves what pages show (its count), not what answers hold.
        let pipe = pipes::Entity::find().one(&db).await.unwrap().unwrap();
        let download = downloads::Model {
            id: 0,
            pipe_id: pipe.id,
            user_id: Some(owner.id),
            version: "1.0.0".into(),
            downloaded_at: super::super::now(),
            environment: None,
            client: None,
            category: None,
        };
        let txn = db.begin().await.unwrap();
        super::super::tallies::count_downloads(&txn, &[download]).await.unwrap();
        txn.commit().await.unwrap();
        let counted = read_revisions(&db).await.unwrap();
        assert_eq!(counted.access, scanned.access);
        assert!(counted.catalog > scanned.catalog);

        // Of a user, the quota's lock counter moves neither; the role moves access.
        run(&db, "UPDATE users SET quota_lock = quota_lock + 1").await;
        assert_eq!(read_revisions(&db).await.unwrap(), counted);
        run(&db, &format!("UPDATE users SET is_admin = 1 WHERE id = {}", owner.id)).await;
        let promoted = read_revisions(&db).await.unwrap();
        assert!(promoted.access > counted.access && promoted.catalog == counted.catalog, "{promoted:?}");

        // A group, a member, a grant: each moves access; the grant's end is the next one.
        let group = user_groups::ActiveModel { name: Set("team".into()), created_at: Set(super::super::now()), ..Default::default() };
        let group = group.insert(&db).await.unwrap();
        let grouped = read_revisions(&db).await.unwrap();
        assert!(grouped.access > promoted.access);
        group_members::ActiveModel { group_id: Set(group.id), user_id: Set(owner.id) }.insert(&db).await.unwrap();
        let joined = read_revisions(&db).await.unwrap();
        assert!(joined.access > grouped.access);
        let ends = super::super::now() + chrono::TimeDelta::hours(1);
        let grant = grants::ActiveModel {
            pipe_id: Set(pipe.id),
            subject_kind: Set(SubjectKind::Group),
            subject_id: Set(group.id),
            access_level: Set(AccessLevel::Read),
            expires_at: Set(Some(ends)),
            extra: Set(Default::default()),
            permission_id: Set("perm".into()),
            granted_by: Set(owner.id),
            created_at: Set(super::super::now()),
            term_seconds: Set(None),
            end_announced: Set(false),
            ..Default::default()
        };
        grant.insert(&db).await.unwrap();
        let granted = read_revisions(&db).await.unwrap();
        assert!(granted.access > joined.access);
        assert_eq!(granted.next_grant_end, Some(ends));
        // An ended grant is no next end.
        run(&db, "UPDATE grants SET expires_at = '2020-01-01 00:00:00+00:00'").await;
        assert_eq!(read_revisions(&db).await.unwrap().next_grant_end, None);
    }

    fn at(access: i64, next_grant_end: Option<DateTime<Utc>>) -> Revisions {
        Revisions { catalog: 0, access, next_grant_end }
    }

    #[test]
    fn an_answer_is_current_while_its_revision_stands_and_no_grant_has_ended() {
        let kept: Kept<&str, String> = Kept::new("test", 1 << 20);
        kept.keep("a", &at(1, None), &"one".into());
        assert_eq!(kept.current(&"a", &at(1, None)).as_deref(), Some("one"));
        assert_eq!(kept.current(&"a", &at(2, None)), None, "the revision moved");
        assert_eq!(kept.current(&"b", &at(1, None)), None, "never asked");
        let now = super::super::now();
        kept.keep("ended", &at(1, Some(now - chrono::TimeDelta::milliseconds(1))), &"old".into());
        assert_eq!(kept.current(&"ended", &at(1, None)), None, "a grant ended since it was read");
        kept.keep("ends", &at(1, Some(now + chrono::TimeDelta::hours(1))), &"fine".into());
        assert_eq!(kept.current(&"ends", &at(1, None)).as_deref(), Some("fine"));
    }

    #[test]
    fn kept_answers_stay_within_their_budget() {
        // Room for 1,600 bytes; one answer may take 100.
        let kept: Kept<String, String> = Kept::new("test", 1600);
        kept.keep("big".into(), &at(1, None), &"x".repeat(200));
        assert_eq!(kept.current(&"big".into(), &at(1, None)), None, "too large to keep");
        // Each of these takes 87 bytes: ten at one revision, then nine at the next.
        for i in 0..10 {
            kept.keep(format!("old{i}"), &at(1, None), &"y".repeat(80));
        }
        for i in 0..9 {
            kept.keep(format!("new{i}"), &at(2, None), &"y".repeat(80));
        }
        let (answers, used) = &*kept.answers.lock().unwrap();
        assert_eq!(*used, answers.values().map(|a| a.size).sum::<usize>());
        assert!(*used <= 1600, "{used}");
        // The older revision's answers made room; the newer ones all stayed.
        let mut names: Vec<&str> = answers.keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["new0", "new1", "new2", "new3", "new4", "new5", "new6", "new7", "new8"]);
    }
}
