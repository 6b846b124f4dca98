//! The instance admins' pages: the approval queue, settings, users and groups. Who may do
//! this is the orchestrator's rule; these functions only pass calls on.
// Server functions take one argument per field of the form that posts them (the settings
// form has many); the generated code is where the lint fires, so it is allowed here.
#![allow(clippy::too_many_arguments)]
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator, ticked};
use crate::model::{Decision, PendingShares, ReviewTarget, Settings};
#[cfg(feature = "ssr")]
use crate::orchestrator::{
    input::{parse, parse_time},
    review::Review,
};

/// The shares waiting for an admin's decision, oldest request first.
#[server]
pub async fn list_pending() -> Result<PendingShares, AppError> {
    Ok(orchestrator()?.list_pending_shares(&caller().await?).await?)
}

/// How a bulk review's line for a pipe that could not be reviewed begins.
pub const NOT_REVIEWED: &str = "Not reviewed";

/// What became of one reviewed share, as a line for the page.
#[cfg(feature = "ssr")]
fn outcome_text(result: &crate::model::ReviewResult) -> String {
    let verb = if result.sharing_status == crate::model::ShareStatus::Active { "Approved" } else { "Rejected" };
    match &result.review_note {
        Some(note) => format!("{verb} '{}' (note: {note})", result.pipe_name),
        None => format!("{verb} '{}'", result.pipe_name),
    }
}

/// Approves or rejects one pending share request, as it was when shown (`requested_at`, RFC
/// 3339); the note is optional (a form may leave it out). Returns what happened, as text.
#[server]
pub async fn review_share(
    name: String,
    requested_at: String,
    decision: Decision,
    #[server(default)] note: String,
) -> Result<String, AppError> {
    let review = Review { decision, note: Some(note), requested_at: Some(parse_time(&requested_at)?) };
    let result = orchestrator()?.review_share(&caller().await?, &parse(&name)?, &review).await?;
    Ok(outcome_text(&result))
}

/// Reviews several shares with one decision and note. Each pipe is reviewed on its own: a
/// failure is reported in that pipe's line and the others still go through. Returns one line
/// per pipe, in the order given.
#[server(input = Json)]
pub async fn review_shares(targets: Vec<ReviewTarget>, decision: Decision, note: String) -> Result<Vec<String>, AppError> {
    /// The most requests one bulk review decides.
    const MOST: usize = 500;
    let caller = caller().await?;
    crate::orchestrator::access::require_admin(&caller, "review shares")?;
    if targets.len() > MOST {
        return Err(AppError::bad(format!("Review at most {MOST} shares at once")));
    }
    let mut unique: Vec<ReviewTarget> = Vec::with_capacity(targets.len());
    for target in targets {
        if !unique.iter().any(|t| t.pipe_name == target.pipe_name) {
            unique.push(target);
        }
    }
    if unique.is_empty() {
        return Err(AppError::bad("Select at least one pipe"));
    }
    let orchestrator = orchestrator()?;
    let mut lines = Vec::with_capacity(unique.len());
    for ReviewTarget { pipe_name: name, requested_at } in unique {
        let review = Review { decision, note: Some(note.clone()), requested_at: Some(requested_at) };
        // Not `?`: one pipe's failure must not turn the whole answer into an error status.
        let reviewed = match parse(&name) {
            Ok(pipe) => orchestrator.review_share(&caller, &pipe, &review).await,
            Err(error) => Err(error),
        };
        let line = match reviewed {
            Ok(result) => outcome_text(&result),
            Err(error) => {
                error.log();
                format!("{NOT_REVIEWED} '{name}': {}", error.public_message())
            }
        };
        lines.push(line);
    }
    Ok(lines)
}

#[server]
pub async fn get_settings() -> Result<Settings, AppError> {
    Ok(orchestrator()?.instance_settings(Some(&caller().await?)).await?)
}

/// Stores the settings form in one step; a checkbox sends a value only when ticked. A value
/// the orchestrator refuses changes nothing, and only what changed is written and audited.
#[server]
pub async fn update_settings(
    max_pipes_per_user: String,
    enable_public_sharing: Option<String>,
    require_approval: Option<String>,
    allow_self_signup: Option<String>,
    max_archive_bytes: Option<String>,
    max_storage_per_user_mb: Option<String>,
    protected_environments: Option<String>,
    access_request_ttl_days: Option<String>,
    reminder_days: Option<String>,
) -> Result<Settings, AppError> {
    let caller = caller().await?;
    let flag = |value: &Option<String>| ticked(value).to_string();
    let mut changes = vec![
        ("max_pipes_per_user", max_pipes_per_user),
        ("enable_public_sharing", flag(&enable_public_sharing)),
        ("require_approval", flag(&require_approval)),
        ("allow_self_signup", flag(&allow_self_signup)),
    ];
    changes.extend(max_archive_bytes.map(|v| ("max_archive_bytes", v)));
    changes.extend(max_storage_per_user_mb.map(|v| ("max_storage_per_user_mb", v)));
    changes.extend(protected_environments.map(|v| ("protected_environments", v)));
    changes.extend(access_request_ttl_days.map(|v| ("access_request_ttl_days", v)));
    changes.extend(reminder_days.map(|v| ("reminder_days", v)));
    Ok(orchestrator()?.update_settings(Some(&caller), &changes).await?)
}

