use sea_orm::entity::prelude::*;

/// Attempts counted under one key, such as `sign-in-user:alice` or `sign-in-address:10.0.0.7`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "throttles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Attempts since the count last started.
    pub count: i32,
    pub last_at: DateTimeUtc,
    /// No attempt is taken before this time.
    pub next_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
