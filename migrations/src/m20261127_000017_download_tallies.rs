use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Download counts kept by the writes, so a report reads thousands of rows instead of a
/// year of downloads: per owner of the pipe, per dimension (pipe, version, environment,
/// client, user, day) and key, the downloads of the last 1, 7, 30, 90 and 365 days and of
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
        manager.drop_table(Table::drop().table(DownloadTallies::Table).to_owned()).await
    }
}
