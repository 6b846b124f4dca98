//! Slowing down guessers and floods. Attempts are counted per key (a user name, a client
//! address) in the database, so every server instance sees the same counts. An attempt is
//! taken before the work it guards (a password check): a key that has used its free
//! attempts waits, doubling with each attempt, and meanwhile is refused at once (HTTP 429
//! with the seconds to wait), with no sleeping and no password hashing. Counts are forgotten
//! after a quiet `FORGET_AFTER`, and a correct password clears its user name's count.
use std::time::Duration;

use chrono::TimeDelta;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{CaseStatement, Expr, OnConflict},
};

use super::entities::throttles;
use super::error::{Error, Result};

/// Counts older than this are forgotten.
pub const FORGET_AFTER: TimeDelta = TimeDelta::minutes(15);
/// The longest wait asked for.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// What is counted, and how many attempts are free before each one more doubles the wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Failed sign-ins for one user name.
    SignInUser,
    /// Failed sign-ins from one client address (a guesser trying many names).
    SignInAddress,
    /// Accounts created from one client address.
    SignUpAddress,
    /// API tokens created in the browser by one user.
    TokenUser,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::SignInUser => "sign-in-user",
            Kind::SignInAddress => "sign-in-address",
            Kind::SignUpAddress => "sign-up-address",
            Kind::TokenUser => "token-user",
        }
    }

    fn free(self) -> u32 {
        match self {
            Kind::SignInUser => 3,
            // Many people may share an office's address.
            Kind::SignInAddress => 20,
            Kind::SignUpAddress => 5,
            Kind::TokenUser => 20,
        }
    }

    /// What the caller is told while this kind makes them wait.
    fn refusal(self) -> &'static str {
        match self {
            Kind::SignInUser | Kind::SignInAddress => "Too many failed sign-ins",
            Kind::SignUpAddress => "Too many accounts created from this address",
            Kind::TokenUser => "Too many tokens created",
        }
    }

    /// The key of `subject` (a lower-cased user name, an address).
    pub fn key(self, subject: &str) -> String {
        format!("{}:{}", self.prefix(), subject.to_lowercase())
    }
}

/// The wait after `count` attempts of a kind with `free` free ones: none until they are used,
/// then one second, doubling with each attempt, up to `MAX_WAIT`.
pub fn wait_after(count: u32, free: u32) -> Duration {
    match count.checked_sub(free) {
        None => Duration::ZERO,
        Some(over) => Duration::from_secs(1).saturating_mul(2u32.saturating_pow(over)).min(MAX_WAIT),
    }
}

/// Takes one attempt under each key, or refuses (429, with the seconds to wait) when a key
/// must wait. Taking is one statement per key that only succeeds while the key's wait is
/// over and sets the next wait in the same write, so parallel attempts cannot slip through
/// together: of 60 guesses sent at once, only the free ones are let through.
pub async fn take(db: &impl ConnectionTrait, keys: &[(Kind, String)]) -> Result<()> {
    take_at(db, keys, crate::orchestrator::now()).await
}

/// [`take`] as of `now`.
async fn take_at(db: &impl ConnectionTrait, keys: &[(Kind, String)], now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    // A count forgotten starts again.
    forget_stale(db).await?;
    for (kind, key) in keys {
        let first =
            throttles::ActiveModel { key: Set(key.clone()), count: Set(1), last_at: Set(now), next_at: Set(next_at(now, 1, *kind)) };
        let inserted = throttles::Entity::insert(first)
            .on_conflict(OnConflict::column(throttles::Column::Key).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            continue;
        }
        let updated = throttles::Entity::update_many()
            .col_expr(throttles::Column::Count, Expr::col(throttles::Column::Count).add(1))
            .col_expr(throttles::Column::LastAt, Expr::value(now))
            .col_expr(throttles::Column::NextAt, next_wait(*kind, now).into())
            .filter(throttles::Column::Key.eq(key.as_str()))
            .filter(throttles::Column::NextAt.lte(now))
            .exec(db)
            .await?;
        if updated.rows_affected == 0 {
            crate::metrics::metrics().count_throttled(kind.prefix());
            let next_at = throttles::Entity::find_by_id(key.clone()).one(db).await?.map_or(now, |row| row.next_at);
            let seconds = ((next_at - now).num_milliseconds().max(0) as u64).div_ceil(1000).max(1);
            return Err(Error::TooManyRequests(format!("{}; try again in {seconds} seconds", kind.refusal()), seconds));
        }
    }
    Ok(())
}

