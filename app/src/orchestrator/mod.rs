//! The orchestrator: every sharing rule and action of pipeshare. The JSON API, the browser
//! app and the CLI are doors onto it; they find out who is calling and show the outcome,
//! nothing more.
pub mod access;
pub mod accounts;
pub mod admin;
pub mod archive;
pub mod audit;
pub mod catalog;
pub mod db;
pub mod details;
pub mod download;
pub mod entities;
pub mod environments;
pub mod error;
pub mod explain;
pub mod grouped;
pub mod inbox;
pub mod input;
pub mod kept;
pub mod lease;
pub mod list;
pub mod notify;
pub mod permissions;
pub mod publish;
pub mod remote;
pub mod report;
pub mod requests;
pub mod review;
pub mod scan;
pub mod settings;
pub mod share;
pub mod sign_in;
pub mod sources;
pub mod tallies;
pub mod transfer;
pub mod webhooks;
pub mod yaml;

pub(crate) mod process;
pub mod throttle;

use std::{net::IpAddr, sync::Arc};

use sea_orm::DatabaseConnection;
use serde_json::Value;

use access::require_write;
pub use accounts::Caller;
use admin::require_admin_or_operator;
pub use error::{Error, Result};
pub use process::Action;
use throttle::Kind;

use crate::model::{
    AccessRequestView, AccessRequests, AuditAction, AuditLog, Decision, Directory, ExplainedAccess, GroupName, PendingPromotions,
    PendingShares, PermissionsResult, PipeDetails, PipeFilters, PipeList, PipeName, PromoteResult, PublishResult, ReportOptions,
    ReviewResult, Settings, ShareOptions, ShareReport, ShareResult, TokenInfo, UnshareResult, UserName, YankResult,
};

/// The one door into pipeshare's rules. The JSON API (through [`Orchestrator::process`]), the
/// browser's server functions and the CLI all call these methods; each method checks who may
/// do it and loads the settings it needs.
#[derive(Clone)]
pub struct Orchestrator {
    db: DatabaseConnection,
    /// Where share URLs point, e.g. `https://pipes.example.com`.
    base_url: String,
    /// The seed's per-call `config`, which may only tighten the instance settings.
    config: Option<Arc<Value>>,
    /// Store the downloads counted, and the shares made, at the same moment together.
    downloads: Arc<grouped::Writer<download::CountedDownloads>>,
    shares: Arc<grouped::Writer<share::Shares>>,
    /// The downloads this process counted in the last minute.
    recently_counted: Arc<download::RecentlyCounted>,
    /// The database's revisions, read for many requests at once.
    revisions: Arc<kept::RevisionReader>,
    /// Listings, downloads and bearer tokens, kept while what they answer is unchanged (see
    /// [`kept`]).
    kept: Arc<KeptAnswers>,
}

type KeptDownloads = kept::Kept<download::Asked, download::Found>;

struct KeptAnswers {
    lists: kept::Kept<(kept::Asker, PipeFilters), PipeList>,
    downloads: KeptDownloads,
    /// By the token's hash.
    tokens: kept::Kept<String, accounts::TokenHolder>,
}

/// Room for `bytes` of listings, as much of downloads, and a sixteenth of that of tokens
/// (thousands of them).
fn kept_answers(bytes: usize) -> Arc<KeptAnswers> {
    Arc::new(KeptAnswers {
        lists: kept::Kept::new("list", bytes),
        downloads: kept::Kept::new("download", bytes),
        tokens: kept::Kept::new("token", bytes / 16),
    })
}

/// The most bytes of answers of one kind kept, unless told otherwise.
const KEPT_BYTES: usize = 16 << 20;

impl Orchestrator {
    pub fn new(db: DatabaseConnection, base_url: impl Into<String>) -> Self {
        Orchestrator {
            downloads: Arc::new(grouped::Writer::new(db.clone())),
            shares: Arc::new(grouped::Writer::new(db.clone())),
            recently_counted: Arc::default(),
            revisions: Arc::default(),
            kept: kept_answers(KEPT_BYTES),
            db,
            base_url: base_url.into(),
            config: None,
        }
    }

