//! Loading PlugPipe manifests from a folder tree into the catalogue.
//!
//! Each `<name>/<version>/` folder holding `plug.yaml`, `plugin.yaml`, `glue.yaml` or
//! `pipe.yaml` is one pipe version. The tree is walked once; folders are read and packed on
//! every core and written in batches, so a tree of any size needs memory for two batches
//! only (one being written, the next filling).
use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap, HashSet},
    fs,
    io::{self, Read},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
    thread,
};

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Iterable, JoinType, QueryFilter, QueryOrder,
    QuerySelect,
    prelude::DateTimeUtc,
    sea_query::{Expr, Query, SimpleExpr},
};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::archive::{self, Limits, PackageFile};
use super::catalog::compare_versions;
use super::entities::{JsonText, packages, pipe_versions, pipes};
use super::error::{Error, Result};
use super::publish::{NewPackage, keep_stored_package, remove_unused_packages};
use super::settings::Settings;
use crate::model::PipeName;

/// Manifest file names, strongest first: where files of one folder disagree, the earlier wins.
pub const MANIFEST_FILES: [&str; 4] = ["plug.yaml", "plugin.yaml", "glue.yaml", "pipe.yaml"];

/// A version's spec: the strongest of its manifests, which `get` finds by file name (a
/// version's `manifests` map, parsed or as raw JSON texts).
pub fn strongest_manifest<'a, V: ?Sized>(get: impl Fn(&str) -> Option<&'a V>) -> Option<&'a V> {
    MANIFEST_FILES.iter().find_map(|file| get(file))
}

/// A manifest larger than this is refused unread.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Folders of these names group pipes by kind, not by category.
const KIND_FOLDERS: [&str; 3] = ["plugs", "pipes", "glues"];
/// Versions stored per transaction.
const BATCH: usize = 1000;
/// A batch is written early once it holds this many bytes; one batch is written while the
/// next fills.
const BATCH_BYTES: usize = 16 << 20;
/// Folders a worker takes off the walk at once.
const FOLDERS_PER_TURN: usize = 16;
/// Workers' turns read ahead of the folder the scan counts next.
const QUEUED_TURNS: usize = 8;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ScanSummary {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Versions of pipes owned by someone else, left as they are.
    pub skipped: u64,
    /// Manifests that could not be read or parsed.
    pub invalid: u64,
    pub problems: Vec<ScanProblem>,
    /// The names of the pipes the scan found (for a source: the others are gone).
    #[serde(skip)]
    pub seen: Vec<String>,
    /// Folders whose pipe name belongs to another user or source (among `problems`).
    #[serde(skip)]
    pub conflicts: Vec<ScanProblem>,
}

/// Whom a scan writes for: the owner of what it brings in, and the source it reads (`None`:
/// the operator's one-off `pipeshare scan`).
#[derive(Clone, Copy, Debug)]
pub struct ScanTarget {
    pub owner_id: i32,
    pub source_id: Option<i32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScanProblem {
    pub path: String,
    pub reason: String,
}

impl ScanSummary {
    pub fn folders_seen(&self) -> u64 {
        self.added + self.updated + self.unchanged + self.skipped
    }

    pub fn problem(&mut self, path: &Path, reason: impl Into<String>) {
        self.problems.push(ScanProblem { path: path.display().to_string(), reason: reason.into() });
    }

    /// Adds what another part of the same scan found.
    fn absorb(&mut self, part: ScanSummary) {
        let ScanSummary { added, updated, unchanged, skipped, invalid, problems, seen, conflicts } = part;
        self.added += added;
        self.updated += updated;
        self.unchanged += unchanged;
        self.skipped += skipped;
        self.invalid += invalid;
        self.problems.extend(problems);
        self.seen.extend(seen);
        self.conflicts.extend(conflicts);
    }
}

/// One pipe version as read from its folder.
#[derive(Clone, Debug, PartialEq)]
pub struct ScannedVersion {
    pub name: String,
    pub version: String,
    pub category: Option<String>,
    pub author: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Every readable manifest of the folder, by file name; the strongest is its spec.
    pub manifests: Map<String, Value>,
    /// The package's SHA-256 once packed (a scan packs the folder's files; empty until then),
    /// or as a remote catalogue gives it.
    pub content_hash: String,
    pub source_path: PathBuf,
    /// The folder's files, packed.
    pub package: Option<NewPackage>,
    /// The folder's files' stamp when it was read (`archive::Listing::stamp`).
    pub folder_stamp: Option<String>,
}

/// A manifest file's bytes, refused unread when it is not a regular file or too large.
fn read_manifest(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let meta = fs::symlink_metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.file_type().is_file() {
        return Err(NOT_A_FILE.into());
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(path).and_then(|f| f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes)).map_err(|e| format!("cannot read: {e}"))?;
    Ok(bytes)
}

/// Why a manifest name that is a link or a folder is not read.
const NOT_A_FILE: &str = "not a regular file";

/// A manifest's text as a YAML mapping.
pub fn parse_manifest(bytes: &[u8]) -> std::result::Result<Value, String> {
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    // serde_norway refuses documents whose aliases expand past its repetition limit.
    let value: Value = serde_norway::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    if !value.is_object() {
        return Err("not a YAML mapping".into());
    }
    Ok(value)
}

/// A field from the top level, or from `metadata` as in the PipeSpec form.
fn field<'a>(manifest: &'a Value, key: &str) -> Option<&'a Value> {
    let present = |v: &&Value| !v.is_null();
    manifest.get(key).filter(present).or_else(|| manifest.get("metadata").and_then(|m| m.get(key)).filter(present))
}

/// A manifest's scalar as text for a column; NUL characters are dropped (PostgreSQL stores
/// none, and they mean nothing in a description).
fn scalar_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.replace('\0', "").trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

fn folder_name(path: Option<&Path>) -> Option<String> {
    path.and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned())
}

/// Reads one folder's manifests. `None` when it holds none; broken files are added to
/// `summary` as invalid and the rest of the folder still counts.
pub fn read_version_folder(dir: &Path, summary: &mut ScanSummary) -> Option<ScannedVersion> {
    version_in(dir, summary, |file| {
        let path = dir.join(file);
        match fs::symlink_metadata(&path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            _ => Some(read_manifest(&path).map(Cow::Owned)),
        }
    })
}

/// The version in a folder whose files were read already (`listing` lists them), as
/// [`read_version_folder`] would find it on disk.
fn version_in_files(dir: &Path, listing: &archive::Listing, files: &[PackageFile], summary: &mut ScanSummary) -> Option<ScannedVersion> {
    version_in(dir, summary, |file| match files.iter().find(|f| f.path == file) {
        Some(found) => Some(Ok(Cow::Borrowed(found.bytes.as_slice()))),
        None => listing.holds_other(file).then(|| Err(NOT_A_FILE.to_string())),
    })
}

