//! `download_pipe`: a pipe's manifest, recorded as one download.
pub use crate::model::DownloadResult;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, OnceLock},
};

use chrono::{DateTime, Utc};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, JoinType, QueryFilter, QuerySelect,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::Orchestrator;
use super::access::{FoundPipe, pipe_to_download};
use super::accounts::Caller;
use super::catalog::{VersionName, compare_versions, with_package_summary};
use super::entities::{JsonText, downloads, packages, pipe_versions, pipes};
use super::error::{Error, Result};
use super::kept::{Asker, asker};
use super::publish::archive_url;
use crate::model::{DownloadClient, PackageEntry, shown};

/// The version a download chose, with its package's size and files (not its bytes) when the
/// package is stored.
#[derive(sea_orm::FromQueryResult)]
pub(crate) struct ChosenVersion {
    pub version: String,
    pub manifests: JsonText<Map<String, Value>>,
    pub yanked: bool,
    pub package_sha256: Option<String>,
    package_size: Option<i64>,
    package_files: Option<JsonText<Vec<PackageEntry>>>,
}

/// The pipe's version named `version`, read with its package's summary in one statement.
async fn chosen_version(db: &impl ConnectionTrait, pipe: &pipes::Model, version: &str) -> Result<ChosenVersion> {
    let columns = [
        pipe_versions::Column::Version,
        pipe_versions::Column::Manifests,
        pipe_versions::Column::Yanked,
        pipe_versions::Column::PackageSha256,
    ];
    with_package_summary(pipe_versions::Entity::find().select_only().columns(columns))
        .filter(pipe_versions::Column::PipeId.eq(pipe.id))
        .filter(pipe_versions::Column::Version.eq(version))
        .into_model::<ChosenVersion>()
        .one(db)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, shown(version))))
}

/// A row of [`picked_version`]'s statement: every version's name, and the contents of the
/// version guessed before reading (NULL in the other rows).
#[derive(sea_orm::FromQueryResult)]
struct VersionRow {
    version: String,
    yanked: bool,
    manifests: Option<JsonText<Map<String, Value>>>,
    package_sha256: Option<String>,
    package_size: Option<i64>,
    package_files: Option<JsonText<Vec<PackageEntry>>>,
}

/// The pipe's versions, newest first, and the one `pick` names with its contents. One
/// statement when the version is known before reading: an exact version, or the newest,
/// which is the pipe's latest version unless that was yanked; a second one otherwise.
pub(crate) async fn picked_version(
    db: &DatabaseConnection,
    pipe: &pipes::Model,
    pick: &VersionPick,
) -> Result<(Vec<VersionName>, ChosenVersion)> {
    use pipe_versions::Column as V;
    use sea_orm::sea_query::{Expr, IntoCondition, SimpleExpr};
    let guess = match pick {
        VersionPick::Exact(version) => Some(version.clone()),
        VersionPick::Newest => Some(pipe.latest_version.clone()),
        VersionPick::Environment(_) => None,
    };
    let guessed = move || Expr::col((pipe_versions::Entity, V::Version)).eq(guess.clone());
    let only_guessed = |column: SimpleExpr| Expr::case(guessed(), column).finally(Expr::cust("NULL"));
    let package = pipe_versions::Entity::belongs_to(packages::Entity)
        .from(V::PackageSha256)
        .to(packages::Column::Sha256)
        .on_condition({
            let guessed = guessed.clone();
            move |_, _| guessed().into_condition()
        })
        .into();
    let rows = pipe_versions::Entity::find()
        .select_only()
        .columns([V::Version, V::Yanked, V::PackageSha256])
        .expr_as(only_guessed(Expr::col((pipe_versions::Entity, V::Manifests)).into()), "manifests")
        .join(JoinType::LeftJoin, package)
        .column_as(packages::Column::Size, "package_size")
        .column_as(packages::Column::Files, "package_files")
        .filter(V::PipeId.eq(pipe.id))
        .into_model::<VersionRow>()
        .all(db)
        .await?;
    let mut versions: Vec<VersionName> = rows.iter().map(|r| VersionName { version: r.version.clone(), yanked: r.yanked }).collect();
    versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
    let picked = pick_version(db, pipe, &versions, pick).await?.version.clone();
    let read = rows.into_iter().find(|r| r.version == picked).and_then(|row| {
        Some(ChosenVersion {
            manifests: row.manifests?,
            version: row.version,
            yanked: row.yanked,
            package_sha256: row.package_sha256,
            package_size: row.package_size,
            package_files: row.package_files,
        })
    });
    Ok(match read {
        Some(chosen) => (versions, chosen),
        None => (versions, chosen_version(db, pipe, &picked).await?),
    })
}

