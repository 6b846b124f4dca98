use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pipe_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub pipe_id: i32,
    pub version: String,
    /// The winning manifest of the version folder, as JSON.
    pub spec: String,
    /// Every manifest of the folder, as a JSON object keyed by file name.
    pub manifests: String,
    /// SHA-256 over the folder's manifest files; a rescan with the same hash changes nothing.
    pub content_hash: String,
    pub source_path: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
