use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Download counts kept by the writes, so a report reads thousands of rows instead of a
/// year of downloads: per owner of the pipe, per dimension (pipe, version, category,
/// environment, client, user, day) and key, the downloads of the last 1, 7, 30, 90 and 365 days and of
/// all time. They are derived from `downloads` and rebuilt from it when missing (the state
/// row absent: a new or imported database), so they are not exported.
#[derive(DeriveIden)]
enum DownloadTallies {
    Table,
    Dimension,
    OwnerId,
    PipeId,
    Key,
    D1,
    D7,
    D30,
    D90,
    D365,
    Total,
}

/// A download records its pipe's category at the time (reports count downloads by it).
#[derive(DeriveIden)]
enum Downloads {
    Table,
    Category,
}

/// The day the windows of `download_tallies` are counted up to.
#[derive(DeriveIden)]
enum DownloadTallyState {
    Table,
    Id,
    AsOf,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Downloads::Table).add_column(ColumnDef::new(Downloads::Category).string().null()).to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE downloads SET category = (SELECT pipes.category FROM pipes WHERE pipes.id = downloads.pipe_id)")
            .await?;
        let count = |column: DownloadTallies| ColumnDef::new(column).big_integer().not_null().default(0).to_owned();
        manager
            .create_table(
                Table::create()
                    .table(DownloadTallies::Table)
                    .col(ColumnDef::new(DownloadTallies::Dimension).string().not_null())
                    .col(ColumnDef::new(DownloadTallies::OwnerId).integer().not_null())
                    .col(ColumnDef::new(DownloadTallies::PipeId).integer().not_null())
                    .col(ColumnDef::new(DownloadTallies::Key).string().not_null())
                    .col(count(DownloadTallies::D1))
                    .col(count(DownloadTallies::D7))
                    .col(count(DownloadTallies::D30))
                    .col(count(DownloadTallies::D90))
                    .col(count(DownloadTallies::D365))
                    .col(count(DownloadTallies::Total))
                    .primary_key(
                        Index::create()
                            .col(DownloadTallies::Dimension)
                            .col(DownloadTallies::OwnerId)
                            .col(DownloadTallies::PipeId)
                            .col(DownloadTallies::Key),
                    )
                    .to_owned(),
            )
            .await?;
        // An admin's report sums every owner's counts of one key.
        manager
            .create_index(
                Index::create()
                    .name("idx_download_tallies_key")
                    .table(DownloadTallies::Table)
                    .col(DownloadTallies::Dimension)
                    .col(DownloadTallies::PipeId)
                    .col(DownloadTallies::Key)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DownloadTallyState::Table)
                    .col(ColumnDef::new(DownloadTallyState::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(DownloadTallyState::AsOf).date().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DownloadTallyState::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(DownloadTallies::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Downloads::Table).drop_column(Downloads::Category).to_owned()).await
    }
}
