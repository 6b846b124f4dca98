use sea_orm::entity::prelude::*;

/// One attempt to send a delivery: the delivery log.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub delivery_id: i32,
    pub attempt: i32,
    pub at: DateTimeUtc,
    /// The receiver's HTTP status; `None` when it never answered.
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
