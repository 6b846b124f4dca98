//! Loading PlugPipe manifests from a folder tree into the catalogue.
//!
//! Each `<name>/<version>/` folder holding `plug.yaml`, `plugin.yaml`, `glue.yaml` or
//! `pipe.yaml` is one pipe version. The tree is walked once and written in batches, so a
//! tree of any size needs memory for one batch only.
use std::{
    collections::HashMap,
    fs,
    io::Read,
    path::{Path, PathBuf},
};

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, QueryTrait,
};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::archive::{self, Limits};
use super::catalog::compare_versions;
use super::entities::{JsonText, pipe_versions, pipes};
use super::error::{Error, Result};
use super::publish::{NewPackage, store_package};
use super::settings::Settings;
use crate::model::PipeName;

/// Manifest file names, strongest first: where files of one folder disagree, the earlier wins.
pub const MANIFEST_FILES: [&str; 4] = ["plug.yaml", "plugin.yaml", "glue.yaml", "pipe.yaml"];
/// A manifest larger than this is refused unread.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;
/// Folders of these names group pipes by kind, not by category.
const KIND_FOLDERS: [&str; 3] = ["plugs", "pipes", "glues"];
const BATCH: usize = 500;
/// A batch is written early once its packages hold this many bytes.
const BATCH_BYTES: usize = 64 << 20;

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
    /// The strongest manifest of the folder.
    pub spec: Value,
    /// Every readable manifest of the folder, by file name.
    pub manifests: Map<String, Value>,
    /// The package's SHA-256 once packed (a scan packs the folder's files), else a hash of
    /// the manifests.
    pub content_hash: String,
    pub source_path: PathBuf,
    /// The folder's files, packed.
    pub package: Option<NewPackage>,
    /// The folder's files' stamp when it was read (`archive::stamp_dir`).
    pub folder_stamp: Option<String>,
}

