//! `download_pipe`: a pipe's manifest, recorded as one download.
pub use crate::model::DownloadResult;
use std::net::IpAddr;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;

use super::access::pipe_to_download;
use super::accounts::Caller;
use super::catalog::{usernames, versions_of};
use super::entities::downloads;
use super::error::{Error, Result};

/// A caller's downloads of one version count once a minute: a script fetching in a loop, or
/// a page reloaded, does not inflate the figures. An anonymous visitor is told apart by
/// their address.
const COUNT_ONCE_PER: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Whether this caller's download of this version was counted within `COUNT_ONCE_PER`.
async fn counted_lately(
    db: &DatabaseConnection,
    caller: Option<&Caller>,
    client: Option<IpAddr>,
    pipe_id: i32,
    version: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let Some(caller) = caller else {
        let Some(address) = client else {
            return Ok(false);
        };
        let key = format!("download:{pipe_id}:{version}:{address}");
        return Ok(!super::throttle::first_within(db, &key, COUNT_ONCE_PER).await?);
    };
    let recent = downloads::Entity::find()
        .filter(downloads::Column::PipeId.eq(pipe_id))
        .filter(downloads::Column::UserId.eq(caller.user_id))
        .filter(downloads::Column::Version.eq(version))
        .filter(downloads::Column::DownloadedAt.gt(now - COUNT_ONCE_PER))
        .count(db)
        .await?;
    Ok(recent > 0)
}

/// Anyone may download a pipe they may see; `caller` is `None` for an anonymous visitor.
pub async fn download_pipe(
    db: &DatabaseConnection,
    caller: Option<&Caller>,
    client: Option<IpAddr>,
    pipe_name: &str,
    version: Option<&str>,
) -> Result<DownloadResult> {
    super::input::check_text("version", version)?;
    let (pipe, _, _) = pipe_to_download(db, caller, pipe_name).await?;
    let versions = versions_of(db, pipe.id).await?;
    let chosen = match version {
        Some(wanted) => versions
            .iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, crate::model::shown(wanted))))?,
        None => versions.first().ok_or_else(|| Error::Internal(format!("pipe '{}' has no versions", pipe.name)))?,
    };
    let now = crate::orchestrator::now();
    if !counted_lately(db, caller, client, pipe.id, &chosen.version, now).await? {
        downloads::ActiveModel {
            pipe_id: Set(pipe.id),
            user_id: Set(caller.map(|c| c.user_id)),
            version: Set(chosen.version.clone()),
            downloaded_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(DownloadResult {
        pipe_name: pipe.name.clone(),
        version: chosen.version.clone(),
        versions: versions.iter().map(|v| v.version.clone()).collect(),
        spec: chosen.spec.0.clone(),
        manifests: Value::Object(chosen.manifests.0.clone()),
        owner: usernames(db, [pipe.owner_id]).await?.remove(&pipe.owner_id).unwrap_or_default(),
        downloaded_at: now,
    })
}
