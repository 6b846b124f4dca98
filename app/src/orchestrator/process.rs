//! The seed's `process(context, config)` as a thin adapter: the context becomes one typed
//! [`Action`] (tagged on `action`, with the seed's error texts), which runs through the
//! orchestrator's typed methods like every other door's calls.
use serde::Serialize;
use serde_json::{Map, Value};

use super::audit::AuditQuery;
use super::download::{Record, VersionPick};
use super::error::{Error, Result};
use super::inbox::BulkDecision;
use super::input::{Fields, parse, parse_time};
use super::permissions::PermissionChange;
use super::publish;
use super::requests::{self, NewRequest, RequestFilter, RequestReview, Subject};
use super::review::Review;
use super::sources::{NewSource, source_name};
use super::webhooks::{self, NewWebhook};
use super::{Caller, Orchestrator};
use crate::model::{
    ActionName, AdminSet, Decision, Deleted, EmailSet, GroupName, InboxKind, MemberRemoved, PasswordSet, PipeFilters, PipeName,
    PipesTransferred, ReportOptions, ShareOptions, TokenRevoked, UserDisabled, UserName, shown,
};

/// One action of the JSON API, read from the seed's `context`.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    ListShareable(PipeFilters),
    SharePipe { pipe_name: PipeName, options: ShareOptions },
    UnsharePipe { pipe_name: PipeName },
    ManagePermissions { pipe_name: PipeName, change: PermissionChange },
    DownloadPipe { pipe_name: PipeName, pick: VersionPick },
    PublishPipe { manifest: String, manifest_file: Option<String>, files: Map<String, Value> },
    YankVersion { pipe_name: PipeName, version: String, reason: String },
    PromotePipe { pipe_name: PipeName, version: String, environment: String },
    ListPendingPromotions,
    ReviewPromotion { promotion_id: i32, decision: Decision, note: Option<String>, version: Option<String> },
    ForkPipe { pipe_name: PipeName, pick: VersionPick, new_name: PipeName },
    GetPipe { pipe_name: PipeName },
    ListPendingShares,
    ReviewShare { pipe_name: PipeName, review: Review },
    GenerateShareReport(ReportOptions),
    AuditLog(AuditQuery),
    // Accounts: taking access away (instance admins; a user for their own tokens).
    ListUsers,
    ListTokens { user: Option<UserName> },
    RevokeToken { token_id: i32 },
    DisableUser { user: UserName },
    EnableUser { user: UserName },
    DeleteUser { user: UserName },
    TransferPipes { from: UserName, to: UserName },
    SetPassword { user: UserName, password: String },
    SetAdmin { user: UserName, admin: bool },
    RemoveGroupMember { group: GroupName, user: UserName },
    DeleteGroup { group: GroupName },
    // The people side: access requests, renewals, who can see what.
    RequestAccess(NewRequest),
    ListAccessRequests(RequestFilter),
    ReviewAccessRequest(RequestReview),
    RenewGrant { pipe_name: PipeName, subject: Subject, days: Option<i32> },
    ExplainPipeAccess { pipe_name: PipeName },
    ExplainUserAccess { user: UserName },
    ListInbox { kind: Option<InboxKind> },
    ReviewInbox(BulkDecision),
    // Webhooks.
    AddWebhook(NewWebhook),
    ListWebhooks { pipe_name: Option<PipeName> },
    RemoveWebhook { webhook_id: i32 },
    TestWebhook { webhook_id: i32 },
    RedeliverWebhook { delivery_id: i32 },
    SetEmail { user: Option<UserName>, email: Option<String> },
    // Registry sources (instance admins).
    AddSource(NewSource),
    ListSources,
    ScanSource { name: String },
    RemoveSource { name: String, keep: bool },
}

