//! Webhooks: subscriptions, the delivery queue and its log. A change's deliveries are queued
//! by [`super::audit::record`] in the change's own transaction, so a change is never reported
//! without happening, nor happens without being reported; the server's delivery worker sends
//! them, taking each with a lease in the database so several instances never send one at
//! once.
pub use crate::model::{DeliveryStatus, DeliveryView, WebhookCreated, WebhookEvent, WebhookList, WebhookView};
use std::net::IpAddr;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait, sea_query::Expr,
};
use serde_json::{Value, json};
use sha2::Sha256;

use super::access::{access, pipe_to_manage, require_admin, require_write};
use super::accounts::Caller;
use super::audit;
use super::catalog::usernames;
use super::entities::{JsonText, grants, pipes, shares, user_groups, users, webhook_attempts, webhook_deliveries, webhooks};
use super::error::{Error, Result};
use super::input::{Fields, check_text};
use crate::model::{AttemptView, AuditAction, PipeName, SubjectKind};

/// The version of the payload's shape; a breaking change raises it.
pub const SCHEMA_VERSION: u32 = 1;
/// Attempts per delivery before it is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;
/// The waits after each failed attempt, in units of the base delay (one minute by default):
/// eight attempts over about 21 hours.
pub const BACKOFF: [i32; 7] = [1, 5, 15, 60, 120, 360, 720];
pub const MAX_URL_CHARS: usize = 2048;
/// Subscriptions one user may own.
pub const MAX_PER_OWNER: u64 = 50;
/// Deliveries each subscription lists.
const DELIVERIES_SHOWN: u64 = 20;
/// How long a sent delivery is kept in the log.
const KEPT: TimeDelta = TimeDelta::days(30);

/// The event a recorded change is, if subscribers hear of it.
pub fn event_of(action: AuditAction, detail: &Value) -> Option<WebhookEvent> {
    use WebhookEvent as E;
    Some(match action {
        AuditAction::SharePipe => E::Share,
        AuditAction::UnsharePipe => E::Unshare,
        AuditAction::ReviewShare if detail["sharing_status"] == "active" => E::Approve,
        AuditAction::ReviewShare => E::Reject,
        AuditAction::Grant | AuditAction::RenewGrant => E::Grant,
        AuditAction::Revoke => E::Revoke,
        AuditAction::RequestAccess => E::AccessRequested,
        AuditAction::ReviewAccessRequest => E::AccessReviewed,
        AuditAction::Publish => E::Published,
        AuditAction::Yank => E::Yanked,
        AuditAction::Promote if detail["status"] == "active" => E::Promoted,
        AuditAction::ReviewPromotion if detail["status"] == "active" => E::Promoted,
        AuditAction::SourceState => E::SourceStateChanged,
        _ => return None,
    })
}

/// Whether the operator lets webhooks reach private, loopback and link-local addresses.
pub fn private_allowed() -> bool {
    std::env::var("PIPESHARE_WEBHOOK_ALLOW_PRIVATE").is_ok_and(|v| v == "true")
}

/// Addresses a webhook may not reach unless the operator allows it: loopback, private,
/// link-local, unspecified, multicast and the like.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// A webhook URL: http(s), with a host, without credentials, at most 2,048 characters.
pub fn check_url(text: &str) -> Result<url::Url> {
    check_text("url", Some(text))?;
    let text = text.trim();
    if text.chars().count() > MAX_URL_CHARS {
        return Err(Error::bad(format!("A webhook URL has at most {MAX_URL_CHARS} characters")));
    }
    let url = url::Url::parse(text).map_err(|err| Error::bad(format!("'{}' is not a URL: {err}", crate::model::shown(text))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::bad("A webhook URL must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::bad("A webhook URL needs a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::bad("A webhook URL may not hold credentials; deliveries are signed instead"));
    }
    Ok(url)
}

/// The addresses the URL's host has now, each allowed (see [`is_private`]).
pub async fn allowed_addresses(url: &url::Url) -> Result<Vec<std::net::SocketAddr>> {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_string();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| Error::bad(format!("The webhook host '{host}' cannot be resolved")))?
        .collect();
    if addresses.is_empty() {
        return Err(Error::bad(format!("The webhook host '{host}' cannot be resolved")));
    }
    if !private_allowed() && addresses.iter().any(|a| is_private(a.ip())) {
        return Err(Error::bad(format!(
            "The webhook host '{host}' is a private, loopback or link-local address; the operator allows those with PIPESHARE_WEBHOOK_ALLOW_PRIVATE=true"
        )));
    }
    Ok(addresses)
}