/// Every user and group, for the admins' settings page.
#[server]
pub async fn directory() -> Result<crate::model::Directory, AppError> {
    Ok(orchestrator()?.directory(Some(&caller().await?)).await?)
}

/// Creates an account; returns a confirmation for the page.
#[server]
pub async fn create_user(username: String, password: String, is_admin: Option<String>) -> Result<String, AppError> {
    let caller = caller().await?;
    let user = orchestrator()?.create_user(Some(&caller), &parse(&username)?, &password, ticked(&is_admin)).await?;
    let kind = if user.is_admin { "Admin" } else { "User" };
    Ok(format!("{kind} '{}' created", user.username))
}

/// What an admin does to one account from the users table: `disable`, `enable`, `delete`,
/// `make_admin` or `remove_admin`. Returns a confirmation for the page.
#[server]
pub async fn change_user(username: String, change: String) -> Result<String, AppError> {
    let caller = caller().await?;
    let orchestrator = orchestrator()?;
    let user = parse(&username)?;
    let by = Some(&caller);
    let done = match change.as_str() {
        "disable" => orchestrator.set_disabled(by, &user, true).await.map(|()| "disabled"),
        "enable" => orchestrator.set_disabled(by, &user, false).await.map(|()| "enabled"),
        "delete" => orchestrator.delete_user(by, &user).await.map(|()| "deleted"),
        "make_admin" => orchestrator.set_admin(by, &user, true).await.map(|()| "made an admin"),
        "remove_admin" => orchestrator.set_admin(by, &user, false).await.map(|()| "no longer an admin"),
        other => return Err(AppError::bad(format!("Unknown change '{}'", crate::model::shown(other)))),
    }?;
    Ok(format!("'{user}' {done}"))
}

/// Sets another user's password; their sessions end.
#[server]
pub async fn set_user_password(username: String, password: String) -> Result<String, AppError> {
    let user = parse(&username)?;
    orchestrator()?.set_password(Some(&caller().await?), &user, &password).await?;
    Ok(format!("Password of '{user}' set; their sessions are signed out"))
}

/// Hands every pipe of one user to another.
#[server]
pub async fn transfer_pipes(from: String, to: String) -> Result<String, AppError> {
    let (from, to) = (parse(&from)?, parse(&to)?);
    let moved = orchestrator()?.transfer_pipes(Some(&caller().await?), &from, &to).await?;
    Ok(format!("{moved} pipe(s) of '{from}' now belong to '{to}'"))
}

/// Every API token of the instance, for revoking.
#[server]
pub async fn all_tokens() -> Result<Vec<crate::model::TokenInfo>, AppError> {
    Ok(orchestrator()?.list_tokens(Some(&caller().await?), None).await?)
}

#[server]
pub async fn remove_group_member(group: String, username: String) -> Result<String, AppError> {
    let (group, user) = (parse(&group)?, parse(&username)?);
    orchestrator()?.remove_group_member(Some(&caller().await?), &group, &user).await?;
    Ok(format!("Removed '{user}' from '{group}'"))
}

#[server]
pub async fn delete_group(name: String) -> Result<String, AppError> {
    let group = parse(&name)?;
    orchestrator()?.delete_group(Some(&caller().await?), &group).await?;
    Ok(format!("Group '{group}' deleted"))
}

#[server]
pub async fn create_group(name: String) -> Result<String, AppError> {
    orchestrator()?.create_group(Some(&caller().await?), &parse(&name)?).await?;
    Ok(format!("Group '{}' created", name.trim()))
}

#[server]
pub async fn add_group_member(group: String, username: String) -> Result<String, AppError> {
    orchestrator()?.add_group_member(Some(&caller().await?), &parse(&group)?, &parse(&username)?).await?;
    Ok(format!("Added '{}' to '{}'", username.trim(), group.trim()))
}

/// Events per page of the audit log page.
pub const AUDIT_PAGE: u64 = 50;

/// A page of the audit log, newest first: the whole instance's (admins), or one pipe's (its
/// managers), after skipping `offset` events.
#[server]
pub async fn audit_page(pipe: String, offset: u64) -> Result<crate::model::AuditLog, AppError> {
    use crate::orchestrator::audit::AuditQuery;

    let pipe_name = Some(pipe.trim()).filter(|p| !p.is_empty()).map(parse).transpose()?;
    let query = AuditQuery { pipe_name, limit: Some(AUDIT_PAGE), offset };
    Ok(orchestrator()?.audit_log(&caller().await?, &query).await?)
}

/// Promotions to protected environments waiting for approval.
#[server]
pub async fn list_pending_promotions() -> Result<crate::model::PendingPromotions, AppError> {
    Ok(orchestrator()?.list_pending_promotions(&caller().await?).await?)
}

/// Approves or rejects one waiting promotion, as shown (its version).
#[server]
pub async fn review_promotion(
    promotion_id: i32,
    version: String,
    decision: crate::model::Decision,
    note: Option<String>,
) -> Result<String, AppError> {
    let result = orchestrator()?.review_promotion(&caller().await?, promotion_id, decision, note.as_deref(), Some(&version)).await?;
    Ok(match result.status {
        crate::model::ShareStatus::Active => format!("{} {} is now in {}.", result.pipe_name, result.version, result.environment),
        _ => format!("Promoting {} {} to {} was rejected.", result.pipe_name, result.version, result.environment),
    })
}