/// The version a folder's manifests describe, each manifest's bytes as `manifest` gives them
/// by file name (`None`: no such file). Its `content_hash` is left for the package's.
fn version_in<'a>(
    dir: &Path,
    summary: &mut ScanSummary,
    mut manifest: impl FnMut(&str) -> Option<std::result::Result<Cow<'a, [u8]>, String>>,
) -> Option<ScannedVersion> {
    let mut found: Vec<(&str, Value)> = Vec::new();
    for file in MANIFEST_FILES {
        match manifest(file).map(|bytes| bytes.and_then(|bytes| parse_manifest(&bytes))) {
            None => {}
            Some(Ok(value)) => found.push((file, value)),
            Some(Err(reason)) => {
                summary.invalid += 1;
                summary.problem(&dir.join(file), reason);
            }
        }
    }
    if found.is_empty() {
        return None;
    }
    let name_dir = dir.parent();
    let category_dir = name_dir.and_then(Path::parent);
    let hints = FolderHints {
        name: folder_name(name_dir),
        version: folder_name(Some(dir)),
        category: folder_name(category_dir).filter(|c| !KIND_FOLDERS.contains(&c.as_str())),
    };
    match describe(found, &hints, String::new(), dir) {
        Ok(version) => Some(version),
        Err(reason) => {
            summary.invalid += 1;
            summary.problem(dir, reason);
            None
        }
    }
}

/// What a version's folder path says where its manifests are silent.
#[derive(Default)]
pub struct FolderHints {
    pub name: Option<String>,
    pub version: Option<String>,
    pub category: Option<String>,
}

/// A version from its parsed manifests (strongest first, not empty).
pub fn describe(
    found: Vec<(&str, Value)>,
    hints: &FolderHints,
    content_hash: String,
    source_path: &Path,
) -> std::result::Result<ScannedVersion, String> {
    let first_text = |key: &str| found.iter().find_map(|(_, m)| field(m, key).and_then(scalar_text));
    // The manifest's name where it is a valid pipe name, else the folder's.
    let name = first_text("name")
        .into_iter()
        .chain(hints.name.clone())
        .find_map(|n| PipeName::parse(&n).ok())
        .ok_or("neither the manifest's name nor the folder's is a valid pipe name")?;
    let version = first_text("version").or_else(|| hints.version.clone()).ok_or("the manifest names no version")?;
    let tags = found
        .iter()
        .find_map(|(_, m)| field(m, "tags").and_then(Value::as_array))
        .map(|items| items.iter().filter_map(scalar_text).collect())
        .unwrap_or_default();
    let category = first_text("category").or_else(|| hints.category.clone()).map(|c| c.to_lowercase());
    let author = first_text("author").or_else(|| first_text("owner"));
    let status = first_text("status").map(|s| s.to_lowercase());
    let description = first_text("description").or_else(|| first_text("doc"));
    Ok(ScannedVersion {
        category,
        author,
        status,
        description,
        tags,
        manifests: found.into_iter().map(|(file, m)| (file.to_string(), m)).collect(),
        content_hash,
        source_path: source_path.to_path_buf(),
        name: name.into(),
        version,
        package: None,
        folder_stamp: None,
    })
}

/// The manifest's own `name` and `version` (top level or under `metadata`), as publishing
/// requires them: no folder to fall back on.
pub fn manifest_text(manifest: &Value, key: &str) -> Option<String> {
    field(manifest, key).and_then(scalar_text)
}

/// A version ready to store: its manifests already written as the JSON text its row holds
/// (the parsed trees are dropped), so the scan's workers do that work and a batch waiting to
/// be stored holds text only.
struct PreparedVersion {
    /// Its `manifests` are emptied: they are in the text below.
    scanned: ScannedVersion,
    manifests: String,
}

impl From<ScannedVersion> for PreparedVersion {
    fn from(mut scanned: ScannedVersion) -> Self {
        // As `JsonText` writes them; plain data always serialises.
        let mut manifests = serde_json::to_string(&std::mem::take(&mut scanned.manifests)).unwrap_or_default();
        // Grown by doubling: up to half of it would wait in the batch unused.
        manifests.shrink_to_fit();
        PreparedVersion { scanned, manifests }
    }
}

impl PreparedVersion {
    /// Roughly what it holds in memory.
    fn bytes(&self) -> usize {
        self.manifests.len() + self.scanned.package.as_ref().map_or(0, |p| p.bytes.len())
    }
}

enum Outcome {
    Added,
    Updated,
    Unchanged,
    Skipped,
    /// A version someone published: immutable, a folder never changes it.
    Published,
}

/// Copies a version's summary fields onto its pipe row.
pub(crate) fn set_summary(pipe: &mut pipes::ActiveModel, scanned: &ScannedVersion) {
    pipe.latest_version = Set(scanned.version.clone());
    pipe.category = Set(scanned.category.clone());
    pipe.author = Set(scanned.author.clone());
    pipe.status = Set(scanned.status.clone());
    pipe.description = Set(scanned.description.clone());
    pipe.tags = Set(JsonText(scanned.tags.clone()));
    pipe.updated_at = Set(crate::orchestrator::now());
}

/// SQLite binds at most this many values in one statement (PostgreSQL 65,535).
pub(crate) const MAX_BIND_PARAMETERS: usize = 32_766;
// A batch's names, pipe ids and versions each go into one `IN (...)`.
const _: () = assert!(2 * BATCH < MAX_BIND_PARAMETERS);
/// Rows inserted per statement: the driver and the database copy a statement's values, so
/// a few small statements hold less memory at once than one large one.
const ROWS_PER_INSERT: usize = 100;

/// `rows` of `E` in groups for one insert each.
pub(crate) fn per_statement<E: EntityTrait, T>(rows: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    in_groups_of::<E, T>(rows, ROWS_PER_INSERT)
}

/// `rows` of `E` in groups of at most `most` for one insert each, within the bind limit.
fn in_groups_of<E: EntityTrait, T>(rows: Vec<T>, most: usize) -> impl Iterator<Item = Vec<T>> {
    let size = (MAX_BIND_PARAMETERS / E::Column::iter().count()).min(most);
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(size).collect())
    })
}

/// A pipe of the batch as its stored row and the batch's earlier versions leave it.
struct PipeState {
    name: String,
    /// `None` while the batch has still to insert it.
    id: Option<i32>,
    /// This target's: a scan never writes over another owner's, source's or an upload's.
    mine: bool,
    latest_version: String,
    /// The batch's version whose summary the pipe takes, when one is at least its latest.
    summary_from: Option<usize>,
}

/// What a batch reads of a stored version: not its manifests.
#[derive(FromQueryResult)]
struct StoredVersion {
    id: i32,
    pipe_id: i32,
    version: String,
    content_hash: String,
    published_by: Option<i32>,
    folder_stamp: Option<String>,
}

/// A version row as it is stored and as the batch's earlier folders leave it.
struct VersionState {
    /// Its pipe, among the batch's.
    pipe: usize,
    version: String,
    /// `None` while the batch has still to insert it.
    id: Option<i32>,
    published: bool,
    content_hash: String,
    folder_stamp: Option<String>,
    /// The batch's version whose files the row takes, when they changed.
    files_from: Option<usize>,
    stamp_changed: bool,
}

