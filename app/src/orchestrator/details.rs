//! One pipe as its page shows it.
pub use crate::model::PipeDetails;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect};

use super::access::ShareStatus;
use super::access::{FoundPipe, pipe_to_see, seen_by};
use super::accounts::Caller;
use super::audit::pipe_history;
use super::catalog::{compare_versions, with_package_summary};
use super::entities::{JsonText, pipe_versions, pipes, users};
use super::error::{Error, Result};
use super::explain::explain_pipe;
use super::list::summarize;
use super::permissions::grants_on;
use super::requests::{own_request, pending_for_pipe};
use crate::model::{ForkOrigin, PackageEntry, VersionInfo};

/// How many of the latest sharing changes the page lists for the pipe's managers.
const HISTORY_SHOWN: u64 = 10;

/// The pipe, if `caller` may see it (`None`: an anonymous visitor, who sees only active
/// public shares); otherwise the same not-found answer as for a pipe that does not exist.
pub async fn pipe_details(db: &DatabaseConnection, caller: Option<&Caller>, name: &str) -> Result<PipeDetails> {
    let (FoundPipe { pipe, share, owner, public_sharing }, access) = pipe_to_see(db, caller, name).await?;
    let versions = listed_versions(db, pipe.id).await?;
    let (environments, environment_history) = super::environments::of_pipe(db, pipe.id).await?;
    let forks = visible_forks(db, caller, &pipe.name, public_sharing).await?;
    let shown = match versions.iter().find(|v| !v.yanked).or(versions.first()) {
        Some(version) => shown_version(db, pipe.id, &version.version).await?,
        None => None,
    };
    let readme_html = shown.as_ref().and_then(|v| v.readme.as_deref()).map(markdown_html);
    let writer = access.write;
    let options = share.as_ref().filter(|s| s.status == ShareStatus::Active).map(|s| &s.options.0.permissions);
    let can_publish = access.manage || (writer && options.is_some_and(|p| p.contribute));
    let can_fork = caller.is_some_and(|c| !c.read_only) && access.download && (writer || options.is_some_and(|p| p.fork));
    let manifest_yaml = match shown.filter(|_| access.download) {
        Some(latest) => latest.spec_yaml()?.to_string(),
        None => String::new(),
    };
    let download_count = super::tallies::pipe_total(db, pipe.owner_id, pipe.id).await?;
    let (sharing_options, grants, history) = if access.manage {
        let options = share.as_ref().map(|s| s.options.0.clone());
        let settings = super::settings::Settings::load(db).await?;
        (options, grants_on(db, pipe.id, &settings).await?, pipe_history(db, pipe.id, HISTORY_SHOWN).await?)
    } else {
        (None, Vec::new(), Vec::new())
    };
    let (pending_requests, explained) = match caller.filter(|_| access.manage) {
        Some(manager) => (pending_for_pipe(db, pipe.id).await?, Some(explain_pipe(db, manager, &pipe.name).await?)),
        None => (Vec::new(), None),
    };
    let my_request = match caller {
        Some(caller) => own_request(db, caller, &pipe.name).await?,
        None => None,
    };
    Ok(PipeDetails {
        summary: summarize(&pipe, share.as_ref(), owner, access.manage),
        versions: versions.iter().map(|v| v.version.clone()).collect(),
        manifest_yaml,
        download_count,
        can_manage: access.manage,
        sharing_options,
        grants,
        history,
        version_details: versions.into_iter().map(VersionInfo::from).collect(),
        environments,
        environment_history,
        forked_from: pipe
            .forked_from_pipe
            .clone()
            .zip(pipe.forked_from_version.clone())
            .map(|(pipe, version)| ForkOrigin { pipe, version }),
        forks,
        readme_html,
        can_publish: can_publish && caller.is_some_and(|c| !c.read_only),
        can_promote: writer && caller.is_some_and(|c| !c.read_only),
        can_fork,
        can_download: access.download,
        can_request_access: caller.is_some_and(|c| !c.read_only) && !access.manage,
        my_request,
        pending_requests,
        access: explained,
        source: super::sources::source_of(db, &pipe).await?,
    })
}

/// Markdown as HTML with only harmless tags and attributes left (no script, no event
/// handlers, no `javascript:` links).
fn markdown_html(markdown: &str) -> String {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(markdown));
    ammonia::clean(&html)
}

