//! Webhooks in the browser: a pipe's (its managers) or the instance's (admins).
use leptos::prelude::*;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator};
use crate::model::{DeliveryView, WebhookCreated, WebhookList, WebhookView};
#[cfg(feature = "ssr")]
use crate::orchestrator::{input::parse, webhooks};

/// The pipe's subscriptions (`pipe` empty: the caller's own and, for admins, the instance's).
#[server]
pub async fn list_webhooks(pipe: Option<String>) -> Result<WebhookList, AppError> {
    let pipe = pipe.filter(|p| !p.is_empty()).map(|p| parse(&p)).transpose()?;
    let orchestrator = orchestrator()?;
    Ok(webhooks::list_webhooks(orchestrator.db(), &caller().await?, pipe.as_ref()).await?)
}

/// `events` is a comma-separated list of event types; empty: every event.
#[server]
pub async fn add_webhook(pipe: Option<String>, url: String, #[server(default)] events: String) -> Result<WebhookCreated, AppError> {
    let new = webhooks::NewWebhook {
        url,
        pipe_name: pipe.filter(|p| !p.is_empty()).map(|p| parse(&p)).transpose()?,
        events: events.split(',').map(str::trim).filter(|e| !e.is_empty()).map(parse).collect::<Result<_, _>>()?,
    };
    let orchestrator = orchestrator()?;
    Ok(webhooks::add_webhook(orchestrator.db(), &caller().await?, &new).await?)
}

#[server]
pub async fn remove_webhook(webhook_id: i32) -> Result<WebhookView, AppError> {
    let orchestrator = orchestrator()?;
    Ok(webhooks::remove_webhook(orchestrator.db(), &caller().await?, webhook_id).await?)
}

#[server]
pub async fn test_webhook(webhook_id: i32) -> Result<DeliveryView, AppError> {
    let orchestrator = orchestrator()?;
    Ok(webhooks::test_webhook(orchestrator.db(), &caller().await?, webhook_id).await?)
}

#[server]
pub async fn redeliver_webhook(delivery_id: i32) -> Result<DeliveryView, AppError> {
    let orchestrator = orchestrator()?;
    Ok(webhooks::redeliver(orchestrator.db(), &caller().await?, delivery_id).await?)
}
