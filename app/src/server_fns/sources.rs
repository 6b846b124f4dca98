//! The Sources page: registry sources for instance admins.
use leptos::prelude::*;

use super::AppError;
#[cfg(feature = "ssr")]
use super::ssr::{caller, orchestrator, ticked};
use crate::model::{SourceList, SourceRemoved, SourceScanReport, SourceView};

#[server]
pub async fn list_sources() -> Result<SourceList, AppError> {
    Ok(orchestrator()?.list_sources(Some(&caller().await?)).await?)
}

/// Adds a folder or pipeshare source (a checkbox sends `force` only when ticked; an empty
/// token is none).
#[server]
pub async fn add_source(
    name: String,
    kind: String,
    location: String,
    token: Option<String>,
    owner: String,
    interval: String,
    force: Option<String>,
) -> Result<SourceView, AppError> {
    use crate::orchestrator::{
        input::parse,
        sources::{NewSource, parse_interval, source_name},
    };
    let new = NewSource {
        name: source_name(&name)?,
        kind: parse(kind.trim())?,
        location,
        owner: parse(owner.trim())?,
        token: token.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()),
        interval: parse_interval(&interval)?,
        force: ticked(&force),
    };
    Ok(orchestrator()?.add_source(Some(&caller().await?), &new).await?)
}

#[server]
pub async fn scan_source(name: String) -> Result<SourceScanReport, AppError> {
    Ok(orchestrator()?.scan_source(Some(&caller().await?), &name).await?)
}

/// Removes a source, keeping its pipes as local ones.
#[server]
pub async fn remove_source(name: String) -> Result<SourceRemoved, AppError> {
    Ok(orchestrator()?.remove_source(Some(&caller().await?), &name, true).await?)
}
