//! Environments: names (`dev`, `staging`, `prod`, ...) that point at one version of a pipe,
//! like npm's dist-tags. Promoting an older version is the rollback; every move is kept as
//! history and in the audit log. Protected environments (`protected_environments`) take
//! promotions from the pipe's owner and `admin` grantees only, and with `require_approval`
//! only once an instance admin approves the exact version asked for.
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;

use super::access::{access, find_pipe, require_admin, require_write};
use super::accounts::Caller;
use super::audit;
use super::catalog::usernames;
use super::entities::{environment_events, environments, pipe_versions, pipes, promotions};
use super::error::{Error, Result};
use super::review::MAX_NOTE_CHARS;
use super::settings::Settings;
use crate::model::{
    AuditAction, Decision, EnvironmentMove, EnvironmentView, PendingPromotion, PendingPromotions, PromoteResult, ShareStatus, shown,
};

/// An environment's name: 1 to 32 letters, digits or `-`.
pub fn environment_name(text: &str) -> Result<String> {
    let text = text.trim();
    let valid = !text.is_empty() && text.len() <= 32 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(text.to_string())
    } else {
        Err(Error::bad(format!("Environment name '{}' is not valid: use 1 to 32 letters, digits or '-'", shown(text))))
    }
}

/// The environments of the pipe that point at `version`.
pub async fn pointing_at(db: &impl ConnectionTrait, pipe_id: i32, version: &str) -> Result<Vec<String>> {
    let rows = environments::Entity::find()
        .filter(environments::Column::PipeId.eq(pipe_id))
        .filter(environments::Column::Version.eq(version))
        .order_by_asc(environments::Column::Name)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.name).collect())
}

/// The version an environment of the pipe points at, if it exists.
pub async fn version_in(db: &impl ConnectionTrait, pipe_id: i32, environment: &str) -> Result<Option<String>> {
    let row = environments::Entity::find()
        .filter(environments::Column::PipeId.eq(pipe_id))
        .filter(environments::Column::Name.eq(environment))
        .one(db)
        .await?;
    Ok(row.map(|row| row.version))
}

/// The pipe, if the caller may promote it to `environment`: its managers anywhere,
/// `read_write` grantees to environments that are not protected. Those who may see it but
/// not do this get a 403; others the pipe's 404.
async fn pipe_to_promote(
    db: &impl ConnectionTrait,
    caller: &Caller,
    name: &str,
    protected: bool,
    environment: &str,
) -> Result<pipes::Model> {
    let (pipe, share) = find_pipe(db, name).await?.ok_or_else(|| Error::pipe_not_found(name))?;
    let can = access(db, Some(caller), &pipe, share.as_ref()).await?;
    if can.manage {
        return Ok(pipe);
    }
    if !can.see {
        return Err(Error::pipe_not_found(name));
    }
    if protected {
        return Err(Error::Forbidden(format!(
            "Permission denied: '{environment}' is protected; only the owner of '{name}' and its admin grantees promote to it"
        )));
    }
    if can.write {
        return Ok(pipe);
    }
    Err(Error::Forbidden(format!("Permission denied: promoting '{name}' needs read_write access")))
}

/// Points the environment at the version, keeping the move as history; the previous version.
async fn apply(txn: &DatabaseTransaction, by: &Caller, pipe: &pipes::Model, environment: &str, version: &str) -> Result<Option<String>> {
    let now = crate::orchestrator::now();
    let current = environments::Entity::find()
        .filter(environments::Column::PipeId.eq(pipe.id))
        .filter(environments::Column::Name.eq(environment))
        .one(txn)
        .await?;
    let previous = current.as_ref().map(|row| row.version.clone());
    match current {
        Some(row) => {
            let mut row: environments::ActiveModel = row.into();
            row.version = Set(version.to_string());
            row.updated_by = Set(Some(by.user_id));
            row.updated_at = Set(now);
            row.update(txn).await?;
        }
        None => {
            environments::ActiveModel {
                pipe_id: Set(pipe.id),
                name: Set(environment.to_string()),
                version: Set(version.to_string()),
                updated_by: Set(Some(by.user_id)),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await
            .map_err(|err| Error::unique_violation(err, || format!("'{environment}' of '{}' moved meanwhile; try again", pipe.name)))?;
        }
    }
    environment_events::ActiveModel {
        pipe_id: Set(pipe.id),
        environment: Set(environment.to_string()),
        from_version: Set(previous.clone()),
        to_version: Set(version.to_string()),
        user_id: Set(Some(by.user_id)),
        at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let detail = json!({"environment": environment, "from": previous, "to": version});
    audit::record(txn, Some(by), AuditAction::Promote, Some(pipe), detail).await?;
    Ok(previous)
}

/// A version that exists and is not yanked.
async fn promotable(db: &impl ConnectionTrait, pipe: &pipes::Model, version: &str) -> Result<()> {
    let row = pipe_versions::Entity::find()
        .filter(pipe_versions::Column::PipeId.eq(pipe.id))
        .filter(pipe_versions::Column::Version.eq(version))
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, shown(version))))?;
    if row.yanked {
        return Err(Error::Conflict(format!("Version {version} of '{}' is yanked and cannot be promoted", pipe.name)));
    }
    Ok(())
}