/// The version row's columns that follow its folder's files: what a changed folder rewrites.
/// The manifests' texts are moved out: each version's files go to one row at most.
fn files_columns(
    prepared: &mut PreparedVersion,
    folder_stamp: Option<String>,
    now: DateTimeUtc,
) -> Vec<(pipe_versions::Column, SimpleExpr)> {
    use pipe_versions::Column;
    let manifests = std::mem::take(&mut prepared.manifests);
    let scanned = &prepared.scanned;
    let package = scanned.package.as_ref();
    vec![
        (Column::Manifests, manifests.into()),
        (Column::ContentHash, scanned.content_hash.clone().into()),
        (Column::SourcePath, scanned.source_path.display().to_string().into()),
        (Column::PackageSha256, package.map(|p| p.sha256.clone()).into()),
        (Column::Readme, package.and_then(|p| p.readme.clone()).into()),
        (Column::FolderStamp, folder_stamp.into()),
        (Column::UpdatedAt, now.into()),
    ]
}

/// Stores one batch in one transaction, as storing its versions one after another would: a
/// later folder of the same pipe and version sees what an earlier one wrote. The stored rows
/// are read with one query per table, new rows are inserted many per statement, and rows
/// are written in the batch's order.
async fn store_batch(db: &DatabaseConnection, target: ScanTarget, mut batch: Vec<PreparedVersion>) -> Result<ScanSummary> {
    let mut summary = ScanSummary::default();
    if batch.is_empty() {
        return Ok(summary);
    }
    let now = crate::orchestrator::now();
    // Written first, so a scan beside users' publishes waits its turn on SQLite.
    let (txn, _turn) = super::db::begin_writing(db, target.owner_id).await?;
    let names: HashSet<&str> = batch.iter().map(|p| p.scanned.name.as_str()).collect();
    let mut pipes: Vec<PipeState> = pipes::Entity::find()
        .filter(pipes::Column::Name.is_in(names))
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| PipeState {
            mine: p.owner_id == target.owner_id && p.source_id == target.source_id,
            name: p.name,
            id: Some(p.id),
            latest_version: p.latest_version,
            summary_from: None,
        })
        .collect();
    let mut pipe_at: HashMap<String, usize> = pipes.iter().enumerate().map(|(at, p)| (p.name.clone(), at)).collect();
    let mut versions: Vec<VersionState> = Vec::new();
    let mut version_at: HashMap<(usize, String), usize> = HashMap::new();
    if !pipes.is_empty() {
        let at_of_id: HashMap<i32, usize> = pipes.iter().enumerate().filter_map(|(at, p)| Some((p.id?, at))).collect();
        let wanted: HashSet<&str> = batch.iter().map(|p| p.scanned.version.as_str()).collect();
        let stored = pipe_versions::Entity::find()
            .select_only()
            .columns([
                pipe_versions::Column::Id,
                pipe_versions::Column::PipeId,
                pipe_versions::Column::Version,
                pipe_versions::Column::ContentHash,
                pipe_versions::Column::PublishedBy,
                pipe_versions::Column::FolderStamp,
            ])
            .filter(pipe_versions::Column::PipeId.is_in(at_of_id.keys().copied()))
            .filter(pipe_versions::Column::Version.is_in(wanted))
            .into_model::<StoredVersion>()
            .all(&txn)
            .await?;
        for row in stored {
            let pipe = at_of_id[&row.pipe_id];
            version_at.insert((pipe, row.version.clone()), versions.len());
            versions.push(VersionState {
                pipe,
                version: row.version,
                id: Some(row.id),
                published: row.published_by.is_some(),
                content_hash: row.content_hash,
                folder_stamp: row.folder_stamp,
                files_from: None,
                stamp_changed: false,
            });
        }
    }

    // What each version does, in order, to the rows as the earlier ones leave them.
    for (at, prepared) in batch.iter().enumerate() {
        let scanned = &prepared.scanned;
        let pipe_index = *pipe_at.entry(scanned.name.clone()).or_insert_with(|| {
            let pipe =
                PipeState { name: scanned.name.clone(), id: None, mine: true, latest_version: scanned.version.clone(), summary_from: None };
            pipes.push(pipe);
            pipes.len() - 1
        });
        let pipe = &mut pipes[pipe_index];
        // A name another user, another source or a local upload holds is never overwritten.
        if !pipe.mine {
            record(&mut summary, Outcome::Skipped, scanned);
            continue;
        }
        let key = (pipe_index, scanned.version.clone());
        let outcome = match version_at.get(&key).copied() {
            Some(row) if versions[row].published => Outcome::Published,
            Some(row) if versions[row].content_hash == scanned.content_hash => {
                let row = &mut versions[row];
                if row.folder_stamp != scanned.folder_stamp {
                    row.folder_stamp = scanned.folder_stamp.clone();
                    row.stamp_changed = true;
                }
                Outcome::Unchanged
            }
            Some(row) => {
                let row = &mut versions[row];
                row.content_hash = scanned.content_hash.clone();
                row.folder_stamp = scanned.folder_stamp.clone();
                row.files_from = Some(at);
                Outcome::Updated
            }
            None => {
                version_at.insert(key, versions.len());
                versions.push(VersionState {
                    pipe: pipe_index,
                    version: scanned.version.clone(),
                    id: None,
                    published: false,
                    content_hash: scanned.content_hash.clone(),
                    folder_stamp: scanned.folder_stamp.clone(),
                    files_from: Some(at),
                    stamp_changed: false,
                });
                Outcome::Added
            }
        };
        if matches!(outcome, Outcome::Added | Outcome::Updated) && compare_versions(&scanned.version, &pipe.latest_version).is_ge() {
            pipe.latest_version = scanned.version.clone();
            pipe.summary_from = Some(at);
        }
        record(&mut summary, outcome, scanned);
    }

    // Then the writes: the packages the rows end with (not those of folders a later one
    // replaced, or of published versions), new pipes, new versions, and the rows that
    // changed. The bytes are moved out; the versions' rows need only the hash and the README.
    // Packages go in by hash: on PostgreSQL storing one that is there holds its row, and
    // transactions that hold rows in one order never wait on each other in a circle.
    let mut new_packages = BTreeMap::new();
    for row in &versions {
        let Some(package) = row.files_from.and_then(|at| batch[at].scanned.package.as_mut()) else { continue };
        if let std::collections::btree_map::Entry::Vacant(slot) = new_packages.entry(package.sha256.clone()) {
            slot.insert(packages::ActiveModel {
                sha256: Set(package.sha256.clone()),
                size: Set(package.bytes.len() as i64),
                files: Set(JsonText(std::mem::take(&mut package.entries))),
                content: Set(std::mem::take(&mut package.bytes)),
                created_at: Set(now),
            });
        }
    }
    for rows in per_statement::<packages::Entity, _>(new_packages.into_values().collect()) {
        packages::Entity::insert_many(rows)
            .on_conflict(keep_stored_package(txn.get_database_backend()))
            .exec_without_returning(&txn)
            .await?;
    }
    let origin = |scanned: &ScannedVersion| target.source_id.map(|_| scanned.source_path.display().to_string());
    for pipe in &pipes {
        let (Some(at), Some(id)) = (pipe.summary_from, pipe.id) else { continue };
        let scanned = &batch[at].scanned;
        let mut row = pipes::ActiveModel::default();
        set_summary(&mut row, scanned);
        if let Some(origin) = origin(scanned) {
            row.origin = Set(Some(origin));
        }
        pipes::Entity::update_many().set(row).filter(pipes::Column::Id.eq(id)).exec(&txn).await?;
    }
    let mut new_pipes = Vec::new();
    for pipe in pipes.iter().filter(|pipe| pipe.id.is_none()) {
        // A new pipe takes the summary of its version(s) in this batch.
        let Some(at) = pipe.summary_from else { continue };
        let scanned = &batch[at].scanned;
        let mut row = pipes::ActiveModel {
            name: Set(pipe.name.clone()),
            owner_id: Set(target.owner_id),
            created_at: Set(now),
            source_id: Set(target.source_id),
            origin: Set(origin(scanned)),
            ..Default::default()
        };
        set_summary(&mut row, scanned);
        new_pipes.push(row);
    }
    if !new_pipes.is_empty() {
        let new_names: Vec<String> = pipes.iter().filter(|pipe| pipe.id.is_none()).map(|pipe| pipe.name.clone()).collect();
        // A batch's new pipes in one statement where the bind limit allows: SQLite's search
        // index writes what its triggers gave it at the end of each statement, and many small
        // writes cost it merges.
        for rows in in_groups_of::<pipes::Entity, _>(new_pipes, BATCH) {
            pipes::Entity::insert_many(rows).exec_without_returning(&txn).await?;
        }
        let inserted: Vec<(i32, String)> = pipes::Entity::find()
            .select_only()
            .columns([pipes::Column::Id, pipes::Column::Name])
            .filter(pipes::Column::Name.is_in(new_names))
            .into_tuple()
            .all(&txn)
            .await?;
        for (id, name) in inserted {
            pipes[pipe_at[&name]].id = Some(id);
        }
    }
    let mut new_versions = Vec::new();
    for row in versions {
        let Some(at) = row.files_from else {
            if let (Some(id), true) = (row.id, row.stamp_changed) {
                pipe_versions::Entity::update_many()
                    .col_expr(pipe_versions::Column::FolderStamp, Expr::value(row.folder_stamp))
                    .filter(pipe_versions::Column::Id.eq(id))
                    .exec(&txn)
                    .await?;
            }
            continue;
        };
        let files = files_columns(&mut batch[at], row.folder_stamp, now);
        match row.id {
            Some(id) => {
                let mut update = pipe_versions::Entity::update_many().filter(pipe_versions::Column::Id.eq(id));
                for (column, value) in files {
                    update = update.col_expr(column, value);
                }
                update.exec(&txn).await?;
            }
            None => {
                let pipe = &pipes[row.pipe];
                let pipe_id = pipe.id.ok_or_else(|| Error::Internal(format!("pipe '{}' was not inserted", pipe.name)))?;
                let mut columns =
                    vec![(pipe_versions::Column::PipeId, pipe_id.into()), (pipe_versions::Column::Version, row.version.into())];
                columns.extend(files);
                columns.push((pipe_versions::Column::CreatedAt, now.into()));
                new_versions.push(columns);
            }
        }
    }
    for rows in per_statement::<pipe_versions::Entity, _>(new_versions) {
        let mut insert = Query::insert();
        insert.into_table(pipe_versions::Entity).columns(rows[0].iter().map(|(column, _)| *column));
        for row in rows {
            insert.values_panic(row.into_iter().map(|(_, value)| value));
        }
        txn.execute(txn.get_database_backend().build(&insert)).await?;
    }
    txn.commit().await?;
    Ok(summary)
}

