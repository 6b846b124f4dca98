//! Browsing, one pipe's page, sharing and grants.
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, caller_if_any, orchestrator, ticked};
use crate::model::{AccessLevel, PipeDetails, PipeFilters, PipeList, ShareStatus, SubjectKind};
#[cfg(feature = "ssr")]
use crate::orchestrator::input::parse;

#[server(input = Json)]
pub async fn list_pipes(filters: PipeFilters) -> Result<PipeList, AppError> {
    Ok(orchestrator()?.list_shareable(&caller().await?, &filters).await?)
}

/// The values the browse filters offer: categories and statuses of the pipes the caller may
/// list.
#[server]
pub async fn filter_choices() -> Result<(Vec<String>, Vec<String>), AppError> {
    Ok(orchestrator()?.filter_choices(&caller().await?).await?)
}

/// What an anonymous visitor's pipe page shows, read by the server before rendering it (it
/// keeps the rendered page for as long as they stay the same), so the page is rendered from
/// exactly these details.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct AnonymousPipeDetails {
    pub name: String,
    /// The details, or why the visitor may not see them (the page says so).
    pub details: Result<std::sync::Arc<PipeDetails>, AppError>,
}

/// A pipe's page; anonymous visitors see only active public shares.
#[server]
pub async fn get_pipe(name: String) -> Result<PipeDetails, AppError> {
    let caller = caller_if_any().await?;
    let read_before = use_context::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<AnonymousPipeDetails>().cloned());
    if let Some(read) = read_before.filter(|read| caller.is_none() && read.name == name) {
        return read.details.map(|details| (*details).clone());
    }
    Ok(orchestrator()?.pipe_details(caller.as_ref(), &parse(&name)?).await?)
}

/// `visibility` is `private`, `gated` or `public` (private when absent).
#[server]
pub async fn share_pipe(
    name: String,
    visibility: Option<String>,
    approval_required: Option<String>,
    fork: Option<String>,
    contribute: Option<String>,
) -> Result<ShareStatus, AppError> {
    use crate::model::{ShareOptions, SharePermissions, Visibility};

    let visibility: Visibility = visibility.as_deref().map(parse).transpose()?.unwrap_or(Visibility::Private);
    let options = ShareOptions {
        public: visibility == Visibility::Public,
        gated: visibility == Visibility::Gated,
        approval_required: ticked(&approval_required),
        permissions: SharePermissions { read: true, fork: ticked(&fork), contribute: ticked(&contribute) },
        metadata: Default::default(),
    };
    Ok(orchestrator()?.share_pipe(&caller().await?, &parse(&name)?, options).await?.sharing_status)
}

#[server]
pub async fn unshare_pipe(name: String) -> Result<(), AppError> {
    orchestrator()?.unshare_pipe(&caller().await?, &parse(&name)?).await?;
    Ok(())
}

/// Splits "a, b c" into names, each checked.
#[cfg(feature = "ssr")]
fn names<T: std::str::FromStr<Err = String>>(text: &str) -> Result<Vec<T>, AppError> {
    Ok(text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(parse).collect::<Result<_, _>>()?)
}

#[server]
pub async fn grant_access(
    name: String,
    users: String,
    groups: String,
    access_level: AccessLevel,
    expiration: String,
) -> Result<(), AppError> {
    use crate::orchestrator::permissions::{Expiration, PermissionChange};

    let caller = caller().await?;
    let change = PermissionChange {
        users: names(&users)?,
        groups: names(&groups)?,
        access_level,
        expiration: Some(expiration.trim()).filter(|e| !e.is_empty()).map(Expiration::parse).transpose()?,
        revoke: false,
        extra: Default::default(),
    };
    if change.users.is_empty() && change.groups.is_empty() {
        return Err(AppError::bad("Name at least one user or group"));
    }
    orchestrator()?.manage_permissions(&caller, &parse(&name)?, change).await?;
    Ok(())
}