/// `promote_pipe`: points `environment` at `version`, or asks an instance admin to.
pub async fn promote(
    db: &DatabaseConnection,
    caller: &Caller,
    settings: &Settings,
    pipe_name: &str,
    version: &str,
    environment: &str,
) -> Result<PromoteResult> {
    require_write(caller)?;
    super::input::check_text("version", Some(version))?;
    let environment = environment_name(environment)?;
    let protected = settings.protected_environments.contains(&environment);
    let (txn, _turn) = super::db::begin_writing(db, caller.user_id).await?;
    let pipe = pipe_to_promote(&txn, caller, pipe_name, protected, &environment).await?;
    promotable(&txn, &pipe, version).await?;
    let current = version_in(&txn, pipe.id, &environment).await?;
    if protected && settings.require_approval {
        let waiting = promotions::Entity::find()
            .filter(promotions::Column::PipeId.eq(pipe.id))
            .filter(promotions::Column::Environment.eq(&environment))
            .filter(promotions::Column::Status.eq(ShareStatus::PendingApproval))
            .one(&txn)
            .await?;
        if let Some(waiting) = waiting {
            return Err(Error::Conflict(format!(
                "A promotion of '{}' to {environment} (version {}) is already waiting for an admin",
                pipe.name, waiting.version
            )));
        }
        let request = promotions::ActiveModel {
            pipe_id: Set(pipe.id),
            environment: Set(environment.clone()),
            version: Set(version.to_string()),
            status: Set(ShareStatus::PendingApproval),
            requested_by: Set(caller.user_id),
            requested_at: Set(crate::orchestrator::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let detail = json!({"environment": environment, "to": version, "status": ShareStatus::PendingApproval});
        audit::record(&txn, Some(caller), AuditAction::Promote, Some(&pipe), detail).await?;
        txn.commit().await?;
        return Ok(PromoteResult {
            pipe_name: pipe.name,
            environment,
            version: version.to_string(),
            previous_version: current,
            status: ShareStatus::PendingApproval,
            promotion_id: Some(request.id),
        });
    }
    let previous = apply(&txn, caller, &pipe, &environment, version).await?;
    txn.commit().await?;
    Ok(PromoteResult {
        pipe_name: pipe.name,
        environment,
        version: version.to_string(),
        previous_version: previous,
        status: ShareStatus::Active,
        promotion_id: None,
    })
}

/// The promotions waiting for an instance admin, oldest first.
pub async fn list_pending(db: &DatabaseConnection, caller: &Caller) -> Result<PendingPromotions> {
    require_admin(caller, "list pending promotions")?;
    let rows = promotions::Entity::find()
        .filter(promotions::Column::Status.eq(ShareStatus::PendingApproval))
        .order_by_asc(promotions::Column::RequestedAt)
        .find_also_related(pipes::Entity)
        .all(db)
        .await?;
    let names = usernames(db, rows.iter().map(|(row, _)| row.requested_by)).await?;
    let promotions: Vec<PendingPromotion> = rows
        .into_iter()
        .filter_map(|(row, pipe)| {
            Some(PendingPromotion {
                promotion_id: row.id,
                pipe_name: pipe?.name,
                environment: row.environment,
                version: row.version,
                requested_by: names.get(&row.requested_by).cloned().unwrap_or_default(),
                requested_at: row.requested_at,
            })
        })
        .collect();
    Ok(PendingPromotions { total_count: promotions.len(), promotions })
}

/// An instance admin's decision on one waiting promotion. `version`, when given, must be
/// the one the request asks for: a decision applies to the request the admin saw.
pub async fn review(
    db: &DatabaseConnection,
    caller: &Caller,
    promotion_id: i32,
    decision: Decision,
    note: Option<&str>,
    version: Option<&str>,
) -> Result<PromoteResult> {
    require_admin(caller, "review promotions")?;
    require_write(caller)?;
    super::input::check_text("note", note)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty()).map(String::from);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS) {
        return Err(Error::bad(format!("A review note has at most {MAX_NOTE_CHARS} characters")));
    }
    let (txn, _turn) = super::db::begin_writing(db, caller.user_id).await?;
    let (request, pipe) = promotions::Entity::find_by_id(promotion_id)
        .find_also_related(pipes::Entity)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No promotion {promotion_id}")))?;
    let pipe = pipe.ok_or_else(|| Error::NotFound(format!("No promotion {promotion_id}")))?;
    if request.status != ShareStatus::PendingApproval {
        return Err(Error::Conflict(format!("Promotion {promotion_id} is {}, not pending approval", request.status)));
    }
    if version.is_some_and(|seen| seen != request.version) {
        return Err(Error::Conflict(format!("Promotion {promotion_id} asks for version {}, not the one shown", request.version)));
    }
    let status = match decision {
        Decision::Approve => ShareStatus::Active,
        Decision::Reject => ShareStatus::Rejected,
    };
    // Only a request still pending is decided: two admins at once cannot both win.
    let decided = promotions::Entity::update_many()
        .set(promotions::ActiveModel {
            status: Set(status),
            reviewed_by: Set(Some(caller.user_id)),
            reviewed_at: Set(Some(crate::orchestrator::now())),
            note: Set(note.clone()),
            ..Default::default()
        })
        .filter(promotions::Column::Id.eq(promotion_id))
        .filter(promotions::Column::Status.eq(ShareStatus::PendingApproval))
        .exec(&txn)
        .await?;
    if decided.rows_affected == 0 {
        return Err(Error::Conflict(format!("Promotion {promotion_id} was decided meanwhile")));
    }
    let mut previous = version_in(&txn, pipe.id, &request.environment).await?;
    if decision == Decision::Approve {
        promotable(&txn, &pipe, &request.version).await?;
        let requester = super::accounts::caller_for(&txn, request.requested_by).await?;
        previous = apply(&txn, requester.as_ref().unwrap_or(caller), &pipe, &request.environment, &request.version).await?;
    }
    let detail = json!({"promotion_id": promotion_id, "environment": request.environment, "version": request.version,
        "status": status, "note": note});
    audit::record(&txn, Some(caller), AuditAction::ReviewPromotion, Some(&pipe), detail).await?;
    txn.commit().await?;
    Ok(PromoteResult {
        pipe_name: pipe.name,
        environment: request.environment,
        version: request.version,
        previous_version: previous,
        status,
        promotion_id: Some(promotion_id),
    })
}