/// Counts a version's outcome, and says why when it was left as it was.
fn record(summary: &mut ScanSummary, outcome: Outcome, scanned: &ScannedVersion) {
    if !matches!(outcome, Outcome::Skipped) {
        summary.seen.push(scanned.name.clone());
    }
    match outcome {
        Outcome::Added => summary.added += 1,
        Outcome::Updated => summary.updated += 1,
        Outcome::Unchanged => summary.unchanged += 1,
        Outcome::Skipped => {
            summary.skipped += 1;
            let reason = format!("pipe '{}' belongs to another user or source; it is not overwritten", scanned.name);
            summary.conflicts.push(ScanProblem { path: scanned.source_path.display().to_string(), reason: reason.clone() });
            summary.problem(&scanned.source_path, reason);
        }
        Outcome::Published => {
            summary.skipped += 1;
            let reason = format!("version {} of '{}' was published; published versions are never changed", scanned.version, scanned.name);
            summary.problem(&scanned.source_path, reason);
        }
    }
}

/// Stores versions read from elsewhere (a remote catalogue) as a scan stores a folder's: in
/// batches, never over another owner's or source's pipe.
pub async fn store_versions(
    db: &DatabaseConnection,
    target: ScanTarget,
    versions: Vec<ScannedVersion>,
    summary: &mut ScanSummary,
) -> Result<()> {
    let mut versions = versions.into_iter().map(PreparedVersion::from).peekable();
    while versions.peek().is_some() {
        let batch: Vec<PreparedVersion> = versions.by_ref().take(BATCH).collect();
        summary.absorb(store_batch(db, target, batch).await?);
    }
    after_storing(db, summary).await
}

/// What follows a scan's last batch: the packages of the versions it updated are removed
/// when nothing else refers to them (with any a scan that stopped early left), and the
/// planner's statistics are refreshed when the scan wrote anything. An unchanged rescan
/// leaves them: `ANALYZE` reads every table and index (0.5 s of a 4 s rescan of 100k pipes),
/// and a source is rescanned on every interval.
async fn after_storing(db: &DatabaseConnection, summary: &ScanSummary) -> Result<()> {
    if summary.updated > 0 {
        remove_unused_packages(db).await?;
    }
    if summary.added + summary.updated > 0 {
        super::db::refresh_statistics(db).await?;
    }
    Ok(())
}

/// The version folders this target's last scans stored, by path: the pipe's name and the
/// folder's stamp then.
async fn known_folders(db: &DatabaseConnection, target: ScanTarget) -> Result<HashMap<String, (String, String)>> {
    let mine = Condition::all().add(pipes::Column::OwnerId.eq(target.owner_id)).add(match target.source_id {
        Some(id) => pipes::Column::SourceId.eq(id),
        None => pipes::Column::SourceId.is_null(),
    });
    let pipe = || -> sea_orm::RelationDef {
        pipe_versions::Entity::belongs_to(pipes::Entity).from(pipe_versions::Column::PipeId).to(pipes::Column::Id).into()
    };
    // Only this target's versions: other owners' and sources' stamps are never read. Read a
    // page at a time: at 100k versions, all rows at once took 100 MiB beside the map.
    let mut known = HashMap::new();
    let mut after = 0;
    loop {
        let page: Vec<(i32, String, String, String)> = pipe_versions::Entity::find()
            .select_only()
            .column(pipe_versions::Column::Id)
            .column(pipes::Column::Name)
            .columns([pipe_versions::Column::SourcePath, pipe_versions::Column::FolderStamp])
            .join(JoinType::InnerJoin, pipe())
            .filter(mine.clone())
            .filter(pipe_versions::Column::FolderStamp.is_not_null())
            .filter(pipe_versions::Column::PublishedBy.is_null())
            .filter(pipe_versions::Column::Id.gt(after))
            .order_by_asc(pipe_versions::Column::Id)
            .limit(KNOWN_PER_PAGE)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        known.extend(page.into_iter().map(|(_, name, path, stamp)| (path, (name, stamp))));
    }
    Ok(known)
}

