//! Property test of the JSON API's request decoder and the orchestrator's input: whatever
//! shape, size or content a body has (random JSON, deep nesting, huge or odd strings, NUL
//! bytes, numbers out of range, bytes that are not JSON), the answer is the envelope with a
//! status below 500, never a server error or a dropped connection.
mod common;

use common::{Instance, plug, write_tree};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

const ACTIONS: [&str; 22] = [
    "list_shareable",
    "share_pipe",
    "unshare_pipe",
    "manage_permissions",
    "download_pipe",
    "list_pending_shares",
    "review_share",
    "generate_share_report",
    "audit_log",
    "list_users",
    "list_tokens",
    "revoke_token",
    "disable_user",
    "enable_user",
    "delete_user",
    "transfer_pipes",
    "set_password",
    "set_admin",
    "remove_group_member",
    "delete_group",
    "fly_to_the_moon",
    "",
];

/// The field names the actions read, so that random values reach deep into each action.
const FIELDS: [&str; 30] = [
    "pipe_name",
    "pipe_filters",
    "sharing_options",
    "permissions",
    "public",
    "approval_required",
    "users",
    "groups",
    "access_level",
    "expiration",
    "revoke",
    "limit",
    "offset",
    "after",
    "before",
    "search",
    "status",
    "category",
    "scope",
    "visibility",
    "version",
    "decision",
    "note",
    "requested_at",
    "report_options",
    "time_range",
    "user",
    "token_id",
    "from",
    "admin",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,12}",
        any::<String>(),
        "\\PC{0,40}",
        Just("sqlite".to_string()),
        Just("../../etc/passwd".to_string()),
        Just("a\u{0}b".to_string()),
        Just("\u{202e}\u{1F600}".to_string()),
        (1usize..200_000).prop_map(|n| "x".repeat(n)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN", |f| f.is_finite()).prop_map(Value::from),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1e300)),
        text().prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::vec((prop::sample::select(&FIELDS[..]).prop_map(String::from), inner.clone()), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            prop::collection::vec((text(), inner), 0..4).prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A context: an action and random values under the fields the actions read.
fn context() -> impl Strategy<Value = Value> {
    (prop::sample::select(&ACTIONS[..]), prop::collection::vec((prop::sample::select(&FIELDS[..]), value()), 0..6)).prop_map(
        |(action, fields)| {
            let mut context: Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            context.insert("action".into(), Value::from(action));
            Value::Object(context)
        },
    )
}

/// A whole body: mostly `{"context": ..., "config": ...}`, sometimes anything at all.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (context(), prop::option::of(value())).prop_map(|(context, config)| {
            let mut body = json!({"context": context});
            if let Some(config) = config {
                body["config"] = config;
            }
            serde_json::to_vec(&body).unwrap()
        }),
        2 => value().prop_map(|v| serde_json::to_vec(&json!({"context": v})).unwrap()),
        1 => value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

#[test]
fn no_body_gets_a_server_error() {
    let instance = Instance::new();
    let admin = instance.user_with_token("root", true);
    let user = instance.user_with_token("alice", false);
    let tree = write_tree(
        &instance.path().join("tree"),
        &[("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "db", "stable", "A", "d"))],
    );
    instance.scan(&tree, "alice");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(instance.serve());
    let post = |token: &str, body: Vec<u8>| {
        runtime.block_on(async {
            let response = server
                .http
                .post(format!("{}/api/v1/process", server.url))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map_err(|err| format!("the connection failed: {err}"))?;
            let status = response.status().as_u16();
            let text = response.text().await.map_err(|err| format!("the answer was cut: {err}"))?;
            let envelope: Value = serde_json::from_str(&text).map_err(|_| format!("{status}: not an envelope: {text}"))?;
            if status >= 500 || envelope["success"].as_bool().is_none() {
                return Err(format!("{status}: {text}"));
            }
            Ok(())
        })
    };

    // Nesting far deeper than any parser should follow.
    let deep = format!("{{\"context\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    post(&admin, deep.into_bytes()).unwrap();

    let mut runner = TestRunner::new(Config { cases: 1500, failure_persistence: None, ..Config::default() });
    runner
        .run(&(body(), any::<bool>()), |(body, as_admin)| post(if as_admin { &admin } else { &user }, body).map_err(TestCaseError::fail))
        .unwrap();
    // The server is still up and answering.
    post(&admin, br#"{"context": {}}"#.to_vec()).unwrap();
}
