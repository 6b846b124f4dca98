//! Publishing: a user adds a pipe version with its files (an uploaded archive, or files sent
//! as JSON), checked before anything is stored; versions are immutable and can be yanked.
//! Packages are stored once per SHA-256, in the database.
use std::path::Path;

use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, QueryTrait,
    sea_query::{LockBehavior, LockType, OnConflict},
};
use serde_json::{Map, Value, json};

use super::access::{access, find_pipe, pipe_to_manage, require_write};
use super::accounts::Caller;
use super::archive::{self, Limits, PackageFile};
use super::audit;
use super::catalog::{compare_versions, versions_of};
use super::entities::{JsonText, packages, pipe_versions, pipes, shares};
use super::error::{Error, Result};
use super::scan::{self, FolderHints, MANIFEST_FILES, MAX_BIND_PARAMETERS, ScannedVersion};
use super::settings::Settings;
use crate::model::{AuditAction, ForkOrigin, PackageEntry, PipeName, PublishResult, ShareStatus, YankResult, shown};

/// Where a version came from, as its row records it.
pub const PUBLISHED: &str = "published";

/// A version's files packed as a normalised `.tar.gz`, ready to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPackage {
    pub sha256: String,
    pub bytes: Vec<u8>,
    pub entries: Vec<PackageEntry>,
    /// The `README.md` at its root, when it is UTF-8 text of at most `MAX_README_BYTES`.
    pub readme: Option<String>,
}

/// The largest README a pipe page shows.
pub const MAX_README_BYTES: usize = 256 * 1024;

impl NewPackage {
    pub fn of(files: &[PackageFile]) -> Result<NewPackage> {
        let bytes = archive::pack(files)?;
        let entries = files.iter().map(|f| PackageEntry { path: f.path.clone(), size: f.bytes.len() as u64 }).collect();
        let readme = files
            .iter()
            .find(|f| f.path.eq_ignore_ascii_case("README.md"))
            .filter(|f| f.bytes.len() <= MAX_README_BYTES)
            .and_then(|f| String::from_utf8(f.bytes.clone()).ok())
            .map(|text| text.replace('\0', ""));
        Ok(NewPackage { sha256: archive::sha256_hex(&bytes), bytes, entries, readme })
    }
}

/// Stores a package unless one with its SHA-256 is already there (same bytes). Store it in
/// the transaction that stores the version referring to it (see [`keep_stored_package`]).
pub async fn store_package(db: &impl ConnectionTrait, package: &NewPackage) -> Result<()> {
    let row = packages::ActiveModel {
        sha256: Set(package.sha256.clone()),
        size: Set(package.bytes.len() as i64),
        files: Set(JsonText(package.entries.clone())),
        content: Set(package.bytes.clone()),
        created_at: Set(crate::orchestrator::now()),
    };
    packages::Entity::insert(row).on_conflict(keep_stored_package(db.get_database_backend())).exec_without_returning(db).await?;
    Ok(())
}

/// What storing a package does when one with its SHA-256 is there: keeps it. On PostgreSQL
/// by a no-op update, which holds the row until the transaction ends, so that
/// [`remove_unused_packages`] in another transaction leaves a package that a version not yet
/// committed will refer to. SQLite has one writer at a time and needs no hold.
pub fn keep_stored_package(backend: DbBackend) -> OnConflict {
    let mut keep = OnConflict::column(packages::Column::Sha256);
    match backend {
        DbBackend::Postgres => keep.update_column(packages::Column::Sha256),
        _ => keep.do_nothing(),
    };
    keep
}

/// Removes the packages no version refers to, in a transaction of its own; how many. A
/// rescan that replaces a changed version's files leaves its old package unused.
pub async fn remove_unused_packages(db: &DatabaseConnection) -> Result<u64> {
    let (txn, _turn) = super::db::begin_turn(db).await?;
    let removed = remove_unused_packages_in(&txn).await?;
    txn.commit().await?;
    Ok(removed)
}

