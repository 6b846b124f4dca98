use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Webhooks: subscriptions (a pipe's, or the instance's), deliveries queued in the same
/// transaction as the change they report, and every attempt to send one. Grants remember
/// whether their end was announced.
#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    OwnerId,
    PipeId,
    Url,
    Secret,
    Events,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    EventId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastStatusCode,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    DeliveryId,
    Attempt,
    At,
    StatusCode,
    DurationMs,
    Error,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    EndAnnounced,
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

fn cascade(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(pk_auto(Webhooks::Id))
                    .col(integer(Webhooks::OwnerId))
                    // NULL: every event of the instance (instance admins).
                    .col(integer_null(Webhooks::PipeId))
                    .col(text(Webhooks::Url))
                    .col(string(Webhooks::Secret))
                    .col(text(Webhooks::Events))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .foreign_key(&mut cascade("fk_webhooks_owner", (Webhooks::Table, Webhooks::OwnerId), (Users::Table, Users::Id)))
                    .foreign_key(&mut cascade("fk_webhooks_pipe", (Webhooks::Table, Webhooks::PipeId), (Pipes::Table, Pipes::Id)))
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_webhooks_pipe").table(Webhooks::Table).col(Webhooks::PipeId).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(pk_auto(WebhookDeliveries::Id))
                    .col(integer(WebhookDeliveries::WebhookId))
                    .col(string(WebhookDeliveries::EventId))
                    .col(string(WebhookDeliveries::EventType))
                    .col(text(WebhookDeliveries::Payload))
                    .col(string(WebhookDeliveries::Status))
                    .col(integer(WebhookDeliveries::Attempts))
                    .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(WebhookDeliveries::LeaseUntil))
                    .col(integer_null(WebhookDeliveries::LastStatusCode))
                    .col(text_null(WebhookDeliveries::LastError))
                    .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                    .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                    .foreign_key(&mut cascade(
                        "fk_webhook_deliveries_webhook",
                        (WebhookDeliveries::Table, WebhookDeliveries::WebhookId),
                        (Webhooks::Table, Webhooks::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::Status)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_deliveries_webhook")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::WebhookId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookAttempts::Table)
                    .col(pk_auto(WebhookAttempts::Id))
                    .col(integer(WebhookAttempts::DeliveryId))
                    .col(integer(WebhookAttempts::Attempt))
                    .col(timestamp_with_time_zone(WebhookAttempts::At))
                    .col(integer_null(WebhookAttempts::StatusCode))
                    .col(big_integer(WebhookAttempts::DurationMs))
                    .col(text_null(WebhookAttempts::Error))
                    .foreign_key(&mut cascade(
                        "fk_webhook_attempts_delivery",
                        (WebhookAttempts::Table, WebhookAttempts::DeliveryId),
                        (WebhookDeliveries::Table, WebhookDeliveries::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_attempts_delivery")
                    .table(WebhookAttempts::Table)
                    .col(WebhookAttempts::DeliveryId)
                    .to_owned(),
            )
            .await?;
        let mut announced = boolean(Grants::EndAnnounced).default(false).to_owned();
        manager.alter_table(Table::alter().table(Grants::Table).add_column(&mut announced).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Grants::Table).drop_column(Grants::EndAnnounced).to_owned()).await?;
        for table in [WebhookAttempts::Table.into_iden(), WebhookDeliveries::Table.into_iden(), Webhooks::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
