//! `download_pipe`: a pipe's manifest, recorded as one download.
pub use crate::model::DownloadResult;
use std::net::IpAddr;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::{Map, Value};

use super::Orchestrator;
use super::access::{FoundPipe, pipe_to_download};
use super::accounts::Caller;
use super::catalog::{VersionName, version_names, with_package_summary};
use super::entities::{JsonText, downloads, packages, pipe_versions, pipes};
use super::error::{Error, Result};
use super::publish::archive_url;
use crate::model::{DownloadClient, PackageEntry, shown};

/// The version a download chose, with its package's size and files (not its bytes) when the
/// package is stored.
#[derive(sea_orm::FromQueryResult)]
pub(crate) struct ChosenVersion {
    pub version: String,
    pub spec: JsonText<Value>,
    pub manifests: JsonText<Map<String, Value>>,
    pub yanked: bool,
    pub package_sha256: Option<String>,
    package_size: Option<i64>,
    package_files: Option<JsonText<Vec<PackageEntry>>>,
}

/// The pipe's version named `version`, read with its package's summary in one statement.
pub(crate) async fn chosen_version(db: &impl ConnectionTrait, pipe: &pipes::Model, version: &str) -> Result<ChosenVersion> {
    let columns = [
        pipe_versions::Column::Version,
        pipe_versions::Column::Spec,
        pipe_versions::Column::Manifests,
        pipe_versions::Column::Yanked,
        pipe_versions::Column::PackageSha256,
    ];
    with_package_summary(pipe_versions::Entity::find().select_only().columns(columns))
        .filter(pipe_versions::Column::PipeId.eq(pipe.id))
        .filter(pipe_versions::Column::Version.eq(version))
        .into_model::<ChosenVersion>()
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, shown(version))))
}

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

/// Whether a download is counted: a HEAD asks whether it is there, and is no download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    Count,
    Ask,
}

/// Which version a download asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum VersionPick {
    /// The newest version that is not yanked.
    Newest,
    Exact(String),
    /// Where an environment (`prod`, say) points.
    Environment(String),
}

impl VersionPick {
    /// From a caller's `version` and `environment`, at most one of them.
    pub fn from_fields(version: Option<&str>, environment: Option<&str>) -> Result<VersionPick> {
        super::input::check_text("version", version)?;
        super::input::check_text("environment", environment)?;
        let given = |text: Option<&str>| text.map(str::trim).filter(|t| !t.is_empty()).map(String::from);
        match (given(version), given(environment)) {
            (Some(_), Some(_)) => Err(Error::bad("Give version or environment, not both")),
            (Some(version), None) => Ok(VersionPick::Exact(version)),
            (None, Some(environment)) => Ok(VersionPick::Environment(environment)),
            (None, None) => Ok(VersionPick::Newest),
        }
    }
}

/// The version `pick` names among the pipe's versions (newest first).
pub(crate) async fn pick_version<'a>(
    db: &DatabaseConnection,
    pipe: &pipes::Model,
    versions: &'a [VersionName],
    pick: &VersionPick,
) -> Result<&'a VersionName> {
    let exact = |wanted: &str| {
        versions
            .iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, shown(wanted))))
    };
    match pick {
        VersionPick::Exact(wanted) => exact(wanted),
        VersionPick::Environment(name) => match super::environments::version_in(db, pipe.id, name).await? {
            Some(version) => exact(&version),
            None => Err(Error::NotFound(format!("Pipe '{}' has no environment '{}'", pipe.name, shown(name)))),
        },
        VersionPick::Newest => versions
            .iter()
            .find(|v| !v.yanked)
            .ok_or_else(|| Error::NotFound(format!("Every version of '{}' is yanked; ask for one by its exact version", pipe.name))),
    }
}

impl DownloadClient {
    /// The kind of caller: `None` is an anonymous visitor.
    pub fn of(caller: Option<&Caller>) -> Self {
        match caller {
            None => DownloadClient::Anonymous,
            Some(caller) if caller.via_token => DownloadClient::Token,
            Some(_) => DownloadClient::Browser,
        }
    }
}

/// Anyone may download a pipe they may see; `caller` is `None` for an anonymous visitor.
pub async fn download_pipe(
    orchestrator: &Orchestrator,
    caller: Option<&Caller>,
    client: Option<IpAddr>,
    pipe_name: &str,
    pick: &VersionPick,
    record: Record,
) -> Result<DownloadResult> {
    let db = orchestrator.db();
    let FoundPipe { pipe, owner, .. } = pipe_to_download(db, caller, pipe_name).await?;
    let versions = version_names(db, pipe.id).await?;
    let picked = pick_version(db, &pipe, &versions, pick).await?;
    let chosen = chosen_version(db, &pipe, &picked.version).await?;
    let package = chosen.package_size.zip(chosen.package_files);
    let now = crate::orchestrator::now();
    if record == Record::Count && !counted_lately(db, caller, client, pipe.id, &chosen.version, now).await? {
        let download = downloads::Model {
            id: 0,
            pipe_id: pipe.id,
            user_id: caller.map(|c| c.user_id),
            version: chosen.version.clone(),
            downloaded_at: now,
            environment: match pick {
                VersionPick::Environment(name) => Some(name.clone()),
                _ => None,
            },
            client: Some(DownloadClient::of(caller)),
            category: pipe.category.clone(),
        };
        orchestrator.recorder().record(download).await?;
    }
    Ok(DownloadResult {
        pipe_name: pipe.name.clone(),
        version: chosen.version.clone(),
        versions: versions.iter().map(|v| v.version.clone()).collect(),
        spec: chosen.spec.0,
        manifests: Value::Object(chosen.manifests.0),
        owner,
        downloaded_at: now,
        environment: match pick {
            VersionPick::Environment(name) => Some(name.clone()),
            _ => None,
        },
        yanked: chosen.yanked,
        archive_url: package.as_ref().map(|_| archive_url(orchestrator.base_url(), &pipe.name, &chosen.version)),
        sha256: package.as_ref().and(chosen.package_sha256.clone()),
        size: package.as_ref().map(|(size, _)| (*size).max(0) as u64),
        files: package.map(|(_, files)| files.0.into_iter().map(|f| f.path).collect()).unwrap_or_default(),
        source: super::sources::source_of(db, &pipe).await?,
    })
}

/// A version's package for whoever may download the pipe, counted as a download; `None`
/// when the version has no package (scanned before packages existed: a rescan packs it).
pub async fn download_package(
    orchestrator: &Orchestrator,
    caller: Option<&Caller>,
    client: Option<IpAddr>,
    pipe_name: &str,
    version: &str,
    record: Record,
) -> Result<packages::Model> {
    let found = download_pipe(orchestrator, caller, client, pipe_name, &VersionPick::Exact(version.to_string()), record).await?;
    let sha256 = found.sha256.ok_or_else(|| Error::NotFound(format!("Version {version} of '{pipe_name}' has no package yet")))?;
    super::publish::package_bytes(orchestrator.db(), &sha256).await
}