/// Stored versions read at once by [`known_folders`].
const KNOWN_PER_PAGE: u64 = 5000;

/// What the scan's workers share: the walk, handed out a few folders at a time, and what
/// reading a folder needs.
struct Walk {
    entries: Mutex<FolderWalk>,
    known: HashMap<String, (String, String)>,
    limits: Limits,
}

/// A folder of the tree and its entries, as the walk listed them.
struct Folder {
    path: PathBuf,
    entries: Vec<archive::FolderEntry>,
}

/// The scan's walk of a tree: folder by folder, depth first in name order, each folder listed
/// once, its entries handed on with it. Links are not followed, and folders that packages
/// leave out (`.git`, `node_modules`, `__pycache__`) are not entered.
struct FolderWalk {
    /// The folders still to list, the next one last.
    pending: Vec<PathBuf>,
}

/// A folder the walk listed, or the one it could not list and why.
type Listed = std::result::Result<Folder, (PathBuf, io::Error)>;

impl Iterator for FolderWalk {
    type Item = Listed;

    fn next(&mut self) -> Option<Self::Item> {
        let path = self.pending.pop()?;
        let entries = match archive::folder_entries(&path) {
            Ok(entries) => entries,
            Err(err) => return Some(Err((path, err))),
        };
        let inner = entries.iter().rev().filter(|entry| entry.kind.is_dir() && !archive::left_out(&entry.name, entry.kind));
        self.pending.extend(inner.map(|entry| path.join(&entry.name)));
        Some(Ok(Folder { path, entries }))
    }
}

/// One entry of the walk as a worker found it.
struct Examined {
    /// Files and folders that could not be read or packed (only `invalid` and `problems`).
    trouble: ScanSummary,
    found: Found,
}

enum Found {
    /// No version: no manifest, or none that could be used.
    Nothing,
    /// A version folder whose files are as the last scan stored them, with its pipe's name:
    /// not read again.
    Unchanged(String),
    Version(Box<PreparedVersion>),
}

/// Takes folders off the walk until it ends, or until the scan stops listening, and
/// examines them. A worker takes a few folders per turn (handing over the lock costs more
/// than stepping the walk) and queues its answer for them under the walk's lock, so the
/// scan counts and stores folders in walk order whichever worker finishes first. The queue
/// is bounded: workers wait while the database catches up.
fn examine_folders(walk: &Walk, queue: &mpsc::Sender<oneshot::Receiver<Vec<Examined>>>) {
    loop {
        let (folders, reply) = {
            let mut entries = walk.entries.lock().unwrap_or_else(PoisonError::into_inner);
            let folders: Vec<_> = entries.by_ref().take(FOLDERS_PER_TURN).collect();
            let (reply, examined) = oneshot::channel();
            if folders.is_empty() || queue.blocking_send(examined).is_err() {
                return;
            }
            (folders, reply)
        };
        // Nobody listens any more when the scan has failed.
        let _ = reply.send(folders.into_iter().map(|entry| examine(walk, entry)).collect());
    }
}

/// Reads and packs one folder of the walk, unless its stamp says it is as last stored.
fn examine(walk: &Walk, folder: Listed) -> Examined {
    let mut trouble = ScanSummary::default();
    let folder = match folder {
        Ok(folder) => folder,
        Err((path, err)) => {
            trouble.invalid += 1;
            trouble.problem(&path, format!("cannot read: {err}"));
            return Examined { trouble, found: Found::Nothing };
        }
    };
    let dir = folder.path.as_path();
    // A version folder whose files are as the last scan stored them is not read again. The
    // stamp is taken from the listing, before any read, so a change made while reading shows
    // next time.
    let known_here = dir.to_str().and_then(|path| walk.known.get(path));
    let holds_manifest = || folder.entries.iter().any(|entry| entry.name.to_str().is_some_and(|name| MANIFEST_FILES.contains(&name)));
    if known_here.is_none() && !holds_manifest() {
        return Examined { trouble, found: Found::Nothing };
    }
    let listing = archive::list_entries(dir, &folder.entries);
    let stamp = listing.stamp();
    if let Some((name, known_stamp)) = known_here
        && stamp.as_ref() == Some(known_stamp)
    {
        return Examined { trouble, found: Found::Unchanged(name.clone()) };
    }
    // The folder's files travel with the version, within the same bound as an upload; its
    // manifests are parsed from them, not read again. When they cannot be read, the
    // manifests are read alone, to say what is wrong with them too.
    let files = listing.read(&walk.limits);
    let scanned = match &files {
        Ok(files) => version_in_files(dir, &listing, files, &mut trouble),
        Err(_) => read_version_folder(dir, &mut trouble),
    };
    let Some(mut scanned) = scanned else {
        return Examined { trouble, found: Found::Nothing };
    };
    scanned.folder_stamp = stamp;
    match files.map_err(Error::from).and_then(|files| NewPackage::of(&files)) {
        Ok(package) => {
            scanned.content_hash = package.sha256.clone();
            scanned.package = Some(package);
            Examined { trouble, found: Found::Version(Box::new(scanned.into())) }
        }
        Err(err) => {
            trouble.invalid += 1;
            trouble.problem(dir, format!("its files cannot be packed: {}", err.public_message()));
            Examined { trouble, found: Found::Nothing }
        }
    }
}

