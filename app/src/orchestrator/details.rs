//! One pipe as its page shows it.
pub use crate::model::PipeDetails;
use std::collections::HashMap;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect};

use super::access::ShareStatus;
use super::access::{FoundPipe, pipe_to_see};
use super::accounts::Caller;
use super::audit::pipe_history;
use super::catalog::{usernames, versions_of};
use super::entities::{JsonText, packages, pipe_versions, pipes};
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
    let (FoundPipe { pipe, share, owner, .. }, access) = pipe_to_see(db, caller, name).await?;
    let versions = versions_of(db, pipe.id).await?;
    let settings = super::settings::Settings::load(db).await?;
    let (environments, environment_history) = super::environments::of_pipe(db, pipe.id, &settings).await?;
    let version_details = version_details(db, &versions).await?;
    let forks = visible_forks(db, caller, &pipe.name).await?;
    let shown = versions.iter().find(|v| !v.yanked).or(versions.first());
    let readme_html = shown.and_then(|v| v.readme.as_deref()).map(markdown_html);
    let writer = access.write;
    let options = share.as_ref().filter(|s| s.status == ShareStatus::Active).map(|s| &s.options.0.permissions);
    let can_publish = access.manage || (writer && options.is_some_and(|p| p.contribute));
    let can_fork = caller.is_some_and(|c| !c.read_only) && access.download && (writer || options.is_some_and(|p| p.fork));
    let manifest_yaml = match shown.filter(|_| access.download) {
        Some(latest) => {
            serde_norway::to_string(&latest.spec.0).map_err(|err| Error::Internal(format!("writing a manifest as YAML: {err}")))?
        }
        None => String::new(),
    };
    let download_count = super::tallies::pipe_total(db, pipe.owner_id, pipe.id).await?;
    let (sharing_options, grants, history) = if access.manage {
        let options = share.as_ref().map(|s| s.options.0.clone());
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
        versions: versions.into_iter().map(|v| v.version).collect(),
        manifest_yaml,
        download_count,
        can_manage: access.manage,
        sharing_options,
        grants,
        history,
        version_details,
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

/// Each version with its package's size, SHA-256 and files, and who published it.
async fn version_details(db: &DatabaseConnection, versions: &[pipe_versions::Model]) -> Result<Vec<VersionInfo>> {
    let shas: Vec<String> = versions.iter().filter_map(|v| v.package_sha256.clone()).collect();
    let packages: HashMap<String, (i64, Vec<PackageEntry>)> = packages::Entity::find()
        .select_only()
        .columns([packages::Column::Sha256, packages::Column::Size, packages::Column::Files])
        .filter(packages::Column::Sha256.is_in(shas))
        .into_tuple::<(String, i64, JsonText<Vec<PackageEntry>>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(sha, size, files)| (sha, (size, files.0)))
        .collect();
    let publishers = usernames(db, versions.iter().filter_map(|v| v.published_by)).await?;
    Ok(versions
        .iter()
        .map(|v| {
            let package = v.package_sha256.as_ref().and_then(|sha| packages.get(sha));
            VersionInfo {
                version: v.version.clone(),
                published_at: v.created_at,
                published_by: v.published_by.and_then(|id| publishers.get(&id).cloned()),
                sha256: v.package_sha256.clone(),
                size: package.map(|(size, _)| (*size).max(0) as u64),
                files: package.map(|(_, files)| files.clone()).unwrap_or_default(),
                yanked: v.yanked,
                yank_reason: v.yank_reason.clone(),
            }
        })
        .collect())
}

/// The forks of a pipe that the caller may see, by name.
async fn visible_forks(db: &DatabaseConnection, caller: Option<&Caller>, name: &str) -> Result<Vec<String>> {
    let forks = pipes::Entity::find().filter(pipes::Column::ForkedFromPipe.eq(name)).limit(100).all(db).await?;
    let mut visible = Vec::new();
    for fork in forks {
        if let Ok((found, _)) = pipe_to_see(db, caller, &fork.name).await {
            visible.push(found.pipe.name);
        }
    }
    Ok(visible)
}