impl Action {
    /// Reads `context.action` (`list_shareable` when absent) and the fields that action takes.
    pub fn from_context(context: &Value) -> Result<Action> {
        let context = Fields::new("context", Some(context))?;
        let name = || context.pipe_name();
        let action = match context.str("action")? {
            None => ActionName::ListShareable,
            Some(text) => text.parse().map_err(|_| Error::bad(format!("Unknown sharing action: {}", shown(text))))?,
        };
        use ActionName as A;
        Ok(match action {
            A::ListShareable => Action::ListShareable(PipeFilters::from_context(&context)?),
            A::SharePipe => Action::SharePipe { pipe_name: name()?, options: ShareOptions::from_context(&context)? },
            A::UnsharePipe => Action::UnsharePipe { pipe_name: name()? },
            A::ManagePermissions => Action::ManagePermissions { pipe_name: name()?, change: PermissionChange::from_context(&context)? },
            A::DownloadPipe => Action::DownloadPipe {
                pipe_name: name()?,
                pick: VersionPick::from_fields(context.str("version")?, context.str("environment")?)?,
            },
            A::PublishPipe => {
                let manifest =
                    context.str("manifest")?.ok_or_else(|| Error::bad("context.manifest is required: the manifest's YAML text"))?;
                let files = match context.get("files") {
                    None => Map::new(),
                    Some(Value::Object(files)) => files.clone(),
                    Some(_) => return Err(Error::bad("context.files must be an object of relative path to base64 content")),
                };
                let manifest_file = context.str("manifest_file")?.map(String::from);
                Action::PublishPipe { manifest: manifest.to_string(), manifest_file, files }
            }
            A::PromotePipe => Action::PromotePipe {
                pipe_name: name()?,
                version: context.str("version")?.ok_or_else(|| Error::bad("context.version is required"))?.to_string(),
                environment: context.str("environment")?.ok_or_else(|| Error::bad("context.environment is required"))?.to_string(),
            },
            A::ListPendingPromotions => Action::ListPendingPromotions,
            A::ReviewPromotion => {
                let id = context.count("promotion_id")?.ok_or_else(|| Error::bad("context.promotion_id is required"))?;
                let decision = context.str("decision")?.ok_or_else(|| Error::bad("context.decision is required: approve or reject"))?;
                Action::ReviewPromotion {
                    promotion_id: i32::try_from(id).map_err(|_| Error::NotFound(format!("No promotion {id}")))?,
                    decision: parse(decision)?,
                    note: context.str("note")?.map(String::from),
                    version: context.str("version")?.map(String::from),
                }
            }
            A::ForkPipe => Action::ForkPipe {
                pipe_name: name()?,
                pick: VersionPick::from_fields(context.str("version")?, None)?,
                new_name: required(&context, "new_name")?,
            },
            A::YankVersion => Action::YankVersion {
                pipe_name: name()?,
                version: context.str("version")?.ok_or_else(|| Error::bad("context.version is required"))?.to_string(),
                reason: context.str("reason")?.ok_or_else(|| Error::bad("context.reason is required: say why"))?.to_string(),
            },
            A::GetPipe => Action::GetPipe { pipe_name: name()? },
            A::ListPendingShares => Action::ListPendingShares,
            A::ReviewShare => {
                let pipe_name = name()?;
                let decision = context.str("decision")?.ok_or_else(|| Error::bad("context.decision is required: approve or reject"))?;
                let requested_at = context.str("requested_at")?.map(parse_time).transpose()?;
                let review = Review { decision: parse(decision)?, note: context.str("note")?.map(String::from), requested_at };
                Action::ReviewShare { pipe_name, review }
            }
            A::GenerateShareReport => Action::GenerateShareReport(ReportOptions::from_context(&context)?),
            A::AuditLog => Action::AuditLog(AuditQuery::from_context(&context)?),
            A::ListUsers => Action::ListUsers,
            A::ListTokens => Action::ListTokens { user: context.parsed("user")? },
            A::RevokeToken => {
                let id = context.count("token_id")?.ok_or_else(|| Error::bad("context.token_id is required"))?;
                Action::RevokeToken { token_id: i32::try_from(id).map_err(|_| Error::NotFound("No such token".into()))? }
            }
            A::DisableUser => Action::DisableUser { user: required(&context, "user")? },
            A::EnableUser => Action::EnableUser { user: required(&context, "user")? },
            A::DeleteUser => Action::DeleteUser { user: required(&context, "user")? },
            A::TransferPipes => Action::TransferPipes { from: required(&context, "from")?, to: required(&context, "to")? },
            A::SetPassword => {
                let password = context.str("password")?.ok_or_else(|| Error::bad("context.password is required"))?;
                Action::SetPassword { user: required(&context, "user")?, password: password.to_string() }
            }
            A::SetAdmin => Action::SetAdmin {
                user: required(&context, "user")?,
                admin: context.bool("admin")?.ok_or_else(|| Error::bad("context.admin is required: true or false"))?,
            },
            A::RemoveGroupMember => Action::RemoveGroupMember { group: required(&context, "group")?, user: required(&context, "user")? },
            A::DeleteGroup => Action::DeleteGroup { group: required(&context, "group")? },
            A::RequestAccess => Action::RequestAccess(NewRequest::from_context(&context)?),
            A::ListAccessRequests => Action::ListAccessRequests(RequestFilter::from_context(&context)?),
            A::ReviewAccessRequest => Action::ReviewAccessRequest(RequestReview::from_context(&context)?),
            A::RenewGrant => Action::RenewGrant {
                subject: Subject::from_context(&context)?,
                pipe_name: name()?,
                days: requests::days(&context, "days")?,
            },
            A::ExplainAccess => {
                let pipe_name = context.str("pipe_name")?;
                match (pipe_name, context.parsed::<UserName>("user")?) {
                    (Some(_), None) => Action::ExplainPipeAccess { pipe_name: name()? },
                    (None, Some(user)) => Action::ExplainUserAccess { user },
                    _ => return Err(Error::bad("Name what to explain: context.pipe_name or context.user (one of them)")),
                }
            }
            A::ListInbox => Action::ListInbox { kind: context.parsed("kind")? },
            A::ReviewInbox => Action::ReviewInbox(BulkDecision::from_context(&context)?),
            A::AddWebhook => Action::AddWebhook(NewWebhook::from_context(&context)?),
            A::ListWebhooks => Action::ListWebhooks { pipe_name: context.parsed("pipe_name")? },
            A::RemoveWebhook => Action::RemoveWebhook { webhook_id: id(&context, "webhook_id", "webhook")? },
            A::TestWebhook => Action::TestWebhook { webhook_id: id(&context, "webhook_id", "webhook")? },
            A::RedeliverWebhook => Action::RedeliverWebhook { delivery_id: id(&context, "delivery_id", "webhook delivery")? },
            A::AddSource => Action::AddSource(NewSource::from_context(&context)?),
            A::ListSources => Action::ListSources,
            A::ScanSource => Action::ScanSource { name: source_name(context.str("name")?.unwrap_or_default())? },
            A::RemoveSource => {
                let name = source_name(context.str("name")?.unwrap_or_default())?;
                let keep = match context.str("pipes")? {
                    Some("keep") => true,
                    Some("gone") => false,
                    _ => return Err(Error::bad("context.pipes is required: keep (they stay as local pipes) or gone")),
                };
                Action::RemoveSource { name, keep }
            }
            A::SetEmail => match context.get("email") {
                Some(_) => Action::SetEmail { user: context.parsed("user")?, email: context.str("email")?.map(String::from) },
                None => return Err(Error::bad("context.email is required: an address, or \"\" for none")),
            },
        })
    }
}

