//! The JSON API described for machines: the parts of an OpenAPI 3.1 document that come from
//! the orchestrator's own types. Every action of `/api/v1/process` is one variant of the
//! request's `context` (its fields are the `*Context` types below, its answer a result type
//! of `model`); the server adds its routes and serves the whole at `/api/v1/openapi.json`.
use std::borrow::Cow;

use serde_json::{Value, json};
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, extensions::ExtensionsBuilder};
use utoipa::{PartialSchema, ToSchema};

use crate::model::*;

/// The types that describe each action's `context`. The parser (`orchestrator::process`)
/// reads the JSON itself, for the seed's error texts; a test checks that every field it
/// reads is described here.
#[allow(dead_code)]
mod contexts {
    use super::*;

    /// Filters, at the top of `context` or inside `context.pipe_filters`.
    #[derive(ToSchema)]
    pub struct ListShareableContext {
        #[serde(flatten)]
        pub filters: PipeFilters,
        pub pipe_filters: Option<PipeFilters>,
    }

    #[derive(ToSchema)]
    pub struct PipeContext {
        /// The pipe's name: 1 to 128 letters, digits, `_`, `-` or `.`.
        pub pipe_name: PipeName,
    }

    #[derive(ToSchema)]
    pub struct SharePipeContext {
        pub pipe_name: PipeName,
        pub sharing_options: Option<ShareOptions>,
    }

