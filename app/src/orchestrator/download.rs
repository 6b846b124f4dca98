//! `download_pipe`: a pipe's manifest, recorded as one download.
pub use crate::model::DownloadResult;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde_json::Value;

use super::access::pipe_to_download;
use super::accounts::Caller;
use super::catalog::{usernames, versions_of};
use super::entities::downloads;
use super::error::{Error, Result};

/// Anyone may download a pipe they may see; `caller` is `None` for an anonymous visitor.
pub async fn download_pipe(
    db: &DatabaseConnection,
    caller: Option<&Caller>,
    pipe_name: &str,
    version: Option<&str>,
) -> Result<DownloadResult> {
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
    downloads::ActiveModel {
        pipe_id: Set(pipe.id),
        user_id: Set(caller.map(|c| c.user_id)),
        version: Set(chosen.version.clone()),
        downloaded_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
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
