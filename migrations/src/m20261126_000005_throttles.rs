use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Attempts counted per key (a user name's failed sign-ins, a client address's, sign-ups from
/// an address, ...), kept in the database so every server instance slows down the same
/// guesser. Replaces `login_failures`, which counted per user name only.
#[derive(DeriveIden)]
enum Throttles {
    Table,
    Key,
    Count,
    LastAt,
    NextAt,
}

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Throttles::Table)
                    .col(string(Throttles::Key).primary_key())
                    .col(integer(Throttles::Count))
                    .col(timestamp_with_time_zone(Throttles::LastAt))
                    .col(timestamp_with_time_zone(Throttles::NextAt))
                    .to_owned(),
            )
            .await?;
        // Counts of a few minutes are all that table held; nothing is lost by dropping them.
        manager.drop_table(Table::drop().table(LoginFailures::Table).if_exists().to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Throttles::Table).to_owned()).await
    }
}