    /// Grants to set (or, with `revoke`, to remove) for users and groups.
    #[derive(ToSchema)]
    pub struct PermissionsInput {
        pub users: Option<Vec<UserName>>,
        pub groups: Option<Vec<GroupName>>,
        /// `read` when absent.
        pub access_level: Option<AccessLevel>,
        /// `YYYY-MM-DD` (the end of that day, UTC) or an RFC 3339 time.
        pub expiration: Option<String>,
        pub revoke: Option<bool>,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"pipe_name": "data-cleaner", "permissions": {"users": ["alice"], "groups": ["analysts"], "access_level": "read_write", "expiration": "2026-12-31"}}))]
    pub struct ManagePermissionsContext {
        pub pipe_name: PipeName,
        pub permissions: PermissionsInput,
    }

    #[derive(ToSchema)]
    pub struct DownloadPipeContext {
        pub pipe_name: PipeName,
        /// An exact version (a yanked one too); the newest version not yanked when neither
        /// this nor `environment` is given.
        pub version: Option<String>,
        /// The version an environment (`prod`, say) points at.
        pub environment: Option<String>,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"manifest": "name: data-cleaner\nversion: 1.0.0\ndescription: Cleans tables\n", "files": {"main.py": "cHJpbnQoJ2hlbGxvJykK"}}))]
    pub struct PublishPipeContext {
        /// The manifest's YAML text; its `name` and semantic `version` name what is published.
        pub manifest: String,
        /// Which manifest it is: `plug.yaml`, `plugin.yaml`, `glue.yaml` or `pipe.yaml` (the default).
        pub manifest_file: Option<String>,
        /// The other files of the version: relative path to base64 content.
        #[schema(value_type = Option<Object>)]
        pub files: Option<serde_json::Map<String, Value>>,
    }

    #[derive(ToSchema)]
    pub struct PromoteContext {
        pub pipe_name: PipeName,
        /// An existing version that is not yanked; an older one is a rollback.
        pub version: String,
        /// `dev`, `staging`, `prod` or any name of 1 to 32 letters, digits or `-`.
        pub environment: String,
    }

    #[derive(ToSchema)]
    pub struct ReviewPromotionContext {
        pub promotion_id: u64,
        pub decision: Decision,
        pub note: Option<String>,
        /// The version the queue showed: the decision applies only if the request still asks for it.
        pub version: Option<String>,
    }

    #[derive(ToSchema)]
    pub struct ForkContext {
        pub pipe_name: PipeName,
        /// The version to copy; the newest version not yanked when absent.
        pub version: Option<String>,
        /// The new pipe's name (not taken).
        pub new_name: PipeName,
    }

    #[derive(ToSchema)]
    pub struct YankVersionContext {
        pub pipe_name: PipeName,
        pub version: String,
        /// Why it is withdrawn (shown to those who download it), at most 2,000 characters.
        pub reason: String,
    }

    #[derive(ToSchema)]
    pub struct ReviewShareContext {
        pub pipe_name: PipeName,
        pub decision: Decision,
        pub note: Option<String>,
        /// The request's time as the queue showed it (RFC 3339): the review applies to that
        /// request only, and a newer one is a 409.
        pub requested_at: Option<String>,
    }

    #[derive(ToSchema)]
    pub struct ReportContext {
        pub report_options: Option<ReportOptions>,
    }

    #[derive(ToSchema)]
    pub struct AuditLogContext {
        /// One pipe's events (its managers); the whole log needs an instance admin.
        pub pipe_name: Option<PipeName>,
        /// 1 to 500.
        pub limit: Option<u64>,
        pub offset: Option<u64>,
    }

    /// An action that takes no fields.
    #[derive(ToSchema)]
    pub struct NoFields {}

    #[derive(ToSchema)]
    pub struct TokensContext {
        /// Another user's tokens (instance admins); the caller's own when absent.
        pub user: Option<UserName>,
    }

    #[derive(ToSchema)]
    pub struct TokenContext {
        pub token_id: u64,
    }

    #[derive(ToSchema)]
    pub struct UserContext {
        pub user: UserName,
    }

    #[derive(ToSchema)]
    pub struct TransferContext {
        pub from: UserName,
        pub to: UserName,
    }

    #[derive(ToSchema)]
    pub struct PasswordContext {
        pub user: UserName,
        pub password: String,
    }

    #[derive(ToSchema)]
    pub struct AdminContext {
        pub user: UserName,
        pub admin: bool,
    }

    #[derive(ToSchema)]
    pub struct GroupMemberContext {
        pub group: GroupName,
        pub user: UserName,
    }

    #[derive(ToSchema)]
    pub struct GroupContext {
        pub group: GroupName,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"pipe_name": "data-cleaner", "access_level": "read", "reason": "Our nightly import needs it", "duration_days": 30}))]
    pub struct RequestAccessContext {
        pub pipe_name: PipeName,
        /// `read` when absent.
        pub access_level: Option<AccessLevel>,
        /// Why, for the pipe's managers: 1 to 2,000 characters.
        pub reason: String,
        /// How long the access is needed, 1 to 3650 days; for good when absent.
        pub duration_days: Option<u64>,
    }

    #[derive(ToSchema)]
    pub struct ListAccessRequestsContext {
        pub status: Option<RequestStatus>,
        pub pipe_name: Option<PipeName>,
    }

    #[derive(ToSchema)]
    pub struct ReviewAccessRequestContext {
        pub request_id: u64,
        pub decision: Decision,
        /// Kept for the requester.
        pub note: Option<String>,
        /// A narrower level than asked.
        pub access_level: Option<AccessLevel>,
        /// An earlier end than asked: `YYYY-MM-DD` or an RFC 3339 time.
        pub expiration: Option<String>,
        /// The revision the reviewer saw; a request changed since is a 409.
        pub revision: Option<u64>,
    }

    /// Names the grant's holder: `user` or `group`.
    #[derive(ToSchema)]
    #[schema(example = json!({"pipe_name": "data-cleaner", "user": "alice"}))]
    pub struct RenewGrantContext {
        pub pipe_name: PipeName,
        pub user: Option<UserName>,
        pub group: Option<GroupName>,
        /// Extend by this many days (1 to 3650) instead of the grant's original length.
        pub days: Option<u64>,
    }

    /// `pipe_name` (its managers, instance admins) or `user` (instance admins, or oneself).
    #[derive(ToSchema)]
    #[schema(example = json!({"pipe_name": "data-cleaner"}))]
    pub struct ExplainAccessContext {
        pub pipe_name: Option<PipeName>,
        pub user: Option<UserName>,
    }

    #[derive(ToSchema)]
    pub struct ListInboxContext {
        /// Only items of this kind.
        pub kind: Option<InboxKind>,
    }

    /// Items as `list_inbox` listed them (kind, id and revision), at most 100.
    #[derive(ToSchema)]
    #[schema(example = json!({"items": [{"kind": "access_request", "id": "7", "revision": "2"}], "decision": "approve", "note": "ok"}))]
    pub struct ReviewInboxContext {
        pub items: Vec<InboxRef>,
        pub decision: Decision,
        /// One note for every item.
        pub note: Option<String>,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"url": "https://hooks.example.com/pipeshare", "pipe_name": "data-cleaner", "events": ["published", "grant"]}))]
    pub struct AddWebhookContext {
        /// http or https; private, loopback and link-local hosts only when the operator allows them.
        pub url: String,
        /// The pipe whose events it hears (its managers); absent: every event (instance admins).
        pub pipe_name: Option<PipeName>,
        /// The events it wants; every event when absent or empty.
        pub events: Option<Vec<WebhookEvent>>,
    }

    #[derive(ToSchema)]
    pub struct ListWebhooksContext {
        /// One pipe's subscriptions (its managers); the caller's own (and, for instance admins,
        /// the instance's) when absent.
        pub pipe_name: Option<PipeName>,
    }

    #[derive(ToSchema)]
    pub struct WebhookContext {
        pub webhook_id: u64,
    }

    #[derive(ToSchema)]
    pub struct DeliveryContext {
        pub delivery_id: u64,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"name": "team-tree", "kind": "folder", "location": "/srv/plugpipe", "owner": "alice", "interval": "15m"}))]
    pub struct AddSourceContext {
        /// 1 to 64 letters, digits, `-` or `_`.
        pub name: String,
        pub kind: SourceKind,
        /// A folder's absolute path (read by the server).
        pub location: String,
        /// Who owns the pipes it brings in.
        pub owner: UserName,
        /// For a remote instance; stored, never shown again.
        pub token: Option<String>,
        /// `15m` (default), `2h`, `1d`, at least a minute, or `manual`.
        pub interval: Option<String>,
        /// Add it even if its location cannot be read now.
        pub force: Option<bool>,
    }

    #[derive(ToSchema)]
    pub struct SourceContext {
        pub name: String,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"name": "team-tree", "pipes": "keep"}))]
    pub struct RemoveSourceContext {
        pub name: String,
        /// `keep` (its pipes become local pipes) or `gone`.
        pub pipes: String,
    }

    #[derive(ToSchema)]
    #[schema(example = json!({"email": "alice@example.com"}))]
    pub struct SetEmailContext {
        /// The address notification emails go to; `""` for none.
        pub email: String,
        /// Another user's (instance admins); the caller's own when absent.
        pub user: Option<UserName>,
    }
}
use contexts::*;

