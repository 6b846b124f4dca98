use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub quota_lock: i64,
    pub created_at: DateTimeUtc,
    /// Set while an admin has disabled the account: no session or token of it works.
    #[serde(default)]
    pub disabled_at: Option<DateTimeUtc>,
    /// Sessions carry the epoch they began in; raising it ends every other session.
    #[serde(default)]
    pub session_epoch: i32,
    /// Where notification emails go, if anywhere.
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
