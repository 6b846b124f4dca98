use sea_orm::entity::prelude::*;

/// One scan of a source: its counts, and what went wrong, kept as history.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "source_scans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub source_id: i32,
    pub started_at: DateTimeUtc,
    pub finished_at: DateTimeUtc,
    pub succeeded: bool,
    pub added: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub gone: i64,
    pub invalid: i64,
    pub conflicts: i64,
    /// The invalid manifests, conflicts and gone pipes, each with its path and reason.
    #[sea_orm(column_type = "Text")]
    pub report: super::JsonText<crate::model::ScanDetails>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