#[server]
pub async fn revoke_grant(name: String, subject_type: SubjectKind, subject: String) -> Result<(), AppError> {
    use crate::orchestrator::permissions::PermissionChange;

    let (users, groups) = match subject_type {
        SubjectKind::User => (vec![parse(&subject)?], vec![]),
        SubjectKind::Group => (vec![], vec![parse(&subject)?]),
    };
    let change =
        PermissionChange { users, groups, access_level: AccessLevel::Read, expiration: None, revoke: true, extra: Default::default() };
    orchestrator()?.manage_permissions(&caller().await?, &parse(&name)?, change).await?;
    Ok(())
}

/// Points an environment at a version (or asks an admin to, for a protected one).
#[server]
pub async fn promote_version(name: String, version: String, environment: String) -> Result<crate::model::PromoteResult, AppError> {
    Ok(orchestrator()?.promote_pipe(&caller().await?, &parse(&name)?, &version, &environment).await?)
}

/// Withdraws a version, saying why.
#[server]
pub async fn yank_version(name: String, version: String, reason: String) -> Result<crate::model::YankResult, AppError> {
    Ok(orchestrator()?.yank_version(&caller().await?, &parse(&name)?, &version, &reason).await?)
}

/// Copies a version into a new pipe of the caller's.
#[server]
pub async fn fork_pipe(name: String, version: String, new_name: String) -> Result<crate::model::PublishResult, AppError> {
    use crate::orchestrator::download::VersionPick;
    let pick = VersionPick::from_fields(Some(&version), None)?;
    Ok(orchestrator()?.fork_pipe(&caller().await?, &parse(&name)?, &pick, &parse(&new_name)?).await?)
}

/// Asks the pipe's managers for access; `duration_days` empty means for good.
#[server]
pub async fn request_access(
    name: String,
    access_level: AccessLevel,
    reason: String,
    duration_days: String,
) -> Result<crate::model::AccessRequestView, AppError> {
    use crate::orchestrator::requests::{DAYS_RANGE, NewRequest};
    let duration_days =
        match duration_days.trim() {
            "" => None,
            days => {
                Some(days.parse::<u64>().ok().filter(|d| DAYS_RANGE.contains(d)).ok_or_else(|| {
                    AppError::bad(format!("Days must be a whole number from {} to {}", DAYS_RANGE.start(), DAYS_RANGE.end()))
                })? as i32)
            }
        };
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        return Err(AppError::bad("Say why you need access"));
    }
    let new = NewRequest { pipe_name: parse(&name)?, access_level, reason, duration_days };
    Ok(orchestrator()?.request_access(&caller().await?, new).await?)
}

/// Approves or rejects an access request as the reviewer saw it (`revision`); an empty
/// `access_level` or `expiration` grants what was asked.
#[server]
pub async fn review_access_request(
    request_id: i32,
    revision: i32,
    decision: crate::model::Decision,
    note: String,
    access_level: Option<String>,
    expiration: Option<String>,
) -> Result<crate::model::AccessRequestView, AppError> {
    use crate::orchestrator::permissions::Expiration;
    use crate::orchestrator::requests::RequestReview;
    let filled = |value: Option<String>| value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let review = RequestReview {
        request_id,
        decision,
        note: filled(Some(note)),
        access_level: filled(access_level).map(|l| parse(&l)).transpose()?,
        expiration: filled(expiration).map(|e| Expiration::parse(&e)).transpose()?,
        revision: Some(revision),
    };
    Ok(orchestrator()?.review_access_request(&caller().await?, &review).await?)
}

/// Extends an expiring grant by its original length.
#[server]
pub async fn renew_grant(name: String, subject_type: SubjectKind, subject: String) -> Result<crate::model::GrantView, AppError> {
    use crate::orchestrator::requests::Subject;
    let subject = match subject_type {
        SubjectKind::User => Subject::User(parse(&subject)?),
        SubjectKind::Group => Subject::Group(parse(&subject)?),
    };
    Ok(orchestrator()?.renew_grant(&caller().await?, &parse(&name)?, &subject, None).await?)
}