/// [`remove_unused_packages`] in `txn`. On PostgreSQL it first takes the unused rows it can
/// and passes over those another transaction holds (one storing a version that will refer
/// to it, see [`keep_stored_package`]); the removal, a later statement, looks again at every
/// reference committed before that. SQLite has one writer at a time: one statement does.
pub async fn remove_unused_packages_in(txn: &DatabaseTransaction) -> Result<u64> {
    // `NOT IN` a list of every reference: one pass over the versions, where a correlated
    // `NOT EXISTS` without an index on the hash would pass over them once per package (an
    // index on random hashes cost a scan of 100k pipes a fifth more writes).
    let referred = pipe_versions::Entity::find()
        .select_only()
        .column(pipe_versions::Column::PackageSha256)
        .filter(pipe_versions::Column::PackageSha256.is_not_null())
        .into_query();
    let unused = || packages::Column::Sha256.not_in_subquery(referred.clone());
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(packages::Entity::delete_many().filter(unused()).exec(txn).await?.rows_affected);
    }
    let taken: Vec<String> = packages::Entity::find()
        .select_only()
        .column(packages::Column::Sha256)
        .filter(unused())
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .into_tuple()
        .all(txn)
        .await?;
    // Each statement passes over the versions again: as few as the bind limit allows.
    let mut removed = 0;
    for chunk in taken.chunks(MAX_BIND_PARAMETERS) {
        removed += packages::Entity::delete_many()
            .filter(packages::Column::Sha256.is_in(chunk.to_vec()))
            .filter(unused())
            .exec(txn)
            .await?
            .rows_affected;
    }
    Ok(removed)
}

/// The version a package holds, from the manifests at its root. Publishing has no folder
/// to fall back on: the manifest names the pipe and gives a semantic version.
pub fn version_of(files: &[PackageFile]) -> Result<ScannedVersion> {
    let mut found = Vec::new();
    for name in MANIFEST_FILES {
        if let Some(file) = files.iter().find(|f| f.path == name) {
            found.push((name, scan::parse_manifest(&file.bytes).map_err(|reason| Error::bad(format!("{name}: {reason}")))?));
        }
    }
    if found.is_empty() {
        return Err(Error::bad(format!("The package has no manifest at its root: add one of {}", MANIFEST_FILES.join(", "))));
    }
    let text = |key: &str| found.iter().find_map(|(_, manifest)| scan::manifest_text(manifest, key));
    let name = text("name").ok_or_else(|| Error::bad(format!("{} names no pipe: give it a `name`", found[0].0)))?;
    let name = PipeName::parse(&name).map_err(Error::BadRequest)?;
    let version = text("version").ok_or_else(|| Error::bad(format!("{} gives no `version`", found[0].0)))?;
    if semver::Version::parse(&version).is_err() {
        return Err(Error::bad(format!("Version '{}' is not a semantic version: use MAJOR.MINOR.PATCH, such as 1.2.0", shown(&version))));
    }
    let hints = FolderHints { name: Some(name.into()), version: Some(version), category: None };
    scan::describe(found, &hints, String::new(), Path::new(PUBLISHED)).map_err(Error::bad)
}

/// The files `publish_pipe` sends: the manifest's text as `manifest_file` (`pipe.yaml` unless
/// named) at the root, and the other files as base64, within the package bounds.
pub fn files_with_manifest(
    manifest: &str,
    manifest_file: Option<&str>,
    files: &Map<String, Value>,
    limits: &Limits,
) -> Result<Vec<PackageFile>> {
    let manifest_file = manifest_file.unwrap_or("pipe.yaml");
    if !MANIFEST_FILES.contains(&manifest_file) {
        return Err(Error::bad(format!("context.manifest_file must be one of {}", MANIFEST_FILES.join(", "))));
    }
    let manifest = PackageFile { path: manifest_file.to_string(), bytes: manifest.as_bytes().to_vec() };
    Ok(archive::from_base64_files(Some(manifest), files, limits)?)
}