/// A caller's downloads of one version count once a minute: a script fetching in a loop, or
/// a page reloaded, does not inflate the figures. An anonymous visitor is told apart by
/// their address.
const COUNT_ONCE_PER: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Whether an anonymous visitor at `address` downloaded this version within
/// `COUNT_ONCE_PER` (as the throttle table, which every instance shares, remembers). A
/// signed-in caller's earlier count is looked for by the writer (see [`CountedDownloads`]).
async fn anonymous_counted_lately(db: &DatabaseConnection, address: IpAddr, pipe_id: i32, version: &str) -> Result<bool> {
    let key = format!("download:{pipe_id}:{version}:{address}");
    Ok(!super::throttle::first_within(db, &key, COUNT_ONCE_PER).await?)
}

/// Who a download counts for: a user, or an anonymous visitor's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Downloader {
    User(i32),
    Address(IpAddr),
}

/// A download's key in [`RecentlyCounted`]: who, which pipe, which version.
type CountedKey = (Downloader, i32, String);

/// The downloads this process counted within `COUNT_ONCE_PER`: a repeat inside the minute (a
/// script fetching in a loop) is known without asking the database. It holds only committed
/// downloads, so it never says "counted" wrongly; what it does not hold is asked of the
/// database, which also knows other instances' downloads.
#[derive(Default)]
pub struct RecentlyCounted(std::sync::Mutex<HashMap<CountedKey, DateTime<Utc>>>);

/// The most downloads remembered. When full, the expired ones are forgotten, and everything
/// when that frees less than half: the database is asked again.
const REMEMBERED: usize = 100_000;

impl RecentlyCounted {
    fn holds(&self, key: &CountedKey, now: DateTime<Utc>) -> bool {
        self.0.lock().is_ok_and(|seen| seen.get(key).is_some_and(|at| now - *at < COUNT_ONCE_PER))
    }

    fn remember(&self, key: CountedKey, now: DateTime<Utc>) {
        let Ok(mut seen) = self.0.lock() else {
            return;
        };
        if seen.len() >= REMEMBERED {
            seen.retain(|_, at| now - *at < COUNT_ONCE_PER);
            if seen.len() >= REMEMBERED / 2 {
                seen.clear();
            }
        }
        seen.insert(key, now);
    }
}

/// Counted downloads, stored in groups: one multi-row insert, and one count into the tallies.
/// A signed-in caller's download that was already counted within `COUNT_ONCE_PER` (by another
/// instance, before a restart, or earlier in the same group) is not stored again. That is
/// looked up in the writing transaction, which counts alone (`take_counting_turn`): two
/// downloads at once never both count, on one instance or several.
pub struct CountedDownloads;

/// Whose download of what: a signed-in user, a pipe, a version.
type UserDownload = (i32, i32, String);

impl super::grouped::Work for CountedDownloads {
    type Item = downloads::Model;
    /// When the download was counted: as it was stored, or earlier within the minute.
    type Done = DateTime<Utc>;

    /// Ignores the downloads' `id`s.
    async fn store(txn: &DatabaseTransaction, downloads: &[downloads::Model]) -> Result<Vec<DateTime<Utc>>> {
        take_counting_turn(txn).await?;
        let mut counted = counted_since(txn, downloads).await?;
        let mut new = Vec::new();
        let when = downloads
            .iter()
            .map(|download| {
                let key = download.user_id.map(|user| (user, download.pipe_id, download.version.clone()));
                let earlier = key.as_ref().and_then(|key| counted.get(key)).filter(|at| download.downloaded_at - **at < COUNT_ONCE_PER);
                if let Some(at) = earlier {
                    return *at;
                }
                if let Some(key) = key {
                    counted.insert(key, download.downloaded_at);
                }
                new.push(download.clone());
                download.downloaded_at
            })
            .collect();
        let rows = new.iter().map(|d| {
            let mut row = d.clone().into_active_model();
            row.id = sea_orm::ActiveValue::NotSet;
            row
        });
        for rows in super::scan::per_statement::<downloads::Entity, _>(rows.collect()) {
            downloads::Entity::insert_many(rows).exec_without_returning(txn).await?;
        }
        super::tallies::count_downloads(txn, &new).await?;
        Ok(when)
    }
}