/// A required id: one that no row can have is that row's 404.
fn id(context: &Fields, key: &str, what: &str) -> Result<i32> {
    let id = context.count(key)?.ok_or_else(|| Error::bad(format!("context.{key} is required")))?;
    i32::try_from(id).map_err(|_| Error::NotFound(format!("No {what} {id}")))
}

/// A required field naming one value of `T` (a user or group name, say).
fn required<T: std::str::FromStr<Err = String>>(context: &Fields, key: &str) -> Result<T> {
    context.parsed(key)?.ok_or_else(|| Error::bad(format!("context.{key} is required")))
}

fn to_json(value: impl Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|err| Error::Internal(format!("serialising a result: {err}")))
}

impl Orchestrator {
    /// Runs one action for `caller`; its result as the envelope's `result`.
    pub async fn run(&self, caller: &Caller, action: Action) -> Result<Value> {
        match action {
            Action::ListShareable(filters) => to_json(self.list_shareable(caller, &filters).await?),
            Action::SharePipe { pipe_name, options } => to_json(self.share_pipe(caller, &pipe_name, options).await?),
            Action::UnsharePipe { pipe_name } => to_json(self.unshare_pipe(caller, &pipe_name).await?),
            Action::ManagePermissions { pipe_name, change } => to_json(self.manage_permissions(caller, &pipe_name, change).await?),
            Action::DownloadPipe { pipe_name, pick } => {
                to_json(self.download_pipe(Some(caller), None, &pipe_name, &pick, Record::Count).await?.into_answer())
            }
            Action::PublishPipe { manifest, manifest_file, files } => {
                let limits = self.package_limits().await?;
                let files = publish::files_with_manifest(&manifest, manifest_file.as_deref(), &files, &limits)?;
                to_json(self.publish_pipe(caller, files).await?)
            }
            Action::PromotePipe { pipe_name, version, environment } => {
                to_json(self.promote_pipe(caller, &pipe_name, &version, &environment).await?)
            }
            Action::ListPendingPromotions => to_json(self.list_pending_promotions(caller).await?),
            Action::ReviewPromotion { promotion_id, decision, note, version } => {
                to_json(self.review_promotion(caller, promotion_id, decision, note.as_deref(), version.as_deref()).await?)
            }
            Action::ForkPipe { pipe_name, pick, new_name } => to_json(self.fork_pipe(caller, &pipe_name, &pick, &new_name).await?),
            Action::YankVersion { pipe_name, version, reason } => to_json(self.yank_version(caller, &pipe_name, &version, &reason).await?),
            Action::GetPipe { pipe_name } => to_json(self.pipe_details(Some(caller), &pipe_name).await?),
            Action::ListPendingShares => to_json(self.list_pending_shares(caller).await?),
            Action::ReviewShare { pipe_name, review } => to_json(self.review_share(caller, &pipe_name, &review).await?),
            Action::GenerateShareReport(options) => to_json(self.generate_share_report(caller, &options).await?),
            Action::AuditLog(query) => to_json(self.audit_log(caller, &query).await?),
            Action::ListUsers => to_json(self.directory(Some(caller)).await?),
            Action::ListTokens { user } => to_json(self.list_tokens(Some(caller), user.as_ref()).await?),
            Action::RevokeToken { token_id } => {
                self.revoke_token(Some(caller), token_id).await?;
                to_json(TokenRevoked { revoked: token_id })
            }
            Action::DisableUser { user } => {
                self.set_disabled(Some(caller), &user, true).await?;
                to_json(UserDisabled { user, disabled: true })
            }
            Action::EnableUser { user } => {
                self.set_disabled(Some(caller), &user, false).await?;
                to_json(UserDisabled { user, disabled: false })
            }
            Action::DeleteUser { user } => {
                self.delete_user(Some(caller), &user).await?;
                to_json(Deleted { deleted: user.into() })
            }
            Action::TransferPipes { from, to } => {
                let pipes = self.transfer_pipes(Some(caller), &from, &to).await?;
                to_json(PipesTransferred { from, to, pipes })
            }
            Action::SetPassword { user, password } => {
                self.set_password(Some(caller), &user, &password).await?;
                to_json(PasswordSet { user, password_set: true, sessions_ended: true })
            }
            Action::SetAdmin { user, admin } => {
                self.set_admin(Some(caller), &user, admin).await?;
                to_json(AdminSet { user, admin })
            }
            Action::RemoveGroupMember { group, user } => {
                self.remove_group_member(Some(caller), &group, &user).await?;
                to_json(MemberRemoved { group, removed: user })
            }
            Action::DeleteGroup { group } => {
                self.delete_group(Some(caller), &group).await?;
                to_json(Deleted { deleted: group.into() })
            }
            Action::RequestAccess(new) => to_json(self.request_access(caller, new).await?),
            Action::ListAccessRequests(filter) => to_json(self.list_access_requests(caller, &filter).await?),
            Action::ReviewAccessRequest(review) => to_json(self.review_access_request(caller, &review).await?),
            Action::RenewGrant { pipe_name, subject, days } => to_json(self.renew_grant(caller, &pipe_name, &subject, days).await?),
            Action::ExplainPipeAccess { pipe_name } => to_json(self.explain_pipe_access(caller, &pipe_name).await?),
            Action::ExplainUserAccess { user } => to_json(self.explain_user_access(caller, &user).await?),
            Action::ListInbox { kind } => to_json(self.list_inbox(caller, kind).await?),
            Action::ReviewInbox(bulk) => to_json(self.review_inbox(caller, &bulk).await?),
            Action::AddWebhook(new) => to_json(webhooks::add_webhook(&self.db, caller, &new).await?),
            Action::ListWebhooks { pipe_name } => to_json(webhooks::list_webhooks(&self.db, caller, pipe_name.as_ref()).await?),
            Action::RemoveWebhook { webhook_id } => to_json(webhooks::remove_webhook(&self.db, caller, webhook_id).await?),
            Action::TestWebhook { webhook_id } => to_json(webhooks::test_webhook(&self.db, caller, webhook_id).await?),
            Action::RedeliverWebhook { delivery_id } => to_json(webhooks::redeliver(&self.db, caller, delivery_id).await?),
            Action::AddSource(new) => to_json(self.add_source(Some(caller), &new).await?),
            Action::ListSources => to_json(self.list_sources(Some(caller)).await?),
            Action::ScanSource { name } => to_json(self.scan_source(Some(caller), &name).await?),
            Action::RemoveSource { name, keep } => to_json(self.remove_source(Some(caller), &name, keep).await?),
            Action::SetEmail { user, email } => {
                let user = match user {
                    Some(user) => user,
                    None => caller.username.parse().map_err(Error::bad)?,
                };
                let email = self.set_email(Some(caller), &user, email.as_deref()).await?;
                to_json(EmailSet { user, email })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_context_names_one_action() {
        assert_eq!(Action::from_context(&json!({})).unwrap(), Action::ListShareable(PipeFilters::default()));
        assert_eq!(
            Action::from_context(&json!({"action": "unshare_pipe", "pipe_name": " sqlite "})).unwrap(),
            Action::UnsharePipe { pipe_name: PipeName::parse("sqlite").unwrap() }
        );
        let missing = Action::from_context(&json!({"action": "share_pipe"})).unwrap_err();
        assert_eq!(missing.to_string(), "Pipe name is required for sharing operation");
        let unknown = Action::from_context(&json!({"action": "fly"})).unwrap_err();
        assert_eq!(unknown.to_string(), "Unknown sharing action: fly");
        assert!(matches!(Action::from_context(&json!([1])), Err(Error::BadRequest(_))));
        let malformed = Action::from_context(&json!({"action": "download_pipe", "pipe_name": "../etc/passwd"})).unwrap_err();
        assert_eq!(malformed.to_string(), "Pipe name '../etc/passwd' is not valid: use 1 to 128 letters, digits, '_', '-' or '.'");
    }
}
