use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Publishing and distribution: every version has a package (stored once per SHA-256, in the
/// database, so every instance on one database serves the same bytes), versions record who
/// published them and can be yanked, pipes can be forks, and environments point at versions
/// with their history and the promotions waiting for an admin.
#[derive(DeriveIden)]
enum Packages {
    Table,
    Sha256,
    Size,
    Files,
    Content,
    CreatedAt,
}

#[derive(DeriveIden)]
enum PipeVersions {
    Table,
    PackageSha256,
    PublishedBy,
    Yanked,
    YankReason,
    YankedAt,
    Readme,
}

#[derive(DeriveIden)]
enum Pipes {
    Table,
    Id,
    ForkedFromPipe,
    ForkedFromVersion,
}

#[derive(DeriveIden)]
enum Environments {
    Table,
    Id,
    PipeId,
    Name,
    Version,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EnvironmentEvents {
    Table,
    Id,
    PipeId,
    Environment,
    FromVersion,
    ToVersion,
    UserId,
    At,
}

#[derive(DeriveIden)]
enum Promotions {
    Table,
    Id,
    PipeId,
    Environment,
    Version,
    Status,
    RequestedBy,
    RequestedAt,
    ReviewedBy,
    ReviewedAt,
    Note,
}

fn to_pipe(name: &str, from: impl IntoIden + 'static, column: impl IntoIden + 'static) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from, column).to(Pipes::Table, Pipes::Id).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Packages::Table)
                    .col(string(Packages::Sha256).primary_key())
                    .col(big_integer(Packages::Size))
                    .col(text(Packages::Files))
                    .col(blob(Packages::Content))
                    .col(timestamp_with_time_zone(Packages::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One column per statement: SQLite adds one at a time.
        let columns = [
            (PipeVersions::Table.into_iden(), string_null(PipeVersions::PackageSha256)),
            (PipeVersions::Table.into_iden(), integer_null(PipeVersions::PublishedBy)),
            (PipeVersions::Table.into_iden(), boolean(PipeVersions::Yanked).default(false).to_owned()),
            (PipeVersions::Table.into_iden(), text_null(PipeVersions::YankReason)),
            (PipeVersions::Table.into_iden(), timestamp_with_time_zone_null(PipeVersions::YankedAt)),
            (PipeVersions::Table.into_iden(), text_null(PipeVersions::Readme)),
            (Pipes::Table.into_iden(), string_null(Pipes::ForkedFromPipe)),
            (Pipes::Table.into_iden(), string_null(Pipes::ForkedFromVersion)),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_index(
                Index::create().name("idx_pipe_versions_published_by").table(PipeVersions::Table).col(PipeVersions::PublishedBy).to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Environments::Table)
                    .col(pk_auto(Environments::Id))
                    .col(integer(Environments::PipeId))
                    .col(string(Environments::Name))
                    .col(string(Environments::Version))
                    .col(integer_null(Environments::UpdatedBy))
                    .col(timestamp_with_time_zone(Environments::UpdatedAt))
                    .foreign_key(&mut to_pipe("fk_environments_pipe", Environments::Table, Environments::PipeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_environments_pipe_name")
                    .table(Environments::Table)
                    .col(Environments::PipeId)
                    .col(Environments::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EnvironmentEvents::Table)
                    .col(pk_auto(EnvironmentEvents::Id))
                    .col(integer(EnvironmentEvents::PipeId))
                    .col(string(EnvironmentEvents::Environment))
                    .col(string_null(EnvironmentEvents::FromVersion))
                    .col(string(EnvironmentEvents::ToVersion))
                    .col(integer_null(EnvironmentEvents::UserId))
                    .col(timestamp_with_time_zone(EnvironmentEvents::At))
                    .foreign_key(&mut to_pipe("fk_environment_events_pipe", EnvironmentEvents::Table, EnvironmentEvents::PipeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_environment_events_pipe")
                    .table(EnvironmentEvents::Table)
                    .col(EnvironmentEvents::PipeId)
                    .col(EnvironmentEvents::At)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Promotions::Table)
                    .col(pk_auto(Promotions::Id))
                    .col(integer(Promotions::PipeId))
                    .col(string(Promotions::Environment))
                    .col(string(Promotions::Version))
                    .col(string(Promotions::Status))
                    .col(integer(Promotions::RequestedBy))
                    .col(timestamp_with_time_zone(Promotions::RequestedAt))
                    .col(integer_null(Promotions::ReviewedBy))
                    .col(timestamp_with_time_zone_null(Promotions::ReviewedAt))
                    .col(text_null(Promotions::Note))
                    .foreign_key(&mut to_pipe("fk_promotions_pipe", Promotions::Table, Promotions::PipeId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_promotions_status").table(Promotions::Table).col(Promotions::Status).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Promotions::Table.into_iden(), EnvironmentEvents::Table.into_iden(), Environments::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        let columns = [
            (PipeVersions::Table.into_iden(), PipeVersions::PackageSha256.into_iden()),
            (PipeVersions::Table.into_iden(), PipeVersions::PublishedBy.into_iden()),
            (PipeVersions::Table.into_iden(), PipeVersions::Yanked.into_iden()),
            (PipeVersions::Table.into_iden(), PipeVersions::YankReason.into_iden()),
            (PipeVersions::Table.into_iden(), PipeVersions::YankedAt.into_iden()),
            (PipeVersions::Table.into_iden(), PipeVersions::Readme.into_iden()),
            (Pipes::Table.into_iden(), Pipes::ForkedFromPipe.into_iden()),
            (Pipes::Table.into_iden(), Pipes::ForkedFromVersion.into_iden()),
        ];
        manager.drop_index(Index::drop().name("idx_pipe_versions_published_by").table(PipeVersions::Table).to_owned()).await?;
        for (table, column) in columns {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(Packages::Table).to_owned()).await
    }
}