/// HMAC-SHA256 of `message` under `secret`, as lowercase hex.
pub fn sign(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill(&mut buf[..]);
    hex::encode(buf)
}

/// Whether the subscription's owner may hear of events of `pipe` now (an owner who lost the
/// pipe, an admin who lost the role, or a disabled account hears nothing more).
async fn may_hear(db: &impl ConnectionTrait, hook: &webhooks::Model, pipe: Option<&pipes::Model>) -> Result<bool> {
    let Some(user) = users::Entity::find_by_id(hook.owner_id).one(db).await?.filter(|u| u.disabled_at.is_none()) else {
        return Ok(false);
    };
    let owner = Caller::from(&user);
    match (hook.pipe_id, pipe) {
        (None, _) => Ok(owner.is_admin),
        (Some(_), Some(pipe)) => {
            let share = shares::Entity::find().filter(shares::Column::PipeId.eq(pipe.id)).one(db).await?;
            Ok(access(db, Some(&owner), pipe, share.as_ref()).await?.manage)
        }
        (Some(_), None) => Ok(false),
    }
}

/// Queues `event` for every subscription that wants it (the pipe's and the instance's), in
/// the caller's transaction.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    event: WebhookEvent,
    actor: Option<&str>,
    pipe: Option<&pipes::Model>,
    data: &Value,
) -> Result<()> {
    let scope = match pipe {
        Some(pipe) => Condition::any().add(webhooks::Column::PipeId.is_null()).add(webhooks::Column::PipeId.eq(pipe.id)),
        None => Condition::all().add(webhooks::Column::PipeId.is_null()),
    };
    let hooks = webhooks::Entity::find().filter(scope).all(db).await?;
    let now = crate::orchestrator::now();
    let event_id = format!("evt_{}", random_hex(12));
    let payload = json!({
        "id": event_id,
        "type": event,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": now,
        "actor": actor.map(|name| json!({"user": name})),
        "pipe": pipe.map(|p| json!({"name": p.name, "version": p.latest_version})),
        "data": data,
    })
    .to_string();
    for hook in hooks {
        if !(hook.events.0.is_empty() || hook.events.0.contains(&event)) || !may_hear(db, &hook, pipe).await? {
            continue;
        }
        queue(db, hook.id, &event_id, event, payload.clone(), now).await?;
    }
    Ok(())
}

async fn queue(
    db: &impl ConnectionTrait,
    webhook_id: i32,
    event_id: &str,
    event: WebhookEvent,
    payload: String,
    now: DateTime<Utc>,
) -> Result<webhook_deliveries::Model> {
    Ok(webhook_deliveries::ActiveModel {
        webhook_id: Set(webhook_id),
        event_id: Set(event_id.to_string()),
        event_type: Set(event),
        payload: Set(payload),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// `add_webhook`: what to subscribe.
#[derive(Clone, Debug, PartialEq)]
pub struct NewWebhook {
    pub url: String,
    /// `None`: every event of the instance (instance admins).
    pub pipe_name: Option<PipeName>,
    pub events: Vec<WebhookEvent>,
}

impl NewWebhook {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let url = context.str("url")?.ok_or_else(|| Error::bad("context.url is required: where deliveries are sent"))?;
        let mut events: Vec<WebhookEvent> = context.names("events")?;
        events.sort();
        events.dedup();
        Ok(NewWebhook { url: url.to_string(), pipe_name: context.parsed("pipe_name")?, events })
    }
}

async fn view(db: &impl ConnectionTrait, hooks: Vec<webhooks::Model>) -> Result<Vec<WebhookView>> {
    let owners = usernames(db, hooks.iter().map(|h| h.owner_id)).await?;
    let pipe_ids: Vec<i32> = hooks.iter().filter_map(|h| h.pipe_id).collect();
    let pipe_names: std::collections::HashMap<i32, String> = if pipe_ids.is_empty() {
        Default::default()
    } else {
        pipes::Entity::find().filter(pipes::Column::Id.is_in(pipe_ids)).all(db).await?.into_iter().map(|p| (p.id, p.name)).collect()
    };
    let mut views = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let rows = webhook_deliveries::Entity::find()
            .filter(webhook_deliveries::Column::WebhookId.eq(hook.id))
            .order_by_desc(webhook_deliveries::Column::Id)
            .limit(DELIVERIES_SHOWN)
            .all(db)
            .await?;
        views.push(WebhookView {
            webhook_id: hook.id,
            url: hook.url,
            pipe_name: hook.pipe_id.and_then(|id| pipe_names.get(&id).cloned()),
            events: hook.events.0,
            owner: owners.get(&hook.owner_id).cloned().unwrap_or_default(),
            created_at: hook.created_at,
            deliveries: delivery_views(db, rows).await?,
        });
    }
    Ok(views)
}

async fn delivery_views(db: &impl ConnectionTrait, rows: Vec<webhook_deliveries::Model>) -> Result<Vec<DeliveryView>> {
    let ids: Vec<i32> = rows.iter().map(|d| d.id).collect();
    let attempts = if ids.is_empty() {
        Vec::new()
    } else {
        webhook_attempts::Entity::find()
            .filter(webhook_attempts::Column::DeliveryId.is_in(ids))
            .order_by_asc(webhook_attempts::Column::Id)
            .all(db)
            .await?
    };
    Ok(rows
        .into_iter()
        .map(|d| DeliveryView {
            delivery_id: d.id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at,
            log: attempts
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    at: a.at,
                    status_code: a.status_code,
                    duration_ms: a.duration_ms,
                    error: a.error.clone(),
                })
                .collect(),
        })
        .collect())
}