/// A version as the page lists it, in one statement for all versions: without its manifests,
/// with its package's size and files and its publisher's name.
#[derive(FromQueryResult)]
struct ListedVersion {
    version: String,
    created_at: DateTime<Utc>,
    yanked: bool,
    yank_reason: Option<String>,
    package_sha256: Option<String>,
    package_size: Option<i64>,
    package_files: Option<JsonText<Vec<PackageEntry>>>,
    publisher: Option<String>,
}

impl From<ListedVersion> for VersionInfo {
    fn from(v: ListedVersion) -> Self {
        VersionInfo {
            version: v.version,
            published_at: v.created_at,
            published_by: v.publisher,
            sha256: v.package_sha256,
            size: v.package_size.map(|size| size.max(0) as u64),
            files: v.package_files.map(|files| files.0).unwrap_or_default(),
            yanked: v.yanked,
            yank_reason: v.yank_reason,
        }
    }
}

/// The pipe's versions, newest first, as the page lists them.
async fn listed_versions(db: &DatabaseConnection, pipe_id: i32) -> Result<Vec<ListedVersion>> {
    let publisher = pipe_versions::Entity::belongs_to(users::Entity).from(pipe_versions::Column::PublishedBy).to(users::Column::Id).into();
    let columns = [
        pipe_versions::Column::Version,
        pipe_versions::Column::CreatedAt,
        pipe_versions::Column::Yanked,
        pipe_versions::Column::YankReason,
        pipe_versions::Column::PackageSha256,
    ];
    let mut versions = with_package_summary(pipe_versions::Entity::find().select_only().columns(columns))
        .join(JoinType::LeftJoin, publisher)
        .column_as(users::Column::Username, "publisher")
        .filter(pipe_versions::Column::PipeId.eq(pipe_id))
        .into_model::<ListedVersion>()
        .all(db)
        .await?;
    versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
    Ok(versions)
}

/// What the page shows of one version beyond the list: its README and manifest.
#[derive(FromQueryResult)]
struct ShownVersion {
    readme: Option<String>,
    /// The JSON text of its manifests, by file name.
    manifests: String,
}

impl ShownVersion {
    /// Its spec as YAML. The spec's JSON text is taken from the manifests' text unparsed: the
    /// kept YAML is found by it.
    fn spec_yaml(&self) -> Result<std::sync::Arc<str>> {
        let manifests: std::collections::HashMap<String, &serde_json::value::RawValue> =
            serde_json::from_str(&self.manifests).map_err(|err| Error::Internal(format!("reading stored manifests: {err}")))?;
        match super::scan::strongest_manifest(|file| manifests.get(file).copied()) {
            Some(spec) => super::yaml::manifest_yaml_of_json(spec.get()),
            None => Ok("".into()),
        }
    }
}

async fn shown_version(db: &DatabaseConnection, pipe_id: i32, version: &str) -> Result<Option<ShownVersion>> {
    Ok(pipe_versions::Entity::find()
        .select_only()
        .columns([pipe_versions::Column::Readme, pipe_versions::Column::Manifests])
        .filter(pipe_versions::Column::PipeId.eq(pipe_id))
        .filter(pipe_versions::Column::Version.eq(version))
        .into_model::<ShownVersion>()
        .one(db)
        .await?)
}

/// The forks of a pipe that the caller may see, by name; public shares count while
/// `public_sharing`.
async fn visible_forks(db: &DatabaseConnection, caller: Option<&Caller>, name: &str, public_sharing: bool) -> Result<Vec<String>> {
    // Most pipes have no fork: the fork index says so before the visibility check, which
    // reads the instance's shares (every public share, for an anonymous visitor).
    let forked = pipes::Entity::find().select_only().column(pipes::Column::Id).filter(pipes::Column::ForkedFromPipe.eq(name));
    if forked.into_tuple::<i32>().one(db).await?.is_none() {
        return Ok(Vec::new());
    }
    let now = crate::orchestrator::now();
    Ok(pipes::Entity::find()
        .select_only()
        .column(pipes::Column::Name)
        .filter(pipes::Column::ForkedFromPipe.eq(name))
        .filter(seen_by(caller, now, public_sharing))
        .limit(100)
        .into_tuple()
        .all(db)
        .await?)
}