/// A schema and the named schemas it refers to.
pub struct Described {
    pub schema: RefOr<Schema>,
    pub components: Vec<(String, RefOr<Schema>)>,
}

/// A named type: a reference to it, with it and what it uses as components.
fn named<T: ToSchema>() -> Described {
    let mut components = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut components);
    Described { schema: utoipa::openapi::Ref::from_schema_name(T::name()).into(), components }
}

/// A JSON array of a named type.
fn list_of<T: ToSchema>() -> Described {
    let item = named::<T>();
    Described { schema: ArrayBuilder::new().items(item.schema).into(), components: item.components }
}

/// One action: what it does and who may call it, its `context` fields and its `result`.
pub struct ActionDoc {
    pub name: ActionName,
    pub summary: &'static str,
    pub context: Described,
    pub result: Described,
}

/// Every action's description. The match has an arm for each action, so a new one cannot
/// be left out of the document.
pub fn action_doc(name: ActionName) -> ActionDoc {
    use ActionName as A;
    let (summary, context, result) = match name {
        A::ListShareable => (
            "The pipes the caller may see, filtered and paged (the default action when `action` is absent).",
            named::<ListShareableContext>(),
            named::<PipeList>(),
        ),
        A::SharePipe => (
            "Shares a pipe (its owner or an `admin` grantee); may wait for an admin's approval.",
            named::<SharePipeContext>(),
            named::<ShareResult>(),
        ),
        A::UnsharePipe => ("Withdraws a pipe's share.", named::<PipeContext>(), named::<UnshareResult>()),
        A::ManagePermissions => (
            "Grants or revokes access to a pipe for users and groups, optionally until a date.",
            named::<ManagePermissionsContext>(),
            named::<PermissionsResult>(),
        ),
        A::DownloadPipe => ("A version's manifests; counts one download.", named::<DownloadPipeContext>(), named::<DownloadResult>()),
        A::GetPipe => {
            ("A pipe's page: versions, manifest, grants and history for its managers.", named::<PipeContext>(), named::<PipeDetails>())
        }
        A::ListPendingShares => ("Shares waiting for approval (instance admins).", named::<NoFields>(), named::<PendingShares>()),
        A::ReviewShare => {
            ("Approves or rejects a pending share (instance admins).", named::<ReviewShareContext>(), named::<ReviewResult>())
        }
        A::GenerateShareReport => (
            "Downloads and shares over a time range: the caller's pipes, or every pipe for an admin.",
            named::<ReportContext>(),
            named::<ShareReport>(),
        ),
        A::AuditLog => ("Sharing and account events, newest first.", named::<AuditLogContext>(), named::<AuditLog>()),
        A::ListUsers => ("Every user and group (instance admins).", named::<NoFields>(), named::<Directory>()),
        A::ListTokens => {
            ("API tokens: the caller's own, or any user's for an instance admin.", named::<TokensContext>(), list_of::<TokenInfo>())
        }
        A::RevokeToken => {
            ("Revokes an API token: one's own, or any for an instance admin.", named::<TokenContext>(), named::<TokenRevoked>())
        }
        A::DisableUser => (
            "Disables an account: its sessions and tokens stop working at once (instance admins).",
            named::<UserContext>(),
            named::<UserDisabled>(),
        ),
        A::EnableUser => ("Enables a disabled account (instance admins).", named::<UserContext>(), named::<UserDisabled>()),
        A::DeleteUser => ("Deletes an account that owns no pipes (instance admins).", named::<UserContext>(), named::<Deleted>()),
        A::TransferPipes => {
            ("Moves every pipe of one user to another (instance admins).", named::<TransferContext>(), named::<PipesTransferred>())
        }
        A::SetPassword => {
            ("Sets a user's password and ends their sessions (instance admins).", named::<PasswordContext>(), named::<PasswordSet>())
        }
        A::SetAdmin => ("Makes a user an instance admin or not (instance admins).", named::<AdminContext>(), named::<AdminSet>()),
        A::RemoveGroupMember => ("Removes a user from a group (instance admins).", named::<GroupMemberContext>(), named::<MemberRemoved>()),
        A::DeleteGroup => ("Deletes a group and its grants (instance admins).", named::<GroupContext>(), named::<Deleted>()),
        A::PublishPipe => (
            "Publishes a version with its files: a new pipe (the caller owns it) or a new version of one the caller may publish to. \
             Archives go to `POST /api/v1/pipes/publish`.",
            named::<PublishPipeContext>(),
            named::<PublishResult>(),
        ),
        A::PromotePipe => (
            "Points an environment at a version (owner and admin grantees anywhere, read_write grantees outside protected \
             environments); a protected one waits for an admin when require_approval is on.",
            named::<PromoteContext>(),
            named::<PromoteResult>(),
        ),
        A::ListPendingPromotions => (
            "Promotions to protected environments waiting for approval (instance admins).",
            named::<NoFields>(),
            named::<PendingPromotions>(),
        ),
        A::ReviewPromotion => {
            ("Approves or rejects a waiting promotion (instance admins).", named::<ReviewPromotionContext>(), named::<PromoteResult>())
        }
        A::ForkPipe => (
            "Copies a version into a new pipe the caller owns (anyone who may download it when its share allows forks; \
             managers and read_write grantees always).",
            named::<ForkContext>(),
            named::<PublishResult>(),
        ),
        A::YankVersion => (
            "Withdraws a version: no longer the latest, still downloadable by its exact version (owner, admin grantees).",
            named::<YankVersionContext>(),
            named::<YankResult>(),
        ),
        A::RequestAccess => (
            "Asks a pipe's managers for access (a gated pipe, an expired grant, a higher level). A request about a pipe the \
             caller cannot see is answered the same way and shown to nobody else.",
            named::<RequestAccessContext>(),
            named::<AccessRequestView>(),
        ),
        A::ListAccessRequests => (
            "Access requests: the caller's own, and those for pipes they manage (all for instance admins).",
            named::<ListAccessRequestsContext>(),
            named::<AccessRequests>(),
        ),
        A::ReviewAccessRequest => (
            "Approves (possibly narrower or shorter than asked) or rejects a pending access request (the pipe's managers).",
            named::<ReviewAccessRequestContext>(),
            named::<AccessRequestView>(),
        ),
        A::RenewGrant => (
            "Extends an expiring grant by its original length, or by `days` (the pipe's managers).",
            named::<RenewGrantContext>(),
            named::<GrantView>(),
        ),
        A::ExplainAccess => (
            "Who can reach a pipe and why (its managers), or what a user can reach and why (instance admins, or oneself).",
            named::<ExplainAccessContext>(),
            named::<ExplainedAccess>(),
        ),
        A::ListInbox => (
            "Everything waiting on the caller: shares and promotions to approve (instance admins), access requests for \
             pipes they manage, their own requests, and grants and tokens ending within `reminder_days`.",
            named::<ListInboxContext>(),
            named::<Inbox>(),
        ),
        A::ReviewInbox => (
            "Approves or rejects several inbox items with one note, each as it was listed (a changed item is not decided); \
             the outcome of each.",
            named::<ReviewInboxContext>(),
            named::<InboxDecisions>(),
        ),
        A::AddWebhook => (
            "Subscribes a URL to a pipe's events (its managers) or to every event (instance admins); answers the signing \
             secret once.",
            named::<AddWebhookContext>(),
            named::<WebhookCreated>(),
        ),
        A::ListWebhooks => (
            "Subscriptions with their latest deliveries and each attempt (status, response time).",
            named::<ListWebhooksContext>(),
            named::<WebhookList>(),
        ),
        A::RemoveWebhook => (
            "Removes a subscription and its delivery log (its owner, the pipe's managers, instance admins).",
            named::<WebhookContext>(),
            named::<WebhookView>(),
        ),
        A::TestWebhook => ("Queues a `ping` delivery to the subscription now.", named::<WebhookContext>(), named::<DeliveryView>()),
        A::AddSource => ("Adds a registry source, checked now (instance admins).", named::<AddSourceContext>(), named::<SourceView>()),
        A::ListSources => {
            ("Every source with its health and latest scan reports (instance admins).", named::<NoFields>(), named::<SourceList>())
        }
        A::ScanSource => ("Rescans a source now; its report (instance admins).", named::<SourceContext>(), named::<SourceScanReport>()),
        A::RemoveSource => (
            "Removes a source; its pipes stay, as local pipes or marked gone (instance admins).",
            named::<RemoveSourceContext>(),
            named::<SourceRemoved>(),
        ),
        A::SetEmail => (
            "Sets where notification emails go (access requests and their outcomes, grants and tokens ending): one's own, \
             or anyone's for instance admins. Emails are sent while the operator sets PIPESHARE_SMTP_URL.",
            named::<SetEmailContext>(),
            named::<EmailSet>(),
        ),
        A::RedeliverWebhook => {
            ("Sends a delivery again now (one more attempt when it had failed).", named::<DeliveryContext>(), named::<DeliveryView>())
        }
    };
    ActionDoc { name, summary, context, result }
}

