use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Registry sources: where pipes come from, rescanned on their interval, with their health
/// and a history of scan reports; pipes remember their source and origin, and are marked gone
/// (never deleted) when their source no longer holds them.
#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    Name,
    Kind,
    Location,
    OwnerId,
    Token,
    IntervalSeconds,
    State,
    LastScanAt,
    LastSuccessAt,
    LastError,
    ConsecutiveFailures,
    NextScanAt,
    LeaseUntil,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SourceScans {
    Table,
    Id,
    SourceId,
    StartedAt,
    FinishedAt,
    Succeeded,
    Added,
    Updated,
    Unchanged,
    Gone,
    Invalid,
    Conflicts,
    Report,
}

#[derive(DeriveIden)]
enum Pipes {
    Table,
    SourceId,
    Origin,
    GoneAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sources::Table)
                    .col(pk_auto(Sources::Id))
                    .col(string_uniq(Sources::Name))
                    .col(string(Sources::Kind))
                    .col(text(Sources::Location))
                    .col(integer(Sources::OwnerId))
                    .col(text_null(Sources::Token))
                    .col(big_integer_null(Sources::IntervalSeconds))
                    .col(string(Sources::State))
                    .col(timestamp_with_time_zone_null(Sources::LastScanAt))
                    .col(timestamp_with_time_zone_null(Sources::LastSuccessAt))
                    .col(text_null(Sources::LastError))
                    .col(integer(Sources::ConsecutiveFailures))
                    .col(timestamp_with_time_zone_null(Sources::NextScanAt))
                    .col(timestamp_with_time_zone_null(Sources::LeaseUntil))
                    .col(timestamp_with_time_zone(Sources::CreatedAt))
                    .foreign_key(
                        ForeignKey::create().name("fk_sources_owner").from(Sources::Table, Sources::OwnerId).to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SourceScans::Table)
                    .col(pk_auto(SourceScans::Id))
                    .col(integer(SourceScans::SourceId))
                    .col(timestamp_with_time_zone(SourceScans::StartedAt))
                    .col(timestamp_with_time_zone(SourceScans::FinishedAt))
                    .col(boolean(SourceScans::Succeeded))
                    .col(big_integer(SourceScans::Added))
                    .col(big_integer(SourceScans::Updated))
                    .col(big_integer(SourceScans::Unchanged))
                    .col(big_integer(SourceScans::Gone))
                    .col(big_integer(SourceScans::Invalid))
                    .col(big_integer(SourceScans::Conflicts))
                    .col(text(SourceScans::Report))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_source_scans_source")
                            .from(SourceScans::Table, SourceScans::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_source_scans_source").table(SourceScans::Table).col(SourceScans::SourceId).to_owned())
            .await?;
        let columns = [integer_null(Pipes::SourceId), text_null(Pipes::Origin), timestamp_with_time_zone_null(Pipes::GoneAt)];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Pipes::Table).add_column(&mut column).to_owned()).await?;
        }
        manager.create_index(Index::create().name("idx_pipes_source").table(Pipes::Table).col(Pipes::SourceId).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_pipes_source").table(Pipes::Table).to_owned()).await?;
        for column in [Pipes::SourceId, Pipes::Origin, Pipes::GoneAt] {
            manager.alter_table(Table::alter().table(Pipes::Table).drop_column(column).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(SourceScans::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Sources::Table).to_owned()).await
    }
}
