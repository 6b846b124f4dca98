//! `share_pipe` and `unshare_pipe`.
pub use crate::model::{ShareOptions, SharePermissions, ShareResult, UnshareResult};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, FromQueryResult, JoinType,
    PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, RelationTrait, TransactionTrait, sea_query::OnConflict,
};

use serde_json::json;

use super::access::{ShareStatus, pipe_to_manage};
use super::accounts::Caller;
use super::audit;
use super::entities::{JsonText, pipes, shares};
use super::error::{Error, Result};
use super::grouped::{Work, Writer};
use super::input::{Fields, check_stored_size};
use super::settings::Settings;
use crate::model::AuditAction;

impl ShareOptions {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let options = context.object("sharing_options")?;
        let permissions = options.object("permissions")?;
        let defaults = SharePermissions::default();
        Ok(ShareOptions {
            public: options.bool("public")?.unwrap_or(false),
            gated: options.bool("gated")?.unwrap_or(false),
            approval_required: options.bool("approval_required")?.unwrap_or(false),
            permissions: SharePermissions {
                read: permissions.bool("read")?.unwrap_or(defaults.read),
                fork: permissions.bool("fork")?.unwrap_or(defaults.fork),
                contribute: permissions.bool("contribute")?.unwrap_or(defaults.contribute),
            },
            metadata: options.rest(&["public", "gated", "approval_required", "permissions"]),
        })
    }
}

/// The public address of a pipe's page.
pub fn share_url(base_url: &str, pipe_name: &str) -> String {
    format!("{}/pipes/{}", base_url.trim_end_matches('/'), crate::urls::encode(pipe_name))
}

fn new_share_id(pipe_name: &str) -> String {
    let suffix: u32 = rand::thread_rng().r#gen();
    format!("share_{pipe_name}_{}_{suffix:08x}", crate::orchestrator::now().format("%Y%m%d"))
}

pub async fn share_pipe(
    db: &DatabaseConnection,
    writer: &Writer<Shares>,
    caller: &Caller,
    settings: &Settings,
    base_url: &str,
    pipe_name: &str,
    mut options: ShareOptions,
) -> Result<ShareResult> {
    check_stored_size("The sharing options' other keys", &options.metadata)?;
    if options.public && options.gated {
        return Err(Error::bad("A share is public (anyone downloads) or gated (anyone sees, grantees download), not both"));
    }
    let (pipe, _) = pipe_to_manage(db, caller, pipe_name).await?;
    if (options.public || options.gated) && !settings.enable_public_sharing {
        return Err(Error::Forbidden("Public sharing is disabled on this instance".into()));
    }
    options.approval_required |= settings.require_approval;
    let status = if options.approval_required { ShareStatus::PendingApproval } else { ShareStatus::Active };
    let request = ShareRequest { caller: caller.clone(), pipe, options, status, limit: settings.max_pipes_per_user };
    let share = writer.store(request.clone()).await??;
    Ok(ShareResult {
        share_url: share_url(base_url, &request.pipe.name),
        pipe_name: request.pipe.name,
        sharing_status: share.status,
        share_id: share.share_id,
        sharing_options: request.options,
    })
}

/// A share to make, checked against its owner's share limit when it is stored.
#[derive(Clone)]
pub struct ShareRequest {
    caller: Caller,
    pipe: pipes::Model,
    options: ShareOptions,
    status: ShareStatus,
    limit: u32,
}

/// Shares made at the same moment, stored in one transaction (see `grouped`): sixteen clients
/// sharing at once wait for one commit instead of sixteen.
pub struct Shares;

impl Work for Shares {
    type Item = ShareRequest;
    /// The share, or the owner's share limit's refusal.
    type Done = Result<shares::Model>;

    async fn store(txn: &DatabaseTransaction, requests: &[ShareRequest]) -> Result<Vec<Result<shares::Model>>> {
        // Owners' lock rows are taken in one order (by id), so two instances' groups never
        // wait for each other in a circle.
        let mut order: Vec<usize> = (0..requests.len()).collect();
        order.sort_by_key(|&i| requests[i].pipe.owner_id);
        let mut outcomes: Vec<Option<Result<shares::Model>>> = requests.iter().map(|_| None).collect();
        // The owner whose row this transaction holds, and their shares that count.
        let mut held: Option<(i32, u64)> = None;
        for i in order {
            let owner = requests[i].pipe.owner_id;
            let counted = match &mut held {
                Some((held_owner, counted)) if *held_owner == owner => counted,
                _ => {
                    // Take the owner's row first: shares of one owner from other
                    // transactions wait here, so the count and the writes after it act as
                    // one step (row lock on PostgreSQL, the write lock on SQLite). The first
                    // statement writes, as `Work::store` asks.
                    super::db::lock_user(txn, owner).await?;
                    &mut held.insert((owner, counted_shares(txn, owner).await?)).1
                }
            };
            outcomes[i] = Some(make_share(txn, &requests[i], counted).await?);
        }
        Ok(outcomes.into_iter().flatten().collect())
    }
}

