use sea_orm::entity::prelude::*;

use crate::model::ShareStatus;

/// A promotion to a protected environment waiting for an instance admin, bound to the exact
/// version asked for.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "promotions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub pipe_id: i32,
    pub environment: String,
    pub version: String,
    /// `pending_approval`, `active` (approved) or `rejected`.
    pub status: ShareStatus,
    pub requested_by: i32,
    pub requested_at: DateTimeUtc,
    pub reviewed_by: Option<i32>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::pipes::Entity", from = "Column::PipeId", to = "super::pipes::Column::Id")]
    Pipe,
}

impl Related<super::pipes::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Pipe.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