/// Whether `caller` may add versions to an existing pipe: its owner, an instance admin, an
/// `admin` grantee, or a `read_write` grantee when its share lets grantees contribute.
/// Anyone who may see the pipe is told they may not (403); to anyone else the name is taken
/// (409), which says nothing about the pipe.
async fn may_publish_to(db: &impl ConnectionTrait, caller: &Caller, pipe: &pipes::Model, share: Option<&shares::Model>) -> Result<()> {
    let can = access(db, Some(caller), pipe, share).await?;
    if can.manage {
        return Ok(());
    }
    if !can.see {
        return Err(Error::Conflict(format!("The pipe name '{}' is taken; publish under another name", pipe.name)));
    }
    let contribute = share.is_some_and(|s| s.options.0.permissions.contribute);
    if contribute && can.write {
        return Ok(());
    }
    Err(Error::Forbidden(format!(
        "Permission denied: you may not publish versions of '{}' (its owner and admin grantees may; read_write grantees when its share allows contributions)",
        pipe.name
    )))
}

/// The bytes the packages a user published take, each package counted once, and whether
/// `adding` is among them already.
async fn storage_used(db: &impl ConnectionTrait, user_id: i32, adding: &str) -> Result<(u64, bool)> {
    let mine = pipe_versions::Entity::find()
        .select_only()
        .column(pipe_versions::Column::PackageSha256)
        .filter(pipe_versions::Column::PublishedBy.eq(user_id))
        .into_query();
    let sizes: Vec<(String, i64)> = packages::Entity::find()
        .select_only()
        .columns([packages::Column::Sha256, packages::Column::Size])
        .filter(packages::Column::Sha256.in_subquery(mine))
        .into_tuple()
        .all(db)
        .await?;
    let already = sizes.iter().any(|(sha, _)| sha == adding);
    Ok((sizes.into_iter().map(|(_, size)| size.max(0) as u64).sum(), already))
}

/// The address of a version's package.
pub fn archive_url(base_url: &str, pipe: &str, version: &str) -> String {
    format!(
        "{}/pipes/{}/versions/{}/package.tar.gz",
        base_url.trim_end_matches('/'),
        crate::urls::encode(pipe),
        crate::urls::encode(version)
    )
}

