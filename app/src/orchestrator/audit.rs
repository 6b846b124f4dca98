//! The audit log: every sharing change is written here, in the same transaction as the
//! change itself, so the log and the data never disagree.
pub use crate::model::{AuditEvent, AuditLog};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select,
};
use serde_json::Value;

use super::access::pipe_to_manage;
use super::accounts::Caller;
use super::entities::{JsonText, audit_events, pipes};
use super::error::{Error, Result};
use super::input::{Fields, check_count, parse};
use crate::model::{AuditAction, PipeName};

/// The actor recorded for changes made from the operator's command line.
pub const CLI_ACTOR: &str = "cli";
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 500;

/// Records one change made by `caller` (`None`: the operator's CLI).
pub async fn record(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    action: AuditAction,
    pipe: Option<&pipes::Model>,
    detail: Value,
) -> Result<()> {
    // Subscribers hear of the change in the same transaction as it is made.
    if let Some(event) = super::webhooks::event_of(action, &detail) {
        let actor = caller.map_or(CLI_ACTOR, |c| c.username.as_str());
        super::webhooks::enqueue(db, event, Some(actor), pipe, &detail).await?;
    }
    let event = audit_events::ActiveModel {
        at: Set(crate::orchestrator::now()),
        actor_id: Set(caller.map(|c| c.user_id)),
        actor: Set(caller.map_or(CLI_ACTOR.to_string(), |c| c.username.clone())),
        action: Set(action),
        pipe_id: Set(pipe.map(|p| p.id)),
        pipe_name: Set(pipe.map(|p| p.name.clone())),
        detail: Set(JsonText(detail)),
        ..Default::default()
    };
    audit_events::Entity::insert(event).exec_without_returning(db).await?;
    Ok(())
}

/// Which part of the log to read: one pipe's events, or (admins only) the whole instance's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditQuery {
    pub pipe_name: Option<PipeName>,
    pub limit: Option<u64>,
    pub offset: u64,
}

impl AuditQuery {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let limit = context.count("limit")?;
        if limit.is_some_and(|l| l == 0 || l > MAX_LIMIT) {
            return Err(Error::bad(format!("context.limit must be between 1 and {MAX_LIMIT}")));
        }
        Ok(AuditQuery {
            pipe_name: context.str("pipe_name")?.map(str::trim).filter(|n| !n.is_empty()).map(parse).transpose()?,
            limit,
            offset: context.count("offset")?.unwrap_or(0),
        })
    }
}

/// The log, newest first. A pipe's managers read its events; only instance admins read
/// the whole log (settings included).
pub async fn audit_log(db: &DatabaseConnection, caller: &Caller, query: &AuditQuery) -> Result<AuditLog> {
    check_count("offset", Some(query.offset))?;
    let pipe_id = match &query.pipe_name {
        Some(name) => Some(pipe_to_manage(db, caller, name).await?.0.id),
        None if caller.is_admin => None,
        None => {
            return Err(Error::Forbidden("Permission denied: only instance admins may read the whole audit log; name a pipe_name".into()));
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let total_count = events_of(pipe_id).count(db).await?;
    let events = newest(db, pipe_id, query.offset, limit).await?;
    Ok(AuditLog { events, total_count, limit, offset: query.offset })
}

/// A pipe's latest events, for its page (whoever calls this has checked that the caller manages the pipe).
pub async fn pipe_history(db: &impl ConnectionTrait, pipe_id: i32, limit: u64) -> Result<Vec<AuditEvent>> {
    newest(db, Some(pipe_id), 0, limit).await
}

/// Every event, or one pipe's.
fn events_of(pipe_id: Option<i32>) -> Select<audit_events::Entity> {
    audit_events::Entity::find().apply_if(pipe_id, |select, id| select.filter(audit_events::Column::PipeId.eq(id)))
}

/// A page of events, newest first.
async fn newest(db: &impl ConnectionTrait, pipe_id: Option<i32>, offset: u64, limit: u64) -> Result<Vec<AuditEvent>> {
    let rows = events_of(pipe_id).order_by_desc(audit_events::Column::Id).offset(offset).limit(limit).all(db).await?;
    Ok(rows.into_iter().map(to_event).collect())
}

fn to_event(row: audit_events::Model) -> AuditEvent {
    AuditEvent { id: row.id, at: row.at, actor: row.actor, action: row.action, pipe_name: row.pipe_name, detail: row.detail.0 }
}