/// Makes `txn` the only one counting downloads until it ends, on every instance, so that what
/// it looks up as counted stays true until it stores. SQLite: the first statement writes (see
/// `grouped::Work::store`), and an update of no row takes the database's write lock.
/// PostgreSQL: a transaction-scoped advisory lock; a transaction that waited for it reads what
/// the one before committed. Not `tallies::lock`: a transfer updates its pipes before it takes
/// that, while counting reads the pipes' owners after its turn, so the two would deadlock.
async fn take_counting_turn(txn: &DatabaseTransaction) -> Result<()> {
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({COUNTING_LOCK})")).await?;
    } else {
        downloads::Entity::update_many()
            .col_expr(downloads::Column::Id, sea_orm::sea_query::Expr::col(downloads::Column::Id).into())
            .filter(downloads::Column::Id.lt(0))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// The PostgreSQL advisory lock key of counting downloads: "pipedl" in ASCII, then 1, so that
/// another application's key on the same server is unlikely to be the same.
const COUNTING_LOCK: i64 = 0x7069_7065_646c_0001;

/// The latest counts of the signed-in downloads among `downloads` within `COUNT_ONCE_PER` of
/// the earliest of them.
async fn counted_since(db: &impl ConnectionTrait, downloads: &[downloads::Model]) -> Result<HashMap<UserDownload, DateTime<Utc>>> {
    use downloads::Column as D;
    let signed_in: Vec<&downloads::Model> = downloads.iter().filter(|d| d.user_id.is_some()).collect();
    let Some(since) = signed_in.iter().map(|d| d.downloaded_at).min().map(|at| at - COUNT_ONCE_PER) else {
        return Ok(HashMap::new());
    };
    let pipes: std::collections::BTreeSet<i32> = signed_in.iter().map(|d| d.pipe_id).collect();
    let users: std::collections::BTreeSet<i32> = signed_in.iter().filter_map(|d| d.user_id).collect();
    let rows: Vec<(i32, i32, String, DateTime<Utc>)> = downloads::Entity::find()
        .select_only()
        .columns([D::UserId, D::PipeId, D::Version])
        .expr(sea_orm::sea_query::Func::max(sea_orm::sea_query::Expr::col(D::DownloadedAt)))
        .filter(D::PipeId.is_in(pipes))
        .filter(D::UserId.is_in(users))
        .filter(D::DownloadedAt.gt(since))
        .group_by(D::UserId)
        .group_by(D::PipeId)
        .group_by(D::Version)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(user, pipe, version, at)| ((user, pipe, version), at)).collect())
}

/// Whether a download is counted: a HEAD asks whether it is there, and is no download.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    Count,
    Ask,
}

/// Which version a download asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum VersionPick {
    /// The newest version that is not yanked.
    Newest,
    Exact(String),
    /// Where an environment (`prod`, say) points.
    Environment(String),
}

impl VersionPick {
    /// From a caller's `version` and `environment`, at most one of them.
    pub fn from_fields(version: Option<&str>, environment: Option<&str>) -> Result<VersionPick> {
        super::input::check_text("version", version)?;
        super::input::check_text("environment", environment)?;
        let given = |text: Option<&str>| text.map(str::trim).filter(|t| !t.is_empty()).map(String::from);
        match (given(version), given(environment)) {
            (Some(_), Some(_)) => Err(Error::bad("Give version or environment, not both")),
            (Some(version), None) => Ok(VersionPick::Exact(version)),
            (None, Some(environment)) => Ok(VersionPick::Environment(environment)),
            (None, None) => Ok(VersionPick::Newest),
        }
    }
}

