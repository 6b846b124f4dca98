//! The admins' approval queue: `list_pending_shares` and `review_share`.
pub use crate::model::{Decision, PendingShare, PendingShares, ReviewResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionTrait};

use super::access::{ShareStatus, find_pipe, require_admin};
use super::accounts::Caller;
use super::audit;
use super::catalog::usernames;
use super::entities::{pipes, shares};
use super::error::{Error, Result};
use super::input::check_text;
use super::settings::Settings;
use crate::model::{AuditAction, Visibility};
use chrono::{DateTime, Utc};

pub async fn list_pending_shares(db: &DatabaseConnection, caller: &Caller) -> Result<PendingShares> {
    require_admin(caller, "list pending shares")?;
    let rows = shares::Entity::find()
        .filter(shares::Column::Status.eq(ShareStatus::PendingApproval))
        .order_by_asc(shares::Column::RequestedAt)
        .find_also_related(pipes::Entity)
        .all(db)
        .await?;
    let mut ids: Vec<i32> = rows.iter().map(|(share, _)| share.requested_by).collect();
    ids.extend(rows.iter().filter_map(|(_, pipe)| pipe.as_ref().map(|p| p.owner_id)));
    let names = usernames(db, ids).await?;
    let name = |id: i32| names.get(&id).cloned().unwrap_or_default();
    let shares: Vec<PendingShare> = rows
        .into_iter()
        .filter_map(|(share, pipe)| {
            let pipe = pipe?;
            Some(PendingShare {
                pipe_name: pipe.name,
                share_id: share.share_id,
                owner: name(pipe.owner_id),
                requested_by: name(share.requested_by),
                requested_at: share.requested_at,
                public: share.is_public,
                sharing_options: share.options.0,
            })
        })
        .collect();
    Ok(PendingShares { total_count: shares.len(), shares })
}

/// An admin's decision on one pending share request.
#[derive(Clone, Debug, PartialEq)]
pub struct Review {
    pub decision: Decision,
    pub note: Option<String>,
    /// When the request the admin saw was made: a request changed since then (re-shared,
    /// say, from private to public) is not decided by this review.
    pub requested_at: Option<DateTime<Utc>>,
}

/// The longest review note kept.
pub const MAX_NOTE_CHARS: usize = 2000;

pub async fn review_share(
    db: &DatabaseConnection,
    caller: &Caller,
    settings: &Settings,
    pipe_name: &str,
    review: &Review,
) -> Result<ReviewResult> {
    require_admin(caller, "review shares")?;
    check_text("note", review.note.as_deref())?;
    let (pipe, share) = find_pipe(db, pipe_name).await?.ok_or_else(|| Error::pipe_not_found(pipe_name))?;
    let share = share.ok_or_else(|| Error::NotFound(format!("Pipe '{}' is not shared", pipe.name)))?;
    if share.status != ShareStatus::PendingApproval {
        return Err(Error::Conflict(format!("The share of '{}' is {}, not pending approval", pipe.name, share.status)));
    }
    if review.requested_at.is_some_and(|seen| seen != share.requested_at) {
        return Err(Error::Conflict(format!(
            "The share request of '{}' changed after it was shown (it is now {}); review it again",
            pipe.name,
            Visibility::of(share.is_public, share.gated)
        )));
    }
    // The settings of this moment decide, not those of when the request was made.
    if review.decision == Decision::Approve && (share.is_public || share.gated) && !settings.enable_public_sharing {
        return Err(Error::Forbidden("Public sharing is disabled on this instance; reject the request or turn it on first".into()));
    }
    let note = review.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(String::from);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(Error::bad(format!("A review note has at most {MAX_NOTE_CHARS} characters")));
    }
    let status = match review.decision {
        Decision::Approve => ShareStatus::Active,
        Decision::Reject => ShareStatus::Rejected,
    };
    let now = crate::orchestrator::now();
    let requested_at = share.requested_at;
    let share_id = share.share_id.clone();
    let mut active = share.into_active_model();
    active.status = Set(status);
    active.reviewed_by = Set(Some(caller.user_id));
    active.reviewed_at = Set(Some(now));
    active.review_note = Set(note.clone());
    active.updated_at = Set(now);
    // Only the request that was checked, still pending, is changed: two admins deciding at
    // once cannot both win, and a request replaced meanwhile is not decided.
    let txn = db.begin().await?;
    let updated = shares::Entity::update_many()
        .set(active)
        .filter(shares::Column::PipeId.eq(pipe.id))
        .filter(shares::Column::Status.eq(ShareStatus::PendingApproval))
        .filter(shares::Column::RequestedAt.eq(requested_at))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::Conflict(format!("The share of '{}' was reviewed or changed meanwhile; review it again", pipe.name)));
    }
    let detail = serde_json::json!({"share_id": share_id, "sharing_status": status, "note": note});
    audit::record(&txn, Some(caller), AuditAction::ReviewShare, Some(&pipe), detail).await?;
    txn.commit().await?;
    Ok(ReviewResult {
        pipe_name: pipe.name,
        share_id,
        sharing_status: status,
        review_note: note,
        reviewed_by: caller.username.clone(),
        reviewed_at: now,
    })
}
