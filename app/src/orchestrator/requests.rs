//! Access requests: a user asks a pipe's managers for access, they approve (possibly narrower
//! or shorter than asked) or reject, and a request nobody decides lapses. Also renewing an
//! expiring grant.
pub use crate::model::{AccessRequestView, AccessRequests, RequestStatus};
use std::ops::RangeInclusive;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde_json::json;

use super::access::{
    AccessLevel, PipeAccess, SubjectKind, access, find_pipe, held_levels, pipe_to_manage, reaches, shareable_by, unexpired,
};
use super::accounts::{Caller, require_group, require_user};
use super::audit;
use super::catalog::usernames;
use super::db::begin_writing;
use super::entities::{access_requests, grants, pipes, shares};
use super::error::{Error, Result};
use super::input::{Fields, check_text, parse};
use super::notify;
use super::permissions::{Expiration, GrantView, NewGrant, check_delegated_grant, grants_on, new_permission_id, write_grant};
use super::review::MAX_NOTE_CHARS;
use super::settings::Settings;
use crate::model::{AuditAction, Decision, GroupName, PipeName, UserName};

/// The longest reason for asking, in characters.
pub const MAX_REASON_CHARS: usize = 2000;
/// Pending requests one user may have at once, counting those about pipes they cannot see:
/// asking is cheap, storage is not.
pub const MAX_PENDING_PER_USER: u64 = 100;
/// How long a request may ask for access, and a renewal extend it, in days.
pub const DAYS_RANGE: RangeInclusive<u64> = 1..=3650;
/// The most requests one listing holds.
pub const MAX_LISTED: u64 = 1000;

/// `request_access`: what the caller asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRequest {
    pub pipe_name: PipeName,
    pub access_level: AccessLevel,
    pub reason: String,
    pub duration_days: Option<i32>,
}

/// A number of days within [`DAYS_RANGE`].
pub fn days(fields: &Fields, key: &str) -> Result<Option<i32>> {
    match fields.count(key)? {
        None => Ok(None),
        Some(n) if DAYS_RANGE.contains(&n) => Ok(Some(n as i32)),
        Some(n) => Err(Error::bad(format!("context.{key} must be from {} to {} days, not {n}", DAYS_RANGE.start(), DAYS_RANGE.end()))),
    }
}

/// A person's free text (a reason, a note): trimmed, without control characters other than
/// line breaks and tabs, at most `max` characters.
fn prose(what: &str, text: &str, max: usize) -> Result<String> {
    check_text(what, Some(text))?;
    let text = text.trim();
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::bad(format!("{what} must not contain control characters")));
    }
    if text.chars().count() > max {
        return Err(Error::bad(format!("{what} has at most {max} characters")));
    }
    Ok(text.to_string())
}

impl NewRequest {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let reason = context.str("reason")?.ok_or_else(|| Error::bad("context.reason is required: say why you need access"))?;
        let reason = prose("reason", reason, MAX_REASON_CHARS)?;
        if reason.is_empty() {
            return Err(Error::bad("context.reason is required: say why you need access"));
        }
        Ok(NewRequest {
            pipe_name: context.pipe_name()?,
            access_level: context.parsed("access_level")?.unwrap_or(AccessLevel::Read),
            reason,
            duration_days: days(context, "duration_days")?,
        })
    }
}

/// A decision on one access request.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestReview {
    pub request_id: i32,
    pub decision: Decision,
    pub note: Option<String>,
    /// Narrower than asked, or the level asked when absent.
    pub access_level: Option<AccessLevel>,
    /// Sooner than asked, or the asked duration from now when absent.
    pub expiration: Option<Expiration>,
    /// The revision the reviewer saw; a request changed since is a 409.
    pub revision: Option<i32>,
}

