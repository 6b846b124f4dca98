//! Leases: a row taken by one worker until a time, so that several instances on one database
//! never work on the same row at once. A worker that dies keeps its rows only until the
//! lease ends.
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};

use super::error::Result;
use crate::model::DeliveryStatus;

/// Rows whose lease is free at `now`: never taken, or ended.
pub fn free(lease_until: impl ColumnTrait, now: DateTime<Utc>) -> Condition {
    Condition::any().add(lease_until.is_null()).add(lease_until.lt(now))
}

/// Messages workers send (emails, webhook deliveries): pending until sent, tried again from
/// their next attempt time, counted by attempts.
pub trait Outbox: EntityTrait {
    const ID: Self::Column;
    const STATUS: Self::Column;
    const NEXT_ATTEMPT_AT: Self::Column;
    const ATTEMPTS: Self::Column;
    const LEASE_UNTIL: Self::Column;
    fn id(message: &Self::Model) -> i32;
    fn attempts(message: &Self::Model) -> i32;
}

/// The outbox tables name their columns alike.
macro_rules! outbox {
    ($($table:ident),*) => {$(
        impl Outbox for super::entities::$table::Entity {
            const ID: Self::Column = super::entities::$table::Column::Id;
            const STATUS: Self::Column = super::entities::$table::Column::Status;
            const NEXT_ATTEMPT_AT: Self::Column = super::entities::$table::Column::NextAttemptAt;
            const ATTEMPTS: Self::Column = super::entities::$table::Column::Attempts;
            const LEASE_UNTIL: Self::Column = super::entities::$table::Column::LeaseUntil;
            fn id(message: &Self::Model) -> i32 {
                message.id
            }
            fn attempts(message: &Self::Model) -> i32 {
                message.attempts
            }
        }
    )*};
}
outbox!(notifications, webhook_deliveries);

/// Takes up to `limit` due messages for `lease`, oldest due first: each by one conditional
/// update that also checks it is still due and unchanged since it was read, so two workers
/// never take the same one, nor one another worker has just sent.
pub async fn claim_due<O: Outbox>(db: &DatabaseConnection, limit: u64, lease: TimeDelta) -> Result<Vec<O::Model>> {
    let now = crate::orchestrator::now();
    let due =
        || Condition::all().add(O::STATUS.eq(DeliveryStatus::Pending)).add(O::NEXT_ATTEMPT_AT.lte(now)).add(free(O::LEASE_UNTIL, now));
    let found = O::find().filter(due()).order_by_asc(O::NEXT_ATTEMPT_AT).limit(limit).all(db).await?;
    let mut claimed = Vec::new();
    for message in found {
        let taken = O::update_many()
            .col_expr(O::LEASE_UNTIL, Expr::value(now + lease))
            .filter(O::ID.eq(O::id(&message)))
            .filter(O::ATTEMPTS.eq(O::attempts(&message)))
            .filter(due())
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            claimed.push(message);
        }
    }
    Ok(claimed)
}