/// Scans `root` for the user `owner_id`. `progress` is called after each folder with
/// manifests.
///
/// Folders are read, parsed and packed on every core while the database stores the batch
/// before; they are counted and stored in walk order, so the result does not depend on
/// which worker is faster.
pub async fn scan_dir(
    db: &DatabaseConnection,
    root: &Path,
    target: ScanTarget,
    mut progress: impl FnMut(&ScanSummary),
) -> Result<ScanSummary> {
    if !root.is_dir() {
        return Err(Error::bad(format!("{} is not a folder", root.display())));
    }
    let walk = Arc::new(Walk {
        entries: Mutex::new(FolderWalk { pending: vec![root.to_path_buf()] }),
        known: known_folders(db, target).await?,
        limits: Limits::new(Settings::load(db).await?.max_archive_bytes),
    });
    let (queue, mut turns) = mpsc::channel(QUEUED_TURNS);
    // One worker more than there are cores: a worker waiting for the disk (a folder or file
    // not cached yet) leaves its core to the spare one.
    for _ in 0..=thread::available_parallelism().map_or(1, usize::from) {
        let (walk, queue) = (walk.clone(), queue.clone());
        // The workers end by themselves once the walk is done or nobody listens.
        thread::Builder::new()
            .name("scan".into())
            .spawn(move || examine_folders(&walk, &queue))
            .map_err(|err| Error::Internal(format!("cannot start a scan worker: {err}")))?;
    }
    drop(queue);

    let mut summary = ScanSummary::default();
    // One batch is written while the next one fills; each batch's outcome is counted once the
    // next is handed over, at the same point whatever the timing.
    let (to_write, mut batches) = mpsc::channel::<Vec<PreparedVersion>>(1);
    let (report, written) = mpsc::channel::<ScanSummary>(1);
    let write = async move {
        while let Some(batch) = batches.recv().await {
            let outcome = store_batch(db, target, batch).await?;
            if report.send(outcome).await.is_err() {
                break;
            }
        }
        Ok::<_, Error>(())
    };
    let read = async {
        let mut handover = Handover { to_write, written, writing: false };
        let mut batch = Vec::with_capacity(BATCH);
        let mut batch_bytes = 0;
        while let Some(turn) = turns.recv().await {
            for Examined { trouble, found } in turn.await.map_err(|_| Error::Internal("a scan worker stopped".into()))? {
                summary.absorb(trouble);
                match found {
                    Found::Nothing => continue,
                    Found::Unchanged(name) => {
                        summary.unchanged += 1;
                        summary.seen.push(name);
                    }
                    Found::Version(version) => {
                        batch_bytes += version.bytes();
                        batch.push(*version);
                        if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
                            handover.hand_over(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)), &mut summary).await?;
                            batch_bytes = 0;
                        }
                    }
                }
                progress(&summary);
            }
        }
        handover.hand_over(batch, &mut summary).await?;
        handover.collect(&mut summary).await
    };
    tokio::try_join!(read, write)?;
    after_storing(db, &summary).await?;
    progress(&summary);
    Ok(summary)
}

/// The scan's side of the batches on their way to the database.
struct Handover {
    to_write: mpsc::Sender<Vec<PreparedVersion>>,
    written: mpsc::Receiver<ScanSummary>,
    /// A batch was handed over and its outcome not yet counted.
    writing: bool,
}

impl Handover {
    /// Hands `batch` over once the one before is written, and counts how that one went.
    async fn hand_over(&mut self, batch: Vec<PreparedVersion>, summary: &mut ScanSummary) -> Result<()> {
        self.collect(summary).await?;
        if !batch.is_empty() {
            self.to_write.send(batch).await.map_err(|_| Error::Internal("the scan's writer stopped".into()))?;
            self.writing = true;
        }
        Ok(())
    }

