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

/// A pipe's page; anonymous visitors see only active public shares.
#[server]
pub async fn get_pipe(name: String) -> Result<PipeDetails, AppError> {
    let caller = caller_if_any().await?;
    Ok(orchestrator()?.pipe_details(caller.as_ref(), &parse(&name)?).await?)
}

#[server]
pub async fn share_pipe(
    name: String,
    public: Option<String>,
    approval_required: Option<String>,
    fork: Option<String>,
    contribute: Option<String>,
) -> Result<ShareStatus, AppError> {
    use crate::model::{ShareOptions, SharePermissions};

    let options = ShareOptions {
        public: ticked(&public),
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
