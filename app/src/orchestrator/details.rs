//! One pipe as its page shows it.
pub use crate::model::PipeDetails;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use super::access::pipe_to_download;
use super::accounts::Caller;
use super::audit::pipe_history;
use super::catalog::{usernames, versions_of};
use super::entities::downloads;
use super::error::{Error, Result};
use super::list::summarize;
use super::permissions::grants_on;

/// How many of the latest sharing changes the page lists for the pipe's managers.
const HISTORY_SHOWN: u64 = 10;

/// The pipe, if `caller` may see it (`None`: an anonymous visitor, who sees only active
/// public shares); otherwise the same not-found answer as for a pipe that does not exist.
pub async fn pipe_details(db: &DatabaseConnection, caller: Option<&Caller>, name: &str) -> Result<PipeDetails> {
    let (pipe, share, access) = pipe_to_download(db, caller, name).await?;
    let versions = versions_of(db, pipe.id).await?;
    let manifest_yaml = match versions.first() {
        Some(latest) => {
            serde_norway::to_string(&latest.spec.0).map_err(|err| Error::Internal(format!("writing a manifest as YAML: {err}")))?
        }
        None => String::new(),
    };
    let download_count = downloads::Entity::find().filter(downloads::Column::PipeId.eq(pipe.id)).count(db).await?;
    let owners = usernames(db, [pipe.owner_id]).await?;
    let (sharing_options, grants, history) = if access.manage {
        let options = share.as_ref().map(|s| s.options.0.clone());
        (options, grants_on(db, pipe.id).await?, pipe_history(db, pipe.id, HISTORY_SHOWN).await?)
    } else {
        (None, Vec::new(), Vec::new())
    };
    Ok(PipeDetails {
        summary: summarize(&pipe, share.as_ref(), &owners, access.manage),
        versions: versions.into_iter().map(|v| v.version).collect(),
        manifest_yaml,
        download_count,
        can_manage: access.manage,
        sharing_options,
        grants,
        history,
    })
}