impl RequestReview {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let id = context.count("request_id")?.ok_or_else(|| Error::bad("context.request_id is required"))?;
        let decision = context.str("decision")?.ok_or_else(|| Error::bad("context.decision is required: approve or reject"))?;
        let revision = context.count("revision")?.map(|r| i32::try_from(r).unwrap_or(i32::MAX));
        Ok(RequestReview {
            request_id: i32::try_from(id).map_err(|_| Error::NotFound(format!("No access request {id}")))?,
            decision: parse(decision)?,
            note: context.str("note")?.map(String::from),
            access_level: context.parsed("access_level")?,
            expiration: context.str("expiration")?.map(Expiration::parse).transpose()?,
            revision,
        })
    }
}

/// Which requests a listing shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestFilter {
    pub status: Option<RequestStatus>,
    pub pipe_name: Option<PipeName>,
}

impl RequestFilter {
    pub fn from_context(context: &Fields) -> Result<Self> {
        Ok(RequestFilter { status: context.parsed("status")?, pipe_name: context.parsed("pipe_name")? })
    }
}

/// Whom a grant is for, by name.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    User(UserName),
    Group(GroupName),
}

impl Subject {
    /// Exactly one of `user` and `group`.
    pub fn from_context(context: &Fields) -> Result<Self> {
        match (context.parsed("user")?, context.parsed("group")?) {
            (Some(user), None) => Ok(Subject::User(user)),
            (None, Some(group)) => Ok(Subject::Group(group)),
            _ => Err(Error::bad("Name the grant's holder: context.user or context.group (one of them)")),
        }
    }

    fn name(&self) -> &str {
        match self {
            Subject::User(name) => name.as_str(),
            Subject::Group(name) => name.as_str(),
        }
    }
}

/// Whether a pending request has lapsed by `now` (requests lapse when read, not by a job).
fn status_at(row: &access_requests::Model, now: DateTime<Utc>) -> RequestStatus {
    if row.status == RequestStatus::Pending && row.expires_at <= now { RequestStatus::Expired } else { row.status }
}

/// Requests whose status, lapsing counted, is `status` at `now`.
fn with_status(status: RequestStatus, now: DateTime<Utc>) -> Condition {
    use access_requests::Column as C;
    let pending = || C::Status.eq(RequestStatus::Pending);
    match status {
        RequestStatus::Pending => Condition::all().add(pending()).add(C::ExpiresAt.gt(now)),
        RequestStatus::Expired => {
            Condition::any().add(C::Status.eq(RequestStatus::Expired)).add(Condition::all().add(pending()).add(C::ExpiresAt.lte(now)))
        }
        other => Condition::all().add(C::Status.eq(other)),
    }
}

/// Requests as people see them, with names for ids.
pub async fn views(db: &impl ConnectionTrait, rows: Vec<access_requests::Model>) -> Result<Vec<AccessRequestView>> {
    let mut ids = Vec::with_capacity(rows.len() * 2);
    for row in &rows {
        ids.push(row.user_id);
        ids.extend(row.reviewed_by);
    }
    let names = usernames(db, ids).await?;
    let now = crate::orchestrator::now();
    Ok(rows
        .into_iter()
        .map(|row| AccessRequestView {
            request_id: row.id,
            status: status_at(&row, now),
            requester: names.get(&row.user_id).cloned().unwrap_or_default(),
            reviewed_by: row.reviewed_by.and_then(|id| names.get(&id).cloned()),
            pipe_name: row.pipe_name,
            access_level: row.access_level,
            reason: row.reason,
            duration_days: row.duration_days,
            revision: row.revision,
            created_at: row.created_at,
            updated_at: row.updated_at,
            expires_at: row.expires_at,
            reviewed_at: row.reviewed_at,
            review_note: row.review_note,
            granted_level: row.granted_level,
            granted_until: row.granted_until,
        })
        .collect())
}

