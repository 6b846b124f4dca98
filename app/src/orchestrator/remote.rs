//! Instances reading each other. The serving side: `GET /api/v1/catalogue`, the pipes the
//! caller may download (anonymous: the public ones), in name order, paged, each with its
//! newest version's manifests; the first page carries an ETag of the whole catalogue, so a
//! reader that has it gets a 304 and moves almost nothing. The reading side: a `pipeshare`
//! source pages through a remote catalogue and stores what it finds as a scan would.
pub use crate::model::{CatalogueEntry, CataloguePage};
use std::path::Path;

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::access::downloadable_by;
use super::accounts::Caller;
use super::entities::{pipe_versions, pipes};
use super::error::{Error, Result};
use super::scan::{FolderHints, MANIFEST_FILES, ScanSummary, ScannedVersion, describe};
use super::settings::Settings;
use crate::model::PipeName;

/// Pipes per page when the reader does not say.
pub const DEFAULT_PAGE: u64 = 200;
/// The most pipes per page.
pub const MAX_PAGE: u64 = 500;
/// The largest catalogue page a reader accepts.
const MAX_PAGE_BYTES: usize = 64 << 20;
/// The most pages one scan reads (a million pipes at the largest page).
const MAX_PAGES: usize = 2000;

/// What `GET /api/v1/catalogue` answers.
pub enum CatalogueAnswer {
    /// The reader's ETag still holds: nothing changed.
    NotModified(String),
    Page {
        etag: Option<String>,
        page: CataloguePage,
    },
}

/// A page of the pipes `caller` may download, after the name `after`. The first page (no
/// `after`) is tagged, and answered `NotModified` when `if_none_match` is its tag.
pub async fn catalogue(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    after: Option<&str>,
    limit: Option<u64>,
    if_none_match: Option<&str>,
) -> Result<CatalogueAnswer> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::bad(format!("limit must be from 1 to {MAX_PAGE}")));
    }
    let now = crate::orchestrator::now();
    let open = Settings::load(db).await?.enable_public_sharing;
    let visible = || Condition::all().add(downloadable_by(caller, now, open)).add(pipes::Column::GoneAt.is_null());
    let etag = match after {
        None => {
            let etag = catalogue_tag(db, visible(), limit).await?;
            if if_none_match.is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag)) {
                return Ok(CatalogueAnswer::NotModified(etag));
            }
            Some(etag)
        }
        Some(_) => None,
    };
    let total = pipes::Entity::find().filter(visible()).count(db).await?;
    let mut query = pipes::Entity::find().filter(visible()).order_by_asc(pipes::Column::Name).limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(pipes::Column::Name.gt(after));
    }
    let mut rows = query.all(db).await?;
    let next_after = (rows.len() as u64 > limit).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(|p| p.name.clone()).unwrap_or_default()
    });
    let newest = newest_versions(db, &rows).await?;
    let pipes = rows
        .into_iter()
        .filter_map(|pipe| {
            let version = newest.iter().find(|v| v.pipe_id == pipe.id)?;
            Some(CatalogueEntry {
                name: pipe.name,
                version: version.version.clone(),
                category: pipe.category,
                content_hash: version.content_hash.clone(),
                manifests: version.manifests.0.clone(),
                updated_at: pipe.updated_at,
            })
        })
        .collect();
    Ok(CatalogueAnswer::Page { etag, page: CataloguePage { pipes, next_after, total } })
}

/// Each pipe's newest version row, in one query.
async fn newest_versions(db: &impl ConnectionTrait, rows: &[pipes::Model]) -> Result<Vec<pipe_versions::Model>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let wanted = rows.iter().fold(Condition::any(), |any, pipe| {
        any.add(pipe_versions::Column::PipeId.eq(pipe.id).and(pipe_versions::Column::Version.eq(&pipe.latest_version)))
    });
    Ok(pipe_versions::Entity::find().filter(wanted).all(db).await?)
}

