//! Email notifications: who hears of what. Messages are queued in the database at most once
//! per user, item and day, and only while the operator has set `PIPESHARE_SMTP_URL`; the
//! server's mail worker sends them (one worker per message, by a lease, across instances).
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, sea_query::OnConflict,
};

use super::access::{AccessLevel, SubjectKind, unexpired};
use super::accounts::{Caller, require_user};
use super::entities::{api_tokens, grants, notifications, pipes, users};
use super::error::{Error, Result};
use super::settings::Settings;
use crate::model::{DeliveryStatus, UserName};

/// Attempts per message before it is marked failed.
pub const MAX_ATTEMPTS: i32 = 3;
/// The waits after a failed attempt, in units of the worker's base delay.
const BACKOFF: [i32; 2] = [1, 5];
pub const MAX_EMAIL_CHARS: usize = 254;

/// Whether the operator configured email (`PIPESHARE_SMTP_URL`).
pub fn enabled() -> bool {
    std::env::var("PIPESHARE_SMTP_URL").is_ok_and(|url| !url.trim().is_empty())
}

/// An email address as people type it: one `@`, a local part and a domain, no spaces,
/// control characters or list punctuation, at most 254 characters.
pub fn check_email(text: &str) -> Result<String> {
    let text = text.trim();
    let bad = || Error::bad(format!("'{}' is not an email address", crate::model::shown(text)));
    if text.chars().count() > MAX_EMAIL_CHARS || text.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\".contains(c)) {
        return Err(bad());
    }
    match text.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !domain.starts_with('.') => {
            Ok(text.to_string())
        }
        _ => Err(bad()),
    }
}

/// Sets (or, with `None`, clears) a user's address: their own, or anyone's for an instance
/// admin or the operator (`by` is `None`).
pub async fn set_email(db: &DatabaseConnection, by: Option<&Caller>, user: &UserName, email: Option<&str>) -> Result<Option<String>> {
    if let Some(caller) = by {
        super::access::require_write(caller)?;
        if caller.username != user.as_str() {
            super::access::require_admin(caller, "set other users' email addresses")?;
        }
    }
    let email = email.map(str::trim).filter(|e| !e.is_empty()).map(check_email).transpose()?;
    let mut row = require_user(db, user).await?.into_active_model();
    row.email = Set(email.clone());
    row.update(db).await?;
    Ok(email)
}

