use sea_orm::entity::prelude::*;

/// What a tally counts downloads by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Dimension {
    /// `pipe_id`, with an empty key.
    #[sea_orm(string_value = "pipe")]
    Pipe,
    /// `pipe_id` and the version.
    #[sea_orm(string_value = "version")]
    Version,
    /// The pipe's category when downloaded, empty for none.
    #[sea_orm(string_value = "category")]
    Category,
    /// The environment asked through, `direct` without one.
    #[sea_orm(string_value = "environment")]
    Environment,
    /// The kind of caller, `unknown` where it was not recorded.
    #[sea_orm(string_value = "client")]
    Client,
    /// The downloader's user id, empty for anonymous visitors.
    #[sea_orm(string_value = "user")]
    User,
    /// The UTC day, `YYYY-MM-DD`.
    #[sea_orm(string_value = "day")]
    Day,
}

/// Downloads of one owner's pipes counted by one key (see the migration): in the windows of
/// the last 1, 7, 30, 90 and 365 days up to `download_tally_state.as_of`, and of all time.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "download_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub dimension: Dimension,
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_id: i32,
    /// The pipe for the pipe and version dimensions, 0 for the others.
    #[sea_orm(primary_key, auto_increment = false)]
    pub pipe_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub d1: i64,
    pub d7: i64,
    pub d30: i64,
    pub d90: i64,
    pub d365: i64,
    pub total: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
