use sea_orm::entity::prelude::*;

/// One package: a version's files as a normalised `.tar.gz`, stored once per SHA-256 however
/// many versions (or forks) share it.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "packages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    pub size: i64,
    /// The paths and sizes of the files inside.
    #[sea_orm(column_type = "Text")]
    pub files: super::JsonText<Vec<crate::model::PackageEntry>>,
    /// Exports carry the bytes as base64.
    #[serde(with = "super::base64_bytes")]
    pub content: Vec<u8>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
