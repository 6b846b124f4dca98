//! The API description at `/api/v1/openapi.json`: valid OpenAPI 3.1 (checked by the OpenAPI
//! project's validator, installed by `scripts/setup test`), naming every action the
//! orchestrator takes and every route, and true to what the server answers: a call of every
//! action is checked against the schemas the document gives for it.
mod common;

use app::model::ActionName;
use common::{World, plug, write_tree};
use serde_json::{Value, json};

/// The validator's Python (`scripts/setup test` makes it).
fn tools_python() -> String {
    std::env::var("PIPESHARE_PYTHON_TOOLS").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/python-tools").to_string())
        + "/bin/python"
}

#[tokio::test]
async fn the_api_description_is_valid_complete_and_true() {
    // Webhooks may point at loopback here (nothing listens on port 9).
    let world = World::new_with(&[("PIPESHARE_WEBHOOK_ALLOW_PRIVATE", "true")], |instance| {
        let tree = write_tree(
            &instance.path().join("tree"),
            &[
                ("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "SQLite access")),
                ("plugs/db/pg/1.0.0/plug.yaml", &plug("pg", "1.0.0", "database", "stable", "A", "PostgreSQL access")),
            ],
        );
        instance.scan(&tree, "alice");
        instance.cli_ok(&["group", "add", "analysts"], None);
        instance.cli_ok(&["group", "member", "add", "analysts", "bob"], None);
        instance.add_user("dave", false);
    })
    .await;
    let server = &world.server;

    let (status, text) = server.get("/api/v1/openapi.json").await;
    assert_eq!(status, 200, "anyone may read the description");
    let document: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let variants = document["components"]["schemas"]["ProcessRequest"]["properties"]["context"]["oneOf"].as_array().unwrap();
    let described: Vec<&str> = variants.iter().map(|v| v["title"].as_str().unwrap()).collect();
    let accepted: Vec<&str> = ActionName::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(described, accepted, "every action the orchestrator accepts, and nothing else");
    for path in ["/api/v1/process", "/pipes/{name}/download", "/reports/export", "/metrics", "/healthz", "/api/v1/openapi.json"] {
        assert!(document["paths"][path].is_object(), "{path} is described");
    }
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(document["paths"]["/api/v1/process"]["post"]["responses"]["404"].is_object());

    // One real call of every action, in an order that leaves each something to act on.
    let tree = world.instance.path().join("tree").display().to_string();
    let tokens = server.call(&world.alice, json!({"action": "list_tokens"})).await.ok().clone();
    let token_id = tokens[0]["id"].clone();
    let calls: Vec<(&str, Value)> = vec![
        (&world.alice, json!({"category": "database", "limit": 1})),
        (&world.alice, json!({"action": "list_shareable", "pipe_filters": {"search": "sql"}})),
        (
            &world.alice,
            json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true, "permissions": {"read": true, "fork": true}}}),
        ),
        (
            &world.alice,
            json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["carol"], "groups": ["analysts"], "access_level": "read_write", "expiration": "2099-12-31"}}),
        ),
        (&world.bob, json!({"action": "download_pipe", "pipe_name": "sqlite"})),
        (&world.carol, json!({"action": "request_access", "pipe_name": "sqlite", "access_level": "admin", "reason": "to share it"})),
        (&world.alice, json!({"action": "list_access_requests", "status": "pending"})),
        (&world.alice, json!({"action": "list_inbox"})),
        (
            &world.alice,
            json!({"action": "review_access_request", "request_id": 1, "decision": "approve", "access_level": "read_write", "revision": 1}),
        ),
        (&world.alice, json!({"action": "renew_grant", "pipe_name": "sqlite", "user": "carol", "days": 30})),
        (&world.alice, json!({"action": "explain_access", "pipe_name": "sqlite"})),
        (&world.carol, json!({"action": "explain_access", "user": "carol"})),
        (
            &world.alice,
            json!({"action": "review_inbox", "items": [{"kind": "access_request", "id": "999", "revision": "1"}], "decision": "reject"}),
        ),
        (&world.alice, json!({"action": "add_webhook", "url": "http://127.0.0.1:9/hook", "pipe_name": "sqlite", "events": ["grant"]})),
        (&world.alice, json!({"action": "test_webhook", "webhook_id": 1})),
        (&world.alice, json!({"action": "list_webhooks", "pipe_name": "sqlite"})),
        (&world.alice, json!({"action": "redeliver_webhook", "delivery_id": 1})),
        (&world.alice, json!({"action": "remove_webhook", "webhook_id": 1})),
        (&world.alice, json!({"action": "set_email", "email": "alice@example.com"})),
        (&world.alice, json!({"action": "get_pipe", "pipe_name": "sqlite"})),
        (
            &world.alice,
            json!({"action": "publish_pipe", "manifest": "name: fresh\nversion: 1.0.0\n", "files": {"main.py": "cHJpbnQoMSkK"}}),
        ),
        (&world.alice, json!({"action": "publish_pipe", "manifest": "name: fresh\nversion: 1.1.0\n", "manifest_file": "plug.yaml"})),
        (&world.alice, json!({"action": "download_pipe", "pipe_name": "fresh", "version": "1.0.0"})),
        (&world.alice, json!({"action": "promote_pipe", "pipe_name": "fresh", "version": "1.1.0", "environment": "staging"})),
        (&world.alice, json!({"action": "promote_pipe", "pipe_name": "fresh", "version": "1.0.0", "environment": "staging"})),
        (&world.alice, json!({"action": "fork_pipe", "pipe_name": "fresh", "version": "1.0.0", "new_name": "fresh-fork"})),
        (&world.alice, json!({"action": "yank_version", "pipe_name": "fresh", "version": "1.1.0", "reason": "broken"})),
        (&world.alice, json!({"action": "unshare_pipe", "pipe_name": "sqlite"})),
        (&world.alice, json!({"action": "share_pipe", "pipe_name": "pg", "sharing_options": {"approval_required": true}})),
        (&world.root, json!({"action": "list_pending_shares"})),
        (
            &world.alice,
            json!({"action": "generate_share_report", "report_options": {"time_range": "7_days", "include_user_metrics": true, "include_trend_analysis": true}}),
        ),
        (&world.root, json!({"action": "audit_log", "limit": 5})),
        (&world.root, json!({"action": "list_users"})),
        (
            &world.root,
            json!({"action": "add_source", "name": "tree", "kind": "folder", "location": tree, "owner": "alice", "interval": "manual"}),
        ),
        (&world.root, json!({"action": "scan_source", "name": "tree"})),
        (&world.root, json!({"action": "list_sources"})),
        (&world.root, json!({"action": "remove_source", "name": "tree", "pipes": "keep"})),
        (&world.alice, json!({"action": "list_tokens"})),
        (&world.root, json!({"action": "disable_user", "user": "carol"})),
        (&world.root, json!({"action": "enable_user", "user": "carol"})),
        (&world.root, json!({"action": "set_admin", "user": "carol", "admin": true})),
        (&world.root, json!({"action": "set_password", "user": "carol", "password": "another long passphrase"})),
        (&world.root, json!({"action": "remove_group_member", "group": "analysts", "user": "bob"})),
        (&world.root, json!({"action": "delete_group", "group": "analysts"})),
        (&world.root, json!({"action": "transfer_pipes", "from": "alice", "to": "bob"})),
        (&world.root, json!({"action": "delete_user", "user": "dave"})),
        (&world.alice, json!({"action": "revoke_token", "token_id": token_id})),
    ];
    let mut samples = Vec::new();
    for (token, context) in calls {
        let answer = server.call(token, context.clone()).await;
        answer.ok();
        samples.push(json!({"context": context, "answer": answer.body}));
    }
    // A promotion to the protected prod, under a config that asks for approval, waits.
    let promote = json!({"action": "promote_pipe", "pipe_name": "fresh-fork", "version": "1.0.0", "environment": "prod"});
    let waiting = server.call_with(&world.bob, promote.clone(), json!({"require_approval": true})).await;
    waiting.ok();
    samples.push(json!({"context": promote, "answer": waiting.body}));
    let queue = json!({"action": "list_pending_promotions"});
    let listed = server.call(&world.root, queue.clone()).await;
    let promotion_id = listed.ok()["promotions"][0]["promotion_id"].clone();
    samples.push(json!({"context": queue, "answer": listed.body}));
    let decide = json!({"action": "review_promotion", "promotion_id": promotion_id, "decision": "approve", "version": "1.0.0"});
    let decided = server.call(&world.root, decide.clone()).await;
    assert_eq!(decided.ok()["status"], "active");
    samples.push(json!({"context": decide, "answer": decided.body}));
    // review_share needs the queue's time for the pending share.
    let pending = server.call(&world.root, json!({"action": "list_pending_shares"})).await.ok().clone();
    let review = json!({"action": "review_share", "pipe_name": "pg", "decision": "approve", "note": "fine",
        "requested_at": pending["shares"][0]["requested_at"]});
    let reviewed = server.call(&world.root, review.clone()).await;
    reviewed.ok();
    samples.push(json!({"context": review, "answer": reviewed.body}));
    let called: Vec<&str> = samples.iter().map(|s| s["context"]["action"].as_str().unwrap_or("list_shareable")).collect();
    for action in &accepted {
        assert!(called.contains(action), "{action} is checked against its description");
    }

    let dir = world.instance.path();
    std::fs::write(dir.join("openapi.json"), &text).unwrap();
    std::fs::write(dir.join("samples.json"), serde_json::to_vec(&samples).unwrap()).unwrap();
    let python = tools_python();
    let out = std::process::Command::new(&python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi_check.py"))
        .arg(dir.join("openapi.json"))
        .arg(dir.join("samples.json"))
        .output()
        .unwrap_or_else(|err| panic!("{python} does not run ({err}); `scripts/setup test` installs the validator"));
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{report}");
    assert!(report.contains(&format!("valid OpenAPI 3.1.0; {} calls match it", samples.len())), "{report}");
}

#[tokio::test]
async fn the_api_page_shows_every_action_to_people() {
    let world = World::new(|_| {}).await;
    let (status, page) = world.server.get("/api").await;
    assert_eq!(status, 200);
    for action in ActionName::ALL {
        assert!(page.contains(&format!("id=\"action-{action}\"")), "{action} has its section");
    }
    assert!(page.contains("/api/v1/openapi.json"));
    assert!(page.contains("sharing_options") && page.contains("ShareResult"), "fields and results are shown");
    assert!(page.contains("/pipes/{name}/download"), "the other routes are listed");
    assert!(!page.contains("https://"), "no asset from outside the instance");
}
