use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pipe_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub pipe_id: i32,
    pub version: String,
    /// Every manifest of the folder, keyed by file name; the strongest is the version's spec
    /// (`scan::strongest_manifest`).
    #[sea_orm(column_type = "Text")]
    pub manifests: super::JsonText<serde_json::Map<String, serde_json::Value>>,
    /// SHA-256 over the folder's manifest files; a rescan with the same hash changes nothing.
    pub content_hash: String,
    pub source_path: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The version's files (`packages.sha256`); absent for a version scanned before packages.
    pub package_sha256: Option<String>,
    /// Who published it; absent for a version read from a folder.
    pub published_by: Option<i32>,
    /// Withdrawn: not the latest, never promoted, still downloadable by exact version.
    #[serde(default)]
    pub yanked: bool,
    pub yank_reason: Option<String>,
    pub yanked_at: Option<DateTimeUtc>,
    /// The package's `README.md`, as Markdown, for the pipe page.
    pub readme: Option<String>,
    /// The folder's files as a scan last saw them (`archive::Listing::stamp`): a rescan skips the
    /// folder while it is the same.
    #[serde(default)]
    pub folder_stamp: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