/// The version `pick` names among the pipe's versions (newest first).
async fn pick_version<'a>(
    db: &DatabaseConnection,
    pipe: &pipes::Model,
    versions: &'a [VersionName],
    pick: &VersionPick,
) -> Result<&'a VersionName> {
    let exact = |wanted: &str| {
        versions
            .iter()
            .find(|v| v.version == wanted)
            .ok_or_else(|| Error::NotFound(format!("Pipe '{}' has no version '{}'", pipe.name, shown(wanted))))
    };
    match pick {
        VersionPick::Exact(wanted) => exact(wanted),
        VersionPick::Environment(name) => match super::environments::version_in(db, pipe.id, name).await? {
            Some(version) => exact(&version),
            None => Err(Error::NotFound(format!("Pipe '{}' has no environment '{}'", pipe.name, shown(name)))),
        },
        VersionPick::Newest => versions
            .iter()
            .find(|v| !v.yanked)
            .ok_or_else(|| Error::NotFound(format!("Every version of '{}' is yanked; ask for one by its exact version", pipe.name))),
    }
}

impl DownloadClient {
    /// The kind of caller: `None` is an anonymous visitor.
    pub fn of(caller: Option<&Caller>) -> Self {
        match caller {
            None => DownloadClient::Anonymous,
            Some(caller) if caller.via_token => DownloadClient::Token,
            Some(_) => DownloadClient::Browser,
        }
    }
}

/// What a download asks: whose answer, which pipe, which version.
pub type Asked = (Asker, String, VersionPick);

/// A download's answer but for its moment, with what counting it takes: kept while what it
/// answers is unchanged (see [`super::kept`]).
#[derive(Clone, Serialize)]
pub struct Found {
    pipe_id: i32,
    category: Option<String>,
    answer: DownloadResult,
    /// The spec as YAML, written when a manifest file is first asked for, then shared by
    /// every copy of the kept answer: finding it again costs nothing.
    #[serde(skip)]
    yaml: Arc<OnceLock<Arc<str>>>,
}

impl Found {
    /// The answer, as the JSON API gives it.
    pub fn into_answer(self) -> DownloadResult {
        self.answer
    }

    /// The answer, with its spec as YAML (written once), for a manifest file.
    pub fn with_yaml(self) -> Result<(DownloadResult, Arc<str>)> {
        let yaml = match self.yaml.get() {
            Some(yaml) => yaml.clone(),
            None => {
                let yaml = super::yaml::manifest_yaml(&self.answer.spec)?;
                self.yaml.get_or_init(|| yaml).clone()
            }
        };
        Ok((self.answer, yaml))
    }
}

/// The download's answer as read now.
async fn read_download(
    orchestrator: &Orchestrator,
    caller: Option<&Caller>,
    pipe_name: &str,
    pick: &VersionPick,
    now: DateTime<Utc>,
) -> Result<Found> {
    let db = orchestrator.db();
    let FoundPipe { pipe, owner, .. } = pipe_to_download(db, caller, pipe_name).await?;
    let (versions, chosen) = picked_version(db, &pipe, pick).await?;
    let package = chosen.package_size.zip(chosen.package_files);
    let answer = DownloadResult {
        pipe_name: pipe.name.clone(),
        version: chosen.version.clone(),
        versions: versions.iter().map(|v| v.version.clone()).collect(),
        spec: super::scan::strongest_manifest(|file| chosen.manifests.0.get(file)).cloned().unwrap_or_default().into(),
        manifests: Value::Object(chosen.manifests.0).into(),
        owner,
        downloaded_at: now,
        environment: match pick {
            VersionPick::Environment(name) => Some(name.clone()),
            _ => None,
        },
        yanked: chosen.yanked,
        archive_url: package.as_ref().map(|_| archive_url(orchestrator.base_url(), &pipe.name, &chosen.version)),
        sha256: package.as_ref().and(chosen.package_sha256.clone()),
        size: package.as_ref().map(|(size, _)| (*size).max(0) as u64),
        files: package.map(|(_, files)| files.0.into_iter().map(|f| f.path).collect()).unwrap_or_default(),
        source: super::sources::source_of(db, &pipe).await?,
    };
    Ok(Found { pipe_id: pipe.id, category: pipe.category, answer, yaml: Arc::default() })
}

