use sea_orm::entity::prelude::*;

/// The one row (id 1) saying up to which day the windows of `download_tallies` are
/// counted; without it the tallies are rebuilt from the downloads.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "download_tally_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub as_of: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
