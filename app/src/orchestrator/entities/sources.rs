use sea_orm::entity::prelude::*;

use crate::model::{SourceKind, SourceState};

/// A place pipes come from, rescanned on its interval, with its health.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub name: String,
    pub kind: SourceKind,
    /// A folder's absolute path, or a remote instance's URL.
    pub location: String,
    /// Who owns the pipes it brings in.
    pub owner_id: i32,
    /// A token for a remote instance; never shown again once given.
    pub token: Option<String>,
    /// `None`: scanned by hand only.
    pub interval_seconds: Option<i64>,
    pub state: SourceState,
    pub last_scan_at: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub next_scan_at: Option<DateTimeUtc>,
    /// While in the future, one process is scanning it.
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// A remote's catalogue ETag as of the last complete scan.
    pub catalogue_etag: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