/// The strongest level the caller holds on the pipe now (owners, managers and instance admins
/// hold `admin`).
async fn held_level(db: &impl ConnectionTrait, caller: &Caller, pipe: &pipes::Model, access: PipeAccess) -> Result<Option<AccessLevel>> {
    if access.manage {
        return Ok(Some(AccessLevel::Admin));
    }
    Ok(held_levels(db, caller.user_id, pipe.id).await?.into_iter().max())
}

/// Whether any grant, expired or not, ever reached the caller on the pipe: they know it exists.
async fn ever_granted(db: &impl ConnectionTrait, caller: &Caller, pipe_id: i32) -> Result<bool> {
    let count = grants::Entity::find().filter(grants::Column::PipeId.eq(pipe_id)).filter(reaches(caller.user_id)).count(db).await?;
    Ok(count > 0)
}

/// `request_access`. A request about a pipe the caller cannot see (or that does not exist) is
/// stored and answered exactly like any other, but only its requester ever sees it.
pub async fn request_access(
    db: &DatabaseConnection,
    caller: &Caller,
    settings: &Settings,
    base_url: &str,
    new: NewRequest,
) -> Result<AccessRequestView> {
    let now = crate::orchestrator::now();
    let (txn, _turn) = begin_writing(db, caller.user_id).await?;
    let mut known_pipe = None;
    if let Some((pipe, share)) = find_pipe(&txn, &new.pipe_name).await? {
        let access = access(&txn, Some(caller), &pipe, share.as_ref()).await?;
        if access.see || ever_granted(&txn, caller, pipe.id).await? {
            if let Some(held) = held_level(&txn, caller, &pipe, access).await?
                && held >= new.access_level
            {
                return Err(Error::Conflict(format!("You already hold {held} access to '{}'", pipe.name)));
            }
            known_pipe = Some(pipe);
        }
    }
    let existing = access_requests::Entity::find()
        .filter(access_requests::Column::UserId.eq(caller.user_id))
        .filter(access_requests::Column::PipeName.eq(new.pipe_name.as_str()))
        .one(&txn)
        .await?;
    let pending = access_requests::Entity::find()
        .filter(access_requests::Column::UserId.eq(caller.user_id))
        .filter(access_requests::Column::PipeName.ne(new.pipe_name.as_str()))
        .filter(with_status(RequestStatus::Pending, now))
        .count(&txn)
        .await?;
    if pending >= MAX_PENDING_PER_USER {
        return Err(Error::TooManyRequests(
            format!("You have {pending} pending access requests; wait for answers before asking for more"),
            3600,
        ));
    }
    let lapses = now + TimeDelta::days(i64::from(settings.access_request_ttl_days));
    let row = match existing {
        Some(row) => {
            let revision = row.revision.saturating_add(1);
            let mut row = row.into_active_model();
            row.pipe_id = Set(known_pipe.as_ref().map(|p| p.id));
            row.access_level = Set(new.access_level);
            row.reason = Set(new.reason.clone());
            row.duration_days = Set(new.duration_days);
            row.status = Set(RequestStatus::Pending);
            row.revision = Set(revision);
            row.updated_at = Set(now);
            row.expires_at = Set(lapses);
            row.reviewed_by = Set(None);
            row.reviewed_at = Set(None);
            row.review_note = Set(None);
            row.granted_level = Set(None);
            row.granted_until = Set(None);
            row.update(&txn).await?
        }
        None => {
            access_requests::ActiveModel {
                user_id: Set(caller.user_id),
                pipe_name: Set(new.pipe_name.to_string()),
                pipe_id: Set(known_pipe.as_ref().map(|p| p.id)),
                access_level: Set(new.access_level),
                reason: Set(new.reason.clone()),
                duration_days: Set(new.duration_days),
                status: Set(RequestStatus::Pending),
                revision: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
                expires_at: Set(lapses),
                reviewed_by: Set(None),
                reviewed_at: Set(None),
                review_note: Set(None),
                granted_level: Set(None),
                granted_until: Set(None),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    if let Some(pipe) = &known_pipe {
        let detail = json!({"request_id": row.id, "access_level": new.access_level, "duration_days": new.duration_days});
        audit::record(&txn, Some(caller), AuditAction::RequestAccess, Some(pipe), detail).await?;
        let subject = format!("{} asks for {} access to {}", caller.username, new.access_level, pipe.name);
        let body = format!("{subject}:\n\n{}\n\nDecide it in your inbox: {}/inbox\n", new.reason, base_url.trim_end_matches('/'));
        for manager in notify::managers_of(&txn, pipe).await?.into_iter().filter(|id| *id != caller.user_id) {
            notify::queue(&txn, manager, &format!("access_request:{}", row.id), &subject, &body).await?;
        }
    }
    txn.commit().await?;
    Ok(views(db, vec![row]).await?.remove(0))
}

/// The requests the caller may read: their own, and those for pipes they manage (every
/// request for a pipe the requester could see, for instance admins).
fn readable_by(caller: &Caller, now: DateTime<Utc>) -> Condition {
    use access_requests::Column as C;
    let theirs = C::UserId.eq(caller.user_id);
    if caller.is_admin {
        return Condition::any().add(theirs).add(C::PipeId.is_not_null());
    }
    let managed = pipes::Entity::find().select_only().column(pipes::Column::Id).filter(shareable_by(caller, now)).into_query();
    Condition::any().add(theirs).add(C::PipeId.in_subquery(managed))
}

/// Requests for pipes the caller manages (not their own), newest first.
pub fn waiting_on(caller: &Caller, now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(readable_by(caller, now))
        .add(access_requests::Column::UserId.ne(caller.user_id))
        .add(with_status(RequestStatus::Pending, now))
}

pub async fn list_access_requests(db: &DatabaseConnection, caller: &Caller, filter: &RequestFilter) -> Result<AccessRequests> {
    let now = crate::orchestrator::now();
    let mut query = access_requests::Entity::find().filter(readable_by(caller, now));
    if let Some(status) = filter.status {
        query = query.filter(with_status(status, now));
    }
    if let Some(name) = &filter.pipe_name {
        query = query.filter(access_requests::Column::PipeName.eq(name.as_str()));
    }
    let total_count = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(access_requests::Column::UpdatedAt)
        .order_by_desc(access_requests::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?;
    Ok(AccessRequests { requests: views(db, rows).await?, total_count })
}

/// The pending requests the caller may decide for one pipe they manage.
pub async fn pending_for_pipe(db: &impl ConnectionTrait, pipe_id: i32) -> Result<Vec<AccessRequestView>> {
    let rows = access_requests::Entity::find()
        .filter(access_requests::Column::PipeId.eq(pipe_id))
        .filter(with_status(RequestStatus::Pending, crate::orchestrator::now()))
        .order_by_asc(access_requests::Column::UpdatedAt)
        .limit(MAX_LISTED)
        .all(db)
        .await?;
    views(db, rows).await
}

/// The caller's own request for a pipe, if any.
pub async fn own_request(db: &impl ConnectionTrait, caller: &Caller, pipe_name: &str) -> Result<Option<AccessRequestView>> {
    let row = access_requests::Entity::find()
        .filter(access_requests::Column::UserId.eq(caller.user_id))
        .filter(access_requests::Column::PipeName.eq(pipe_name))
        .one(db)
        .await?;
    Ok(views(db, row.into_iter().collect()).await?.pop())
}

/// `review_access_request`: a manager of the pipe approves or rejects a pending request.
pub async fn review_access_request(
    db: &DatabaseConnection,
    caller: &Caller,
    base_url: &str,
    review: &RequestReview,
) -> Result<AccessRequestView> {
    let note = review.note.as_deref().map(|n| prose("note", n, MAX_NOTE_CHARS)).transpose()?.filter(|n| !n.is_empty());
    let id = review.request_id;
    let not_found = || Error::NotFound(format!("No access request {id}"));
    let now = crate::orchestrator::now();
    let (txn, _turn) = begin_writing(db, caller.user_id).await?;
    let row = access_requests::Entity::find_by_id(id).one(&txn).await?.ok_or_else(not_found)?;
    let own = row.user_id == caller.user_id;
    let refused = || {
        if own {
            Error::Forbidden("Permission denied: a pipe's managers decide requests for it, not the requester".into())
        } else {
            not_found()
        }
    };
    let pipe_id = row.pipe_id.ok_or_else(refused)?;
    let (pipe, share) = pipes::Entity::find_by_id(pipe_id).find_also_related(shares::Entity).one(&txn).await?.ok_or_else(not_found)?;
    if !access(&txn, Some(caller), &pipe, share.as_ref()).await?.manage || own {
        return Err(refused());
    }
    if review.revision.is_some_and(|seen| seen != row.revision) {
        return Err(Error::Conflict(format!(
            "Access request {id} changed after it was shown (it is now at revision {}); review it again",
            row.revision
        )));
    }
    let status = status_at(&row, now);
    if status != RequestStatus::Pending {
        return Err(Error::Conflict(format!("Access request {id} is {status}, not pending")));
    }
    let mut decided = row.clone().into_active_model();
    decided.reviewed_by = Set(Some(caller.user_id));
    decided.reviewed_at = Set(Some(now));
    decided.review_note = Set(note.clone());
    match review.decision {
        Decision::Reject => decided.status = Set(RequestStatus::Rejected),
        Decision::Approve => {
            let level = review.access_level.unwrap_or(row.access_level);
            if level > row.access_level {
                return Err(Error::bad(format!(
                    "An approval grants the level asked ({}) or a narrower one, not {level}",
                    row.access_level
                )));
            }
            let asked_end = row.duration_days.map(|d| now + TimeDelta::days(i64::from(d)));
            let until = match &review.expiration {
                None => asked_end,
                Some(e) if e.at <= now => return Err(Error::bad("expiration must be in the future")),
                Some(e) if asked_end.is_some_and(|asked| e.at > asked) => {
                    return Err(Error::bad(format!(
                        "An approval may end sooner than asked ({}), not later",
                        asked_end.map(|a| a.to_rfc3339()).unwrap_or_default()
                    )));
                }
                Some(e) => Some(e.at),
            };
            let requester = require_user_by_id(&txn, row.user_id).await?;
            check_delegated_grant(&txn, caller, &pipe, &[requester.as_str()], until).await?;
            let current = grants::Entity::find()
                .filter(grants::Column::PipeId.eq(pipe.id))
                .filter(grants::Column::SubjectKind.eq(SubjectKind::User))
                .filter(grants::Column::SubjectId.eq(row.user_id))
                .filter(unexpired(now))
                .one(&txn)
                .await?;
            // A grant already as strong (granted meanwhile) is kept as it is.
            if current.is_none_or(|g| g.access_level < level) {
                let permission_id = new_permission_id(&pipe.name);
                let grant = NewGrant {
                    pipe_id: pipe.id,
                    subject: (SubjectKind::User, row.user_id),
                    access_level: level,
                    expires_at: until,
                    extra: serde_json::Map::from_iter([("access_request".to_string(), json!(id))]),
                    permission_id: permission_id.clone(),
                    granted_by: caller.user_id,
                };
                write_grant(&txn, grant, now).await?;
                let detail = json!({"users": [requester], "groups": [], "access_level": level, "expiration": until,
                    "permission_id": permission_id, "access_request": id});
                audit::record(&txn, Some(caller), AuditAction::Grant, Some(&pipe), detail).await?;
            }
            decided.status = Set(RequestStatus::Approved);
            decided.granted_level = Set(Some(level));
            decided.granted_until = Set(until);
        }
    }
    let decided = decided.update(&txn).await?;
    let detail = json!({"request_id": id, "decision": review.decision, "note": note, "granted_level": decided.granted_level,
        "granted_until": decided.granted_until});
    audit::record(&txn, Some(caller), AuditAction::ReviewAccessRequest, Some(&pipe), detail).await?;
    let subject = match (review.decision, decided.granted_level) {
        (Decision::Approve, Some(level)) => format!("Your request for access to {} was approved: {level}", pipe.name),
        _ => format!("Your request for access to {} was rejected", pipe.name),
    };
    let mut body = format!("{subject}.\n");
    if let Some(until) = decided.granted_until {
        body.push_str(&format!("It lasts until {}.\n", until.format("%Y-%m-%d %H:%M UTC")));
    }
    if let Some(note) = &note {
        body.push_str(&format!("\n{} wrote: {note}\n", caller.username));
    }
    body.push_str(&format!("\n{}\n", super::share::share_url(base_url, &pipe.name)));
    notify::queue(&txn, row.user_id, &format!("access_request:{id}:decided"), &subject, &body).await?;
    txn.commit().await?;
    Ok(views(db, vec![decided]).await?.remove(0))
}

async fn require_user_by_id(db: &impl ConnectionTrait, user_id: i32) -> Result<String> {
    usernames(db, [user_id]).await?.remove(&user_id).ok_or_else(|| Error::NotFound("The requester's account no longer exists".into()))
}

/// `renew_grant`: extends an expiring grant by its original length (or `days`), from its end,
/// or from now when it has already ended.
pub async fn renew_grant(
    db: &DatabaseConnection,
    caller: &Caller,
    pipe_name: &PipeName,
    subject: &Subject,
    days: Option<i32>,
) -> Result<GrantView> {
    let (pipe, _) = pipe_to_manage(db, caller, pipe_name).await?;
    let (kind, subject_id) = match subject {
        Subject::User(name) => (SubjectKind::User, require_user(db, name).await?.id),
        Subject::Group(name) => (SubjectKind::Group, require_group(db, name).await?.id),
    };
    let (txn, _turn) = begin_writing(db, caller.user_id).await?;
    let grant = grants::Entity::find()
        .filter(grants::Column::PipeId.eq(pipe.id))
        .filter(grants::Column::SubjectKind.eq(kind))
        .filter(grants::Column::SubjectId.eq(subject_id))
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("{kind} '{}' holds no grant on '{}'", subject.name(), pipe.name)))?;
    let ends = grant.expires_at.ok_or_else(|| {
        Error::Conflict(format!("The grant of '{}' on '{}' never ends; there is nothing to renew", subject.name(), pipe.name))
    })?;
    let term = match days {
        Some(days) => TimeDelta::days(i64::from(days)),
        None => TimeDelta::seconds(grant.term_seconds.unwrap_or_else(|| (ends - grant.created_at).num_seconds()).max(60)),
    };
    let now = crate::orchestrator::now();
    let renewed_to = ends.max(now) + term;
    let users: Vec<&str> = match subject {
        Subject::User(name) => vec![name.as_str()],
        Subject::Group(_) => Vec::new(),
    };
    check_delegated_grant(&txn, caller, &pipe, &users, Some(renewed_to)).await?;
    let mut row = grant.into_active_model();
    row.expires_at = Set(Some(renewed_to));
    row.end_announced = Set(false);
    row.update(&txn).await?;
    let detail = json!({"subject_type": kind, "name": subject.name(), "from": ends, "to": renewed_to});
    audit::record(&txn, Some(caller), AuditAction::RenewGrant, Some(&pipe), detail).await?;
    txn.commit().await?;
    let settings = Settings::load(db).await?;
    grants_on(db, pipe.id, &settings)
        .await?
        .into_iter()
        .find(|g| g.subject_type == kind && g.name == subject.name())
        .ok_or_else(|| Error::Internal("a renewed grant vanished".into()))
}
