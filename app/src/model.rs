//! The data that crosses between server and browser: what the orchestrator returns and
//! what the pages show. Plain types, compiled on both sides; the rules live in
//! `orchestrator` (server only).
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// "a, b or c": the choices of an enum, for an error message.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => only.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// An enum with a fixed text for each value: the same text on the wire (serde), in the
/// database (SeaORM, server side) and in forms and addresses (`as_str`, `FromStr`). A text
/// that names no value is refused with a message listing the choices.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
        #[cfg_attr(feature = "ssr", sea_orm(rs_type = "String", db_type = "Text"))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] #[cfg_attr(feature = "ssr", sea_orm(string_value = $text))] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// In the API description: a string, one of the texts.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(value: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("Unknown {} '{value}'; use {}", $what, one_of(&names))
                })
            }
        }
    };
}

/// Names of things a caller can write (pipes, users, groups): parsed where they come in, so
/// nothing past the edge sees one that could escape a path, hide a control character or
/// fill a column. 1 to `MAX` letters, digits, `_`, `-` or `.`, and never `.` or `..`.
macro_rules! name_type {
    ($(#[$meta:meta])* pub struct $name:ident ($what:literal, $max:literal);) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        /// In the API description: a string the rule above accepts.
        #[cfg(feature = "ssr")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some(concat!($what, " name: 1 to ", $max, " letters, digits, '_', '-' or '.'")))
                    .pattern(Some("^[A-Za-z0-9_.-]+$"))
                    .min_length(Some(1))
                    .max_length(Some($max))
                    .into()
            }
        }

        #[cfg(feature = "ssr")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }

        impl $name {
            pub const MAX: usize = $max;

            pub fn parse(text: &str) -> Result<Self, String> {
                let text = text.trim();
                let valid = !text.is_empty()
                    && text.len() <= $max
                    && text != "."
                    && text != ".."
                    && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if valid {
                    Ok($name(text.to_string()))
                } else {
                    Err(format!(
                        "{} name '{}' is not valid: use 1 to {} letters, digits, '_', '-' or '.'",
                        $what,
                        shown(text),
                        $max
                    ))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                $name::parse(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;

            fn try_from(text: String) -> Result<Self, String> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// Text from a caller, as an error message may repeat it: control characters escaped, and
/// cut short when long.
pub fn shown(text: &str) -> String {
    const LONGEST: usize = 80;
    let escaped: String =
        text.chars().take(LONGEST).map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect();
    if text.chars().count() > LONGEST { format!("{escaped}…") } else { escaped }
}

name_type! {
    /// A pipe's name, as its manifest gives it.
    pub struct PipeName ("Pipe", 128);
}

name_type! {
    pub struct UserName ("User", 64);
}

name_type! {
    pub struct GroupName ("Group", 64);
}

text_enum! {
    /// The state of a pipe's share.
    pub enum ShareStatus ("share status") {
        Active = "active",
        /// Waiting for an instance admin's review.
        PendingApproval = "pending_approval",
        Rejected = "rejected",
        /// Only ever an answer: the share was removed.
        Withdrawn = "withdrawn",
    }
}

impl ShareStatus {
    /// Shares in these states count against the owner's `max_pipes_per_user`.
    pub const COUNTED: [ShareStatus; 2] = [ShareStatus::Active, ShareStatus::PendingApproval];
}

text_enum! {
    /// The level of a grant, from weakest to strongest.
    pub enum AccessLevel ("access level") {
        Read = "read",
        ReadWrite = "read_write",
        /// May share the pipe and manage its grants, like its owner.
        Admin = "admin",
    }
}

text_enum! {
    /// Whom a grant is for.
    pub enum SubjectKind ("subject type") {
        User = "user",
        Group = "group",
    }
}

text_enum! {
    /// Who may see a share: anyone; anyone, but only grantees download (gated); or only
    /// those granted access.
    pub enum Visibility ("visibility") {
        Public = "public",
        Gated = "gated",
        Private = "private",
    }
}

impl Visibility {
    pub fn of(is_public: bool, gated: bool) -> Self {
        match (is_public, gated) {
            (true, _) => Visibility::Public,
            (false, true) => Visibility::Gated,
            (false, false) => Visibility::Private,
        }
    }
}

text_enum! {
    /// Where an access request stands.
    pub enum RequestStatus ("request status") {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        /// Nobody decided within `access_request_ttl_days`.
        Expired = "expired",
    }
}

text_enum! {
    /// What a recorded change did.
    pub enum AuditAction ("audit action") {
        SharePipe = "share_pipe",
        UnsharePipe = "unshare_pipe",
        Grant = "grant",
        Revoke = "revoke",
        ReviewShare = "review_share",
        SetSetting = "set_setting",
        DisableUser = "disable_user",
        EnableUser = "enable_user",
        DeleteUser = "delete_user",
        TransferPipes = "transfer_pipes",
        SetPassword = "set_password",
        SetAdmin = "set_admin",
        RevokeToken = "revoke_token",
        RemoveMember = "remove_member",
        DeleteGroup = "delete_group",
        Publish = "publish",
        Yank = "yank",
        Promote = "promote",
        ReviewPromotion = "review_promotion",
        Fork = "fork",
        RequestAccess = "request_access",
        ReviewAccessRequest = "review_access_request",
        RenewGrant = "renew_grant",
        AddWebhook = "add_webhook",
        RemoveWebhook = "remove_webhook",
        AddSource = "add_source",
        RemoveSource = "remove_source",
        SourceState = "source_state",
    }
}

text_enum! {
    /// The file formats a report is exported as.
    pub enum ExportFormat ("format") {
        Csv = "csv",
        Json = "json",
    }
}

text_enum! {
    /// What an API token may do.
    #[derive(Default)]
    pub enum TokenScope ("token scope") {
        /// Everything its user may do.
        #[default]
        Full = "full",
        /// List, read and download; never change anything.
        ReadOnly = "read-only",
    }
}

text_enum! {
    /// An admin's verdict on a pending share.
    pub enum Decision ("decision") {
        Approve = "approve",
        Reject = "reject",
    }
}

text_enum! {
    /// Every action `/api/v1/process` takes, as `context.action` names it. The parser and the
    /// API description both match on it, so neither can miss one.
    pub enum ActionName ("sharing action") {
        ListShareable = "list_shareable",
        SharePipe = "share_pipe",
        UnsharePipe = "unshare_pipe",
        ManagePermissions = "manage_permissions",
        DownloadPipe = "download_pipe",
        GetPipe = "get_pipe",
        ListPendingShares = "list_pending_shares",
        ReviewShare = "review_share",
        GenerateShareReport = "generate_share_report",
        AuditLog = "audit_log",
        ListUsers = "list_users",
        ListTokens = "list_tokens",
        RevokeToken = "revoke_token",
        DisableUser = "disable_user",
        EnableUser = "enable_user",
        DeleteUser = "delete_user",
        TransferPipes = "transfer_pipes",
        SetPassword = "set_password",
        SetAdmin = "set_admin",
        RemoveGroupMember = "remove_group_member",
        DeleteGroup = "delete_group",
        PublishPipe = "publish_pipe",
        YankVersion = "yank_version",
        PromotePipe = "promote_pipe",
        ListPendingPromotions = "list_pending_promotions",
        ReviewPromotion = "review_promotion",
        ForkPipe = "fork_pipe",
        RequestAccess = "request_access",
        ListAccessRequests = "list_access_requests",
        ReviewAccessRequest = "review_access_request",
        RenewGrant = "renew_grant",
        ExplainAccess = "explain_access",
        ListInbox = "list_inbox",
        ReviewInbox = "review_inbox",
        AddWebhook = "add_webhook",
        ListWebhooks = "list_webhooks",
        RemoveWebhook = "remove_webhook",
        TestWebhook = "test_webhook",
        RedeliverWebhook = "redeliver_webhook",
        SetEmail = "set_email",
        AddSource = "add_source",
        ListSources = "list_sources",
        ScanSource = "scan_source",
        RemoveSource = "remove_source",
    }
}

/// Who is asking: found from an API token, a browser session or the operator's CLI.
/// One name everywhere for the signed-in user (the pages show it in the header).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Caller {
    pub user_id: i32,
    pub username: String,
    pub is_admin: bool,
    /// Called with a read-only token: may list, read and download, never change anything.
    #[serde(default)]
    pub read_only: bool,
    /// Called with an API token (not a browser session): reports count its downloads apart.
    #[serde(default)]
    pub via_token: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: i32,
    pub label: String,
    pub created_at: chrono::DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Past its expiry when listed (it no longer works).
    pub expired: bool,
    pub scope: TokenScope,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whose token it is (an admin lists anyone's).
    pub owner: String,
}

text_enum! {
    /// Which pipes a listing covers.
    #[derive(Default)]
    pub enum ListScope ("scope") {
        /// The pipes the caller may share (the seed's `list_shareable`).
        #[default]
        Shareable = "shareable",
        /// Other people's pipes the caller may see: active public shares, and active private
        /// shares the caller holds a grant on.
        SharedWithMe = "shared_with_me",
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct PipeFilters {
    pub scope: ListScope,
    pub category: Option<String>,
    pub status: Option<String>,
    pub author: Option<String>,
    /// Free text, matched against name and description.
    pub search: Option<String>,
    pub visibility: Option<Visibility>,
    /// Only pipes with (true) or without (false) an active share.
    pub shared: Option<bool>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Keyset paging: only the pipes named after (or before) this name. Fast at any depth,
    /// where `offset` walks every row before it; with either, `offset` is only echoed, as
    /// the page's position.
    pub after: Option<String>,
    pub before: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipeSummary {
    pub name: String,
    pub version: String,
    pub category: Option<String>,
    pub author: Option<String>,
    pub status: Option<String>,
    /// True only while the pipe has an active share.
    pub sharing_enabled: bool,
    pub owner: String,
    /// What the share asks for; an unshared pipe is private.
    pub visibility: Visibility,
    /// None when the pipe is not shared.
    pub share_status: Option<ShareStatus>,
    pub share_id: Option<String>,
    /// The admin's note when a share was reviewed.
    pub review_note: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    /// Its source no longer holds it: kept, listed, not downloadable.
    #[serde(default)]
    pub gone: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipeList {
    pub pipes: Vec<PipeSummary>,
    /// Every match, not only this page.
    pub total_count: u64,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub filters_applied: Map<String, Value>,
    pub limit: Option<u64>,
    /// The position of the first pipe among all matches (as given, with `after`/`before`).
    pub offset: u64,
    /// When more pipes follow this page: pass it as `after` for the next one.
    pub next_after: Option<String>,
    /// Each source's health, for instance admins or with `config.debug_mode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub registry_status: Option<Map<String, Value>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SharePermissions {
    pub read: bool,
    pub fork: bool,
    pub contribute: bool,
}

impl Default for SharePermissions {
    fn default() -> Self {
        SharePermissions { read: true, fork: false, contribute: false }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ShareOptions {
    /// Nothing is exposed unless asked: a share is private by default.
    pub public: bool,
    /// Listed and shown to everyone, downloaded only by grantees, who ask with
    /// `request_access`.
    pub gated: bool,
    pub approval_required: bool,
    pub permissions: SharePermissions,
    /// Any other option the caller sent, kept as it came.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    #[serde(flatten)]
    pub metadata: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShareResult {
    pub pipe_name: String,
    pub sharing_status: ShareStatus,
    pub share_id: String,
    pub sharing_options: ShareOptions,
    pub share_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UnshareResult {
    pub pipe_name: String,
    pub share_id: String,
    pub sharing_status: ShareStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AppliedPermissions {
    pub users: Vec<UserName>,
    pub groups: Vec<GroupName>,
    pub access_level: AccessLevel,
    pub expiration: Option<String>,
    pub revoked: bool,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One grant on a pipe as shown to its managers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GrantView {
    pub subject_type: SubjectKind,
    pub name: String,
    pub access_level: AccessLevel,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    pub permission_id: String,
    pub granted_at: DateTime<Utc>,
    /// Who made the grant.
    pub granted_by: String,
    /// Ends within the instance's `reminder_days`: its managers may renew it.
    pub ending_soon: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PermissionsResult {
    pub pipe_name: String,
    pub permissions_updated: bool,
    pub active_permissions: AppliedPermissions,
    pub permission_id: String,
    /// Every grant on the pipe now, expired ones marked.
    pub grants: Vec<GrantView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipeDetails {
    pub summary: PipeSummary,
    /// Newest first.
    pub versions: Vec<String>,
    /// The latest version's manifest, as YAML.
    pub manifest_yaml: String,
    pub download_count: u64,
    /// The caller may share the pipe and manage its grants.
    pub can_manage: bool,
    /// The share's options, for its managers.
    pub sharing_options: Option<ShareOptions>,
    /// Every grant, for its managers.
    pub grants: Vec<GrantView>,
    /// The latest sharing changes, newest first, for its managers.
    pub history: Vec<AuditEvent>,
    /// Every version with its package, newest first.
    pub version_details: Vec<VersionInfo>,
    /// Where each environment points, and their latest moves (newest first).
    pub environments: Vec<EnvironmentView>,
    pub environment_history: Vec<EnvironmentMove>,
    pub forked_from: Option<ForkOrigin>,
    /// Forks of this pipe the caller may see.
    pub forks: Vec<String>,
    /// The shown version's README.md as sanitised HTML.
    pub readme_html: Option<String>,
    /// What the caller may do besides managing: publish versions, promote (outside
    /// protected environments unless a manager), fork.
    pub can_publish: bool,
    pub can_promote: bool,
    pub can_fork: bool,
    /// The caller may download it (a gated pipe's page is shown to everyone).
    pub can_download: bool,
    /// The caller is signed in and may ask for (more) access.
    pub can_request_access: bool,
    /// The caller's own request for this pipe, if any.
    pub my_request: Option<AccessRequestView>,
    /// Requests waiting on its managers, for them.
    pub pending_requests: Vec<AccessRequestView>,
    /// Who can reach it and why, for its managers.
    pub access: Option<PipeAccessExplained>,
    /// Where it came from: its source, origin, and when the source last answered.
    pub source: PipeSource,
}

/// An access request as its requester and the pipe's managers see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessRequestView {
    pub request_id: i32,
    pub pipe_name: String,
    pub requester: String,
    pub access_level: AccessLevel,
    pub reason: String,
    pub duration_days: Option<i32>,
    pub status: RequestStatus,
    /// Name it when deciding: a request changed since is a 409.
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When a pending request lapses.
    pub expires_at: DateTime<Utc>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    /// What an approval granted (possibly narrower than asked), and until when.
    pub granted_level: Option<AccessLevel>,
    pub granted_until: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessRequests {
    pub requests: Vec<AccessRequestView>,
    pub total_count: u64,
}

text_enum! {
    /// Why someone reaches a pipe.
    pub enum AccessReason ("reason") {
        Owner = "owner",
        DirectGrant = "direct_grant",
        GroupGrant = "group_grant",
        InstanceAdmin = "instance_admin",
        PublicShare = "public_share",
        GatedShare = "gated_share",
    }
}

/// One way a user reaches a pipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessPath {
    pub reason: AccessReason,
    /// What it allows: a level, or none (a gated page is seen, not downloaded).
    pub access_level: Option<AccessLevel>,
    /// The group a group grant came through.
    pub group: Option<String>,
    pub granted_by: Option<String>,
    pub granted_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// False for a `read` or `read_write` grant while the pipe has no active share: it counts
    /// once the pipe is shared again.
    pub in_force: bool,
}

/// A user and every way they reach the pipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserAccess {
    pub user: String,
    /// The strongest level in force, if any.
    pub access_level: Option<AccessLevel>,
    pub paths: Vec<AccessPath>,
}

/// A group grant, with the members it reaches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GroupAccess {
    pub group: String,
    pub access_level: AccessLevel,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub members: Vec<String>,
}

/// `explain_access` for a pipe: who can reach it, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipeAccessExplained {
    pub pipe_name: String,
    pub visibility: Visibility,
    pub share_status: Option<ShareStatus>,
    /// Anyone, signed in or not: `public_share` (download) or `gated_share` (the page only).
    pub everyone: Option<AccessPath>,
    pub users: Vec<UserAccess>,
    pub groups: Vec<GroupAccess>,
    /// Grants that have ended, listed apart.
    pub expired: Vec<GrantView>,
}

/// One pipe a user reaches, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReachedPipe {
    pub pipe_name: String,
    pub access_level: Option<AccessLevel>,
    pub paths: Vec<AccessPath>,
}

/// The answer of `explain_access`: about a pipe, or about a user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ExplainedAccess {
    Pipe(PipeAccessExplained),
    User(UserAccessExplained),
}

/// `explain_access` for a user: what they reach, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserAccessExplained {
    pub user: String,
    /// An instance admin reaches every pipe.
    pub instance_admin: bool,
    /// Pipes they own or hold grants on (at most 1,000; `total_count` counts them all).
    pub pipes: Vec<ReachedPipe>,
    pub total_count: u64,
    /// Pipes anyone reaches: public shares (download) and gated ones (the page).
    pub public_pipes: u64,
    pub gated_pipes: u64,
    /// Their grants that have ended.
    pub expired: Vec<ReachedPipe>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PendingShare {
    pub pipe_name: String,
    pub share_id: String,
    pub owner: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub public: bool,
    pub sharing_options: ShareOptions,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PendingShares {
    pub shares: Vec<PendingShare>,
    pub total_count: usize,
}

/// One share request as the admin saw it in the queue: a review applies to that request only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewTarget {
    pub pipe_name: String,
    pub requested_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewResult {
    pub pipe_name: String,
    pub share_id: String,
    pub sharing_status: ShareStatus,
    pub review_note: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

text_enum! {
    /// The period a report covers.
    pub enum TimeRange ("time_range") {
        Days7 = "7_days",
        Days30 = "30_days",
        Days90 = "90_days",
        Year = "1_year",
        AllTime = "all_time",
    }
}

impl TimeRange {
    pub fn label(self) -> &'static str {
        match self {
            TimeRange::Days7 => "Last 7 days",
            TimeRange::Days30 => "Last 30 days",
            TimeRange::Days90 => "Last 90 days",
            TimeRange::Year => "Last year",
            TimeRange::AllTime => "All time",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ReportOptions {
    pub time_range: TimeRange,
    pub include_usage_stats: bool,
    pub include_user_metrics: bool,
    pub include_trend_analysis: bool,
    /// When given, it decides the sections (an `include_*` set to false still leaves one
    /// out); without it the `include_*` flags do.
    pub report_format: Option<ReportFormat>,
}

text_enum! {
    /// How much a report holds.
    pub enum ReportFormat ("report format") {
        /// The summary block only.
        Summary = "summary",
        /// The summary and usage stats.
        Detailed = "detailed",
        /// Everything: usage stats, user metrics, trends and recommendations.
        Comprehensive = "comprehensive",
    }
}

text_enum! {
    /// Who made a download.
    pub enum DownloadClient ("download client") {
        /// A signed-in user in the browser (a session).
        Browser = "browser",
        /// A script with an API token.
        Token = "token",
        Anonymous = "anonymous",
    }
}

/// Downloads of one thing (a version, an environment, a kind of caller, a pipe).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NamedCount {
    pub name: String,
    pub downloads: u64,
}

/// Signed-in users who downloaded something, per window ending now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UniqueDownloaders {
    pub last_day: u64,
    pub last_7_days: u64,
    pub last_30_days: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            time_range: TimeRange::Days30,
            include_usage_stats: true,
            include_user_metrics: false,
            include_trend_analysis: false,
            report_format: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Pipes with an active share; always `public_pipes + private_pipes`.
    pub total_shared_pipes: u64,
    pub public_pipes: u64,
    pub private_pipes: u64,
    /// Unexpired grants on actively shared pipes.
    pub active_collaborations: u64,
    pub pending_approvals: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CategoryDownloads {
    pub category: String,
    pub downloads: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageStats {
    pub downloads: u64,
    pub unique_users: u64,
    /// Categories ranked by downloads in the range, most first.
    pub popular_categories: Vec<String>,
    pub category_downloads: Vec<CategoryDownloads>,
    /// The most downloaded versions, as `pipe@version`.
    #[serde(default)]
    pub by_version: Vec<NamedCount>,
    /// Downloads asked through each environment; `direct` for a version or the newest.
    #[serde(default)]
    pub by_environment: Vec<NamedCount>,
    /// Downloads per kind of caller: `browser`, `token`, `anonymous`.
    #[serde(default)]
    pub by_client: Vec<NamedCount>,
    #[serde(default)]
    pub unique_downloaders: UniqueDownloaders,
    /// The most downloaded pipes in the range.
    #[serde(default)]
    pub top_pipes: Vec<NamedCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DayCount {
    pub date: NaiveDate,
    pub shares: u64,
    pub downloads: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrendAnalysis {
    pub daily: Vec<DayCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserCount {
    pub user: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserMetrics {
    /// Who downloaded most in the range.
    pub top_downloaders: Vec<UserCount>,
    /// Owners by number of actively shared pipes.
    pub shares_by_owner: Vec<UserCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShareReport {
    pub report_id: String,
    pub generated_at: DateTime<Utc>,
    pub time_range: TimeRange,
    /// The format asked for; absent when the `include_*` flags chose the sections.
    pub report_format: Option<ReportFormat>,
    /// `instance` for an admin, `own_pipes` for anyone else.
    pub scope: String,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_stats: Option<UsageStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend_analysis: Option<TrendAnalysis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_metrics: Option<UserMetrics>,
    pub recommendations: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub username: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GroupInfo {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Directory {
    pub users: Vec<UserInfo>,
    pub groups: Vec<GroupInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Settings {
    pub max_pipes_per_user: u32,
    pub enable_public_sharing: bool,
    pub require_approval: bool,
    /// Anyone may create an account from the sign-in page.
    pub allow_self_signup: bool,
    /// The largest package (all its files, unpacked) a user may publish.
    pub max_archive_bytes: u64,
    /// How much each user's published packages may take in all, in MiB.
    pub max_storage_per_user_mb: u32,
    /// Environments only a pipe's owner and `admin` grantees promote to (and, with
    /// `require_approval`, only after an instance admin approves).
    pub protected_environments: Vec<String>,
    /// A pending access request lapses after this many days.
    pub access_request_ttl_days: u32,
    /// Grants and tokens ending within this many days are shown as ending soon.
    pub reminder_days: u32,
}

impl Default for Settings {
    /// The seed's defaults.
    fn default() -> Self {
        Settings {
            max_pipes_per_user: 50,
            enable_public_sharing: true,
            require_approval: false,
            allow_self_signup: false,
            max_archive_bytes: 10 * 1024 * 1024,
            max_storage_per_user_mb: 500,
            protected_environments: vec!["prod".into()],
            access_request_ttl_days: 14,
            reminder_days: 7,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DownloadResult {
    pub pipe_name: String,
    pub version: String,
    /// Every version of the pipe, newest first.
    pub versions: Vec<String>,
    /// The manifest of the version (the winning file of its folder). Shared, not copied,
    /// with the answer kept for the next download.
    #[cfg_attr(feature = "ssr", schema(value_type = Value))]
    pub spec: std::sync::Arc<Value>,
    /// Every manifest file of the version's folder, by file name.
    #[cfg_attr(feature = "ssr", schema(value_type = Value))]
    pub manifests: std::sync::Arc<Value>,
    pub owner: String,
    pub downloaded_at: DateTime<Utc>,
    /// The environment asked for, when the version was chosen by one.
    pub environment: Option<String>,
    /// Withdrawn by its publisher: still downloadable by its exact version.
    pub yanked: bool,
    /// The package: a `.tar.gz` of the version's files, where to GET it, its SHA-256 and
    /// size, and the paths inside. Absent only for a version scanned before packages existed.
    pub archive_url: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub files: Vec<String>,
    /// Where the pipe came from.
    pub source: PipeSource,
}

/// One sharing change, as the audit log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// Who made the change; `cli` for the operator's command line.
    pub actor: String,
    pub action: AuditAction,
    pub pipe_name: Option<String>,
    pub detail: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditLog {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    pub total_count: u64,
    pub limit: u64,
    pub offset: u64,
}

/// `revoke_token`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenRevoked {
    pub revoked: i32,
}

/// `disable_user` and `enable_user`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserDisabled {
    pub user: UserName,
    pub disabled: bool,
}

/// What `delete_user` or `delete_group` removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Deleted {
    pub deleted: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipesTransferred {
    pub from: UserName,
    pub to: UserName,
    /// How many pipes moved.
    pub pipes: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordSet {
    pub user: UserName,
    pub password_set: bool,
    /// The user's sessions ended with the change.
    pub sessions_ended: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminSet {
    pub user: UserName,
    pub admin: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberRemoved {
    pub group: GroupName,
    pub removed: UserName,
}

/// The **API** page: the API description, as people read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiReference {
    pub actions: Vec<ApiAction>,
    pub routes: Vec<ApiRoute>,
}

/// One action of `/api/v1/process`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiAction {
    pub name: String,
    pub summary: String,
    pub fields: Vec<ApiField>,
    /// The result's type, as the description names it.
    pub result: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiField {
    pub name: String,
    /// `string`, `PipeName`, `list of UserName`, `one of read, read_write, admin`...
    pub kind: String,
    pub required: bool,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiRoute {
    pub method: String,
    pub path: String,
    pub summary: String,
    /// The statuses it answers with.
    pub statuses: Vec<String>,
}

/// One file of a package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PackageEntry {
    pub path: String,
    pub size: u64,
}

/// `publish_pipe`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PublishResult {
    pub pipe_name: String,
    pub version: String,
    /// The publish created the pipe (the publisher owns it).
    pub new_pipe: bool,
    pub published_by: String,
    pub sha256: String,
    pub size: u64,
    pub files: Vec<String>,
    pub archive_url: String,
}

/// `yank_version`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct YankResult {
    pub pipe_name: String,
    pub version: String,
    pub yanked: bool,
    pub reason: String,
    /// The newest version that is not yanked, now the pipe's latest.
    pub latest_version: String,
}

/// One version as the pipe page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    pub version: String,
    pub published_at: DateTime<Utc>,
    /// Who published it; absent for a version read from a folder by a scan.
    pub published_by: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    pub files: Vec<PackageEntry>,
    pub yanked: bool,
    pub yank_reason: Option<String>,
}

/// `promote_pipe`'s and `review_promotion`'s answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PromoteResult {
    pub pipe_name: String,
    pub environment: String,
    pub version: String,
    /// Where the environment pointed before (or points still, while the promotion waits).
    pub previous_version: Option<String>,
    /// `active` once the environment points at the version; `pending_approval` while an
    /// instance admin has to approve; `rejected`.
    pub status: ShareStatus,
    /// The waiting request's id, for `review_promotion`.
    pub promotion_id: Option<i32>,
}

/// A promotion to a protected environment waiting for an instance admin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PendingPromotion {
    pub promotion_id: i32,
    pub pipe_name: String,
    pub environment: String,
    pub version: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PendingPromotions {
    pub promotions: Vec<PendingPromotion>,
    pub total_count: usize,
}

/// Where one environment of a pipe points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentView {
    pub name: String,
    pub version: String,
    pub protected: bool,
    pub updated_by: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// One move of an environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvironmentMove {
    pub environment: String,
    pub from_version: Option<String>,
    pub to_version: String,
    pub by: Option<String>,
    pub at: DateTime<Utc>,
}

/// The pipe and version a pipe was forked from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ForkOrigin {
    pub pipe: String,
    pub version: String,
}

text_enum! {
    /// What an inbox item is about.
    pub enum InboxKind ("inbox kind") {
        /// A share waiting for an instance admin.
        ShareApproval = "share_approval",
        /// A promotion to a protected environment waiting for an instance admin.
        Promotion = "promotion",
        /// Someone asks for access to a pipe the user manages.
        AccessRequest = "access_request",
        /// The user's own request: pending, or decided lately.
        MyRequest = "my_request",
        /// A grant of the user's, or on a pipe they manage, that ends soon.
        ExpiringGrant = "expiring_grant",
        /// An API token of the user's that ends soon.
        ExpiringToken = "expiring_token",
    }
}

impl InboxKind {
    /// The kinds the inbox decides with approve or reject.
    pub fn decidable(self) -> bool {
        matches!(self, InboxKind::ShareApproval | InboxKind::Promotion | InboxKind::AccessRequest)
    }
}

/// One thing waiting on the signed-in user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboxItem {
    pub kind: InboxKind,
    /// With `kind`, names the item: a pipe name (share approvals), a promotion, request,
    /// grant or token id.
    pub id: String,
    /// The version of the item shown: a decision names it, and a changed item is a 409.
    pub revision: Option<String>,
    pub pipe_name: Option<String>,
    /// One line for people.
    pub summary: String,
    /// Who it comes from.
    pub from: Option<String>,
    /// When it was asked or last changed.
    pub at: DateTime<Utc>,
    /// When the grant or token ends, or the request lapses.
    pub ends_at: Option<DateTime<Utc>>,
    pub status: Option<String>,
    pub decidable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Inbox {
    pub items: Vec<InboxItem>,
    /// Items waiting for a decision or ending soon (the header's count).
    pub waiting: u64,
}

/// One item of a bulk decision, as it was shown.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboxRef {
    pub kind: InboxKind,
    pub id: String,
    pub revision: Option<String>,
}

/// What became of one item of a bulk decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboxOutcome {
    pub kind: InboxKind,
    pub id: String,
    pub decided: bool,
    /// Why it was not decided (changed since shown, already decided, not yours to decide).
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InboxDecisions {
    pub decision: Decision,
    pub outcomes: Vec<InboxOutcome>,
}

text_enum! {
    /// What a webhook delivery reports.
    pub enum WebhookEvent ("webhook event") {
        Share = "share",
        Unshare = "unshare",
        Approve = "approve",
        Reject = "reject",
        Grant = "grant",
        Revoke = "revoke",
        GrantExpired = "grant_expired",
        AccessRequested = "access_requested",
        AccessReviewed = "access_reviewed",
        Published = "published",
        Yanked = "yanked",
        Promoted = "promoted",
        SourceStateChanged = "source_state_changed",
        QuotaRefused = "quota_refused",
        /// Sent by `test_webhook`.
        Ping = "ping",
    }
}

text_enum! {
    /// Where a webhook delivery stands.
    pub enum DeliveryStatus ("delivery status") {
        /// Waiting for its next attempt.
        Pending = "pending",
        /// Answered with 2xx.
        Delivered = "delivered",
        /// Out of attempts (redeliver to try once more).
        Failed = "failed",
    }
}

/// One attempt to send a delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttemptView {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The receiver's status; absent when it never answered (refused, timed out).
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub delivery_id: i32,
    /// The payload's `id`, the same on every attempt.
    pub event_id: String,
    pub event_type: WebhookEvent,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Every attempt, oldest first.
    pub log: Vec<AttemptView>,
}

/// A subscription; its secret is shown only when it is created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub webhook_id: i32,
    pub url: String,
    /// The pipe it reports on; absent: every event of the instance.
    pub pipe_name: Option<String>,
    /// The events it wants; empty: every event.
    pub events: Vec<WebhookEvent>,
    pub owner: String,
    pub created_at: DateTime<Utc>,
    /// The latest deliveries, newest first.
    pub deliveries: Vec<DeliveryView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    pub webhook: WebhookView,
    /// The HMAC-SHA256 key of its signatures, shown this once.
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmailSet {
    pub user: UserName,
    /// Where notification emails go; absent: nowhere.
    pub email: Option<String>,
}

text_enum! {
    /// Where a source's pipes are read from.
    pub enum SourceKind ("source kind") {
        /// A folder tree of manifests on the server's disk.
        Folder = "folder",
        /// Another pipeshare instance, through its API.
        Pipeshare = "pipeshare",
    }
}

text_enum! {
    /// A source's health.
    pub enum SourceState ("source state") {
        /// Not scanned yet.
        Unknown = "unknown",
        Healthy = "healthy",
        /// Some manifests are invalid, or the last scan failed after a recent success.
        Degraded = "degraded",
        /// Unreachable or unreadable.
        Offline = "offline",
    }
}

/// One thing a scan reports, with where and why.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScanIssue {
    pub path: String,
    pub reason: String,
}

/// A scan's lists: invalid manifests, conflicts and gone pipes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ScanDetails {
    pub invalid: Vec<ScanIssue>,
    pub conflicts: Vec<ScanIssue>,
    pub gone: Vec<String>,
    /// Why the scan failed, when it did.
    pub error: Option<String>,
}

/// One scan of a source, as history keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceScanReport {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub succeeded: bool,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub gone: u64,
    pub invalid: u64,
    pub conflicts: u64,
    pub details: ScanDetails,
}

/// One pipe of an instance's catalogue, as another instance reads it: its newest version's
/// manifests and their hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CatalogueEntry {
    pub name: String,
    pub version: String,
    pub category: Option<String>,
    /// Changes whenever the version's manifests or files change.
    pub content_hash: String,
    /// The version's manifests by file name (`plug.yaml`, `pipe.yaml`, ...).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub manifests: Map<String, Value>,
    pub updated_at: DateTime<Utc>,
}

/// A page of `GET /api/v1/catalogue`, in name order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CataloguePage {
    pub pipes: Vec<CatalogueEntry>,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<String>,
    /// Every pipe of the catalogue, on all pages.
    pub total: u64,
}

/// A source as instance admins see it (its token never).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceView {
    pub name: String,
    pub kind: SourceKind,
    pub location: String,
    pub owner: String,
    /// `manual` or a number of seconds.
    pub interval: String,
    pub state: SourceState,
    pub pipes: u64,
    pub last_scan_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub consecutive_failures: i32,
    pub next_scan_at: Option<DateTime<Utc>>,
    pub has_token: bool,
    /// The latest scans, newest first.
    pub reports: Vec<SourceScanReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceList {
    pub sources: Vec<SourceView>,
}

/// Where a pipe came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PipeSource {
    /// `local` for pipes published here or scanned by the operator.
    pub name: String,
    pub kind: Option<SourceKind>,
    pub origin: Option<String>,
    pub gone_at: Option<DateTime<Utc>>,
    /// When its source last answered (how stale the copy is).
    pub last_success_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SourceRemoved {
    pub name: String,
    /// What became of its pipes: `kept` (now local) or `gone`.
    pub pipes: String,
    pub count: u64,
}
