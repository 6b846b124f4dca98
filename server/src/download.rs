//! `GET /pipes/<name>/download`: the pipe's manifest as a YAML file, for whoever may see it
//! (signed in, with a token, or anonymous); every download is recorded.
use app::auth::Auth;
use app::orchestrator::{Error, Orchestrator, input::parse};
use axum::{
    extract::{Path, Query, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct DownloadQuery {
    version: Option<String>,
}

pub async fn download_manifest(
    State(orchestrator): State<Orchestrator>,
    Auth(caller): Auth,
    Path(name): Path<String>,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, Error> {
    let found = orchestrator.download_pipe(caller.as_ref(), &parse(&name)?, query.version.as_deref()).await?;
    let yaml = serde_norway::to_string(&found.spec).map_err(|err| Error::Internal(format!("writing {name} as YAML: {err}")))?;
    let file = format!("{}-{}.yaml", found.pipe_name, found.version).replace(['"', '/', '\\'], "_");
    Ok((
        [
            (header::CONTENT_TYPE, "application/yaml; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        yaml,
    )
        .into_response())
}