/// The body of `POST /api/v1/process`: `context` is one of the actions, `config` is optional.
pub struct ProcessRequest;

impl PartialSchema for ProcessRequest {
    fn schema() -> RefOr<Schema> {
        let mut contexts = OneOfBuilder::new();
        for name in ActionName::ALL {
            let doc = action_doc(*name);
            let action = ObjectBuilder::new().schema_type(Type::String).enum_values(Some([name.as_str()]));
            let mut tag = ObjectBuilder::new().property("action", action);
            // The seed's callers list pipes without naming the action.
            if *name != ActionName::ListShareable {
                tag = tag.required("action");
            }
            let result = serde_json::to_value(&doc.result.schema).unwrap_or_default();
            let variant = AllOfBuilder::new()
                .title(Some(name.as_str()))
                .description(Some(doc.summary))
                .item(tag)
                .item(doc.context.schema)
                .extensions(Some(ExtensionsBuilder::new().add("x-result", result).build()));
            contexts = contexts.item(variant);
        }
        let config = ObjectBuilder::new().description(Some("Options for this call (the seed's `config`); `{}` when absent."));
        ObjectBuilder::new()
            .property("context", contexts)
            .required("context")
            .property("config", config)
            .examples([json!({"context": {"action": "list_shareable", "category": "data", "limit": 10}, "config": {}})])
            .into()
    }
}