/// Publishes the version the files hold. Nothing is stored unless every check passes.
pub async fn publish(
    db: &DatabaseConnection,
    caller: &Caller,
    settings: &Settings,
    base_url: &str,
    files: Vec<PackageFile>,
    forked_from: Option<ForkOrigin>,
) -> Result<PublishResult> {
    require_write(caller)?;
    let mut scanned = version_of(&files)?;
    let package = NewPackage::of(&files)?;
    scanned.content_hash = package.sha256.clone();
    let (txn, _turn) = super::db::begin_writing(db, caller.user_id).await?;
    let existing = find_pipe(&txn, &scanned.name).await?;
    let new_pipe = existing.is_none();
    if let Some((pipe, share)) = &existing {
        if forked_from.is_some() {
            return Err(Error::Conflict(format!("The pipe name '{}' is taken; fork under another name", pipe.name)));
        }
        may_publish_to(&txn, caller, pipe, share.as_ref()).await?;
        let taken = pipe_versions::Entity::find()
            .filter(pipe_versions::Column::PipeId.eq(pipe.id))
            .filter(pipe_versions::Column::Version.eq(&scanned.version))
            .one(&txn)
            .await?;
        if taken.is_some() {
            return Err(Error::Conflict(format!(
                "Version {} of '{}' exists; versions are immutable: publish a new version",
                scanned.version, pipe.name
            )));
        }
    }
    let (used, already) = storage_used(&txn, caller.user_id, &package.sha256).await?;
    let limit = u64::from(settings.max_storage_per_user_mb) * 1024 * 1024;
    let after = used + if already { 0 } else { package.bytes.len() as u64 };
    if after > limit {
        return Err(Error::TooLarge(format!(
            "Storage quota reached: your packages take {used} bytes, this one {} more, and max_storage_per_user_mb is {}",
            package.bytes.len(),
            settings.max_storage_per_user_mb
        )));
    }
    store_package(&txn, &package).await?;
    let now = crate::orchestrator::now();
    let taken = || format!("The pipe name '{}' is taken; publish under another name", scanned.name);
    let pipe = match existing {
        Some((pipe, _)) => pipe,
        None => {
            let mut pipe = pipes::ActiveModel {
                name: Set(scanned.name.clone()),
                owner_id: Set(caller.user_id),
                created_at: Set(now),
                forked_from_pipe: Set(forked_from.as_ref().map(|f| f.pipe.clone())),
                forked_from_version: Set(forked_from.as_ref().map(|f| f.version.clone())),
                ..Default::default()
            };
            scan::set_summary(&mut pipe, &scanned);
            pipe.insert(&txn).await.map_err(|err| Error::unique_violation(err, taken))?
        }
    };
    pipe_versions::ActiveModel {
        pipe_id: Set(pipe.id),
        version: Set(scanned.version.clone()),
        manifests: Set(JsonText(scanned.manifests.clone())),
        content_hash: Set(package.sha256.clone()),
        source_path: Set(PUBLISHED.into()),
        package_sha256: Set(Some(package.sha256.clone())),
        published_by: Set(Some(caller.user_id)),
        yanked: Set(false),
        readme: Set(package.readme.clone()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|err| Error::unique_violation(err, || format!("Version {} of '{}' exists", scanned.version, scanned.name)))?;
    if !new_pipe && compare_versions(&scanned.version, &pipe.latest_version).is_ge() {
        let mut row = pipe.clone().into_active_model();
        scan::set_summary(&mut row, &scanned);
        row.update(&txn).await?;
    }
    let (action, detail) = match &forked_from {
        Some(origin) => (
            AuditAction::Fork,
            json!({"name": pipe.name, "from_pipe": origin.pipe, "from_version": origin.version, "sha256": package.sha256}),
        ),
        None => (
            AuditAction::Publish,
            json!({"version": scanned.version, "sha256": package.sha256, "size": package.bytes.len(), "new_pipe": new_pipe}),
        ),
    };
    audit::record(&txn, Some(caller), action, Some(&pipe), detail).await?;
    txn.commit().await?;
    Ok(PublishResult {
        archive_url: archive_url(base_url, &pipe.name, &scanned.version),
        pipe_name: pipe.name,
        version: scanned.version,
        new_pipe,
        published_by: caller.username.clone(),
        sha256: package.sha256,
        size: package.bytes.len() as u64,
        files: package.entries.into_iter().map(|e| e.path).collect(),
    })
}

/// Withdraws a version: no longer the latest, never promoted, still downloadable by its
/// exact version. Its owner, instance admins and `admin` grantees may.
pub async fn yank_version(db: &DatabaseConnection, caller: &Caller, pipe_name: &str, version: &str, reason: &str) -> Result<YankResult> {
    require_write(caller)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::bad("context.reason is required: say why the version is withdrawn"));
    }
    if reason.chars().count() > 2000 {
        return Err(Error::bad("context.reason takes at most 2000 characters"));
    }
    super::input::check_text("reason", Some(reason))?;
    let (txn, _turn) = super::db::begin_writing(db, caller.user_id).await?;
    let (pipe, _) = pipe_to_manage(&txn, caller, pipe_name).await?;
    let versions = versions_of(&txn, pipe.id).await?;
    let row = versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, shown(version))))?;
    if row.yanked {
        return Err(Error::Conflict(format!("Version {version} of '{}' is already yanked", pipe.name)));
    }
    let pointing = super::environments::pointing_at(&txn, pipe.id, version).await?;
    if !pointing.is_empty() {
        return Err(Error::Conflict(format!(
            "Version {version} of '{}' is in {}: promote another version there first",
            pipe.name,
            pointing.join(", ")
        )));
    }
    let mut update = row.clone().into_active_model();
    update.yanked = Set(true);
    update.yank_reason = Set(Some(reason.to_string()));
    update.yanked_at = Set(Some(crate::orchestrator::now()));
    update.update(&txn).await?;
    // The pipe's latest version is the newest one still offered.
    let latest = versions.iter().find(|v| !v.yanked && v.version != version).unwrap_or(&versions[0]);
    let mut summary_row = pipe.clone().into_active_model();
    summary_row.latest_version = Set(latest.version.clone());
    summary_row.update(&txn).await?;
    audit::record(&txn, Some(caller), AuditAction::Yank, Some(&pipe), json!({"version": version, "reason": reason})).await?;
    txn.commit().await?;
    Ok(YankResult {
        pipe_name: pipe.name,
        version: version.to_string(),
        yanked: true,
        reason: reason.to_string(),
        latest_version: latest.version.clone(),
    })
}

