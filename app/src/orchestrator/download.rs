//! `download_pipe`: a pipe's manifest, recorded as one download.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::access::pipe_to_download;
use super::accounts::Caller;
use super::catalog::{usernames, versions_of};
use super::entities::downloads;
use super::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadResult {
    pub pipe_name: String,
    pub version: String,
    /// Every version of the pipe, newest first.
    pub versions: Vec<String>,
    /// The manifest of the version (the winning file of its folder).
    pub spec: Value,
    /// Every manifest file of the version's folder, by file name.
    pub manifests: Value,
    pub owner: String,
    pub downloaded_at: DateTime<Utc>,
}

fn parse_json(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|err| Error::Internal(format!("stored manifest is not JSON: {err}")))
}

pub async fn download_pipe(db: &DatabaseConnection, caller: &Caller, pipe_name: &str, version: Option<&str>) -> Result<DownloadResult> {
    let (pipe, _) = pipe_to_download(db, caller, pipe_name).await?;
    let versions = versions_of(db, pipe.id).await?;
    let chosen = match version {
        Some(wanted) => versions
            .iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{wanted}'", pipe.name)))?,
        None => versions.first().ok_or_else(|| Error::Internal(format!("pipe '{}' has no versions", pipe.name)))?,
    };
    let now = Utc::now();
    downloads::ActiveModel {
        pipe_id: Set(pipe.id),
        user_id: Set(Some(caller.user_id)),
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
        spec: parse_json(&chosen.spec)?,
        manifests: parse_json(&chosen.manifests)?,
        owner: usernames(db, [pipe.owner_id]).await?.remove(&pipe.owner_id).unwrap_or_default(),
        downloaded_at: now,
    })
}