/// A pipe's environments and their history (newest first), as its page shows them.
pub async fn of_pipe(db: &impl ConnectionTrait, pipe_id: i32) -> Result<(Vec<EnvironmentView>, Vec<EnvironmentMove>)> {
    let rows = environments::Entity::find()
        .filter(environments::Column::PipeId.eq(pipe_id))
        .order_by_asc(environments::Column::Name)
        .all(db)
        .await?;
    // A move is written with the environment it moves, and environments go only with their
    // pipe: a pipe without environments has no history either.
    if rows.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let settings = Settings::load(db).await?;
    let events = environment_events::Entity::find()
        .filter(environment_events::Column::PipeId.eq(pipe_id))
        .order_by_desc(environment_events::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let names = usernames(db, rows.iter().filter_map(|r| r.updated_by).chain(events.iter().filter_map(|e| e.user_id))).await?;
    let name = |id: Option<i32>| id.and_then(|id| names.get(&id).cloned());
    let views = rows
        .into_iter()
        .map(|row| EnvironmentView {
            protected: settings.protected_environments.contains(&row.name),
            name: row.name,
            version: row.version,
            updated_by: name(row.updated_by),
            updated_at: row.updated_at,
        })
        .collect();
    let moves = events
        .into_iter()
        .map(|event| EnvironmentMove {
            environment: event.environment,
            from_version: event.from_version,
            to_version: event.to_version,
            by: name(event.user_id),
            at: event.at,
        })
        .collect();
    Ok((views, moves))
}