/// `owner`'s shares that count against their limit.
async fn counted_shares(txn: &DatabaseTransaction, owner: i32) -> Result<u64> {
    Ok(shares::Entity::find()
        .join(JoinType::InnerJoin, shares::Relation::Pipe.def())
        .filter(pipes::Column::OwnerId.eq(owner))
        .filter(shares::Column::Status.is_in(ShareStatus::COUNTED))
        .count(txn)
        .await?)
}

/// Makes one share in `txn`, which holds its owner's lock row, or refuses it when its owner
/// has reached their limit; `counted` is the owner's shares that count, kept up to date.
async fn make_share(txn: &DatabaseTransaction, request: &ShareRequest, counted: &mut u64) -> Result<Result<shares::Model>> {
    let ShareRequest { caller, pipe, options, status, limit } = request;
    // Sharing a pipe again replaces its share: that one is not among the others.
    let this_counted = shares::Entity::find()
        .filter(shares::Column::PipeId.eq(pipe.id))
        .filter(shares::Column::Status.is_in(ShareStatus::COUNTED))
        .count(txn)
        .await?
        > 0;
    let others = counted.saturating_sub(u64::from(this_counted));
    if others >= u64::from(*limit) {
        // Subscribers hear of the refusal; nothing of the share is written.
        super::webhooks::quota_refused(txn, caller, pipe, *limit).await?;
        return Ok(Err(Error::Conflict(format!(
            "Share limit reached: the owner of '{}' already has {others} shared pipes (max_pipes_per_user is {limit})",
            pipe.name
        ))));
    }
    let now = crate::orchestrator::now();
    // One statement makes the share or, when the pipe has one, replaces its request: the
    // share keeps its id, and an earlier review belongs to the old request.
    let share = shares::ActiveModel {
        pipe_id: Set(pipe.id),
        share_id: Set(new_share_id(&pipe.name)),
        is_public: Set(options.public),
        gated: Set(options.gated),
        status: Set(*status),
        options: Set(JsonText(options.clone())),
        requested_by: Set(caller.user_id),
        requested_at: Set(now),
        reviewed_by: Set(None),
        reviewed_at: Set(None),
        review_note: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    use shares::Column as C;
    let replaced = [
        C::IsPublic,
        C::Gated,
        C::Status,
        C::Options,
        C::RequestedBy,
        C::RequestedAt,
        C::ReviewedBy,
        C::ReviewedAt,
        C::ReviewNote,
        C::UpdatedAt,
    ];
    // RETURNING written out: SeaORM reads an upsert's row on SQLite by the last inserted id,
    // which an update does not set.
    let upsert = shares::Entity::insert(share)
        .on_conflict(OnConflict::column(C::PipeId).update_columns(replaced).to_owned())
        .into_query()
        .returning_all()
        .to_owned();
    let row = txn.query_one(txn.get_database_backend().build(&upsert)).await?;
    let share = shares::Model::from_query_result(&row.ok_or_else(|| Error::Internal("the share upsert returned no row".into()))?, "")?;
    let detail = json!({"share_id": share.share_id, "sharing_status": share.status, "sharing_options": options});
    audit::record(txn, Some(caller), AuditAction::SharePipe, Some(pipe), detail).await?;
    *counted = others + u64::from(ShareStatus::COUNTED.contains(&share.status));
    Ok(Ok(share))
}

/// Withdraws a share; the pipe's grants stay, ready for a later share.
pub async fn unshare_pipe(db: &DatabaseConnection, caller: &Caller, pipe_name: &str) -> Result<UnshareResult> {
    let (pipe, share) = pipe_to_manage(db, caller, pipe_name).await?;
    let share = share.ok_or_else(|| Error::NotFound(format!("Pipe '{}' is not shared", pipe.name)))?;
    let txn = db.begin().await?;
    shares::Entity::delete_by_id(share.id).exec(&txn).await?;
    audit::record(&txn, Some(caller), AuditAction::UnsharePipe, Some(&pipe), json!({"share_id": share.share_id, "was": share.status}))
        .await?;
    txn.commit().await?;
    Ok(UnshareResult { pipe_name: pipe.name, share_id: share.share_id, sharing_status: ShareStatus::Withdrawn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_url_escapes_the_name() {
        assert_eq!(share_url("http://h:1/", "data_processor"), "http://h:1/pipes/data_processor");
        assert_eq!(share_url("http://h", "a b/c"), "http://h/pipes/a%20b%2Fc");
    }
}