    /// This orchestrator keeping at most `bytes` of listings, as much of downloads, and a
    /// sixteenth of that of bearer tokens (see [`kept`]); 0 keeps none.
    pub fn keeping_answers(self, bytes: usize) -> Self {
        Orchestrator { kept: kept_answers(bytes), ..self }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn downloads(&self) -> &grouped::Writer<download::CountedDownloads> {
        &self.downloads
    }

    pub(crate) fn recently_counted(&self) -> &download::RecentlyCounted {
        &self.recently_counted
    }

    pub(crate) fn kept_downloads(&self) -> &KeptDownloads {
        &self.kept.downloads
    }

    /// The database's revisions, from a read that began after this call did (see
    /// [`kept::RevisionReader`]).
    pub async fn revisions(&self) -> Result<kept::Revisions> {
        self.revisions.read(&self.db).await
    }

    /// The caller a bearer token belongs to: `None` for no such token; refused (401) when it
    /// has expired or its user is disabled. A token read lately is known without reading it
    /// again while the access revision stands: the database moves it when a token is revoked
    /// or changed, and when its user is disabled, deleted, renamed or their role changes.
    pub async fn token_caller(&self, token: &str) -> Result<Option<Caller>> {
        let Some(hash) = accounts::bearer_token_hash(token) else {
            return Ok(None);
        };
        let revisions = self.revisions().await?;
        let now = now();
        let holder = match self.kept.tokens.current(&hash, &revisions).filter(|holder| holder.use_noted(now)) {
            Some(holder) => holder,
            None => {
                let Some(holder) = accounts::token_holder(&self.db, &hash, now).await? else {
                    return Ok(None);
                };
                self.kept.tokens.keep(hash, &revisions, &holder);
                holder
            }
        };
        holder.caller(now).map(Some)
    }

    /// This orchestrator under the caller's `config` (checked now): the settings it loads are
    /// the instance's, tightened by it.
    pub fn with_config(&self, config: &Value) -> Result<Orchestrator> {
        Settings::default().tightened_by(config)?;
        Ok(Orchestrator { config: Some(Arc::new(config.clone())), ..self.clone() })
    }

    /// The settings in force for this call.
    pub async fn settings(&self) -> Result<Settings> {
        let settings = Settings::load(&self.db).await?;
        match &self.config {
            Some(config) => settings.tightened_by(config),
            None => Ok(settings),
        }
    }

    /// The seed's `process(context, config)`: one action, chosen by `context.action`
    /// (`list_shareable` when absent), under the instance settings as tightened by `config`.
    pub async fn process(&self, caller: &Caller, context: &Value, config: &Value) -> Result<Value> {
        let action = Action::from_context(context)?;
        self.with_config(config)?.run(caller, action).await
    }

    // Pipes: listing, one pipe, sharing, grants, downloads.

    /// The listing; with `registry_status` for instance admins, or under `config.debug_mode`.
    pub async fn list_shareable(&self, caller: &Caller, filters: &PipeFilters) -> Result<PipeList> {
        let revisions = self.revisions().await?;
        let key = (kept::asker(Some(caller)), filters.clone());
        let mut list = match self.kept.lists.current(&key, &revisions) {
            Some(list) => list,
            None => {
                let list = list::list_shareable(&self.db, caller, filters).await?;
                self.kept.lists.keep(key, &revisions, &list);
                list
            }
        };
        let debug = self.config.as_ref().is_some_and(|c| c.get("debug_mode").and_then(Value::as_bool) == Some(true));
        if caller.is_admin || debug {
            list.registry_status = Some(sources::registry_status(&self.db, caller.is_admin).await?);
        }
        Ok(list)
    }

    // Registry sources (instance admins, and the operator: `by` is `None`).

    pub async fn add_source(&self, by: Option<&Caller>, new: &sources::NewSource) -> Result<sources::SourceView> {
        sources::add_source(&self.db, by, new).await
    }

    pub async fn list_sources(&self, by: Option<&Caller>) -> Result<sources::SourceList> {
        sources::list_sources(&self.db, by).await
    }

    pub async fn scan_source(&self, by: Option<&Caller>, name: &str) -> Result<sources::SourceScanReport> {
        sources::scan_now(&self.db, by, name).await
    }

    pub async fn remove_source(&self, by: Option<&Caller>, name: &str, keep: bool) -> Result<sources::SourceRemoved> {
        sources::remove_source(&self.db, by, name, keep).await
    }

    /// The values the browse filters offer the caller: the categories and statuses of the
    /// pipes they may list.
    pub async fn filter_choices(&self, caller: &Caller) -> Result<(Vec<String>, Vec<String>)> {
        list::filter_choices(&self.db, caller).await
    }

    /// A pipe's page; `None` is an anonymous visitor, who sees only active public shares.
    pub async fn pipe_details(&self, caller: Option<&Caller>, name: &PipeName) -> Result<PipeDetails> {
        details::pipe_details(&self.db, caller, name).await
    }

    pub async fn share_pipe(&self, caller: &Caller, name: &PipeName, options: ShareOptions) -> Result<ShareResult> {
        require_write(caller)?;
        let settings = self.settings().await?;
        share::share_pipe(&self.db, &self.shares, caller, &settings, &self.base_url, name, options).await
    }

    pub async fn unshare_pipe(&self, caller: &Caller, name: &PipeName) -> Result<UnshareResult> {
        require_write(caller)?;
        share::unshare_pipe(&self.db, caller, name).await
    }

    pub async fn manage_permissions(
        &self,
        caller: &Caller,
        name: &PipeName,
        change: permissions::PermissionChange,
    ) -> Result<PermissionsResult> {
        require_write(caller)?;
        permissions::manage_permissions(&self.db, caller, name, change).await
    }

    /// A pipe's manifest, recorded as one download (once a minute per caller and version);
    /// `None` is an anonymous visitor, told apart by `client`, their address. The answer is
    /// taken as it is, or with the spec as a YAML file's text.
    pub async fn download_pipe(
        &self,
        caller: Option<&Caller>,
        client: Option<IpAddr>,
        name: &PipeName,
        pick: &download::VersionPick,
        record: download::Record,
    ) -> Result<download::Found> {
        download::download_pipe(self, caller, client, name, pick, record).await
    }

    /// A page of the pipes the caller may download, for another instance reading this one
    /// (`GET /api/v1/catalogue`).
    pub async fn catalogue(
        &self,
        caller: Option<&Caller>,
        after: Option<&str>,
        limit: Option<u64>,
        if_none_match: Option<&str>,
    ) -> Result<remote::CatalogueAnswer> {
        remote::catalogue(&self.db, caller, after, limit, if_none_match).await
    }

    /// A version's package (a `.tar.gz`), counted as a download, for whoever may download
    /// the pipe.
    pub async fn download_package(
        &self,
        caller: Option<&Caller>,
        client: Option<IpAddr>,
        name: &PipeName,
        version: &str,
        record: download::Record,
    ) -> Result<entities::packages::Model> {
        download::download_package(self, caller, client, name, version, record).await
    }

    // Publishing: new pipes and versions with their files.

    /// Publishes the version the files hold (a manifest at their root names it).
    pub async fn publish_pipe(&self, caller: &Caller, files: Vec<archive::PackageFile>) -> Result<PublishResult> {
        let settings = self.settings().await?;
        publish::publish(&self.db, caller, &settings, &self.base_url, files, None).await
    }

    /// Publishes an uploaded `.tar.gz` or `.zip` of a version folder, unpacked within the
    /// instance's bounds.
    pub async fn publish_archive(&self, caller: &Caller, body: &[u8]) -> Result<PublishResult> {
        require_write(caller)?;
        let limits = self.package_limits().await?;
        let files = archive::unpack(body, &limits)?;
        self.publish_pipe(caller, files).await
    }

    /// The bounds of one package, from the instance settings.
    pub async fn package_limits(&self) -> Result<archive::Limits> {
        Ok(archive::Limits::new(self.settings().await?.max_archive_bytes))
    }

    pub async fn yank_version(&self, caller: &Caller, name: &PipeName, version: &str, reason: &str) -> Result<YankResult> {
        publish::yank_version(&self.db, caller, name, version, reason).await
    }

    /// Copies a version into a new pipe the caller owns.
    pub async fn fork_pipe(
        &self,
        caller: &Caller,
        name: &PipeName,
        pick: &download::VersionPick,
        new_name: &PipeName,
    ) -> Result<PublishResult> {
        let settings = self.settings().await?;
        publish::fork(&self.db, caller, &settings, &self.base_url, name, pick, new_name).await
    }

    // Environments: promotions, and the admins' queue for protected ones.

    pub async fn promote_pipe(&self, caller: &Caller, name: &PipeName, version: &str, environment: &str) -> Result<PromoteResult> {
        let settings = self.settings().await?;
        environments::promote(&self.db, caller, &settings, name, version, environment).await
    }

    pub async fn list_pending_promotions(&self, caller: &Caller) -> Result<PendingPromotions> {
        environments::list_pending(&self.db, caller).await
    }

    pub async fn review_promotion(
        &self,
        caller: &Caller,
        promotion_id: i32,
        decision: Decision,
        note: Option<&str>,
        version: Option<&str>,
    ) -> Result<PromoteResult> {
        environments::review(&self.db, caller, promotion_id, decision, note, version).await
    }

    // The people side: access requests, renewals, and who can see what and why.

    pub async fn request_access(&self, caller: &Caller, new: requests::NewRequest) -> Result<AccessRequestView> {
        require_write(caller)?;
        let settings = self.settings().await?;
        requests::request_access(&self.db, caller, &settings, &self.base_url, new).await
    }

    pub async fn list_access_requests(&self, caller: &Caller, filter: &requests::RequestFilter) -> Result<AccessRequests> {
        requests::list_access_requests(&self.db, caller, filter).await
    }

    pub async fn review_access_request(&self, caller: &Caller, review: &requests::RequestReview) -> Result<AccessRequestView> {
        require_write(caller)?;
        requests::review_access_request(&self.db, caller, &self.base_url, review).await
    }

    pub async fn renew_grant(
        &self,
        caller: &Caller,
        name: &PipeName,
        subject: &requests::Subject,
        days: Option<i32>,
    ) -> Result<permissions::GrantView> {
        require_write(caller)?;
        requests::renew_grant(&self.db, caller, name, subject, days).await
    }

    /// Sets (or clears) where a user's notification emails go: their own, or anyone's for an
    /// instance admin or the operator (`by` is `None`).
    pub async fn set_email(&self, by: Option<&Caller>, user: &UserName, email: Option<&str>) -> Result<Option<String>> {
        notify::set_email(&self.db, by, user, email).await
    }

    pub async fn explain_pipe_access(&self, caller: &Caller, name: &PipeName) -> Result<ExplainedAccess> {
        Ok(ExplainedAccess::Pipe(explain::explain_pipe(&self.db, caller, name).await?))
    }

    pub async fn explain_user_access(&self, caller: &Caller, user: &UserName) -> Result<ExplainedAccess> {
        Ok(ExplainedAccess::User(explain::explain_user(&self.db, caller, user).await?))
    }

    // Approvals, reports and the audit log.

    pub async fn list_pending_shares(&self, caller: &Caller) -> Result<PendingShares> {
        review::list_pending_shares(&self.db, caller).await
    }

    /// Decides a pending share request, under the settings of this moment.
    pub async fn review_share(&self, caller: &Caller, name: &PipeName, review: &review::Review) -> Result<ReviewResult> {
        require_write(caller)?;
        let settings = self.settings().await?;
        review::review_share(&self.db, caller, &settings, name, review).await
    }

    pub async fn generate_share_report(&self, caller: &Caller, options: &ReportOptions) -> Result<ShareReport> {
        report::generate_share_report(&self.db, caller, options).await
    }

    pub async fn audit_log(&self, caller: &Caller, query: &audit::AuditQuery) -> Result<AuditLog> {
        audit::audit_log(&self.db, caller, query).await
    }

    // Accounts: signing in, tokens, and what instance admins manage. `by` is the admin who
    // asks, or `None` for the operator at the server's terminal (the CLI).

    /// The user for a correct password, `None` for a wrong one; refused (429) while the name
    /// or the client's `address` has failed too often.
    pub async fn sign_in(&self, username: &str, password: &str, address: Option<IpAddr>) -> Result<Option<Caller>> {
        sign_in::sign_in(&self.db, username, password, address).await
    }

    /// Creates an account from the sign-in page, while the instance allows it; a few per
    /// client address, then refused (429) for a while.
    pub async fn sign_up(&self, username: &UserName, password: &str, address: Option<IpAddr>) -> Result<Caller> {
        if !self.settings().await?.allow_self_signup {
            return Err(Error::Forbidden("Sign-up is closed on this instance; ask an admin for an account".into()));
        }
        let keys: Vec<_> = address.map(|a| (Kind::SignUpAddress, Kind::SignUpAddress.key(&a.to_string()))).into_iter().collect();
        throttle::take(&self.db, &keys).await?;
        let user = accounts::create_user(&self.db, username, password, false).await?;
        Ok(Caller::from(&user))
    }

    /// The epoch a browser session of `caller` begun now belongs to (see `set_password`).
    pub async fn session_epoch(&self, caller: &Caller) -> Result<i32> {
        accounts::session_epoch(&self.db, caller.user_id).await
    }

    /// The account named `name`, as a caller (the operator's CLI acts for users by name).
    pub async fn user(&self, name: &UserName) -> Result<Caller> {
        Ok(Caller::from(&accounts::require_user(&self.db, name).await?))
    }

    /// API tokens: the caller's own, or (instance admins and the operator) those of `of`, or
    /// of everyone when `of` is `None` and the caller is an admin.
    pub async fn list_tokens(&self, by: Option<&Caller>, of: Option<&UserName>) -> Result<Vec<TokenInfo>> {
        let own = by.filter(|caller| of.is_none_or(|name| name.as_str() == caller.username) && !caller.is_admin);
        if let Some(caller) = own {
            return accounts::list_tokens(&self.db, Some(caller.user_id)).await;
        }
        reading_as_admin(by, "list other users' tokens")?;
        let user_id = match of {
            Some(name) => Some(accounts::require_user(&self.db, name).await?.id),
            None => None,
        };
        accounts::list_tokens(&self.db, user_id).await
    }

    /// A new API token for `username`: a user makes their own; the operator makes anyone's.
    /// It is returned only now; only its hash is stored.
    pub async fn create_token(&self, by: Option<&Caller>, username: &UserName, new: &accounts::NewToken) -> Result<String> {
        if let Some(caller) = by {
            require_write(caller)?;
            if caller.username != username.as_str() {
                access::require_admin(caller, "create tokens for other users")?;
            }
            // A stolen session cannot mint tokens without end; the operator is not counted.
            let keys = [(Kind::TokenUser, Kind::TokenUser.key(&caller.username))];
            throttle::take(&self.db, &keys).await?;
        }
        accounts::create_token(&self.db, username, new).await
    }

    /// Revokes a token: the caller's own, or anyone's for an admin or the operator.
    pub async fn revoke_token(&self, by: Option<&Caller>, token_id: i32) -> Result<()> {
        if let Some(caller) = by {
            require_write(caller)?;
        }
        let owner = accounts::revoke_token(&self.db, by, token_id).await?;
        audit::record(&self.db, by, AuditAction::RevokeToken, None, serde_json::json!({"user": owner, "token": token_id})).await
    }

    /// Every user and group, for instance admins and the operator.
    pub async fn directory(&self, by: Option<&Caller>) -> Result<Directory> {
        reading_as_admin(by, "manage users and groups")?;
        admin::directory(&self.db).await
    }

    pub async fn create_user(&self, by: Option<&Caller>, username: &UserName, password: &str, is_admin: bool) -> Result<Caller> {
        require_admin_or_operator(by, "create users")?;
        Ok(Caller::from(&accounts::create_user(&self.db, username, password, is_admin).await?))
    }

    /// Disables (or re-enables) an account: its sessions and tokens stop at once.
    pub async fn set_disabled(&self, by: Option<&Caller>, username: &UserName, disabled: bool) -> Result<()> {
        admin::set_disabled(&self.db, by, username, disabled).await
    }

    /// Deletes an account that owns no pipes (hand them on with `transfer_pipes` first).
    pub async fn delete_user(&self, by: Option<&Caller>, username: &UserName) -> Result<()> {
        admin::delete_user(&self.db, by, username).await
    }

    pub async fn transfer_pipes(&self, by: Option<&Caller>, from: &UserName, to: &UserName) -> Result<u64> {
        admin::transfer_pipes(&self.db, by, from, to).await
    }

    /// Sets a password (an admin for anyone, a user their own) and ends the user's sessions;
    /// returns the epoch a session started now belongs to.
    pub async fn set_password(&self, by: Option<&Caller>, username: &UserName, password: &str) -> Result<i32> {
        admin::set_password(&self.db, by, username, password).await
    }

    /// Gives or takes the instance admin role (never from the last admin).
    pub async fn set_admin(&self, by: Option<&Caller>, username: &UserName, admin: bool) -> Result<()> {
        admin::set_admin(&self.db, by, username, admin).await
    }

    pub async fn create_group(&self, by: Option<&Caller>, name: &GroupName) -> Result<()> {
        require_admin_or_operator(by, "create groups")?;
        accounts::create_group(&self.db, name).await.map(|_| ())
    }

    pub async fn add_group_member(&self, by: Option<&Caller>, group: &GroupName, username: &UserName) -> Result<()> {
        require_admin_or_operator(by, "change groups")?;
        accounts::add_group_member(&self.db, group, username).await
    }

    pub async fn remove_group_member(&self, by: Option<&Caller>, group: &GroupName, username: &UserName) -> Result<()> {
        admin::remove_group_member(&self.db, by, group, username).await
    }

    /// Deletes a group with its memberships and the grants made to it.
    pub async fn delete_group(&self, by: Option<&Caller>, group: &GroupName) -> Result<()> {
        admin::delete_group(&self.db, by, group).await
    }

    /// The instance settings, as stored (without any call's `config`).
    pub async fn instance_settings(&self, by: Option<&Caller>) -> Result<Settings> {
        reading_as_admin(by, "see settings")?;
        Settings::load(&self.db).await
    }

    /// Changes several settings in one transaction; only the keys whose value changes are
    /// written and audited. A value that does not parse changes nothing.
    pub async fn update_settings(&self, by: Option<&Caller>, changes: &[(&str, String)]) -> Result<Settings> {
        require_admin_or_operator(by, "change settings")?;
        Settings::update(&self.db, by, changes).await
    }

    // The operator's commands: loading a folder of manifests, moving the whole instance.

    /// Loads the manifests under `dir` as pipes owned by `owner`.
    pub async fn scan(
        &self,
        by: Option<&Caller>,
        dir: &std::path::Path,
        owner: &str,
        progress: impl FnMut(&scan::ScanSummary),
    ) -> Result<scan::ScanSummary> {
        require_admin_or_operator(by, "scan folders")?;
        let owner = accounts::require_user(&self.db, owner).await?;
        scan::scan_dir(&self.db, dir, scan::ScanTarget { owner_id: owner.id, source_id: None }, progress).await
    }

    /// Writes every table to `out` (the operator only: it holds every password hash).
    pub async fn export(&self, out: &mut impl std::io::Write) -> Result<transfer::Counts> {
        transfer::export(&self.db, out).await
    }

    /// Copies a live SQLite database to `path`, consistently (`VACUUM INTO`), as a database
    /// that opens as it is; refuses a path that exists. PostgreSQL has `pg_dump` for this.
    pub async fn backup(&self, path: &std::path::Path) -> Result<()> {
        use sea_orm::{ConnectionTrait, DbBackend, Statement};
        if self.db.get_database_backend() != DbBackend::Sqlite {
            return Err(Error::bad("On PostgreSQL, back up with pg_dump (pg_dump --format=custom --file=FILE DATABASE_URL)"));
        }
        if path.exists() {
            return Err(Error::Conflict(format!("{} exists; back up to a new file", path.display())));
        }
        let target = path.to_str().ok_or_else(|| Error::bad(format!("{} is not a path SQLite can write", path.display())))?;
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [target.into()]);
        self.db.execute(statement).await.map_err(|err| Error::bad(format!("Cannot back up to {target}: {err}")))?;
        Ok(())
    }

    /// Loads an export into this (empty) database (the operator only).
    pub async fn import(&self, input: impl std::io::BufRead) -> Result<transfer::Counts> {
        transfer::import(&self.db, input).await
    }
}

/// Instance admins (with any token) and the operator (`None`) may read this.
fn reading_as_admin(by: Option<&Caller>, what: &str) -> Result<()> {
    by.map_or(Ok(()), |caller| access::require_admin(caller, what))
}

/// The current time at the precision every backend stores (microseconds), so a time reads
/// back exactly as written, on SQLite and PostgreSQL alike (and survives export and import).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let time = chrono::Utc::now();
    time.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(time)
}
