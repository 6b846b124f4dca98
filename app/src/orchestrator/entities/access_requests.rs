use sea_orm::entity::prelude::*;

use crate::model::{AccessLevel, RequestStatus};

/// A user's request for access to a pipe: one per user and pipe name, updated when they ask
/// again.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "access_requests")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub pipe_name: String,
    /// `None` when the requester could not see the pipe: the request is theirs alone, so
    /// asking never tells whether a private pipe exists.
    pub pipe_id: Option<i32>,
    pub access_level: AccessLevel,
    pub reason: String,
    pub duration_days: Option<i32>,
    pub status: RequestStatus,
    /// Counts changes by the requester; a decision names the revision its reviewer saw.
    pub revision: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// A pending request lapses at this time (`access_request_ttl_days` after it was made).
    pub expires_at: DateTimeUtc,
    pub reviewed_by: Option<i32>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub review_note: Option<String>,
    pub granted_level: Option<AccessLevel>,
    pub granted_until: Option<DateTimeUtc>,
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
