//! Browsing, one pipe's page, sharing and grants.
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator, ticked, to_server_error, viewer};
use crate::model::{PipeDetails, PipeFilters, PipeList};

#[server(input = Json)]
pub async fn list_pipes(filters: PipeFilters) -> Result<PipeList, ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::list::list_shareable(orchestrator()?.db(), &caller, &filters).await.map_err(to_server_error)
}

/// The values the browse filters offer: categories and statuses in the catalogue.
#[server]
pub async fn filter_choices() -> Result<(Vec<String>, Vec<String>), ServerFnError> {
    caller().await?;
    let db = orchestrator()?;
    let db = db.db();
    let categories = crate::orchestrator::catalog::categories(db).await.map_err(to_server_error)?;
    let statuses = crate::orchestrator::list::accepted_statuses(db).await.map_err(to_server_error)?.into_iter().collect();
    Ok((categories, statuses))
}

/// A pipe's page; anonymous visitors see only active public shares.
#[server]
pub async fn get_pipe(name: String) -> Result<PipeDetails, ServerFnError> {
    let viewer = viewer().await?;
    crate::orchestrator::details::pipe_details(orchestrator()?.db(), viewer.as_ref(), &name).await.map_err(to_server_error)
}

#[server]
pub async fn share_pipe(
    name: String,
    public: Option<String>,
    approval_required: Option<String>,
    fork: Option<String>,
    contribute: Option<String>,
) -> Result<String, ServerFnError> {
    use crate::model::{ShareOptions, SharePermissions};
    use crate::orchestrator::settings::Settings;

    let caller = caller().await?;
    let orchestrator = orchestrator()?;
    let db = orchestrator.db();
    let settings = Settings::load(db).await.map_err(to_server_error)?;
    let options = ShareOptions {
        public: ticked(&public),
        approval_required: ticked(&approval_required),
        permissions: SharePermissions { read: true, fork: ticked(&fork), contribute: ticked(&contribute) },
        metadata: Default::default(),
    };
    let result = crate::orchestrator::share::share_pipe(db, &caller, &settings, orchestrator.base_url(), &name, options)
        .await
        .map_err(to_server_error)?;
    Ok(result.sharing_status)
}

#[server]
pub async fn unshare_pipe(name: String) -> Result<(), ServerFnError> {
    let caller = caller().await?;
    crate::orchestrator::share::unshare_pipe(orchestrator()?.db(), &caller, &name).await.map_err(to_server_error).map(|_| ())
}

/// Splits "a, b c" into names.
#[cfg(feature = "ssr")]
fn names(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(String::from).collect()
}

#[server]
pub async fn grant_access(
    name: String,
    users: String,
    groups: String,
    access_level: String,
    expiration: String,
) -> Result<(), ServerFnError> {
    use crate::orchestrator::{access::AccessLevel, permissions};

    let caller = caller().await?;
    let change = permissions::PermissionChange {
        users: names(&users),
        groups: names(&groups),
        access_level: AccessLevel::parse(&access_level).map_err(to_server_error)?,
        expiration: Some(expiration.trim())
            .filter(|e| !e.is_empty())
            .map(permissions::Expiration::parse)
            .transpose()
            .map_err(to_server_error)?,
        revoke: false,
        extra: Default::default(),
    };
    if change.users.is_empty() && change.groups.is_empty() {
        return Err(ServerFnError::new("Name at least one user or group"));
    }
    permissions::manage_permissions(orchestrator()?.db(), &caller, &name, change).await.map_err(to_server_error).map(|_| ())
}

#[server]
pub async fn revoke_grant(name: String, subject_type: String, subject: String) -> Result<(), ServerFnError> {
    use crate::orchestrator::{access::AccessLevel, permissions};

    let caller = caller().await?;
    let (users, groups) = if subject_type == "group" { (vec![], vec![subject]) } else { (vec![subject], vec![]) };
    let change = permissions::PermissionChange {
        users,
        groups,
        access_level: AccessLevel::Read,
        expiration: None,
        revoke: true,
        extra: Default::default(),
    };
    permissions::manage_permissions(orchestrator()?.db(), &caller, &name, change).await.map_err(to_server_error).map(|_| ())
}
