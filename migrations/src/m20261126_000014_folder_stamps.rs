use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A scanned version remembers its folder's stamp (files' paths, sizes and times), so that a
/// rescan skips folders nobody touched instead of reading and packing them again.
#[derive(DeriveIden)]
enum PipeVersions {
    Table,
    FolderStamp,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(PipeVersions::Table).add_column(text_null(PipeVersions::FolderStamp)).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(PipeVersions::Table).drop_column(PipeVersions::FolderStamp).to_owned()).await
    }
}
