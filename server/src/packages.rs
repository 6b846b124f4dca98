//! Packages over HTTP: `GET /pipes/<name>/versions/<version>/package.tar.gz` (a version's
//! files, for whoever may download the pipe; counted) and `POST /api/v1/pipes/publish` (a
//! `.tar.gz` or `.zip` of a version folder as the body, with a bearer token).
use app::auth::{Auth, ClientAddress};
use app::http::success;
use app::model::PipeName;
use app::orchestrator::{Error, Orchestrator, download::Record, input::parse};
use axum::{
    body::Body,
    extract::{Multipart, Path, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};

/// The largest upload body: the largest package an instance may allow, compressed, with room
/// for the archive's own headers. The instance's own bound is checked as the body arrives.
pub const MAX_UPLOAD_BYTES: usize = (1 << 30) + (16 << 20);

/// A version's package.
#[utoipa::path(get, path = "/pipes/{name}/versions/{version}/package.tar.gz", tag = "files",
    params(("name" = String, Path, description = "The pipe's name"), ("version" = String, Path, description = "An exact version")),
    responses((status = 200, description = "The version's files as a .tar.gz; `ETag` and `Digest` carry its SHA-256; a HEAD is not counted",
        content_type = "application/gzip", body = Vec<u8>)),
    security((), ("bearer" = []), ("session" = [])))]
pub async fn download_package(
    State(orchestrator): State<Orchestrator>,
    Auth(caller): Auth,
    ClientAddress(client): ClientAddress,
    method: Method,
    Path((name, version)): Path<(String, String)>,
) -> Result<Response, Error> {
    let name: PipeName = parse(&name)?;
    let record = if method == Method::HEAD { Record::Ask } else { Record::Count };
    let package = orchestrator.download_package(caller.as_ref(), client, &name, &version, record).await?;
    let digest = hex_to_base64(&package.sha256);
    let filename = format!("{name}-{}.tar.gz", version.replace(|c: char| !c.is_ascii_alphanumeric() && !".-+_".contains(c), "_"));
    let headers = [
        (header::CONTENT_TYPE, "application/gzip".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        (header::ETAG, format!("\"{}\"", package.sha256)),
        (header::HeaderName::from_static("digest"), format!("sha-256={digest}")),
        (header::CACHE_CONTROL, "private, no-cache".to_string()),
    ];
    if method == Method::HEAD {
        let mut response = headers.into_response();
        response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(package.content.len()));
        return Ok(response);
    }
    Ok((headers, package.content).into_response())
}

/// A SHA-256 in hex as the base64 that `Digest` takes.
fn hex_to_base64(hex: &str) -> String {
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect();
    STANDARD.encode(bytes)
}

/// Publishes the archive in the body.
#[utoipa::path(post, path = "/api/v1/pipes/publish", tag = "process",
    request_body(content = Vec<u8>, content_type = "application/gzip",
        description = "A .tar.gz or .zip of a version folder (a manifest at its root or under one folder); at most `max_archive_bytes` unpacked"),
    responses((status = 201, body = app::openapi::ProcessAnswer, description = "Published: `result` is a PublishResult")),
    security(("bearer" = []), ("session" = [])))]
pub async fn upload(State(orchestrator): State<Orchestrator>, auth: Auth, body: Body) -> Result<Response, Error> {
    let caller = auth.require()?;
    let bound = upload_bound(&orchestrator).await?;
    let bytes = axum::body::to_bytes(body, bound).await.map_err(|err| {
        if std::error::Error::source(&err).is_some_and(|source| source.is::<http_body_util::LengthLimitError>()) {
            too_large(bound)
        } else {
            Error::bad(format!("The upload was cut short: {err}"))
        }
    })?;
    let published = orchestrator.publish_archive(&caller, &bytes).await?;
    let mut response = success(serde_json::to_value(&published).map_err(|err| Error::Internal(err.to_string()))?);
    *response.status_mut() = StatusCode::CREATED;
    if let Ok(location) = HeaderValue::from_str(&published.archive_url) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The largest upload this instance takes now: its package bound, with room for the
/// archive's own headers.
async fn upload_bound(orchestrator: &Orchestrator) -> Result<usize, Error> {
    let limits = orchestrator.package_limits().await?;
    Ok(usize::try_from(limits.max_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20).min(MAX_UPLOAD_BYTES))
}

fn too_large(bound: usize) -> Error {
    Error::TooLarge(format!("The archive is larger than this instance accepts ({bound} bytes)"))
}

/// `POST /publish`: the browser's publish form (`multipart/form-data` with the archive in
/// `archive`, and `pipe` when sent from a pipe's page). It answers by going to the pipe's
/// page, or back to the form with the reason, so it works without JavaScript.
pub async fn publish_form(State(orchestrator): State<Orchestrator>, auth: Auth, multipart: Multipart) -> Response {
    let Ok(caller) = auth.require() else {
        return Redirect::to("/login?next=%2Fpublish").into_response();
    };
    let mut back = "/publish".to_string();
    let outcome = async {
        let bound = upload_bound(&orchestrator).await?;
        let (archive, pipe) = read_form(multipart, bound).await?;
        if let Some(pipe) = pipe {
            back = format!("/pipes/{}", app::urls::encode(&pipe));
        }
        let archive = archive.ok_or_else(|| Error::bad("Choose a .tar.gz or .zip file to publish"))?;
        orchestrator.publish_archive(&caller, &archive).await
    }
    .await;
    match outcome {
        Ok(published) => {
            let page = format!("/pipes/{}?published={}", app::urls::encode(&published.pipe_name), app::urls::encode(&published.version));
            Redirect::to(&page).into_response()
        }
        Err(err) => {
            err.log();
            Redirect::to(&format!("{back}?publish_error={}", app::urls::encode(&err.public_message()))).into_response()
        }
    }
}

/// The form's archive and pipe name, the archive read up to `bound` bytes.
async fn read_form(mut multipart: Multipart, bound: usize) -> Result<(Option<Vec<u8>>, Option<String>), Error> {
    let broken = |err: axum::extract::multipart::MultipartError| Error::bad(format!("The form could not be read: {err}"));
    let (mut archive, mut pipe) = (None, None);
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        match field.name() {
            Some("archive") => {
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    if bytes.len() + chunk.len() > bound {
                        return Err(too_large(bound));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                archive = Some(bytes).filter(|b| !b.is_empty());
            }
            Some("pipe") => pipe = Some(field.text().await.map_err(broken)?).filter(|p| PipeName::parse(p).is_ok()),
            _ => {}
        }
    }
    Ok((archive, pipe))
}
