use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Taking access away: a user can be disabled, and a password change ends their other
/// sessions (sessions carry the user's epoch); tokens can expire, be read-only, and show when
/// they were last used.
#[derive(DeriveIden)]
enum Users {
    Table,
    DisabledAt,
    SessionEpoch,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    ExpiresAt,
    Scope,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        let columns = [
            (Users::Table.into_iden(), timestamp_with_time_zone_null(Users::DisabledAt)),
            (Users::Table.into_iden(), integer(Users::SessionEpoch).default(0).to_owned()),
            (ApiTokens::Table.into_iden(), timestamp_with_time_zone_null(ApiTokens::ExpiresAt)),
            (ApiTokens::Table.into_iden(), string(ApiTokens::Scope).default("full").to_owned()),
            (ApiTokens::Table.into_iden(), timestamp_with_time_zone_null(ApiTokens::LastUsedAt)),
        ];
        for (table, mut column) in columns {
            manager.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            (Users::Table.into_iden(), Users::DisabledAt.into_iden()),
            (Users::Table.into_iden(), Users::SessionEpoch.into_iden()),
            (ApiTokens::Table.into_iden(), ApiTokens::ExpiresAt.into_iden()),
            (ApiTokens::Table.into_iden(), ApiTokens::Scope.into_iden()),
            (ApiTokens::Table.into_iden(), ApiTokens::LastUsedAt.into_iden()),
        ];
        for (table, column) in columns {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