/// `add_webhook`: a pipe's managers subscribe to its events; instance admins to every event.
pub async fn add_webhook(db: &DatabaseConnection, caller: &Caller, new: &NewWebhook) -> Result<WebhookCreated> {
    require_write(caller)?;
    let url = check_url(&new.url)?;
    let pipe = match &new.pipe_name {
        Some(name) => Some(pipe_to_manage(db, caller, name).await?.0),
        None => {
            require_admin(caller, "subscribe to every event of the instance")?;
            None
        }
    };
    allowed_addresses(&url).await?;
    let owned = webhooks::Entity::find().filter(webhooks::Column::OwnerId.eq(caller.user_id)).count(db).await?;
    if owned >= MAX_PER_OWNER {
        return Err(Error::Conflict(format!("You have {owned} webhooks, the most one user may have; remove one first")));
    }
    let secret = format!("whsec_{}", random_hex(24));
    let txn = db.begin().await?;
    let hook = webhooks::ActiveModel {
        owner_id: Set(caller.user_id),
        pipe_id: Set(pipe.as_ref().map(|p| p.id)),
        url: Set(url.to_string()),
        secret: Set(secret.clone()),
        events: Set(JsonText(new.events.clone())),
        created_at: Set(crate::orchestrator::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let detail = json!({"webhook_id": hook.id, "url": hook.url, "events": new.events});
    audit::record(&txn, Some(caller), AuditAction::AddWebhook, pipe.as_ref(), detail).await?;
    txn.commit().await?;
    Ok(WebhookCreated { webhook: view(db, vec![hook]).await?.remove(0), secret })
}

/// A subscription the caller may manage: its owner, a manager of its pipe, an instance admin.
/// Anyone else gets the same 404 as for one that does not exist.
async fn hook_to_manage(db: &impl ConnectionTrait, caller: &Caller, webhook_id: i32) -> Result<(webhooks::Model, Option<pipes::Model>)> {
    let not_found = || Error::NotFound(format!("No webhook {webhook_id}"));
    let hook = webhooks::Entity::find_by_id(webhook_id).one(db).await?.ok_or_else(not_found)?;
    let pipe = match hook.pipe_id {
        Some(id) => pipes::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let allowed = caller.is_admin
        || hook.owner_id == caller.user_id
        || match &pipe {
            Some(pipe) => {
                let share = shares::Entity::find().filter(shares::Column::PipeId.eq(pipe.id)).one(db).await?;
                access(db, Some(caller), pipe, share.as_ref()).await?.manage
            }
            None => false,
        };
    if allowed { Ok((hook, pipe)) } else { Err(not_found()) }
}

/// `list_webhooks`: a pipe's subscriptions (its managers); without a pipe, the caller's own,
/// and for instance admins every instance-wide one too. Each with its latest deliveries.
pub async fn list_webhooks(db: &DatabaseConnection, caller: &Caller, pipe_name: Option<&PipeName>) -> Result<WebhookList> {
    let condition = match pipe_name {
        Some(name) => {
            let (pipe, _) = pipe_to_manage(db, caller, name).await?;
            Condition::all().add(webhooks::Column::PipeId.eq(pipe.id))
        }
        None if caller.is_admin => {
            Condition::any().add(webhooks::Column::OwnerId.eq(caller.user_id)).add(webhooks::Column::PipeId.is_null())
        }
        None => Condition::all().add(webhooks::Column::OwnerId.eq(caller.user_id)),
    };
    let hooks = webhooks::Entity::find().filter(condition).order_by_asc(webhooks::Column::Id).all(db).await?;
    Ok(WebhookList { webhooks: view(db, hooks).await? })
}

/// `remove_webhook`: its deliveries and their log go with it.
pub async fn remove_webhook(db: &DatabaseConnection, caller: &Caller, webhook_id: i32) -> Result<WebhookView> {
    require_write(caller)?;
    let (hook, pipe) = hook_to_manage(db, caller, webhook_id).await?;
    let shown = view(db, vec![hook.clone()]).await?.remove(0);
    let txn = db.begin().await?;
    let deliveries: Vec<i32> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Id)
        .filter(webhook_deliveries::Column::WebhookId.eq(hook.id))
        .into_tuple()
        .all(&txn)
        .await?;
    for chunk in deliveries.chunks(500) {
        webhook_attempts::Entity::delete_many().filter(webhook_attempts::Column::DeliveryId.is_in(chunk.to_vec())).exec(&txn).await?;
    }
    webhook_deliveries::Entity::delete_many().filter(webhook_deliveries::Column::WebhookId.eq(hook.id)).exec(&txn).await?;
    webhooks::Entity::delete_by_id(hook.id).exec(&txn).await?;
    audit::record(&txn, Some(caller), AuditAction::RemoveWebhook, pipe.as_ref(), json!({"webhook_id": hook.id, "url": hook.url})).await?;
    txn.commit().await?;
    Ok(shown)
}

/// `test_webhook`: queues a `ping` for the subscription now.
pub async fn test_webhook(db: &DatabaseConnection, caller: &Caller, webhook_id: i32) -> Result<DeliveryView> {
    require_write(caller)?;
    let (hook, pipe) = hook_to_manage(db, caller, webhook_id).await?;
    let now = crate::orchestrator::now();
    let event_id = format!("evt_{}", random_hex(12));
    let payload = json!({
        "id": event_id,
        "type": WebhookEvent::Ping,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": now,
        "actor": {"user": caller.username},
        "pipe": pipe.as_ref().map(|p| json!({"name": p.name, "version": p.latest_version})),
        "data": {"webhook_id": hook.id},
    })
    .to_string();
    let delivery = queue(db, hook.id, &event_id, WebhookEvent::Ping, payload, now).await?;
    Ok(delivery_views(db, vec![delivery]).await?.remove(0))
}

/// `redeliver_webhook`: sends a delivery again now (one more attempt when it had failed).
pub async fn redeliver(db: &DatabaseConnection, caller: &Caller, delivery_id: i32) -> Result<DeliveryView> {
    require_write(caller)?;
    let not_found = || Error::NotFound(format!("No webhook delivery {delivery_id}"));
    let delivery = webhook_deliveries::Entity::find_by_id(delivery_id).one(db).await?.ok_or_else(not_found)?;
    hook_to_manage(db, caller, delivery.webhook_id).await.map_err(|_| not_found())?;
    let now = crate::orchestrator::now();
    let mut row = delivery.into_active_model();
    row.status = Set(DeliveryStatus::Pending);
    row.next_attempt_at = Set(now);
    row.lease_until = Set(None);
    row.updated_at = Set(now);
    let row = row.update(db).await?;
    Ok(delivery_views(db, vec![row]).await?.remove(0))
}

/// A delivery taken by one worker, with where and how to send it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub delivery: webhook_deliveries::Model,
    pub url: String,
    pub secret: String,
}

/// Takes up to `limit` due deliveries for this worker for `lease` (see
/// [`super::lease::claim_due`]), each with its webhook's address and secret.
pub async fn claim_due(db: &DatabaseConnection, limit: u64, lease: TimeDelta) -> Result<Vec<Claimed>> {
    let mut claimed = Vec::new();
    for delivery in super::lease::claim_due::<webhook_deliveries::Entity>(db, limit, lease).await? {
        if let Some(hook) = webhooks::Entity::find_by_id(delivery.webhook_id).one(db).await? {
            claimed.push(Claimed { delivery, url: hook.url, secret: hook.secret });
        }
    }
    Ok(claimed)
}

/// What one attempt came to.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

impl Attempt {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|code| (200..300).contains(&code))
    }
}

