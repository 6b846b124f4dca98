//! The inbox: what waits on the signed-in user, and deciding it.
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator};
use crate::model::{Decision, Inbox, InboxDecisions, InboxKind, InboxRef};
#[cfg(feature = "ssr")]
use crate::orchestrator::{inbox::BulkDecision, input::parse};

/// The inbox, of one kind (`kind` empty: every kind).
#[server]
pub async fn get_inbox(kind: Option<String>) -> Result<Inbox, AppError> {
    let kind: Option<InboxKind> = kind.as_deref().filter(|k| !k.is_empty()).map(parse).transpose()?;
    Ok(orchestrator()?.list_inbox(&caller().await?, kind).await?)
}

/// How many items wait, for the header; nothing for a visitor.
#[server]
pub async fn inbox_count() -> Result<u64, AppError> {
    match super::ssr::caller_if_any().await? {
        Some(caller) => Ok(orchestrator()?.list_inbox(&caller, None).await?.waiting),
        None => Ok(0),
    }
}

/// Decides one item as shown (a plain form: works without JavaScript).
#[server]
pub async fn decide_inbox_item(
    kind: InboxKind,
    id: String,
    revision: String,
    decision: Decision,
    #[server(default)] note: String,
) -> Result<InboxDecisions, AppError> {
    let bulk = BulkDecision { items: vec![InboxRef { kind, id, revision: Some(revision) }], decision, note: Some(note) };
    Ok(orchestrator()?.review_inbox(&caller().await?, &bulk).await?)
}

/// Decides the ticked items with one note.
#[server(input = Json)]
pub async fn review_inbox(items: Vec<InboxRef>, decision: Decision, note: String) -> Result<InboxDecisions, AppError> {
    let bulk = BulkDecision { items, decision, note: Some(note) };
    Ok(orchestrator()?.review_inbox(&caller().await?, &bulk).await?)
}