/// A version's package bytes and its SHA-256, for whoever may download the pipe.
pub async fn package_bytes(db: &impl ConnectionTrait, sha256: &str) -> Result<packages::Model> {
    packages::Entity::find_by_id(sha256.to_string()).one(db).await?.ok_or_else(|| Error::Internal(format!("package {sha256} is missing")))
}

/// `fork_pipe`: copies a version (its package and manifests, renamed) into a new pipe the
/// caller owns, remembering where it came from. Anyone who may download the pipe when its
/// share allows forks; its managers and `read_write` grantees always.
pub async fn fork(
    db: &DatabaseConnection,
    caller: &Caller,
    settings: &Settings,
    base_url: &str,
    pipe_name: &str,
    pick: &super::download::VersionPick,
    new_name: &PipeName,
) -> Result<PublishResult> {
    require_write(caller)?;
    let (pipe, share) = find_pipe(db, pipe_name).await?.ok_or_else(|| Error::pipe_not_found(pipe_name))?;
    let can = access(db, Some(caller), &pipe, share.as_ref()).await?;
    if !can.see {
        return Err(Error::pipe_not_found(pipe_name));
    }
    // Forking copies the package: a gated pipe's visitor without a grant may not.
    if !can.download {
        return Err(Error::Forbidden(format!("'{}' is gated: forking it needs a grant; ask for one with request_access", pipe.name)));
    }
    let share_allows = share.as_ref().is_some_and(|s| s.status == ShareStatus::Active && s.options.0.permissions.fork);
    if !(can.write || share_allows) {
        return Err(Error::Forbidden(format!(
            "Permission denied: forking '{}' needs its share's fork permission or read_write access",
            pipe.name
        )));
    }
    let (_, chosen) = super::download::picked_version(db, &pipe, pick).await?;
    let sha256 = chosen
        .package_sha256
        .as_deref()
        .ok_or_else(|| Error::Conflict(format!("Version {} of '{}' has no package yet to fork", chosen.version, pipe.name)))?;
    let package = package_bytes(db, sha256).await?;
    // Stored packages passed the bounds when they came in.
    let mut files = archive::unpack(&package.content, &Limits::new(u64::MAX))?;
    for file in files.iter_mut().filter(|f| MANIFEST_FILES.contains(&f.path.as_str())) {
        file.bytes = renamed(&file.bytes, new_name).map_err(|reason| Error::Internal(format!("renaming {}: {reason}", file.path)))?;
    }
    let origin = ForkOrigin { pipe: pipe.name.clone(), version: chosen.version.clone() };
    publish(db, caller, settings, base_url, files, Some(origin)).await
}

/// A manifest with its pipe name replaced, where the manifest keeps it (top level or under
/// `metadata`).
fn renamed(manifest: &[u8], new_name: &PipeName) -> std::result::Result<Vec<u8>, String> {
    let mut value = scan::parse_manifest(manifest)?;
    let name = Value::from(new_name.as_str());
    match value.get_mut("metadata").and_then(Value::as_object_mut).filter(|m| m.contains_key("name")) {
        Some(metadata) => {
            metadata.insert("name".into(), name);
        }
        None => {
            if let Some(top) = value.as_object_mut() {
                top.insert("name".into(), name);
            }
        }
    }
    serde_norway::to_string(&value).map(String::into_bytes).map_err(|err| err.to_string())
}
