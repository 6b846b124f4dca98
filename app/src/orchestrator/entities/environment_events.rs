use sea_orm::entity::prelude::*;

/// One move of an environment: who, when, from which version to which.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "environment_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub pipe_id: i32,
    pub environment: String,
    pub from_version: Option<String>,
    pub to_version: String,
    pub user_id: Option<i32>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
