use sea_orm::entity::prelude::*;

/// A pipe: one name, owned by one user, with the summary fields of its latest version.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pipes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub owner_id: i32,
    pub latest_version: String,
    /// Lower-cased at scan time so filters compare with an index.
    pub category: Option<String>,
    pub author: Option<String>,
    /// Lower-cased at scan time.
    pub status: Option<String>,
    pub description: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub tags: super::JsonText<Vec<String>>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The pipe and version this one was forked from.
    pub forked_from_pipe: Option<String>,
    pub forked_from_version: Option<String>,
    /// The source it came from (`None`: published here, or the operator's `pipeshare scan`).
    #[serde(default)]
    pub source_id: Option<i32>,
    /// Where in its source: a folder's path or a remote pipe's URL.
    #[serde(default)]
    pub origin: Option<String>,
    /// When its source stopped holding it: listed with a badge, not downloadable, all kept.
    #[serde(default)]
    pub gone_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_one = "super::shares::Entity")]
    Share,
}

impl Related<super::shares::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Share.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