/// When the next attempt may be taken after the `count`-th, taken `now`. With no wait, a time
/// well past, so that attempts racing with slightly earlier clocks are not refused.
fn next_at(now: chrono::DateTime<chrono::Utc>, count: u32, kind: Kind) -> chrono::DateTime<chrono::Utc> {
    match wait_after(count, kind.free()) {
        Duration::ZERO => now - FORGET_AFTER,
        wait => now + TimeDelta::from_std(wait).unwrap_or(FORGET_AFTER),
    }
}

/// `now` plus the wait after the attempt being taken, chosen by the count stored before it:
/// a `CASE` over every count whose wait is shorter than `MAX_WAIT`, computed here so the
/// same SQL runs on SQLite and PostgreSQL.
fn next_wait(kind: Kind, now: chrono::DateTime<chrono::Utc>) -> CaseStatement {
    let mut case = CaseStatement::new();
    for before in 0..kind.free() + 12 {
        case = case.case(Expr::col(throttles::Column::Count).eq(before as i32), Expr::value(next_at(now, before + 1, kind)));
    }
    case.finally(Expr::value(next_at(now, u32::MAX, kind)))
}

/// Whether this is the first time `key` is seen within `window` (an anonymous visitor's
/// download of one version, say), remembering it for the next: one statement each way, so
/// parallel requests agree.
pub async fn first_within(db: &impl ConnectionTrait, key: &str, window: TimeDelta) -> Result<bool> {
    let now = crate::orchestrator::now();
    let row = throttles::ActiveModel { key: Set(key.to_string()), count: Set(1), last_at: Set(now), next_at: Set(now) };
    let inserted = throttles::Entity::insert(row)
        .on_conflict(OnConflict::column(throttles::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted == 1 {
        return Ok(true);
    }
    let renewed = throttles::Entity::update_many()
        .col_expr(throttles::Column::LastAt, Expr::value(now))
        .filter(throttles::Column::Key.eq(key))
        .filter(throttles::Column::LastAt.lte(now - window))
        .exec(db)
        .await?;
    Ok(renewed.rows_affected == 1)
}

/// Deletes the counts older than `FORGET_AFTER`: they no longer hold anything back.
pub async fn forget_stale(db: &impl ConnectionTrait) -> Result<u64> {
    let cutoff = crate::orchestrator::now() - FORGET_AFTER;
    Ok(throttles::Entity::delete_many().filter(throttles::Column::LastAt.lt(cutoff)).exec(db).await?.rows_affected)
}

/// Gives one attempt back (a sign-in that succeeded does not count against its address).
pub async fn give_back(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    throttles::Entity::update_many()
        .col_expr(throttles::Column::Count, Expr::col(throttles::Column::Count).sub(1))
        .filter(throttles::Column::Key.eq(key))
        .filter(throttles::Column::Count.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Forgets one key's count (a user name after a correct password).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    throttles::Entity::delete_by_id(key.to_string()).exec(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_after_the_free_attempts() {
        assert_eq!(wait_after(0, 3), Duration::ZERO);
        assert_eq!(wait_after(2, 3), Duration::ZERO);
        assert_eq!(wait_after(3, 3), Duration::from_secs(1));
        assert_eq!(wait_after(4, 3), Duration::from_secs(2));
        assert_eq!(wait_after(12, 3), Duration::from_secs(512));
        assert_eq!(wait_after(13, 3), MAX_WAIT);
        assert_eq!(wait_after(u32::MAX, 3), MAX_WAIT);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn of_parallel_attempts_only_the_free_ones_are_taken() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::orchestrator::db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        let key = [(Kind::SignInUser, Kind::SignInUser.key("alice"))];
        // All at one instant: on a loaded machine 40 writes may take longer than the first
        // wait (a second), and an attempt after the wait is rightly taken.
        let now = crate::orchestrator::now();
        let attempts: Vec<_> = (0..40)
            .map(|_| {
                let (db, key) = (db.clone(), key.clone());
                tokio::spawn(async move { take_at(&db, &key, now).await })
            })
            .collect();
        let mut taken = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(()) => taken += 1,
                Err(Error::TooManyRequests(_, seconds)) => assert_eq!(seconds, 1),
                Err(other) => panic!("{other:?}"),
            }
        }
        assert_eq!(taken, Kind::SignInUser.free());
        let row = throttles::Entity::find_by_id(key[0].1.clone()).one(&db).await.unwrap().unwrap();
        assert_eq!(row.count, 3);
        clear(&db, &key[0].1).await.unwrap();
        take(&db, &key).await.unwrap();
    }
}