fn read_manifest(path: &Path) -> std::result::Result<(Vec<u8>, Value), String> {
    let meta = fs::symlink_metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(format!("larger than {MAX_MANIFEST_BYTES} bytes"));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    fs::File::open(path).and_then(|f| f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes)).map_err(|e| format!("cannot read: {e}"))?;
    let value = parse_manifest(&bytes)?;
    Ok((bytes, value))
}

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
    let mut found: Vec<(&str, Value)> = Vec::new();
    let mut hasher = Sha256::new();
    for file in MANIFEST_FILES {
        let path = dir.join(file);
        match fs::symlink_metadata(&path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            _ => {}
        }
        match read_manifest(&path) {
            Ok((bytes, value)) => {
                hasher.update(file.as_bytes());
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
                found.push((file, value));
            }
            Err(reason) => {
                summary.invalid += 1;
                summary.problem(&path, reason);
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
    match describe(found, &hints, hex::encode(hasher.finalize()), dir) {
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
    Ok(ScannedVersion {
        category: first_text("category").or_else(|| hints.category.clone()).map(|c| c.to_lowercase()),
        author: first_text("author").or_else(|| first_text("owner")),
        status: first_text("status").map(|s| s.to_lowercase()),
        description: first_text("description").or_else(|| first_text("doc")),
        tags,
        spec: found[0].1.clone(),
        manifests: found.iter().map(|(file, m)| (file.to_string(), m.clone())).collect(),
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

async fn store(txn: &DatabaseTransaction, target: ScanTarget, scanned: &ScannedVersion) -> Result<Outcome> {
    let now = crate::orchestrator::now();
    let existing = pipes::Entity::find().filter(pipes::Column::Name.eq(&scanned.name)).one(txn).await?;
    let origin = target.source_id.map(|_| scanned.source_path.display().to_string());
    let pipe = match existing {
        // A name another user, another source or a local upload holds is never overwritten.
        Some(pipe) if pipe.owner_id != target.owner_id || pipe.source_id != target.source_id => return Ok(Outcome::Skipped),
        Some(pipe) => pipe,
        None => {
            let mut pipe = pipes::ActiveModel {
                name: Set(scanned.name.clone()),
                owner_id: Set(target.owner_id),
                created_at: Set(now),
                source_id: Set(target.source_id),
                origin: Set(origin.clone()),
                ..Default::default()
            };
            set_summary(&mut pipe, scanned);
            pipe.insert(txn).await?
        }
    };
    let version = pipe_versions::Entity::find()
        .filter(pipe_versions::Column::PipeId.eq(pipe.id))
        .filter(pipe_versions::Column::Version.eq(&scanned.version))
        .one(txn)
        .await?;
    if let Some(package) = &scanned.package {
        store_package(txn, package).await?;
    }
    let package_sha256 = scanned.package.as_ref().map(|p| p.sha256.clone());
    let readme = scanned.package.as_ref().and_then(|p| p.readme.clone());
    let outcome = match version {
        Some(row) if row.published_by.is_some() => return Ok(Outcome::Published),
        Some(row) if row.content_hash == scanned.content_hash => {
            if row.folder_stamp != scanned.folder_stamp {
                let mut row = row.into_active_model();
                row.folder_stamp = Set(scanned.folder_stamp.clone());
                row.update(txn).await?;
            }
            return Ok(Outcome::Unchanged);
        }
        Some(row) => {
            let mut row = row.into_active_model();
            row.spec = Set(JsonText(scanned.spec.clone()));
            row.manifests = Set(JsonText(scanned.manifests.clone()));
            row.content_hash = Set(scanned.content_hash.clone());
            row.source_path = Set(scanned.source_path.display().to_string());
            row.package_sha256 = Set(package_sha256);
            row.readme = Set(readme);
            row.folder_stamp = Set(scanned.folder_stamp.clone());
            row.updated_at = Set(now);
            row.update(txn).await?;
            Outcome::Updated
        }
        None => {
            pipe_versions::ActiveModel {
                pipe_id: Set(pipe.id),
                version: Set(scanned.version.clone()),
                spec: Set(JsonText(scanned.spec.clone())),
                manifests: Set(JsonText(scanned.manifests.clone())),
                content_hash: Set(scanned.content_hash.clone()),
                source_path: Set(scanned.source_path.display().to_string()),
                package_sha256: Set(package_sha256),
                readme: Set(readme),
                folder_stamp: Set(scanned.folder_stamp.clone()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Outcome::Added
        }
    };
    if compare_versions(&scanned.version, &pipe.latest_version).is_ge() {
        let mut row = pipe.into_active_model();
        set_summary(&mut row, scanned);
        if origin.is_some() {
            row.origin = Set(origin);
        }
        row.update(txn).await?;
    }
    Ok(outcome)
}

async fn store_batch(
    db: &DatabaseConnection,
    target: ScanTarget,
    batch: &mut Vec<ScannedVersion>,
    summary: &mut ScanSummary,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    // Written first, so a scan beside users' publishes waits its turn on SQLite.
    let (txn, _turn) = super::db::begin_writing(db, target.owner_id).await?;
    for scanned in batch.drain(..) {
        let outcome = store(&txn, target, &scanned).await?;
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
                let reason =
                    format!("version {} of '{}' was published; published versions are never changed", scanned.version, scanned.name);
                summary.problem(&scanned.source_path, reason);
            }
        }
    }
    txn.commit().await?;
    Ok(())
}

/// Stores versions read from elsewhere (a remote catalogue) as a scan stores a folder's: in
/// batches, never over another owner's or source's pipe.
pub async fn store_versions(
    db: &DatabaseConnection,
    target: ScanTarget,
    mut versions: Vec<ScannedVersion>,
    summary: &mut ScanSummary,
) -> Result<()> {
    while !versions.is_empty() {
        let mut batch: Vec<ScannedVersion> = versions.drain(..versions.len().min(BATCH)).collect();
        store_batch(db, target, &mut batch, summary).await?;
    }
    super::db::refresh_statistics(db).await
}

/// The version folders this target's last scans stored, by path: the pipe's name and the
/// folder's stamp then.
async fn known_folders(db: &DatabaseConnection, target: ScanTarget) -> Result<HashMap<String, (String, String)>> {
    let mut mine = pipes::Entity::find().filter(pipes::Column::OwnerId.eq(target.owner_id));
    mine = match target.source_id {
        Some(id) => mine.filter(pipes::Column::SourceId.eq(id)),
        None => mine.filter(pipes::Column::SourceId.is_null()),
    };
    let names: HashMap<i32, String> =
        mine.clone().select_only().column(pipes::Column::Id).column(pipes::Column::Name).into_tuple().all(db).await?.into_iter().collect();
    // Only this target's versions: other owners' and sources' stamps are never read.
    let stamped: Vec<(i32, String, String)> = pipe_versions::Entity::find()
        .select_only()
        .column(pipe_versions::Column::PipeId)
        .column(pipe_versions::Column::SourcePath)
        .column(pipe_versions::Column::FolderStamp)
        .filter(pipe_versions::Column::PipeId.in_subquery(mine.select_only().column(pipes::Column::Id).into_query()))
        .filter(pipe_versions::Column::FolderStamp.is_not_null())
        .filter(pipe_versions::Column::PublishedBy.is_null())
        .into_tuple()
        .all(db)
        .await?;
    Ok(stamped.into_iter().filter_map(|(pipe, path, stamp)| Some((path, (names.get(&pipe)?.clone(), stamp)))).collect())
}

/// Scans `root` for the user `owner_id`. `progress` is called after each folder with
/// manifests.
pub async fn scan_dir(
    db: &DatabaseConnection,
    root: &Path,
    target: ScanTarget,
    mut progress: impl FnMut(&ScanSummary),
) -> Result<ScanSummary> {
    if !root.is_dir() {
        return Err(Error::bad(format!("{} is not a folder", root.display())));
    }
    let mut summary = ScanSummary::default();
    let limits = Limits::new(Settings::load(db).await?.max_archive_bytes);
    let known = known_folders(db, target).await?;
    let mut batch = Vec::with_capacity(BATCH);
    let mut batch_bytes = 0;
    let mut pending = 0u64;
    for entry in walkdir::WalkDir::new(root).follow_links(false).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                summary.invalid += 1;
                summary.problem(&path, format!("cannot read: {err}"));
                continue;
            }
        };
        if !entry.file_type().is_dir() {
            continue;
        }
        // A version folder whose files are as the last scan stored them is not read again. The
        // stamp is taken before any read, so a change made while reading shows next time.
        let known_here = entry.path().to_str().and_then(|path| known.get(path));
        let holds_manifest = || MANIFEST_FILES.iter().any(|file| fs::symlink_metadata(entry.path().join(file)).is_ok());
        let stamp = if known_here.is_some() || holds_manifest() { archive::stamp_dir(entry.path()) } else { None };
        if let Some((name, known_stamp)) = known_here
            && stamp.as_ref() == Some(known_stamp)
        {
            summary.unchanged += 1;
            summary.seen.push(name.clone());
            pending += 1;
        } else if let Some(mut scanned) = read_version_folder(entry.path(), &mut summary) {
            scanned.folder_stamp = stamp;
            // The folder's files travel with the version, within the same bound as an upload.
            match archive::read_dir(entry.path(), &limits).map_err(Error::from).and_then(|files| NewPackage::of(&files)) {
                Ok(package) => {
                    scanned.content_hash = package.sha256.clone();
                    batch_bytes += package.bytes.len();
                    scanned.package = Some(package);
                }
                Err(err) => {
                    summary.invalid += 1;
                    summary.problem(entry.path(), format!("its files cannot be packed: {}", err.public_message()));
                    continue;
                }
            }
            batch.push(scanned);
            pending += 1;
            if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
                store_batch(db, target, &mut batch, &mut summary).await?;
                batch_bytes = 0;
            }
        }
        if pending > 0 {
            progress(&summary);
            pending = 0;
        }
    }
    store_batch(db, target, &mut batch, &mut summary).await?;
    super::db::refresh_statistics(db).await?;
    progress(&summary);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
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
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "x/p/1.0/pipe.yaml", "metadata:\n  name: from-pipe\n  description: pipe text\n");
        write(dir.path(), "x/p/1.0/glue.yaml", "name: from-glue\nstatus: experimental\n");
        write(dir.path(), "x/p/1.0/plugin.yaml", "name: from-plugin\ncategory: Data\n");
        write(dir.path(), "x/p/1.0/plug.yaml", "name: from-plug\n");
        let mut summary = ScanSummary::default();
        let v = read_version_folder(&dir.path().join("x/p/1.0"), &mut summary).unwrap();
        assert_eq!(v.name, "from-plug");
        assert_eq!(v.category.as_deref(), Some("data"));
        assert_eq!(v.status.as_deref(), Some("experimental"));
        assert_eq!(v.description.as_deref(), Some("pipe text"));
        assert_eq!(v.manifests.len(), 4);
        assert_eq!(v.spec["name"], "from-plug");
    }

    #[test]
    fn broken_files_are_reported_and_the_rest_of_the_folder_counts() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "c/p/1.0/plug.yaml", "name: [unclosed\n");
        write(dir.path(), "c/p/1.0/pipe.yaml", "metadata:\n  name: ok\n");
        let mut summary = ScanSummary::default();
        let v = read_version_folder(&dir.path().join("c/p/1.0"), &mut summary).unwrap();
        assert_eq!(v.name, "ok");
        assert_eq!(summary.invalid, 1);
        assert!(summary.problems[0].path.ends_with("plug.yaml"));
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
