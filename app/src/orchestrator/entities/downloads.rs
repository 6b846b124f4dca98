use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "downloads")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub pipe_id: i32,
    pub user_id: Option<i32>,
    pub version: String,
    pub downloaded_at: DateTimeUtc,
    /// The environment the version was asked through, if any.
    #[serde(default)]
    pub environment: Option<String>,
    /// Who downloaded it: a signed-in browser, an API token, an anonymous visitor.
    #[serde(default)]
    pub client: Option<crate::model::DownloadClient>,
    /// The pipe's category when it was downloaded.
    #[serde(default)]
    pub category: Option<String>,
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
