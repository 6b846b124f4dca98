//! `GET /pipes/<name>/download`: the pipe's manifest as a YAML file, for whoever may see it
//! (signed in, with a token, or anonymous); every download is recorded.
use app::auth::{Auth, ClientAddress};
use app::model::PipeName;
use app::orchestrator::{
    Error, Orchestrator,
    download::{Record, VersionPick},
    input::parse,
    remote::{self, CatalogueAnswer},
};
use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderValue, Method, header},
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

/// A version's manifest as a YAML file; a GET counts one download, a HEAD (its headers, its
/// length told) does not.
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
    let (found, yaml) = orchestrator.download_pipe(caller.as_ref(), client, &name, &pick, record).await?.with_yaml()?;
    let headers = file_headers(&name, &found.version);
    if record == Record::Ask {
        // The GET's headers, its length told.
        return Ok((headers, [(header::CONTENT_LENGTH, HeaderValue::from(yaml.len()))]).into_response());
    }
    Ok((headers, Bytes::from_owner(Text(yaml))).into_response())
}

/// A shared text as a body's bytes, not copied.
struct Text(Arc<str>);

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueQuery {
    /// The `next_after` of the previous page.
    after: Option<String>,
    /// Pipes per page, 1 to 500 (default 200).
    limit: Option<String>,
}

/// The pipes the caller may download (anonymous: the public ones), for another pipeshare
/// instance reading this one as a source. The first page carries an `ETag` of the whole
/// catalogue; asked again with `If-None-Match`, an unchanged catalogue is a bodiless 304.
#[utoipa::path(get, path = "/api/v1/catalogue", tag = "files",
    params(CatalogueQuery),
    responses(
        (status = 200, description = "A page of the catalogue, in name order", body = app::model::CataloguePage,
            headers(("ETag" = String, description = "On the first page: changes whenever the catalogue does"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
    ),
    security((), ("bearer" = [])))]
pub async fn catalogue(
    State(orchestrator): State<Orchestrator>,
    Auth(caller): Auth,
    headers: axum::http::HeaderMap,
    Query(query): Query<CatalogueQuery>,
) -> Result<Response, Error> {
    let limit = query
        .limit
        .map(|text| {
            text.trim().parse::<u64>().map_err(|_| Error::bad(format!("limit must be a whole number from 1 to {}", remote::MAX_PAGE)))
        })
        .transpose()?;
    let if_none_match = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok());
    Ok(match orchestrator.catalogue(caller.as_ref(), query.after.as_deref(), limit, if_none_match).await? {
        CatalogueAnswer::NotModified(etag) => (axum::http::StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response(),
        CatalogueAnswer::Page { etag: Some(etag), page } => ([(header::ETAG, etag)], axum::Json(page)).into_response(),
        CatalogueAnswer::Page { etag: None, page } => axum::Json(page).into_response(),
    })
}