impl ToSchema for ProcessRequest {
    fn name() -> Cow<'static, str> {
        "ProcessRequest".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for name in ActionName::ALL {
            let doc = action_doc(*name);
            schemas.extend(doc.context.components);
            schemas.extend(doc.result.components);
        }
    }
}

/// A successful answer: `result` has the shape its action names in `x-result`.
pub struct ProcessAnswer;

impl PartialSchema for ProcessAnswer {
    fn schema() -> RefOr<Schema> {
        let mut results = AnyOfBuilder::new().description(Some("The action's result: see the action's `x-result`."));
        let mut seen = Vec::new();
        for name in ActionName::ALL {
            let result = action_doc(*name).result.schema;
            let text = serde_json::to_string(&result).unwrap_or_default();
            if !seen.contains(&text) {
                seen.push(text);
                results = results.item(result);
            }
        }
        ObjectBuilder::new()
            .property("success", ObjectBuilder::new().schema_type(Type::Boolean).enum_values(Some([true])))
            .property("message", ObjectBuilder::new().schema_type(Type::String))
            .property("result", results)
            .required("success")
            .required("message")
            .required("result")
            .into()
    }
}

impl ToSchema for ProcessAnswer {
    fn name() -> Cow<'static, str> {
        "ProcessAnswer".into()
    }
}