/// Anyone may download a pipe they may see; `caller` is `None` for an anonymous visitor.
pub(crate) async fn download_pipe(
    orchestrator: &Orchestrator,
    caller: Option<&Caller>,
    client: Option<IpAddr>,
    pipe_name: &str,
    pick: &VersionPick,
    record: Record,
) -> Result<Found> {
    let now = crate::orchestrator::now();
    let revisions = orchestrator.revisions().await?;
    let asked = (asker(caller), pipe_name.to_string(), pick.clone());
    let found = match orchestrator.kept_downloads().current(&asked, &revisions) {
        Some(found) => found,
        None => {
            let found = read_download(orchestrator, caller, pipe_name, pick, now).await?;
            orchestrator.kept_downloads().keep(asked, &revisions, &found);
            found
        }
    };
    let counted_for = match caller {
        Some(caller) => Some(Downloader::User(caller.user_id)),
        None => client.map(Downloader::Address),
    };
    let key = counted_for.map(|who| (who, found.pipe_id, found.answer.version.clone()));
    let known = key.as_ref().is_some_and(|key| orchestrator.recently_counted().holds(key, now));
    let to_count = record == Record::Count
        && !known
        && match (caller, client) {
            (Some(_), _) => true,
            (None, Some(address)) => !anonymous_counted_lately(orchestrator.db(), address, found.pipe_id, &found.answer.version).await?,
            (None, None) => true,
        };
    if to_count {
        let download = downloads::Model {
            id: 0,
            pipe_id: found.pipe_id,
            user_id: caller.map(|c| c.user_id),
            version: found.answer.version.clone(),
            downloaded_at: now,
            environment: found.answer.environment.clone(),
            client: Some(DownloadClient::of(caller)),
            category: found.category.clone(),
        };
        // Counted now, or found counted earlier within the minute: remembered as of then.
        let counted_at = orchestrator.downloads().store(download).await?;
        if let Some(key) = key {
            orchestrator.recently_counted().remember(key, counted_at);
        }
    }
    Ok(Found { answer: DownloadResult { downloaded_at: now, ..found.answer }, ..found })
}

