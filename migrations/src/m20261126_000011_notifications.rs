use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Email notifications: users' addresses, and a queue of messages with at most one per
/// user, item and day.
#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    ItemKey,
    Day,
    Subject,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut email = string_null(Users::Email);
        manager.alter_table(Table::alter().table(Users::Table).add_column(&mut email).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_auto(Notifications::Id))
                    .col(integer(Notifications::UserId))
                    .col(string(Notifications::ItemKey))
                    .col(string(Notifications::Day))
                    .col(string(Notifications::Subject))
                    .col(text(Notifications::Body))
                    .col(string(Notifications::Status))
                    .col(integer(Notifications::Attempts))
                    .col(timestamp_with_time_zone(Notifications::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(Notifications::LeaseUntil))
                    .col(text_null(Notifications::LastError))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_user")
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_once_a_day")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::ItemKey)
                    .col(Notifications::Day)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_due")
                    .table(Notifications::Table)
                    .col(Notifications::Status)
                    .col(Notifications::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Notifications::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(Users::Email).to_owned()).await.map(|_| ())
    }
}