    /// Waits for the batch handed over last to be written, and counts how it went.
    async fn collect(&mut self, summary: &mut ScanSummary) -> Result<()> {
        if std::mem::take(&mut self.writing) {
            summary.absorb(self.written.recv().await.ok_or_else(|| Error::Internal("the scan's writer stopped".into()))?);
        }
        Ok(())
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, Statement};

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// A version folder at `folder` holding `files` (name, text), as the scan reads it.
    fn read_written(folder: &str, files: &[(&str, &str)]) -> (Option<ScannedVersion>, ScanSummary) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            write(dir.path(), &format!("{folder}/{name}"), text);
        }
        let mut summary = ScanSummary::default();
        (read_version_folder(&dir.path().join(folder), &mut summary), summary)
    }

    /// A stored version's spec: the strongest of its manifests.
    fn spec_of(row: &pipe_versions::Model) -> &Value {
        strongest_manifest(|file| row.manifests.0.get(file)).unwrap()
    }

    #[test]
    fn folder_names_fill_in_what_the_manifest_lacks() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "plugs/Security/scanner/2.1.0/plug.yaml", "description: finds things\nstatus: Stable\n");
        let mut summary = ScanSummary::default();
        let v = read_version_folder(&dir.path().join("plugs/Security/scanner/2.1.0"), &mut summary).unwrap();
        assert_eq!((v.name.as_str(), v.version.as_str()), ("scanner", "2.1.0"));
        assert_eq!(v.category.as_deref(), Some("security"));
        assert_eq!(v.status.as_deref(), Some("stable"));
    }

    #[test]
    fn a_kind_folder_is_not_a_category() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pipes/flow/1.0.0/pipe.yaml",
            "kind: PipeSpec\nmetadata:\n  name: my-flow\n  owner: Team A\n  version: 1.0.0\n  tags: [a, b]\n",
        );
        let mut summary = ScanSummary::default();
        let v = read_version_folder(&dir.path().join("pipes/flow/1.0.0"), &mut summary).unwrap();
        assert_eq!(v.name, "my-flow");
        assert_eq!(v.category, None);
        assert_eq!(v.author.as_deref(), Some("Team A"));
        assert_eq!(v.tags, vec!["a", "b"]);
    }

    #[test]
    fn plug_yaml_wins_over_the_others() {
        let (v, _) = read_written(
            "x/p/1.0",
            &[
                ("pipe.yaml", "metadata:\n  name: from-pipe\n  description: pipe text\n"),
                ("glue.yaml", "name: from-glue\nstatus: experimental\n"),
                ("plugin.yaml", "name: from-plugin\ncategory: Data\n"),
                ("plug.yaml", "name: from-plug\n"),
            ],
        );
        let v = v.unwrap();
        assert_eq!(v.name, "from-plug");
        assert_eq!(v.category.as_deref(), Some("data"));
        assert_eq!(v.status.as_deref(), Some("experimental"));
        assert_eq!(v.description.as_deref(), Some("pipe text"));
        assert_eq!(v.manifests.len(), 4);
        assert_eq!(strongest_manifest(|file| v.manifests.get(file)).unwrap()["name"], "from-plug");
    }

    #[test]
    fn a_prepared_version_holds_its_manifests_as_json_writes_them() {
        let (scanned, _) = read_written(
            "x/p/1.0",
            &[
                ("pipe.yaml", "metadata:\n  name: from-pipe\n  description: \"a \\\" quote, ü and \\t\"\n"),
                ("plug.yaml", "name: from-plug\ntags: [a, b]\nschema: {type: object, n: 1.5}\n"),
            ],
        );
        let scanned = scanned.unwrap();
        let manifests = serde_json::to_string(&scanned.manifests).unwrap();
        let prepared = PreparedVersion::from(scanned);
        assert_eq!(prepared.manifests, manifests);
        let row: Map<String, Value> = serde_json::from_str(&prepared.manifests).unwrap();
        assert_eq!(row["pipe.yaml"]["metadata"]["description"], "a \" quote, ü and \t");
        assert_eq!(strongest_manifest(|file| row.get(file)).unwrap()["schema"]["n"], 1.5, "the spec is plug.yaml");
    }

    #[test]
    fn broken_files_are_reported_and_the_rest_of_the_folder_counts() {
        let (v, summary) = read_written("c/p/1.0", &[("plug.yaml", "name: [unclosed\n"), ("pipe.yaml", "metadata:\n  name: ok\n")]);
        let v = v.unwrap();
        assert_eq!(v.name, "ok");
        assert_eq!(summary.invalid, 1);
        assert!(summary.problems[0].path.ends_with("plug.yaml"));
    }

    async fn database(dir: &Path) -> DatabaseConnection {
        super::super::db::connect(&format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await.unwrap()
    }

    async fn user(db: &DatabaseConnection, name: &str) -> i32 {
        super::super::accounts::create_user(db, &name.parse().unwrap(), "correct horse battery", false).await.unwrap().id
    }

    fn plug(name: &str, version: &str, description: &str) -> String {
        format!("name: {name}\nversion: {version}\ndescription: {description}\n")
    }

    /// A database with the user alice (her id), and where her tree goes.
    async fn alices_tree() -> (tempfile::TempDir, DatabaseConnection, i32, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path()).await;
        let alice = user(&db, "alice").await;
        let tree = dir.path().join("tree");
        (dir, db, alice, tree)
    }

    /// The stored packages, and those no version refers to.
    async fn packages_and_unused(db: &DatabaseConnection) -> (Vec<String>, Vec<String>) {
        let stored: Vec<String> =
            packages::Entity::find().select_only().column(packages::Column::Sha256).into_tuple().all(db).await.unwrap();
        let referred: HashSet<String> = pipe_versions::Entity::find()
            .select_only()
            .column(pipe_versions::Column::PackageSha256)
            .into_tuple::<Option<String>>()
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .flatten()
            .collect();
        let unused = stored.iter().filter(|sha| !referred.contains(*sha)).cloned().collect();
        (stored, unused)
    }

    #[tokio::test]
    async fn a_scan_stores_its_folders_as_one_after_another_would() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path()).await;
        let (alice, bob) = (user(&db, "alice").await, user(&db, "bob").await);
        let theirs = dir.path().join("theirs");
        write(&theirs, "c/taken/1.0.0/plug.yaml", &plug("taken", "1.0.0", "bob's"));
        scan_dir(&db, &theirs, ScanTarget { owner_id: bob, source_id: None }, |_| {}).await.unwrap();

        let tree = dir.path().join("tree");
        // Walk order: a/ before b/, and 1.0.0, 1.10.0, 1.2.0 by name.
        write(&tree, "a/dup/1.0.0/plug.yaml", &plug("dup", "1.0.0", "first"));
        write(&tree, "b/dup/1.0.0/plug.yaml", &plug("dup", "1.0.0", "second"));
        write(&tree, "a/same/1.0.0/plug.yaml", &plug("same", "1.0.0", "twice"));
        write(&tree, "b/same/1.0.0/plug.yaml", &plug("same", "1.0.0", "twice"));
        write(&tree, "a/many/1.0.0/plug.yaml", &plug("many", "1.0.0", "old"));
        write(&tree, "a/many/1.10.0/plug.yaml", &plug("many", "1.10.0", "newest"));
        write(&tree, "a/many/1.2.0/plug.yaml", &plug("many", "1.2.0", "middle"));
        write(&tree, "a/taken/1.0.0/plug.yaml", &plug("taken", "1.0.0", "alice's"));
        write(&tree, "a/broken/1.0.0/plug.yaml", "name: [unclosed\n");
        let mut calls = 0;
        let summary = scan_dir(&db, &tree, ScanTarget { owner_id: alice, source_id: None }, |_| calls += 1).await.unwrap();
        assert_eq!((summary.added, summary.updated, summary.unchanged, summary.skipped, summary.invalid), (5, 1, 1, 1, 1), "{summary:?}");
        assert_eq!(calls, 8 + 1, "once per version folder, and once at the end");
        assert_eq!(summary.conflicts.len(), 1);
        assert!(summary.conflicts[0].path.ends_with("a/taken/1.0.0"));
        assert_eq!(summary.problems.len(), 2);
        assert!(summary.problems[0].path.ends_with("a/broken/1.0.0/plug.yaml"), "read problems first: {:?}", summary.problems);
        assert_eq!(summary.seen, ["dup", "many", "many", "many", "same", "dup", "same"]);
        // a/dup's package was replaced by b/dup's in the same batch: it was never stored.
        let (stored_packages, unused) = packages_and_unused(&db).await;
        assert_eq!((stored_packages.len(), unused), (6, vec![]), "with bob's");

        let stored = |name: &str| {
            let db = db.clone();
            let name = name.to_string();
            async move { pipes::Entity::find().filter(pipes::Column::Name.eq(name)).one(&db).await.unwrap().unwrap() }
        };
        let version = |pipe: i32, version: &str| {
            let db = db.clone();
            let version = version.to_string();
            async move {
                pipe_versions::Entity::find()
                    .filter(pipe_versions::Column::PipeId.eq(pipe))
                    .filter(pipe_versions::Column::Version.eq(version))
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let dup = stored("dup").await;
        let dup_row = version(dup.id, "1.0.0").await;
        assert_eq!(dup.description.as_deref(), Some("second"), "the later folder updates");
        assert!(dup_row.source_path.ends_with("b/dup/1.0.0"));
        assert_eq!(spec_of(&dup_row)["description"], "second");
        let package = dup_row.package_sha256.clone().unwrap();
        assert_eq!(package, dup_row.content_hash);
        assert!(packages::Entity::find_by_id(package.clone()).one(&db).await.unwrap().is_some());
        let same = version(stored("same").await.id, "1.0.0").await;
        assert!(same.source_path.ends_with("a/same/1.0.0"), "unchanged files: the first folder's row stays");
        assert_eq!(same.folder_stamp, archive::list_dir(&tree.join("b/same/1.0.0")).stamp(), "with the later folder's stamp");
        let many = stored("many").await;
        assert_eq!((many.latest_version.as_str(), many.description.as_deref()), ("1.10.0", Some("newest")));
        assert_eq!(stored("taken").await.description.as_deref(), Some("bob's"));
        // Rows are written in walk order.
        let ids: Vec<i32> = vec![dup.id, many.id, stored("same").await.id];
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

        // A published version is never changed. a/dup is read again (b/dup's row holds the
        // path) and differs from what b/dup left; b/dup is then unchanged by its stamp.
        let mut published = pipe_versions::ActiveModel { id: Set(version(many.id, "1.2.0").await.id), ..Default::default() };
        published.published_by = Set(Some(alice));
        sea_orm::ActiveModelTrait::update(published, &db).await.unwrap();
        write(&tree, "a/many/1.2.0/plug.yaml", &plug("many", "1.2.0", "edited"));
        let again = scan_dir(&db, &tree, ScanTarget { owner_id: alice, source_id: None }, |_| {}).await.unwrap();
        assert_eq!((again.added, again.updated, again.unchanged, again.skipped, again.invalid), (0, 1, 5, 2, 1), "{again:?}");
        assert_eq!(stored("dup").await.description.as_deref(), Some("first"));
        assert!(again.problems.iter().any(|p| p.reason.contains("was published")));
        assert_eq!(spec_of(&version(many.id, "1.2.0").await)["description"], "middle");
        // b/dup's package went with its files; the published version's edit stored nothing.
        let (after, unused) = packages_and_unused(&db).await;
        assert_eq!(unused, Vec::<String>::new());
        assert!(!after.contains(&package), "the replaced package is removed");
        assert_eq!(after.len(), 6);
    }

    #[tokio::test]
    async fn only_a_scan_that_writes_refreshes_the_planners_statistics() {
        let (_dir, db, alice, tree) = alices_tree().await;
        let target = ScanTarget { owner_id: alice, source_id: None };
        let statistics = || async {
            let row = db.query_one(Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) AS n FROM sqlite_stat1")).await.unwrap();
            row.unwrap().try_get::<i64>("", "n").unwrap()
        };
        write(&tree, "c/one/1.0.0/plug.yaml", &plug("one", "1.0.0", "first"));
        scan_dir(&db, &tree, target, |_| {}).await.unwrap();
        assert!(statistics().await > 0, "a scan that adds a pipe refreshes them");
        db.execute_unprepared("DELETE FROM sqlite_stat1").await.unwrap();
        let unchanged = scan_dir(&db, &tree, target, |_| {}).await.unwrap();
        assert_eq!(unchanged.unchanged, 1);
        assert_eq!(statistics().await, 0, "an unchanged rescan leaves them");
        write(&tree, "c/one/1.0.0/plug.yaml", &plug("one", "1.0.0", "edited"));
        assert_eq!(scan_dir(&db, &tree, target, |_| {}).await.unwrap().updated, 1);
        assert!(statistics().await > 0, "a scan that updates a pipe refreshes them");
    }

    #[tokio::test]
    async fn migrating_removes_the_packages_earlier_scans_left_unused() {
        use migration::MigratorTrait;
        let (_dir, db, alice, tree) = alices_tree().await;
        write(&tree, "c/kept/1.0.0/plug.yaml", &plug("kept", "1.0.0", "in use"));
        scan_dir(&db, &tree, ScanTarget { owner_id: alice, source_id: None }, |_| {}).await.unwrap();
        let left = NewPackage::of(&[PackageFile { path: "plug.yaml".into(), bytes: b"name: left\n".to_vec() }]).unwrap();
        super::super::publish::store_package(&db, &left).await.unwrap();
        assert_eq!(packages_and_unused(&db).await.1, vec![left.sha256.clone()]);
        // Back to before migration 24, then up again, as an upgrade runs it.
        let since = migration::Migrator::migrations().iter().rev().position(|m| m.name() == "m20261201_000024_unused_packages").unwrap();
        migration::Migrator::down(&db, Some(since as u32 + 1)).await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let (stored, unused) = packages_and_unused(&db).await;
        assert_eq!((stored.len(), unused), (1, vec![]));
    }

    #[tokio::test]
    async fn folders_that_packages_leave_out_are_not_searched_for_versions() {
        let (_dir, db, alice, tree) = alices_tree().await;
        write(&tree, "c/real/1.0.0/plug.yaml", &plug("real", "1.0.0", "the team's own"));
        write(&tree, "c/real/1.0.0/node_modules/dep/1.0.0/plug.yaml", &plug("dep", "1.0.0", "a dependency's"));
        write(&tree, "node_modules/other/2.0.0/pipe.yaml", &plug("other", "2.0.0", "installed"));
        write(&tree, ".git/kept/1.0.0/pipe.yaml", &plug("kept", "1.0.0", "in git's own folder"));
        write(&tree, "c/__pycache__/cached/1.0.0/pipe.yaml", &plug("cached", "1.0.0", "a cache"));
        let summary = scan_dir(&db, &tree, ScanTarget { owner_id: alice, source_id: None }, |_| {}).await.unwrap();
        assert_eq!((summary.added, summary.invalid), (1, 0), "{summary:?}");
        assert_eq!(summary.seen, ["real"]);
        let row = pipe_versions::Entity::find().one(&db).await.unwrap().unwrap();
        let package = packages::Entity::find_by_id(row.package_sha256.unwrap()).one(&db).await.unwrap().unwrap();
        assert_eq!(package.files.0.len(), 1, "node_modules is left out of the package too: {:?}", package.files.0);
    }

    #[tokio::test]
    async fn a_package_goes_when_the_last_version_referring_to_it_changes() {
        let (_dir, db, alice, tree) = alices_tree().await;
        let target = ScanTarget { owner_id: alice, source_id: None };
        // The same files in two folders, named by their folders: one package for both.
        write(&tree, "c/alpha/1.0.0/plug.yaml", "description: the same files\n");
        write(&tree, "c/beta/1.0.0/plug.yaml", "description: the same files\n");
        scan_dir(&db, &tree, target, |_| {}).await.unwrap();
        let (shared, _) = packages_and_unused(&db).await;
        assert_eq!(shared.len(), 1);

        write(&tree, "c/alpha/1.0.0/plug.yaml", "description: alpha's own now\n");
        let summary = scan_dir(&db, &tree, target, |_| {}).await.unwrap();
        assert_eq!((summary.updated, summary.unchanged), (1, 1), "{summary:?}");
        let (stored, unused) = packages_and_unused(&db).await;
        assert_eq!((stored.len(), unused.len()), (2, 0));
        assert!(stored.contains(&shared[0]), "beta still refers to it");

        write(&tree, "c/beta/1.0.0/plug.yaml", "description: beta's own now\n");
        scan_dir(&db, &tree, target, |_| {}).await.unwrap();
        let (stored, unused) = packages_and_unused(&db).await;
        assert_eq!((stored.len(), unused.len()), (2, 0));
        assert!(!stored.contains(&shared[0]), "nothing refers to it any more");
    }

    #[tokio::test]
    async fn a_manifest_that_is_a_link_is_reported_and_not_followed() {
        let (dir, db, alice, tree) = alices_tree().await;
        write(&tree, "c/p/1.0.0/pipe.yaml", &plug("p", "1.0.0", "the folder's own"));
        write(dir.path(), "elsewhere.yaml", &plug("p", "1.0.0", "from outside the tree"));
        std::os::unix::fs::symlink(dir.path().join("elsewhere.yaml"), tree.join("c/p/1.0.0/plug.yaml")).unwrap();
        let summary = scan_dir(&db, &tree, ScanTarget { owner_id: alice, source_id: None }, |_| {}).await.unwrap();
        assert_eq!((summary.added, summary.invalid), (1, 1), "{summary:?}");
        assert!(summary.problems[0].path.ends_with("c/p/1.0.0/plug.yaml"), "{:?}", summary.problems);
        assert_eq!(summary.problems[0].reason, NOT_A_FILE);
        let pipe = pipes::Entity::find().one(&db).await.unwrap().unwrap();
        assert_eq!(pipe.description.as_deref(), Some("the folder's own"));
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut bomb = String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            bomb.push_str(&format!("{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = name;
        }
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "c/bomb/1.0/plug.yaml", &bomb);
        let mut summary = ScanSummary::default();
        assert!(read_version_folder(&dir.path().join("c/bomb/1.0"), &mut summary).is_none());
        assert_eq!(summary.invalid, 1);
    }
}
