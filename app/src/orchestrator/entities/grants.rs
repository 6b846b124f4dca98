use sea_orm::entity::prelude::*;

/// Access to one pipe for one user or one group, possibly until an expiry time.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub pipe_id: i32,
    pub subject_kind: crate::model::SubjectKind,
    pub subject_id: i32,
    pub access_level: crate::model::AccessLevel,
    pub expires_at: Option<DateTimeUtc>,
    /// Any other permission keys the caller sent.
    #[sea_orm(column_type = "Text")]
    pub extra: super::JsonText<serde_json::Map<String, serde_json::Value>>,
    pub permission_id: String,
    pub granted_by: i32,
    pub created_at: DateTimeUtc,
    /// How long an expiring grant was given for, in seconds: a renewal extends it by this.
    #[serde(default)]
    pub term_seconds: Option<i64>,
    /// Whether the `grant_expired` event was sent for its current end.
    #[serde(default)]
    pub end_announced: bool,
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