/// A tag that changes whenever the catalogue does: which pipes it holds, their newest versions
/// and when they changed (read as names and times only, never the manifests).
async fn catalogue_tag(db: &impl ConnectionTrait, visible: Condition, limit: u64) -> Result<String> {
    let rows: Vec<(String, String, chrono::DateTime<chrono::Utc>)> = pipes::Entity::find()
        .select_only()
        .column(pipes::Column::Name)
        .column(pipes::Column::LatestVersion)
        .column(pipes::Column::UpdatedAt)
        .filter(visible)
        .order_by_asc(pipes::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    let mut hasher = Sha256::new();
    hasher.update(limit.to_le_bytes());
    for (name, version, updated) in rows {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(version.as_bytes());
        hasher.update([0]);
        hasher.update(updated.timestamp_micros().to_le_bytes());
    }
    Ok(format!("\"{}\"", &hex::encode(hasher.finalize())[..32]))
}

/// Why reading a remote failed; an unreachable remote makes its source `offline`.
#[derive(Debug)]
pub struct ReadFailure {
    pub message: String,
    pub unreachable: bool,
}

/// What a remote's catalogue held.
pub enum Read {
    /// Unchanged since the scan that saw `etag`.
    Unchanged,
    Changed {
        versions: Vec<ScannedVersion>,
        etag: Option<String>,
        summary: ScanSummary,
    },
}

/// A remote instance's address: http(s), with a host, no credentials, query or fragment;
/// without a trailing slash.
pub fn remote_base(location: &str) -> Result<String> {
    let bad = |why: &str| Error::bad(format!("A pipeshare source's location {why}, like https://hub.example.org"));
    let url = url::Url::parse(location.trim()).map_err(|_| bad("must be the remote's http(s) address"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("must be the remote's http(s) address"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("may not hold a user name or password (give a token)"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("may not hold a query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn client() -> std::result::Result<reqwest::Client, ReadFailure> {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        // A remote never sends the reader (and its token) elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("pipeshare/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| ReadFailure { message: format!("cannot make an HTTP client: {err}"), unreachable: false })
}

/// One page of a remote catalogue: `None` when the remote answers 304 to `etag`.
async fn fetch_page(
    http: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    after: Option<&str>,
    etag: Option<&str>,
    limit: u64,
) -> std::result::Result<Option<(Option<String>, CataloguePage)>, ReadFailure> {
    let mut request = http.get(format!("{base}/api/v1/catalogue")).query(&[("limit", limit.to_string())]);
    if let Some(after) = after {
        request = request.query(&[("after", after)]);
    }
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(etag) = etag {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    let mut response = request.send().await.map_err(|err| ReadFailure {
        // Said without the address's query (the token is never in it anyway).
        message: format!("cannot reach {base}: {}", if err.is_timeout() { "timed out".to_string() } else { root_cause(&err) }),
        unreachable: true,
    })?;
    let status = response.status();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    let failed = |message: String| ReadFailure { message, unreachable: false };
    if matches!(status.as_u16(), 401 | 403) {
        return Err(failed(format!("{base} refused the source's token ({status})")));
    }
    if !status.is_success() {
        return Err(failed(format!("{base} answered {status} to its catalogue (is it a pipeshare instance?)")));
    }
    let tag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(String::from);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| failed(format!("reading {base}'s catalogue: {}", root_cause(&err))))? {
        if body.len() + chunk.len() > MAX_PAGE_BYTES {
            return Err(failed(format!("{base} sent a catalogue page larger than {MAX_PAGE_BYTES} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    let page: CataloguePage =
        serde_json::from_slice(&body).map_err(|err| failed(format!("{base} answered something that is not a catalogue: {err}")))?;
    Ok(Some((tag, page)))
}

/// The innermost reason of an HTTP failure ("Connection refused"), not the whole chain.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Checks that a remote answers as a pipeshare instance with this token.
pub async fn probe(base: &str, token: Option<&str>) -> std::result::Result<(), ReadFailure> {
    fetch_page(&client()?, base, token, None, None, 1).await.map(|_| ())
}

/// Reads a remote's whole catalogue, or learns it is unchanged since `etag`.
pub async fn read(base: &str, token: Option<&str>, etag: Option<&str>) -> std::result::Result<Read, ReadFailure> {
    let http = client()?;
    let mut summary = ScanSummary::default();
    let mut versions = Vec::new();
    let mut after: Option<String> = None;
    let mut first_tag = None;
    for page_number in 0..MAX_PAGES {
        let asked = if page_number == 0 { etag } else { None };
        let Some((tag, page)) = fetch_page(&http, base, token, after.as_deref(), asked, MAX_PAGE).await? else {
            return Ok(Read::Unchanged);
        };
        if page_number == 0 {
            first_tag = tag;
        }
        for entry in page.pipes {
            match version_of(base, entry) {
                Ok(version) => versions.push(version),
                Err((origin, reason)) => {
                    summary.invalid += 1;
                    summary.problem(Path::new(&origin), reason);
                }
            }
        }
        match page.next_after {
            // A remote that repeats a page is not followed round in circles (the order is the
            // remote database's, so it is not compared here).
            Some(next) if after.as_deref() != Some(next.as_str()) => after = Some(next),
            Some(_) => return Err(ReadFailure { message: format!("{base}'s catalogue pages do not advance"), unreachable: false }),
            None => return Ok(Read::Changed { versions, etag: first_tag, summary }),
        }
    }
    Err(ReadFailure { message: format!("{base}'s catalogue has more than {MAX_PAGES} pages"), unreachable: false })
}

/// A catalogue entry as a version to store, or where and why it cannot be.
fn version_of(base: &str, entry: CatalogueEntry) -> std::result::Result<ScannedVersion, (String, String)> {
    let name = PipeName::parse(&entry.name).map_err(|why| (format!("{base}/pipes/{}", crate::model::shown(&entry.name)), why))?;
    let origin = format!("{base}/pipes/{name}");
    // Strongest manifest first, as in a folder.
    let found: Vec<(&str, Value)> =
        MANIFEST_FILES.iter().filter_map(|file| entry.manifests.get(*file).filter(|m| m.is_object()).map(|m| (*file, m.clone()))).collect();
    if found.is_empty() {
        return Err((origin, "the remote sent no manifest".into()));
    }
    let hints = FolderHints { name: Some(name.to_string()), version: Some(entry.version.clone()), category: entry.category };
    let mut version = describe(found, &hints, entry.content_hash, Path::new(&origin)).map_err(|why| (origin.clone(), why))?;
    // The remote's name and version for it, whatever its manifest says.
    version.name = name.to_string();
    version.version = entry.version;
    Ok(version)
}
