//! `GET /pipes/<name>/download`: the pipe's manifest as a YAML file, for whoever may see it
//! (signed in, with a token, or anonymous); every download is recorded.
use app::auth::{Auth, ClientAddress};
use app::model::PipeName;
use app::orchestrator::{
    Error, Orchestrator,
    download::{Record, VersionPick},
    input::parse,
};
use axum::{
    extract::{Path, Query, State},
    http::{Method, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// An exact version; the newest version not yanked when neither this nor `environment`
    /// is given.
    version: Option<String>,
    /// The version an environment (`prod`, say) points at.
    environment: Option<String>,
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
    let pick = VersionPick::from_fields(query.version.as_deref(), query.environment.as_deref())?;
    // A HEAD asks whether the file is there: it is answered, but is no download.
    let record = if method == Method::HEAD { Record::Ask } else { Record::Count };
    let found = orchestrator.download_pipe(caller.as_ref(), client, &name, &pick, record).await?;
    if record == Record::Ask {
        return Ok(file_headers(&name, &found.version).into_response());
    }
    let yaml = serde_norway::to_string(&found.spec).map_err(|err| Error::Internal(format!("writing {name} as YAML: {err}")))?;
    Ok((file_headers(&name, &found.version), yaml).into_response())
}
