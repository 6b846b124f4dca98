use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A remote source remembers the catalogue's ETag from its last complete scan, so that a
/// rescan of an unchanged remote is one request answered 304.
#[derive(DeriveIden)]
enum Sources {
    Table,
    CatalogueEtag,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Sources::Table).add_column(text_null(Sources::CatalogueEtag)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Sources::Table).drop_column(Sources::CatalogueEtag).to_owned()).await
    }
}