/// Every failure, from every route: the seed's envelope with the reason in `error`.
#[derive(serde::Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// Always false.
    pub success: bool,
    pub message: String,
    /// What went wrong, for a person to read.
    pub error: String,
}

/// The API page's content, read from the whole document (the server's, with its routes).
pub fn reference(document: &Value) -> ApiReference {
    let schemas = &document["components"]["schemas"];
    let variants = schemas["ProcessRequest"]["properties"]["context"]["oneOf"].as_array().cloned().unwrap_or_default();
    let actions = variants
        .iter()
        .map(|variant| {
            let mut fields = Vec::new();
            for part in variant["allOf"].as_array().into_iter().flatten().skip(1) {
                collect_fields(part, schemas, &mut fields);
            }
            ApiAction {
                name: text(&variant["title"]),
                summary: text(&variant["description"]),
                fields,
                result: kind_of(&variant["x-result"]),
            }
        })
        .collect();
    let mut routes = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Some(responses) = operation["responses"].as_object() else { continue };
            routes.push(ApiRoute {
                method: method.to_uppercase(),
                path: path.clone(),
                summary: text(&operation["summary"]),
                statuses: responses.keys().cloned().collect(),
            });
        }
    }
    ApiReference { actions, routes }
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

/// The named schema a `$ref` points at.
fn resolved<'a>(schema: &'a Value, schemas: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => resolved(&schemas[reference.trim_start_matches("#/components/schemas/")], schemas),
        None => schema,
    }
}

/// The properties of an object schema, through references and `allOf`.
fn collect_fields(schema: &Value, schemas: &Value, fields: &mut Vec<ApiField>) {
    let schema = resolved(schema, schemas);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_fields(part, schemas, fields);
    }
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        let description = property["description"].as_str().or_else(|| resolved(property, schemas)["description"].as_str());
        fields.push(ApiField {
            name: name.clone(),
            kind: kind_of(property),
            required: required.contains(&name.as_str()),
            description: description.unwrap_or_default().to_string(),
        });
    }
}

