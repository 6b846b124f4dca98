use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What reports tell of each download: the environment it was asked through, and the kind of
/// caller (a signed-in browser, an API token, an anonymous visitor); and an index for a
/// pipe's downloads over a time range.
#[derive(DeriveIden)]
enum Downloads {
    Table,
    PipeId,
    DownloadedAt,
    Environment,
    Client,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in [string_null(Downloads::Environment), string_null(Downloads::Client)] {
            manager.alter_table(Table::alter().table(Downloads::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_downloads_pipe_at")
                    .table(Downloads::Table)
                    .col(Downloads::PipeId)
                    .col(Downloads::DownloadedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_downloads_pipe_at").table(Downloads::Table).to_owned()).await?;
        for column in [Downloads::Environment, Downloads::Client] {
            manager.alter_table(Table::alter().table(Downloads::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
