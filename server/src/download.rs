//! `GET /pipes/<name>/download`: the pipe's manifest as a YAML file, for whoever may see it
//! (signed in, with a token, or anonymous); every download is recorded.
use app::auth::{Auth, ClientAddress};
use app::model::{PipeName, shown};
use app::orchestrator::{Error, Orchestrator, input::parse};
use axum::{
    extract::{Path, Query, State},
    http::{Method, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// An exact version; the newest when absent.
    version: Option<String>,
}

/// The headers of a manifest file named for its pipe and version.
fn file_headers(pipe: &PipeName, version: &str) -> [(header::HeaderName, String); 2] {
    [
        (header::CONTENT_TYPE, "application/yaml; charset=utf-8".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{pipe}-{}.yaml\"", version.replace(['"', '/', '\\'], "_"))),
    ]
}

/// A version's manifest as a YAML file; a GET counts one download, a HEAD does not.
#[utoipa::path(get, path = "/pipes/{name}/download", tag = "files",
    params(("name" = String, Path, description = "The pipe's name"), DownloadQuery),
    responses((status = 200, description = "The manifest", content_type = "application/yaml", body = String)),
    security((), ("bearer" = []), ("session" = [])))]
pub async fn download_manifest(
    State(orchestrator): State<Orchestrator>,
    Auth(caller): Auth,
    ClientAddress(client): ClientAddress,
    method: Method,
    Path(name): Path<String>,
    Query(query): Query<DownloadQuery>,
) -> Result<Response, Error> {
    let name: PipeName = parse(&name)?;
    // A HEAD asks whether the file is there: it is answered, but is no download.
    if method == Method::HEAD {
        let details = orchestrator.pipe_details(caller.as_ref(), &name).await?;
        let version = query.version.unwrap_or(details.summary.version);
        if !details.versions.contains(&version) {
            return Err(Error::NotFound(format!("Pipe '{name}' has no version '{}'", shown(&version))));
        }
        return Ok(file_headers(&name, &version).into_response());
    }
    let found = orchestrator.download_pipe(caller.as_ref(), client, &name, query.version.as_deref()).await?;
    let yaml = serde_norway::to_string(&found.spec).map_err(|err| Error::Internal(format!("writing {name} as YAML: {err}")))?;
    Ok((file_headers(&name, &found.version), yaml).into_response())
}
