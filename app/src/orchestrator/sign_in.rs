//! Signing in with a password, slowed down for a guesser: each failure in a row for a user
//! name doubles the wait before the next answer, up to `MAX_DELAY`. The count is kept in the
//! database, so a guesser gains nothing by spreading tries over several server instances.
use std::time::Duration;

use chrono::TimeDelta;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::OnConflict};

use super::accounts::{Caller, UserName, verify_password};
use super::entities::login_failures;
use super::error::Result;

const MAX_DELAY: Duration = Duration::from_secs(8);
/// Failures older than this are forgotten.
const FORGET_AFTER: TimeDelta = TimeDelta::minutes(15);

/// The wait before answering after `failures` failures in a row: one typo costs nothing.
pub fn delay_after(failures: u32) -> Duration {
    match failures {
        0 | 1 => Duration::ZERO,
        n => Duration::from_millis(250).saturating_mul(2u32.saturating_pow(n - 2)).min(MAX_DELAY),
    }
}

/// The signed-in user for a correct password, `None` for a wrong one (or an unknown name).
/// A text that is not a user name at all is wrong without any work, and nothing of it is
/// stored.
pub async fn sign_in(db: &DatabaseConnection, username: &str, password: &str) -> Result<Option<Caller>> {
    let Ok(username) = UserName::parse(username) else {
        return Ok(None);
    };
    let key = username.to_lowercase();
    let now = crate::orchestrator::now();
    let failures = match login_failures::Entity::find_by_id(key.clone()).one(db).await? {
        Some(row) if now - row.last_failed_at < FORGET_AFTER => row.failures.max(0) as u32,
        _ => 0,
    };
    let wait = delay_after(failures);
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let found = verify_password(db, &username, password).await?;
    if found.is_some() {
        if failures > 0 {
            login_failures::Entity::delete_by_id(key).exec(db).await?;
        }
    } else {
        let row = login_failures::ActiveModel {
            username: Set(key),
            failures: Set(i32::try_from(failures + 1).unwrap_or(i32::MAX)),
            last_failed_at: Set(crate::orchestrator::now()),
        };
        login_failures::Entity::insert(row)
            .on_conflict(
                OnConflict::column(login_failures::Column::Username)
                    .update_columns([login_failures::Column::Failures, login_failures::Column::LastFailedAt])
                    .to_owned(),
            )
            .exec(db)
            .await?;
        // Forgotten failures need no row.
        login_failures::Entity::delete_many().filter(login_failures::Column::LastFailedAt.lt(now - FORGET_AFTER)).exec(db).await?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_in_a_row_double_the_wait() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(1), Duration::ZERO, "one typo costs nothing");
        assert_eq!(delay_after(2), Duration::from_millis(250));
        assert_eq!(delay_after(3), Duration::from_millis(500));
        assert_eq!(delay_after(7), Duration::from_secs(8));
        assert_eq!(delay_after(40), MAX_DELAY);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }
}
