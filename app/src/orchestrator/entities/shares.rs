use sea_orm::entity::prelude::*;

/// The one share of a pipe (a pipe is shared once; re-sharing updates this row).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "shares")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub pipe_id: i32,
    #[sea_orm(unique)]
    pub share_id: String,
    pub is_public: bool,
    /// Listed and shown to everyone; downloaded only with a grant.
    #[serde(default)]
    pub gated: bool,
    pub status: crate::model::ShareStatus,
    /// The sharing options as given, normalised.
    #[sea_orm(column_type = "Text")]
    pub options: super::JsonText<crate::model::ShareOptions>,
    pub requested_by: i32,
    pub requested_at: DateTimeUtc,
    pub reviewed_by: Option<i32>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_note: Option<String>,
    pub updated_at: DateTimeUtc,
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
