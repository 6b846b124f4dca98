//! The instance admins' pages: the approval queue, settings, users and groups. Who may do
//! this is the orchestrator's rule (`require_admin`); these functions only pass calls on.
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator, ticked, to_server_error};
use crate::model::{PendingShares, Settings};

/// The shares waiting for an admin's decision, oldest request first.
#[server]
pub async fn list_pending() -> Result<PendingShares, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::review::list_pending_shares(orchestrator()?.db(), &caller).await.map_err(to_server_error)
}

/// How a bulk review's line for a pipe that could not be reviewed begins.
pub const NOT_REVIEWED: &str = "Not reviewed";

/// What became of one reviewed share, as a line for the page.
#[cfg(feature = "ssr")]
fn outcome_text(result: &crate::model::ReviewResult) -> String {
    let verb = if result.sharing_status == "active" { "Approved" } else { "Rejected" };
    match &result.review_note {
        Some(note) => format!("{verb} '{}' (note: {note})", result.pipe_name),
        None => format!("{verb} '{}'", result.pipe_name),
    }
}

/// Approves or rejects one pending share (`decision` is `approve` or `reject`); the note is
/// optional (a form may leave it out). Returns what happened, as text.
#[server]
pub async fn review_share(name: String, decision: String, #[server(default)] note: String) -> Result<String, ServerFnError> {
    use crate::orchestrator::review::{self, Decision};

    let caller = caller().await?;
    let decision = Decision::parse(&decision).map_err(to_server_error)?;
    let result = review::review_share(orchestrator()?.db(), &caller, &name, decision, Some(&note)).await.map_err(to_server_error)?;
    Ok(outcome_text(&result))
}

/// Reviews several shares with one decision and note. Each pipe is reviewed on its own: a
/// failure is reported in that pipe's line and the others still go through. Returns one line
/// per pipe, in the order given.
#[server(input = Json)]
pub async fn review_shares(names: Vec<String>, decision: String, note: String) -> Result<Vec<String>, ServerFnError> {
    use crate::orchestrator::{
        access::require_admin,
        review::{self, Decision},
    };

    let caller = caller().await?;
    require_admin(&caller, "review shares").map_err(to_server_error)?;
    let decision = Decision::parse(&decision).map_err(to_server_error)?;
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        return Err(ServerFnError::new("Select at least one pipe"));
    }
    let orchestrator = orchestrator()?;
    let db = orchestrator.db();
    let mut lines = Vec::with_capacity(unique.len());
    for name in unique {
        // Not `to_server_error`: one pipe's failure must not turn the whole answer into an
        // error status.
        let line = match review::review_share(db, &caller, &name, decision, Some(&note)).await {
            Ok(result) => outcome_text(&result),
            Err(error) => {
                if let crate::orchestrator::Error::Internal(detail) = &error {
                    tracing::error!("{detail}");
                }
                format!("{NOT_REVIEWED} '{name}': {}", error.public_message())
            }
        };
        lines.push(line);
    }
    Ok(lines)
}

#[server]
pub async fn get_settings() -> Result<Settings, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::admin::settings(orchestrator()?.db(), &caller).await.map_err(to_server_error)
}

/// Stores every setting from the settings form; a checkbox sends a value only when ticked.
/// The number is stored first, so a value the orchestrator refuses changes nothing.
#[server]
pub async fn update_settings(
    max_pipes_per_user: String,
    enable_public_sharing: Option<String>,
    require_approval: Option<String>,
    allow_self_signup: Option<String>,
) -> Result<Settings, ServerFnError> {
    use crate::orchestrator::admin;

    let caller = caller().await?;
    let orchestrator = orchestrator()?;
    let db = orchestrator.db();
    let flag = |value: &Option<String>| if ticked(value) { "true" } else { "false" };
    let mut settings = admin::update_setting(db, &caller, "max_pipes_per_user", &max_pipes_per_user).await.map_err(to_server_error)?;
    for (key, value) in [
        ("enable_public_sharing", &enable_public_sharing),
        ("require_approval", &require_approval),
        ("allow_self_signup", &allow_self_signup),
    ] {
        settings = admin::update_setting(db, &caller, key, flag(value)).await.map_err(to_server_error)?;
    }
    Ok(settings)
}

/// Every user and group, for the admins' settings page.
#[server]
pub async fn directory() -> Result<crate::model::Directory, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::admin::directory(orchestrator()?.db(), &caller).await.map_err(to_server_error)
}

/// Creates an account; returns a confirmation for the page.
#[server]
pub async fn create_user(username: String, password: String, is_admin: Option<String>) -> Result<String, ServerFnError> {
    let caller = caller().await?;
    let is_admin = ticked(&is_admin);
    crate::orchestrator::admin::create_user(orchestrator()?.db(), &caller, &username, &password, is_admin)
        .await
        .map_err(to_server_error)?;
    let kind = if is_admin { "Admin" } else { "User" };
    Ok(format!("{kind} '{}' created", username.trim()))
}

#[server]
pub async fn create_group(name: String) -> Result<String, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::admin::create_group(orchestrator()?.db(), &caller, &name).await.map_err(to_server_error)?;
    Ok(format!("Group '{}' created", name.trim()))
}

#[server]
pub async fn add_group_member(group: String, username: String) -> Result<String, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::admin::add_group_member(orchestrator()?.db(), &caller, &group, &username).await.map_err(to_server_error)?;
    Ok(format!("Added '{}' to '{}'", username.trim(), group.trim()))
}

/// Events per page of the audit log page.
pub const AUDIT_PAGE: u64 = 50;

/// A page of the audit log, newest first: the whole instance's (admins), or one pipe's (its
/// managers), after skipping `offset` events.
#[server]
pub async fn audit_page(pipe: String, offset: u64) -> Result<crate::model::AuditLog, ServerFnError> {
    use crate::orchestrator::audit::{AuditQuery, audit_log};

    let caller = caller().await?;
    let pipe_name = Some(pipe.trim()).filter(|p| !p.is_empty()).map(String::from);
    let query = AuditQuery { pipe_name, limit: Some(AUDIT_PAGE), offset };
    audit_log(orchestrator()?.db(), &caller, &query).await.map_err(to_server_error)
}
