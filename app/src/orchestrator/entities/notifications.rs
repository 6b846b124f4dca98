use sea_orm::entity::prelude::*;

use crate::model::DeliveryStatus;

/// An email to send: at most one per user, item and day (`item_key`, `day`).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// What it is about, e.g. `access_request:7` or `grant_ending:12`.
    pub item_key: String,
    /// The UTC day it was queued, `YYYY-MM-DD`.
    pub day: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
