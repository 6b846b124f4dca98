use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The people side: gated shares (listed for everyone, downloaded with a grant), access
/// requests, and grants that remember their length so a renewal extends them by it.
#[derive(DeriveIden)]
enum Shares {
    Table,
    Gated,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    TermSeconds,
}

#[derive(DeriveIden)]
enum AccessRequests {
    Table,
    Id,
    UserId,
    PipeName,
    PipeId,
    AccessLevel,
    Reason,
    DurationDays,
    Status,
    Revision,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
    ReviewedBy,
    ReviewedAt,
    ReviewNote,
    GrantedLevel,
    GrantedUntil,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Pipes {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Shares::Table.into_iden(), boolean(Shares::Gated).default(false).to_owned()),
            (Grants::Table.into_iden(), big_integer_null(Grants::TermSeconds)),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AccessRequests::Table)
                    .col(pk_auto(AccessRequests::Id))
                    .col(integer(AccessRequests::UserId))
                    .col(string(AccessRequests::PipeName))
                    // NULL for a request about a pipe the requester cannot see: it is kept
                    // for them alone, and nobody else is told of it.
                    .col(integer_null(AccessRequests::PipeId))
                    .col(string(AccessRequests::AccessLevel))
                    .col(text(AccessRequests::Reason))
                    .col(integer_null(AccessRequests::DurationDays))
                    .col(string(AccessRequests::Status))
                    .col(integer(AccessRequests::Revision))
                    .col(timestamp_with_time_zone(AccessRequests::CreatedAt))
                    .col(timestamp_with_time_zone(AccessRequests::UpdatedAt))
                    .col(timestamp_with_time_zone(AccessRequests::ExpiresAt))
                    .col(integer_null(AccessRequests::ReviewedBy))
                    .col(timestamp_with_time_zone_null(AccessRequests::ReviewedAt))
                    .col(text_null(AccessRequests::ReviewNote))
                    .col(string_null(AccessRequests::GrantedLevel))
                    .col(timestamp_with_time_zone_null(AccessRequests::GrantedUntil))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_requests_user")
                            .from(AccessRequests::Table, AccessRequests::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_access_requests_pipe")
                            .from(AccessRequests::Table, AccessRequests::PipeId)
                            .to(Pipes::Table, Pipes::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One request per user and pipe: asking again updates it.
        manager
            .create_index(
                Index::create()
                    .name("idx_access_requests_user_pipe")
                    .table(AccessRequests::Table)
                    .col(AccessRequests::UserId)
                    .col(AccessRequests::PipeName)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_access_requests_pipe_status")
                    .table(AccessRequests::Table)
                    .col(AccessRequests::PipeId)
                    .col(AccessRequests::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AccessRequests::Table).to_owned()).await?;
        let columns =
            [(Shares::Table.into_iden(), Shares::Gated.into_iden()), (Grants::Table.into_iden(), Grants::TermSeconds.into_iden())];
        for (table, column) in columns {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