/// A schema's type in a few words.
fn kind_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return reference.rsplit('/').next().unwrap_or(reference).to_string();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(parts) = schema[key].as_array() {
            let kinds: Vec<String> = parts.iter().map(kind_of).filter(|k| k != "null").collect();
            return kinds.join(" or ");
        }
    }
    if let Some(choices) = schema["enum"].as_array() {
        let names: Vec<String> = choices.iter().map(|c| c.as_str().map_or_else(|| c.to_string(), String::from)).collect();
        return format!("one of {}", names.join(", "));
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null").unwrap_or("null").to_string(),
        _ => "any".to_string(),
    };
    if kind == "array" { format!("list of {}", kind_of(&schema["items"])) } else { kind }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{Map, Value};

    use super::*;
    use crate::orchestrator::input::fields_read;
    use crate::orchestrator::process::Action;

    /// The schemas every action refers to, by name.
    fn components() -> Map<String, Value> {
        let mut schemas = Vec::new();
        ProcessRequest::schemas(&mut schemas);
        schemas.into_iter().map(|(name, schema)| (name, serde_json::to_value(schema).unwrap())).collect()
    }

    fn resolve<'a>(schema: &'a Value, components: &'a Map<String, Value>) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                resolve(components.get(name).unwrap_or_else(|| panic!("{reference} is not among the components")), components)
            }
            None => schema,
        }
    }

    /// Every property path the schema describes (`context.sharing_options.public`, say).
    fn documented(schema: &Value, components: &Map<String, Value>, path: &str, paths: &mut BTreeSet<String>) {
        let schema = resolve(schema, components);
        for key in ["allOf", "oneOf", "anyOf"] {
            for part in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
                documented(part, components, path, paths);
            }
        }
        if let Some(items) = schema.get("items") {
            documented(items, components, path, paths);
        }
        for (key, property) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let inner = format!("{path}.{key}");
            paths.insert(inner.clone());
            documented(property, components, &inner, paths);
        }
    }

    /// A value the schema accepts, from its example or its required properties.
    fn sample(schema: &Value, components: &Map<String, Value>) -> Value {
        let schema = resolve(schema, components);
        if let Some(example) = schema.get("examples").and_then(|e| e.get(0)).or_else(|| schema.get("example")) {
            return example.clone();
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            let mut merged = Map::new();
            for part in parts {
                if let Value::Object(fields) = sample(part, components) {
                    merged.extend(fields);
                }
            }
            return Value::Object(merged);
        }
        if let Some(first) = schema.get("oneOf").and_then(|o| o.get(0)) {
            return sample(first, components);
        }
        if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
            return choices[0].clone();
        }
        let kinds: Vec<&str> = match schema.get("type") {
            Some(Value::String(kind)) => vec![kind.as_str()],
            Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => vec!["object"],
        };
        match kinds.iter().find(|k| **k != "null").copied().unwrap_or("null") {
            "string" => Value::from("demo"),
            "integer" | "number" => Value::from(1),
            "boolean" => Value::from(true),
            "array" => Value::Array(vec![sample(&schema["items"], components)]),
            _ => {
                let required: Vec<&str> =
                    schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
                let properties = schema.get("properties").and_then(Value::as_object);
                let fields = properties.into_iter().flatten().filter(|(key, _)| required.contains(&key.as_str()));
                Value::Object(fields.map(|(key, property)| (key.clone(), sample(property, components))).collect())
            }
        }
    }

    /// Each action's described context parses, and every field the parser reads is described.
    #[test]
    fn every_action_is_described_as_the_parser_reads_it() {
        let components = components();
        let request = serde_json::to_value(ProcessRequest::schema()).unwrap();
        let variants = request["properties"]["context"]["oneOf"].as_array().unwrap();
        assert_eq!(variants.len(), ActionName::ALL.len());
        for (variant, name) in variants.iter().zip(ActionName::ALL) {
            assert_eq!(variant["title"], name.as_str());
            assert_eq!(variant["allOf"][0]["properties"]["action"]["enum"][0], name.as_str());
            assert!(variant["x-result"].is_object(), "{name} names its result");
            let mut context = sample(variant, &components);
            context["action"] = Value::from(name.as_str());
            fields_read::take();
            Action::from_context(&context).unwrap_or_else(|err| panic!("{name}: the described context {context} does not parse: {err}"));
            let read = fields_read::take();
            let mut described = BTreeSet::new();
            documented(variant, &components, "context", &mut described);
            let undescribed: Vec<&String> = read.iter().filter(|path| !described.contains(*path)).collect();
            assert!(undescribed.is_empty(), "{name} reads fields the API description lacks: {undescribed:?}");
            let unread: Vec<&String> = described.iter().filter(|path| !read.contains(*path)).collect();
            assert!(unread.is_empty(), "{name} describes fields its parser never reads: {unread:?}");
        }
    }

    #[test]
    fn every_result_schema_is_a_component() {
        let components = components();
        for name in ActionName::ALL {
            let doc = action_doc(*name);
            let result = serde_json::to_value(&doc.result.schema).unwrap();
            let reference = result.get("$ref").or_else(|| result.get("items").and_then(|i| i.get("$ref")));
            let reference = reference.and_then(Value::as_str).unwrap_or_else(|| panic!("{name}'s result is not a named type"));
            assert!(components.contains_key(reference.trim_start_matches("#/components/schemas/")), "{reference}");
        }
    }
}