/// Queues one message for a user, unless they have no address or already got one about
/// `item` today.
pub async fn queue(db: &impl ConnectionTrait, user_id: i32, item: &str, subject: &str, body: &str) -> Result<()> {
    if !enabled() {
        return Ok(());
    }
    // A disabled account gets nothing.
    let has_address = users::Entity::find_by_id(user_id).one(db).await?.is_some_and(|u| u.email.is_some() && u.disabled_at.is_none());
    if !has_address {
        return Ok(());
    }
    let now = crate::orchestrator::now();
    let row = notifications::ActiveModel {
        user_id: Set(user_id),
        item_key: Set(item.to_string()),
        day: Set(now.format("%Y-%m-%d").to_string()),
        subject: Set(subject.chars().take(200).collect()),
        body: Set(body.to_string()),
        status: Set(DeliveryStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    };
    notifications::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([notifications::Column::UserId, notifications::Column::ItemKey, notifications::Column::Day])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The users who manage a pipe as people: its owner and its direct `admin` grantees.
pub async fn managers_of(db: &impl ConnectionTrait, pipe: &pipes::Model) -> Result<Vec<i32>> {
    let mut ids: Vec<i32> = grants::Entity::find()
        .select_only()
        .column(grants::Column::SubjectId)
        .filter(grants::Column::PipeId.eq(pipe.id))
        .filter(grants::Column::SubjectKind.eq(SubjectKind::User))
        .filter(grants::Column::AccessLevel.eq(AccessLevel::Admin))
        .filter(unexpired(crate::orchestrator::now()))
        .into_tuple()
        .all(db)
        .await?;
    ids.push(pipe.owner_id);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Reminders of grants and tokens ending within `reminder_days`: the grantee (or the token's
/// owner) and the pipe's owner, once a day each.
pub async fn queue_reminders(db: &DatabaseConnection, base_url: &str) -> Result<()> {
    if !enabled() {
        return Ok(());
    }
    let settings = Settings::load(db).await?;
    let now = crate::orchestrator::now();
    let soon = now + TimeDelta::days(i64::from(settings.reminder_days));
    let ending = grants::Entity::find()
        .filter(grants::Column::ExpiresAt.gt(now))
        .filter(grants::Column::ExpiresAt.lte(soon))
        .find_also_related(pipes::Entity)
        .order_by_asc(grants::Column::Id)
        .limit(1000)
        .all(db)
        .await?;
    let inbox = format!("{}/inbox", base_url.trim_end_matches('/'));
    for (grant, pipe) in ending {
        let Some(pipe) = pipe else { continue };
        let ends = when(grant.expires_at);
        let item = format!("grant_ending:{}", grant.id);
        if grant.subject_kind == SubjectKind::User {
            let subject = format!("Your {} access to {} ends {ends}", grant.access_level, pipe.name);
            let body = format!("{subject}.\n\nAsk its managers to renew it, or see your inbox: {inbox}\n");
            queue(db, grant.subject_id, &item, &subject, &body).await?;
        }
        let subject = format!("A {} grant on {} ends {ends}", grant.access_level, pipe.name);
        let body = format!("{subject}.\n\nRenew it on the pipe's page, or see your inbox: {inbox}\n");
        queue(db, pipe.owner_id, &item, &subject, &body).await?;
    }
    let tokens = api_tokens::Entity::find()
        .filter(api_tokens::Column::ExpiresAt.gt(now))
        .filter(api_tokens::Column::ExpiresAt.lte(soon))
        .limit(1000)
        .all(db)
        .await?;
    for token in tokens {
        let subject = format!("Your API token '{}' ends {}", token.label, when(token.expires_at));
        let body = format!("{subject}.\n\nCreate a new one on {}/tokens before it does.\n", base_url.trim_end_matches('/'));
        queue(db, token.user_id, &format!("token_ending:{}", token.id), &subject, &body).await?;
    }
    Ok(())
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// A message taken by one worker, with its address.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub notification: notifications::Model,
    pub to: String,
}

/// Takes up to `limit` due messages for `lease` (see [`super::lease::claim_due`]), each with
/// its recipient's address as it is now.
pub async fn claim_due(db: &DatabaseConnection, limit: u64, lease: TimeDelta) -> Result<Vec<Outgoing>> {
    let mut claimed = Vec::new();
    for notification in super::lease::claim_due::<notifications::Entity>(db, limit, lease).await? {
        match users::Entity::find_by_id(notification.user_id).one(db).await?.and_then(|u| u.email) {
            Some(to) => claimed.push(Outgoing { notification, to }),
            // The address was removed since: nothing to send.
            None => record(db, &notification, Err("the user has no email address now".into()), TimeDelta::zero()).await?,
        }
    }
    Ok(claimed)
}

/// Marks a message sent, or failed for now (tried again after the back-off, up to
/// [`MAX_ATTEMPTS`]).
pub async fn record(
    db: &DatabaseConnection,
    notification: &notifications::Model,
    outcome: std::result::Result<(), String>,
    base: TimeDelta,
) -> Result<()> {
    let now = crate::orchestrator::now();
    let attempts = notification.attempts + 1;
    let mut row = notification.clone().into_active_model();
    row.attempts = Set(attempts);
    row.lease_until = Set(None);
    match outcome {
        Ok(()) => {
            row.status = Set(DeliveryStatus::Delivered);
            row.sent_at = Set(Some(now));
            row.last_error = Set(None);
        }
        Err(error) => {
            let wait = BACKOFF[((attempts - 1) as usize).min(BACKOFF.len() - 1)];
            row.status = Set(if attempts >= MAX_ATTEMPTS { DeliveryStatus::Failed } else { DeliveryStatus::Pending });
            row.next_attempt_at = Set(now + base * wait);
            row.last_error = Set(Some(error.chars().take(500).collect()));
        }
    }
    row.update(db).await?;
    Ok(())
}
