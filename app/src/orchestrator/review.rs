//! The admins' approval queue: `list_pending_shares` and `review_share`.
pub use crate::model::{Decision, PendingShare, PendingShares, ReviewResult};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, TransactionTrait};

use super::access::{ShareStatus, find_pipe, require_admin};
use super::accounts::Caller;
use super::audit;
use super::catalog::usernames;
use super::entities::{pipes, shares};
use super::error::{Error, Result};
use crate::model::AuditAction;

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

pub async fn review_share(
    db: &DatabaseConnection,
    caller: &Caller,
    pipe_name: &str,
    decision: Decision,
    note: Option<&str>,
) -> Result<ReviewResult> {
    require_admin(caller, "review shares")?;
    let (pipe, share) = find_pipe(db, pipe_name).await?.ok_or_else(|| Error::pipe_not_found(pipe_name))?;
    let share = share.ok_or_else(|| Error::NotFound(format!("Pipe '{}' is not shared", pipe.name)))?;
    if share.status != ShareStatus::PendingApproval {
        return Err(Error::Conflict(format!("The share of '{}' is {}, not pending approval", pipe.name, share.status)));
    }
    let status = match decision {
        Decision::Approve => ShareStatus::Active,
        Decision::Reject => ShareStatus::Rejected,
    };
    let now = crate::orchestrator::now();
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(String::from);
    let share_id = share.share_id.clone();
    let mut active = share.into_active_model();
    active.status = Set(status);
    active.reviewed_by = Set(Some(caller.user_id));
    active.reviewed_at = Set(Some(now));
    active.review_note = Set(note.clone());
    active.updated_at = Set(now);
    // Only a share still pending is changed, so two admins deciding at once cannot both win.
    let txn = db.begin().await?;
    let updated = shares::Entity::update_many()
        .set(active)
        .filter(shares::Column::PipeId.eq(pipe.id))
        .filter(shares::Column::Status.eq(ShareStatus::PendingApproval))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(Error::Conflict(format!("The share of '{}' was reviewed meanwhile", pipe.name)));
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