/// Logs an attempt and decides what follows: delivered, another try after the back-off
/// (`base` times [`BACKOFF`]), or failed after [`MAX_ATTEMPTS`].
pub async fn record_attempt(
    db: &DatabaseConnection,
    delivery: &webhook_deliveries::Model,
    attempt: &Attempt,
    base: TimeDelta,
) -> Result<()> {
    let now = crate::orchestrator::now();
    let number = delivery.attempts + 1;
    let txn = db.begin().await?;
    webhook_attempts::ActiveModel {
        delivery_id: Set(delivery.id),
        attempt: Set(number),
        at: Set(now),
        status_code: Set(attempt.status_code.map(i32::from)),
        duration_ms: Set(attempt.duration_ms),
        error: Set(attempt.error.clone()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let (status, next) = if attempt.succeeded() {
        (DeliveryStatus::Delivered, now)
    } else if number >= MAX_ATTEMPTS {
        (DeliveryStatus::Failed, now)
    } else {
        let wait = BACKOFF[((number - 1) as usize).min(BACKOFF.len() - 1)];
        (DeliveryStatus::Pending, now + base * wait)
    };
    let mut row = delivery.clone().into_active_model();
    row.attempts = Set(number);
    row.status = Set(status);
    row.next_attempt_at = Set(next);
    row.lease_until = Set(None);
    row.last_status_code = Set(attempt.status_code.map(i32::from));
    row.last_error = Set(attempt.error.clone());
    row.updated_at = Set(now);
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Queues `grant_expired` for grants that have ended since they were last announced (each
/// once per end; a renewal arms it again), and forgets sent deliveries older than 30 days.
pub async fn housekeeping(db: &DatabaseConnection) -> Result<()> {
    let now = crate::orchestrator::now();
    let ended = grants::Entity::find()
        .filter(grants::Column::ExpiresAt.lte(now))
        .filter(grants::Column::EndAnnounced.eq(false))
        .limit(100)
        .all(db)
        .await?;
    for grant in ended {
        let txn = db.begin().await?;
        let taken = grants::Entity::update_many()
            .col_expr(grants::Column::EndAnnounced, Expr::value(true))
            .filter(grants::Column::Id.eq(grant.id))
            .filter(grants::Column::EndAnnounced.eq(false))
            .exec(&txn)
            .await?;
        if taken.rows_affected == 1
            && let Some(pipe) = pipes::Entity::find_by_id(grant.pipe_id).one(&txn).await?
        {
            let name = match grant.subject_kind {
                SubjectKind::User => usernames(&txn, [grant.subject_id]).await?.remove(&grant.subject_id),
                SubjectKind::Group => user_groups::Entity::find_by_id(grant.subject_id).one(&txn).await?.map(|g| g.name),
            };
            let data = json!({"subject_type": grant.subject_kind, "name": name, "access_level": grant.access_level,
                "expired_at": grant.expires_at});
            enqueue(&txn, WebhookEvent::GrantExpired, None, Some(&pipe), &data).await?;
        }
        txn.commit().await?;
    }
    let old = now - KEPT;
    let stale: Vec<i32> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Id)
        .filter(webhook_deliveries::Column::Status.ne(DeliveryStatus::Pending))
        .filter(webhook_deliveries::Column::UpdatedAt.lt(old))
        .limit(500)
        .into_tuple()
        .all(db)
        .await?;
    if !stale.is_empty() {
        webhook_attempts::Entity::delete_many().filter(webhook_attempts::Column::DeliveryId.is_in(stale.clone())).exec(db).await?;
        webhook_deliveries::Entity::delete_many().filter(webhook_deliveries::Column::Id.is_in(stale)).exec(db).await?;
    }
    Ok(())
}

/// Webhook deliveries and emails by status, for `/metrics`.
pub async fn queue_stats(db: &DatabaseConnection) -> Result<crate::metrics::QueueStats> {
    use super::entities::notifications;
    let deliveries: Vec<(DeliveryStatus, i64)> = webhook_deliveries::Entity::find()
        .select_only()
        .column(webhook_deliveries::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(webhook_deliveries::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let emails: Vec<(DeliveryStatus, i64)> = notifications::Entity::find()
        .select_only()
        .column(notifications::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(notifications::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let messages = deliveries
        .into_iter()
        .map(|(status, n)| ("webhook", status.to_string(), n.max(0) as u64))
        .chain(emails.into_iter().map(|(status, n)| ("email", status.to_string(), n.max(0) as u64)))
        .collect();
    Ok(crate::metrics::QueueStats { messages })
}

/// A refused share over the owner's quota, reported outside the refused transaction.
pub async fn quota_refused(db: &impl ConnectionTrait, caller: &Caller, pipe: &pipes::Model, limit: u32) -> Result<()> {
    let data = json!({"max_pipes_per_user": limit, "action": "share_pipe"});
    enqueue(db, WebhookEvent::QuotaRefused, Some(&caller.username), Some(pipe), &data).await
}