/// A version's package for whoever may download the pipe, counted as a download; `None`
/// when the version has no package (scanned before packages existed: a rescan packs it).
pub async fn download_package(
    orchestrator: &Orchestrator,
    caller: Option<&Caller>,
    client: Option<IpAddr>,
    pipe_name: &str,
    version: &str,
    record: Record,
) -> Result<packages::Model> {
    let found = download_pipe(orchestrator, caller, client, pipe_name, &VersionPick::Exact(version.to_string()), record).await?;
    let sha256 = found.answer.sha256.ok_or_else(|| Error::NotFound(format!("Version {version} of '{pipe_name}' has no package yet")))?;
    super::publish::package_bytes(orchestrator.db(), &sha256).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_download_is_known_for_a_minute_then_asked_again() {
        let counted = RecentlyCounted::default();
        let now = crate::orchestrator::now();
        let key = (Downloader::User(7), 1, "1.0.0".to_string());
        assert!(!counted.holds(&key, now));
        counted.remember(key.clone(), now);
        assert!(counted.holds(&key, now + chrono::TimeDelta::seconds(59)));
        assert!(!counted.holds(&key, now + COUNT_ONCE_PER), "a minute later it counts again");
        for other in [(Downloader::User(8), 1, "1.0.0"), (Downloader::User(7), 2, "1.0.0"), (Downloader::User(7), 1, "1.0.1")] {
            assert!(!counted.holds(&(other.0, other.1, other.2.to_string()), now), "{other:?} is another download");
        }
        let address = (Downloader::Address("10.0.0.1".parse().unwrap()), 1, "1.0.0".to_string());
        assert!(!counted.holds(&address, now));
    }

    /// A database holding the pipe `sqlite` (1.0.0) of `owner`, the orchestrator over it, and
    /// `owner` calling with a token.
    async fn one_pipe() -> (tempfile::TempDir, DatabaseConnection, Orchestrator, Caller) {
        let plug = ("sqlite/1.0.0/plug.yaml", "name: sqlite\nversion: 1.0.0\ncategory: database\n");
        let (dir, db, owner) = super::super::db::test_database(&[plug]).await;
        let target = super::super::scan::ScanTarget { owner_id: owner.id, source_id: None };
        super::super::scan::scan_dir(&db, &dir.path().join("tree"), target, |_| {}).await.unwrap();
        let orchestrator = Orchestrator::new(db.clone(), "http://hub");
        let caller = Caller { user_id: owner.id, username: "owner".into(), is_admin: false, read_only: false, via_token: true };
        (dir, db, orchestrator, caller)
    }

    #[tokio::test]
    async fn a_count_found_in_the_database_is_remembered_as_of_when_it_was_made() {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set, PaginatorTrait};
        let (_dir, db, orchestrator, caller) = one_pipe().await;
        let pipe = pipes::Entity::find().one(&db).await.unwrap().unwrap();
        // Counted half a minute ago, by another instance or before a restart.
        let at = crate::orchestrator::now() - chrono::TimeDelta::seconds(30);
        let earlier = downloads::ActiveModel {
            pipe_id: Set(pipe.id),
            user_id: Set(Some(caller.user_id)),
            version: Set("1.0.0".into()),
            downloaded_at: Set(at),
            ..Default::default()
        };
        earlier.insert(&db).await.unwrap();

        // Read, then kept: neither counts again.
        for _ in 0..2 {
            download_pipe(&orchestrator, Some(&caller), None, "sqlite", &VersionPick::Newest, Record::Count).await.unwrap();
        }
        assert_eq!(downloads::Entity::find().count(&db).await.unwrap(), 1);
        let key = (Downloader::User(caller.user_id), pipe.id, "1.0.0".to_string());
        let counted = orchestrator.recently_counted();
        assert!(counted.holds(&key, at + chrono::TimeDelta::seconds(59)));
        assert!(!counted.holds(&key, at + COUNT_ONCE_PER), "remembered as of its count, not of the question");
    }

    #[tokio::test]
    async fn one_users_downloads_of_a_version_at_once_count_once() {
        use super::super::entities::download_tallies::{self, Dimension};
        use sea_orm::PaginatorTrait;
        let (_dir, db, orchestrator, caller) = one_pipe().await;
        // A script's parallel fetches: none knows of another's count before it is stored.
        let fetches: Vec<_> = (0..16)
            .map(|_| {
                let (orchestrator, caller) = (orchestrator.clone(), caller.clone());
                tokio::spawn(async move {
                    download_pipe(&orchestrator, Some(&caller), None, "sqlite", &VersionPick::Newest, Record::Count).await.unwrap()
                })
            })
            .collect();
        for fetch in fetches {
            fetch.await.unwrap();
        }
        assert_eq!(downloads::Entity::find().count(&db).await.unwrap(), 1);
        let tally = download_tallies::Entity::find()
            .filter(download_tallies::Column::Dimension.eq(Dimension::Pipe))
            .one(&db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(tally.total, 1, "the tallies counted it once too");
    }

    #[test]
    fn a_full_memory_forgets_instead_of_growing() {
        let counted = RecentlyCounted::default();
        let now = crate::orchestrator::now();
        let old = now - COUNT_ONCE_PER;
        for user in 0..REMEMBERED as i32 {
            counted.remember((Downloader::User(user), 1, "1".into()), if user % 4 == 0 { now } else { old });
        }
        // Three quarters had expired: they go, the live quarter stays.
        counted.remember((Downloader::User(-1), 1, "1".into()), now);
        let held = counted.0.lock().unwrap().len();
        assert_eq!(held, REMEMBERED / 4 + 1);
        assert!(counted.holds(&(Downloader::User(0), 1, "1".into()), now));
        // Full of live ones: everything is forgotten, and the database is asked again.
        let live = RecentlyCounted::default();
        for user in 0..REMEMBERED as i32 {
            live.remember((Downloader::User(user), 1, "1".into()), now);
        }
        live.remember((Downloader::User(-1), 1, "1".into()), now);
        assert_eq!(live.0.lock().unwrap().len(), 1);
        assert!(!live.holds(&(Downloader::User(0), 1, "1".into()), now));
    }
}
