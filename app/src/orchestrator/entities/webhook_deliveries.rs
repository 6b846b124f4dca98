use sea_orm::entity::prelude::*;

use crate::model::{DeliveryStatus, WebhookEvent};

/// One event for one subscription, queued in the transaction of the change it reports and
/// sent by the delivery worker until it is answered with 2xx or runs out of attempts.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub webhook_id: i32,
    /// The payload's `id`: the same on every attempt, so a receiver drops duplicates.
    pub event_id: String,
    pub event_type: WebhookEvent,
    /// The exact body sent (and signed).
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While set and in the future, one worker is sending it; no other takes it.
    pub lease_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
