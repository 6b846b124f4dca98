//! The data that crosses between server and browser: what the orchestrator returns and
//! what the pages show. Plain types, compiled on both sides; the rules live in
//! `orchestrator` (server only).
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Who is asking: found from an API token, a browser session or the operator's CLI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Caller {
    pub user_id: i32,
    pub username: String,
    pub is_admin: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct TokenInfo {
    pub id: i32,
    pub label: String,
    pub created_at: chrono::DateTime<Utc>,
}

/// Which pipes a listing covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListScope {
    /// The pipes the caller may share (the seed's `list_shareable`).
    #[default]
    Shareable,
    /// Other people's pipes the caller may see: active public shares, and active private
    /// shares the caller holds a grant on.
    SharedWithMe,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeFilters {
    pub scope: ListScope,
    pub category: Option<String>,
    pub status: Option<String>,
    pub author: Option<String>,
    /// Free text, matched against name and description.
    pub search: Option<String>,
    /// `public` or `private`.
    pub visibility: Option<String>,
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
pub struct PipeSummary {
    pub name: String,
    pub version: String,
    pub category: Option<String>,
    pub author: Option<String>,
    pub status: Option<String>,
    /// True only while the pipe has an active share.
    pub sharing_enabled: bool,
    pub owner: String,
    /// `public` or `private`: what the share asks for; an unshared pipe is private.
    pub visibility: String,
    /// `active`, `pending_approval`, `rejected`, or none when the pipe is not shared.
    pub share_status: Option<String>,
    pub share_id: Option<String>,
    /// The admin's note when a share was reviewed.
    pub review_note: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeList {
    pub pipes: Vec<PipeSummary>,
    /// Every match, not only this page.
    pub total_count: u64,
    pub filters_applied: Map<String, Value>,
    pub limit: Option<u64>,
    /// The position of the first pipe among all matches (as given, with `after`/`before`).
    pub offset: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub struct ShareOptions {
    /// Nothing is exposed unless asked: a share is private by default.
    pub public: bool,
    pub approval_required: bool,
    pub permissions: SharePermissions,
    /// Any other option the caller sent, kept as it came.
    #[serde(flatten)]
    pub metadata: Map<String, Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareResult {
    pub pipe_name: String,
    pub sharing_status: String,
    pub share_id: String,
    pub sharing_options: ShareOptions,
    pub share_url: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnshareResult {
    pub pipe_name: String,
    pub share_id: String,
    pub sharing_status: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppliedPermissions {
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub access_level: String,
    pub expiration: Option<String>,
    pub revoked: bool,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One grant on a pipe as shown to its managers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrantView {
    /// `user` or `group`.
    pub subject_type: String,
    pub name: String,
    pub access_level: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub expired: bool,
    pub permission_id: String,
    pub granted_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PermissionsResult {
    pub pipe_name: String,
    pub permissions_updated: bool,
    pub active_permissions: AppliedPermissions,
    pub permission_id: String,
    /// Every grant on the pipe now, expired ones marked.
    pub grants: Vec<GrantView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeDetails {
    pub summary: PipeSummary,
    /// Newest first.
    pub versions: Vec<String>,
    /// The latest version's manifest, as YAML.
    pub manifest_yaml: String,
    pub download_count: u64,
    /// The viewer may share the pipe and manage its grants.
    pub can_manage: bool,
    /// The share's options, for its managers.
    pub sharing_options: Option<Value>,
    /// Every grant, for its managers.
    pub grants: Vec<GrantView>,
    /// The latest sharing changes, newest first, for its managers.
    pub history: Vec<AuditEvent>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingShare {
    pub pipe_name: String,
    pub share_id: String,
    pub owner: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub public: bool,
    pub sharing_options: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingShares {
    pub shares: Vec<PendingShare>,
    pub total_count: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewResult {
    pub pipe_name: String,
    pub share_id: String,
    pub sharing_status: String,
    pub review_note: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeRange {
    #[serde(rename = "7_days")]
    Days7,
    #[serde(rename = "30_days")]
    Days30,
    #[serde(rename = "90_days")]
    Days90,
    #[serde(rename = "1_year")]
    Year,
    #[serde(rename = "all_time")]
    AllTime,
}

impl TimeRange {
    pub const ALL: [TimeRange; 5] = [TimeRange::Days7, TimeRange::Days30, TimeRange::Days90, TimeRange::Year, TimeRange::AllTime];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeRange::Days7 => "7_days",
            TimeRange::Days30 => "30_days",
            TimeRange::Days90 => "90_days",
            TimeRange::Year => "1_year",
            TimeRange::AllTime => "all_time",
        }
    }

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
pub struct ReportOptions {
    pub time_range: TimeRange,
    pub include_usage_stats: bool,
    pub include_user_metrics: bool,
    pub include_trend_analysis: bool,
    pub report_format: String,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            time_range: TimeRange::Days30,
            include_usage_stats: true,
            include_user_metrics: false,
            include_trend_analysis: false,
            report_format: "detailed".into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
pub struct CategoryDownloads {
    pub category: String,
    pub downloads: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageStats {
    pub downloads: u64,
    pub unique_users: u64,
    /// Categories ranked by downloads in the range, most first.
    pub popular_categories: Vec<String>,
    pub category_downloads: Vec<CategoryDownloads>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayCount {
    pub date: NaiveDate,
    pub shares: u64,
    pub downloads: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendAnalysis {
    pub daily: Vec<DayCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserCount {
    pub user: String,
    pub count: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserMetrics {
    /// Who downloaded most in the range.
    pub top_downloaders: Vec<UserCount>,
    /// Owners by number of actively shared pipes.
    pub shares_by_owner: Vec<UserCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShareReport {
    pub report_id: String,
    pub generated_at: DateTime<Utc>,
    pub time_range: TimeRange,
    pub report_format: String,
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
pub struct UserInfo {
    pub username: String,
    pub is_admin: bool,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    pub users: Vec<UserInfo>,
    pub groups: Vec<GroupInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub max_pipes_per_user: u32,
    pub enable_public_sharing: bool,
    pub require_approval: bool,
    /// Anyone may create an account from the sign-in page.
    pub allow_self_signup: bool,
}

impl Default for Settings {
    /// The seed's defaults.
    fn default() -> Self {
        Settings { max_pipes_per_user: 50, enable_public_sharing: true, require_approval: false, allow_self_signup: false }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadResult {
    pub pipe_name: String,
    pub version: String,
    /// Every version of the pipe, newest first.
    pub versions: Vec<String>,
    /// The manifest of the version (the winning file of its folder).
    pub spec: Value,
    /// Every manifest file of the version's folder, by file name.
    pub manifests: Value,
    pub owner: String,
    pub downloaded_at: DateTime<Utc>,
}

/// One sharing change, as the audit log shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// Who made the change; `cli` for the operator's command line.
    pub actor: String,
    pub action: String,
    pub pipe_name: Option<String>,
    pub detail: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditLog {
    /// Newest first.
    pub events: Vec<AuditEvent>,
    pub total_count: u64,
    pub limit: u64,
    pub offset: u64,
}
