use sea_orm::entity::prelude::*;

/// A subscription: a URL told of one pipe's events (`pipe_id`), or of every event of the
/// instance (`None`, instance admins).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub owner_id: i32,
    pub pipe_id: Option<i32>,
    pub url: String,
    /// The HMAC key deliveries are signed with; shown to its owner once, when created.
    pub secret: String,
    /// The event types it wants; empty: every type.
    #[sea_orm(column_type = "Text")]
    pub events: super::JsonText<Vec<crate::model::WebhookEvent>>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
