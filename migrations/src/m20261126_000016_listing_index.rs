use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One index for the listing's usual filters: category, then status, in name order, with the
/// owner. A filtered first page walks it in name order and stops after a page; its count reads
/// the index alone (the owner is in it), without visiting the rows. It also serves a filter on
/// category alone, so the category index goes.
#[derive(DeriveIden)]
enum Pipes {
    Table,
    Category,
    Status,
    Name,
    OwnerId,
}

const NAME: &str = "idx_pipes_category_status_name";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table(Pipes::Table)
                    .col(Pipes::Category)
                    .col(Pipes::Status)
                    .col(Pipes::Name)
                    .col(Pipes::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name("idx_pipes_category").table(Pipes::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(Index::create().name("idx_pipes_category").table(Pipes::Table).col(Pipes::Category).to_owned()).await?;
        manager.drop_index(Index::drop().name(NAME).table(Pipes::Table).to_owned()).await
    }
}
