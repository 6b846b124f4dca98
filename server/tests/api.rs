//! The JSON API over HTTP against a real `pipeshare serve` on a temporary SQLite file.
mod common;

use common::{Instance, Server, fixture_corpus, numbered_tree, plug, write_tree};
use serde_json::{Value, json};

/// alice owns the fixture corpus; bob and carol are colleagues; root is an instance admin.
struct World {
    instance: Instance,
    server: Server,
    alice: String,
    bob: String,
    carol: String,
    root: String,
    pipe_count: u64,
}

async fn world() -> World {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let bob = instance.user_with_token("bob", false);
    let carol = instance.user_with_token("carol", false);
    let root = instance.user_with_token("root", true);
    let scan = instance.scan(&fixture_corpus(), "alice");
    let pipe_count = scan["added"].as_u64().unwrap();
    assert!(pipe_count >= 10, "fixture corpus loads: {scan}");
    let server = instance.serve().await;
    World { instance, server, alice, bob, carol, root, pipe_count }
}

fn entry(result: &Value, name: &str) -> Value {
    result["pipes"].as_array().unwrap().iter().find(|p| p["name"] == name).cloned().unwrap_or_else(|| panic!("{name} listed: {result}"))
}

fn names(result: &Value) -> Vec<String> {
    result["pipes"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn listing_filters_pages_and_scopes() {
    let w = world().await;
    let all = w.server.call(&w.alice, json!({"action": "list_shareable"})).await;
    let all = all.ok();
    assert_eq!(all["total_count"], w.pipe_count);
    assert_eq!(all["pipes"].as_array().unwrap().len() as u64, w.pipe_count);
    let first = &all["pipes"][0];
    for key in ["name", "version", "category", "author", "status", "sharing_enabled", "owner", "visibility", "share_status"] {
        assert!(first.get(key).is_some(), "pipe entry has {key}: {first}");
    }
    assert_eq!(first["owner"], "alice");
    assert_eq!(first["sharing_enabled"], false);

    // A context without an action lists, as in the seed.
    let implicit = w.server.call(&w.alice, json!({})).await;
    assert_eq!(implicit.ok()["total_count"], w.pipe_count);

    // Category compares lower-cased and is echoed as given.
    let db = w.server.call(&w.alice, json!({"action": "list_shareable", "pipe_filters": {"category": "DATABASE"}})).await;
    let db = db.ok();
    assert_eq!(db["filters_applied"], json!({"category": "DATABASE"}));
    let db_names = names(db);
    assert_eq!(db_names.len(), 3, "{db}");
    assert!(db["pipes"].as_array().unwrap().iter().all(|p| p["category"] == "database"));

    // Combined filters narrow further; author is exact.
    let combined = w
        .server
        .call(
            &w.alice,
            json!({"action": "list_shareable", "pipe_filters": {"category": "database", "status": "Stable", "author": "PlugPipe Database Team"}}),
        )
        .await;
    let combined = combined.ok();
    assert_eq!(names(combined), vec!["factory", "sqlite"]);
    assert_eq!(combined["total_count"], 2);
    let inexact = w.server.call(&w.alice, json!({"pipe_filters": {"author": "plugpipe database team"}})).await;
    assert_eq!(inexact.ok()["total_count"], 0);

    // Statuses found in manifests are accepted, unknown ones are refused with the list.
    let deprecated = w.server.call(&w.alice, json!({"pipe_filters": {"status": "deprecated"}})).await;
    assert_eq!(deprecated.ok()["total_count"], 2);
    let experimental = w.server.call(&w.alice, json!({"pipe_filters": {"status": "experimental"}})).await;
    assert_eq!(experimental.ok()["total_count"], 0);
    let bogus = w.server.call(&w.alice, json!({"pipe_filters": {"status": "bogus"}})).await;
    let error = bogus.failed(400);
    assert!(error.contains("bogus") && error.contains("stable") && error.contains("deprecated"), "{error}");

    // Paging: total_count is every match.
    let page = w.server.call(&w.alice, json!({"pipe_filters": {"limit": 2, "offset": 1}})).await;
    let page = page.ok();
    assert_eq!(page["total_count"], w.pipe_count);
    assert_eq!(names(page), names(all)[1..3].to_vec());
    let page = w.server.call(&w.alice, json!({"limit": 3, "offset": 2})).await;
    assert_eq!(names(page.ok()), names(all)[2..5].to_vec());
    // Keyset paging: the pages after and before a name, with the same total.
    let all_names = names(all);
    let after = w.server.call(&w.alice, json!({"pipe_filters": {"limit": 3, "after": all_names[2]}})).await;
    let after = after.ok();
    assert_eq!((names(after), after["total_count"].clone()), (all_names[3..6].to_vec(), json!(w.pipe_count)));
    let before = w.server.call(&w.alice, json!({"limit": 3, "before": all_names[6]})).await;
    assert_eq!(names(before.ok()), all_names[3..6].to_vec());
    let before_first = w.server.call(&w.alice, json!({"limit": 3, "before": all_names[0]})).await;
    assert_eq!(names(before_first.ok()), Vec::<String>::new());
    let both = w.server.call(&w.alice, json!({"pipe_filters": {"after": "a", "before": "b"}})).await;
    assert!(both.failed(400).contains("not both"));

    // Free text, with LIKE wildcards taken literally and SQL taken as data.
    let search = w.server.call(&w.alice, json!({"search": "SQLite"})).await;
    assert!(names(search.ok()).contains(&"sqlite".to_string()));
    // A description's words and a tag are found too; a text spanning two fields, or with
    // other punctuation than the field's ("kubernetes-native"), is not.
    for (text, pipe) in [
        ("persistentVOLUME integration", "sqlite"),
        ("kubernetes-native", "sqlite"),
        ("fda-compliance", "medical_verification_agent_factory"),
    ] {
        let found = w.server.call(&w.alice, json!({"search": text})).await;
        assert!(names(found.ok()).contains(&pipe.to_string()), "search {text:?}");
    }
    for (text, pipe) in [
        ("sqlite\u{1f}kubernetes", "sqlite"),
        ("sqlite kubernetes", "sqlite"),
        ("kubernetes native", "sqlite"),
        ("fda compliance", "medical_verification_agent_factory"),
    ] {
        let other = w.server.call(&w.alice, json!({"search": text})).await;
        assert!(!names(other.ok()).contains(&pipe.to_string()), "search {text:?}");
    }
    for text in ["d_tabase", "data%adapter", "x' OR '1'='1"] {
        let literal = w.server.call(&w.alice, json!({"search": text})).await;
        assert_eq!(literal.ok()["total_count"], 0, "search {text:?}");
    }
    let injection = w.server.call(&w.alice, json!({"pipe_filters": {"category": "x' OR 1=1 --"}})).await;
    assert_eq!(injection.ok()["total_count"], 0);

    // Wrong types are 400s that name the field.
    let bad = w.server.call(&w.alice, json!({"pipe_filters": {"limit": "two"}})).await;
    assert!(bad.failed(400).contains("limit"));
    let bad = w.server.call(&w.alice, json!({"pipe_filters": "security"})).await;
    assert!(bad.failed(400).contains("pipe_filters"));

    // Scope: bob owns nothing; an instance admin sees everything.
    let bob = w.server.call(&w.bob, json!({})).await;
    assert_eq!(bob.ok()["total_count"], 0);
    let root = w.server.call(&w.root, json!({})).await;
    assert_eq!(root.ok()["total_count"], w.pipe_count);
}

#[tokio::test]
async fn sharing_rules_and_errors() {
    let w = world().await;
    let share = w
        .server
        .call(
            &w.alice,
            json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {
                "public": true, "approval_required": false,
                "permissions": {"read": true, "fork": true, "contribute": false},
                "custom_metadata": {"team": "data"}}}),
        )
        .await;
    let result = share.ok();
    assert_eq!(result["pipe_name"], "sqlite");
    assert_eq!(result["sharing_status"], "active");
    assert_eq!(result["share_url"], format!("{}/pipes/sqlite", w.server.url));
    assert!(result["share_id"].as_str().unwrap().starts_with("share_sqlite_"));
    assert_eq!(result["sharing_options"]["permissions"], json!({"read": true, "fork": true, "contribute": false}));
    assert_eq!(result["sharing_options"]["custom_metadata"], json!({"team": "data"}));
    let listed = w.server.call(&w.alice, json!({"search": "sqlite"})).await;
    let entry = entry(listed.ok(), "sqlite");
    assert_eq!((entry["sharing_enabled"].clone(), entry["visibility"].clone()), (json!(true), json!("public")));

    // Private by default.
    let private = w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "factory"})).await;
    assert_eq!(private.ok()["sharing_options"]["public"], false);

    // Seed error texts, word for word.
    let unknown = w.server.call(&w.alice, json!({"action": "invalid_action"})).await;
    assert_eq!(unknown.failed(400), "Unknown sharing action: invalid_action");
    let missing = w.server.call(&w.alice, json!({"action": "share_pipe"})).await;
    assert_eq!(missing.failed(400), "Pipe name is required for sharing operation");
    let empty = w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "  "})).await;
    assert_eq!(empty.failed(400), "Pipe name is required for sharing operation");
    // bob can see the public pipe but may not share it...
    let denied = w.server.call(&w.bob, json!({"action": "share_pipe", "pipe_name": "sqlite"})).await;
    assert_eq!(denied.failed(403), "Permission denied: User lacks sharing permissions for pipe 'sqlite'");
    // ...and cannot see the private one: the same 404 as for a pipe that does not exist.
    let hidden = w.server.call(&w.bob, json!({"action": "share_pipe", "pipe_name": "factory"})).await;
    let nonexistent = w.server.call(&w.bob, json!({"action": "share_pipe", "pipe_name": "no_such_pipe"})).await;
    assert_eq!(hidden.failed(404).replace("factory", "X"), nonexistent.failed(404).replace("no_such_pipe", "X"));
    let hidden =
        w.server.call(&w.bob, json!({"action": "manage_permissions", "pipe_name": "factory", "permissions": {"users": ["bob"]}})).await;
    hidden.failed(404);
    let wrong_type =
        w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "factory", "sharing_options": {"public": "yes"}})).await;
    assert!(wrong_type.failed(400).contains("public"));

    // A setting changed by the CLI is obeyed by the running server at once.
    w.instance.cli_ok(&["settings", "set", "enable_public_sharing", "false"], None);
    let refused = w
        .server
        .call(&w.alice, json!({"action": "share_pipe", "pipe_name": "database_adapter", "sharing_options": {"public": true}}))
        .await;
    assert!(refused.failed(403).contains("Public sharing is disabled"));
    // config cannot turn it back on.
    let refused = w
        .server
        .call_with(
            &w.alice,
            json!({"action": "share_pipe", "pipe_name": "database_adapter", "sharing_options": {"public": true}}),
            json!({"enable_public_sharing": true}),
        )
        .await;
    refused.failed(403);
    w.instance.cli_ok(&["settings", "set", "enable_public_sharing", "true"], None);
    // config can turn it off for one call.
    let refused = w
        .server
        .call_with(
            &w.alice,
            json!({"action": "share_pipe", "pipe_name": "database_adapter", "sharing_options": {"public": true}}),
            json!({"enable_public_sharing": false}),
        )
        .await;
    refused.failed(403);

    // The quota: alice has 2 shares; a limit of 2 refuses a third, re-sharing does not count twice.
    w.instance.cli_ok(&["settings", "set", "max_pipes_per_user", "2"], None);
    let third = w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "database_adapter"})).await;
    assert!(third.failed(409).contains("max_pipes_per_user"));
    let again = w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}})).await;
    assert_eq!(again.ok()["share_id"], result["share_id"], "re-sharing keeps the share");
    // config may only lower the limit.
    w.instance.cli_ok(&["settings", "set", "max_pipes_per_user", "50"], None);
    let lowered = w
        .server
        .call_with(&w.alice, json!({"action": "share_pipe", "pipe_name": "database_adapter"}), json!({"max_pipes_per_user": 2}))
        .await;
    assert!(lowered.failed(409).contains("max_pipes_per_user"));
    let bad_config = w.server.call_with(&w.alice, json!({}), json!({"max_pipes_per_user": "many"})).await;
    assert!(bad_config.failed(400).contains("max_pipes_per_user"));

    // Unsharing frees the place and hides the pipe again.
    let unshared = w.server.call(&w.alice, json!({"action": "unshare_pipe", "pipe_name": "sqlite"})).await;
    assert_eq!(unshared.ok()["sharing_status"], "withdrawn");
    let again = w.server.call(&w.alice, json!({"action": "unshare_pipe", "pipe_name": "sqlite"})).await;
    again.failed(404);
    let hidden = w.server.call(&w.bob, json!({"action": "download_pipe", "pipe_name": "sqlite"})).await;
    hidden.failed(404);
    let fits = w
        .server
        .call_with(&w.alice, json!({"action": "share_pipe", "pipe_name": "database_adapter"}), json!({"max_pipes_per_user": 2}))
        .await;
    fits.ok();
    let by_bob = w.server.call(&w.bob, json!({"action": "unshare_pipe", "pipe_name": "database_adapter"})).await;
    by_bob.failed(404);
    let by_admin = w.server.call(&w.root, json!({"action": "unshare_pipe", "pipe_name": "database_adapter"})).await;
    by_admin.ok();
}

#[tokio::test]
async fn grants_expiry_groups_and_downloads() {
    let w = world().await;
    w.instance.cli_ok(&["group", "add", "reviewers"], None);
    w.instance.cli_ok(&["group", "member", "add", "reviewers", "carol"], None);
    w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": false}})).await.ok();

    let download = json!({"action": "download_pipe", "pipe_name": "sqlite"});
    w.server.call(&w.bob, download.clone()).await.failed(404);

    let granted = w
        .server
        .call(
            &w.alice,
            json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {
                "users": ["bob"], "groups": ["reviewers"], "access_level": "read", "expiration": "2999-12-31", "note": "audit"}}),
        )
        .await;
    let result = granted.ok();
    assert_eq!(result["permissions_updated"], true);
    assert_eq!(
        result["active_permissions"],
        json!({"users": ["bob"], "groups": ["reviewers"], "access_level": "read", "expiration": "2999-12-31", "revoked": false, "note": "audit"})
    );
    assert!(result["permission_id"].as_str().unwrap().starts_with("perm_sqlite_"));
    let grants = result["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 2);
    assert!(grants.iter().all(|g| g["expired"] == false && g["expires_at"].as_str().unwrap().starts_with("2999-12-31T23:59:59")));

    // bob directly and carol through her group may now download; the download is recorded.
    let got = w.server.call(&w.bob, download.clone()).await;
    let got = got.ok();
    assert_eq!(got["pipe_name"], "sqlite");
    assert_eq!(got["versions"], json!(["1.0.0"]));
    assert!(got["spec"].is_object());
    assert_eq!(got["owner"], "alice");
    w.server.call(&w.carol, download.clone()).await.ok();
    let unknown_version = w.server.call(&w.bob, json!({"action": "download_pipe", "pipe_name": "sqlite", "version": "9.9.9"})).await;
    unknown_version.failed(404);

    // A read grant does not allow sharing: bob sees it, so 403.
    let denied =
        w.server.call(&w.bob, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["carol"]}})).await;
    assert_eq!(denied.failed(403), "Permission denied: User lacks sharing permissions for pipe 'sqlite'");

    // An expiration in the past ends bob's access at once, and is marked expired.
    let ended = w
        .server
        .call(&w.alice, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"], "expiration": "2020-01-01T00:00:00Z"}}))
        .await;
    let bob_grant = ended.ok()["grants"].as_array().unwrap().iter().find(|g| g["name"] == "bob").unwrap().clone();
    assert_eq!(bob_grant["expired"], true);
    w.server.call(&w.bob, download.clone()).await.failed(404);

    // Revoking the group grant ends carol's access.
    let revoked = w
        .server
        .call(
            &w.alice,
            json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"groups": ["reviewers"], "revoke": true}}),
        )
        .await;
    assert_eq!(revoked.ok()["grants"].as_array().unwrap().len(), 1);
    w.server.call(&w.carol, download.clone()).await.failed(404);

    // An admin grant makes bob a manager: he may list, share and grant.
    w.server
        .call(
            &w.alice,
            json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"], "access_level": "admin"}}),
        )
        .await
        .ok();
    let bobs = w.server.call(&w.bob, json!({})).await;
    assert_eq!(names(bobs.ok()), vec!["sqlite"]);
    w.server
        .call(&w.bob, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["carol"], "access_level": "read_write"}}))
        .await
        .ok();
    w.server.call(&w.carol, download.clone()).await.ok();

    // Bad input.
    let cases = [
        (json!({"users": ["nobody"]}), 404, "nobody"),
        (json!({"groups": ["ghosts"]}), 404, "ghosts"),
        (json!({"users": ["bob"], "access_level": "owner"}), 400, "owner"),
        (json!({"users": ["bob"], "expiration": "soon"}), 400, "expiration"),
        (json!({"users": "bob"}), 400, "users"),
        (json!({}), 400, "user or group"),
    ];
    for (permissions, status, mention) in cases {
        let reply =
            w.server.call(&w.alice, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": permissions})).await;
        let error = reply.failed(status);
        assert!(error.contains(mention), "{error} mentions {mention}");
    }
    let no_permissions = w.server.call(&w.alice, json!({"action": "manage_permissions", "pipe_name": "sqlite"})).await;
    no_permissions.failed(400);
}

#[tokio::test]
async fn approval_flow() {
    let w = world().await;
    let share = w
        .server
        .call_with(
            &w.alice,
            json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}}),
            json!({"require_approval": true}),
        )
        .await;
    assert_eq!(share.ok()["sharing_status"], "pending_approval");
    // Collaboration can be set up before approval.
    w.server.call(&w.alice, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"]}})).await.ok();
    // Until approved, only the owner and admins can fetch it; the public page stays hidden.
    let download = json!({"action": "download_pipe", "pipe_name": "sqlite"});
    w.server.call(&w.bob, download.clone()).await.failed(404);
    w.server.call(&w.alice, download.clone()).await.ok();
    w.server.call(&w.root, download.clone()).await.ok();
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 404);

    // The queue is for admins only.
    let queue = w.server.call(&w.alice, json!({"action": "list_pending_shares"})).await;
    assert!(queue.failed(403).contains("admin"));
    let queue = w.server.call(&w.root, json!({"action": "list_pending_shares"})).await;
    let queue = queue.ok();
    assert_eq!(queue["shares"].as_array().unwrap().len(), 1);
    let pending = &queue["shares"][0];
    assert_eq!((pending["pipe_name"].clone(), pending["owner"].clone()), (json!("sqlite"), json!("alice")));
    assert!(pending["requested_at"].is_string());
    assert_eq!(pending["sharing_options"]["public"], true);

    // Reject with a note the owner can read.
    let rejected = w
        .server
        .call(&w.root, json!({"action": "review_share", "pipe_name": "sqlite", "decision": "reject", "note": "add a description"}))
        .await;
    assert_eq!(rejected.ok()["sharing_status"], "rejected");
    let mine = w.server.call(&w.alice, json!({"search": "sqlite"})).await;
    let entry = entry(mine.ok(), "sqlite");
    assert_eq!((entry["share_status"].clone(), entry["review_note"].clone()), (json!("rejected"), json!("add a description")));
    let twice = w.server.call(&w.root, json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve"})).await;
    twice.failed(409);
    w.server.call(&w.bob, download.clone()).await.failed(404);

    // Asked again (the share itself asks for approval this time), then approved.
    let again = w
        .server
        .call(
            &w.alice,
            json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true, "approval_required": true}}),
        )
        .await;
    assert_eq!(again.ok()["sharing_status"], "pending_approval");
    let by_alice = w.server.call(&w.alice, json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve"})).await;
    by_alice.failed(403);
    let bad = w.server.call(&w.root, json!({"action": "review_share", "pipe_name": "sqlite", "decision": "maybe"})).await;
    assert!(bad.failed(400).contains("maybe"));
    let approved = w.server.call(&w.root, json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve"})).await;
    assert_eq!(approved.ok()["sharing_status"], "active");
    w.server.call(&w.bob, download.clone()).await.ok();
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 200);

    // The instance setting applies to everyone, without any config.
    w.instance.cli_ok(&["settings", "set", "require_approval", "true"], None);
    let pending = w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "factory"})).await;
    assert_eq!(pending.ok()["sharing_status"], "pending_approval");
    let unshared = w.server.call(&w.root, json!({"action": "review_share", "pipe_name": "database_adapter", "decision": "approve"})).await;
    unshared.failed(404);
}

#[tokio::test]
async fn the_quota_holds_under_concurrency() {
    let instance = Instance::new();
    let token = instance.user_with_token("dana", false);
    let tree = numbered_tree(&instance.path().join("tree"), "p", 16);
    assert_eq!(instance.scan(&tree, "dana")["added"], 16);
    instance.cli_ok(&["settings", "set", "max_pipes_per_user", "4"], None);
    let server = instance.serve().await;

    let replies =
        futures::future::join_all((0..16).map(|i| server.call(&token, json!({"action": "share_pipe", "pipe_name": format!("p{i:02}")}))))
            .await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    assert_eq!((ok, conflicts), (4, 12), "{:?}", replies.iter().map(|r| (r.status, r.body["error"].clone())).collect::<Vec<_>>());
    let report = server.call(&token, json!({"action": "generate_share_report"})).await;
    assert_eq!(report.ok()["summary"]["total_shared_pipes"], 4);
}

#[tokio::test]
async fn reports_are_computed_from_the_database() {
    let w = world().await;
    for (name, public) in [("sqlite", true), ("factory", true), ("database_adapter", false)] {
        w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": name, "sharing_options": {"public": public}})).await.ok();
    }
    w.server
        .call_with(&w.alice, json!({"action": "share_pipe", "pipe_name": "agent_workflow_manager"}), json!({"require_approval": true}))
        .await
        .ok();
    w.server
        .call(
            &w.alice,
            json!({"action": "manage_permissions", "pipe_name": "database_adapter", "permissions": {"users": ["bob", "carol"]}}),
        )
        .await
        .ok();
    // bob's second download of the same version within a minute is not counted again.
    for token in [&w.bob, &w.bob, &w.carol] {
        w.server.call(token, json!({"action": "download_pipe", "pipe_name": "sqlite"})).await.ok();
    }
    w.server.call(&w.bob, json!({"action": "download_pipe", "pipe_name": "database_adapter"})).await.ok();

    let options =
        json!({"include_usage_stats": true, "include_user_metrics": true, "include_trend_analysis": true, "time_range": "7_days"});
    let report = w.server.call(&w.alice, json!({"action": "generate_share_report", "report_options": options})).await;
    let report = report.ok();
    assert_eq!(
        report["summary"],
        json!({"total_shared_pipes": 3, "public_pipes": 2, "private_pipes": 1, "active_collaborations": 2, "pending_approvals": 1})
    );
    assert_eq!(report["usage_stats"]["downloads"], 3);
    assert_eq!(report["usage_stats"]["unique_users"], 2);
    assert_eq!(report["usage_stats"]["popular_categories"], json!(["database"]));
    assert_eq!(report["time_range"], "7_days");
    assert!(report["report_id"].as_str().unwrap().starts_with("share_report_"));
    assert!(report["generated_at"].is_string());
    let daily = report["trend_analysis"]["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 8, "seven days back and today");
    let today = daily.last().unwrap();
    assert_eq!((today["shares"].clone(), today["downloads"].clone()), (json!(4), json!(3)));
    assert_eq!(report["user_metrics"]["top_downloaders"][0], json!({"user": "bob", "count": 2}));
    let advice = report["recommendations"].as_array().unwrap();
    assert!(advice.iter().any(|r| r.as_str().unwrap().contains("1 of your share(s) await")), "{advice:?}");
    assert!(advice.iter().any(|r| r.as_str().unwrap().contains("1 shared pipe(s) had no downloads")), "{advice:?}");

    // Without options: the summary and usage, no trend.
    let plain = w.server.call(&w.alice, json!({"action": "generate_share_report"})).await;
    let plain = plain.ok();
    assert_eq!(plain["time_range"], "30_days");
    assert!(plain.get("trend_analysis").is_none());
    let summary = &plain["summary"];
    assert_eq!(
        summary["public_pipes"].as_u64().unwrap() + summary["private_pipes"].as_u64().unwrap(),
        summary["total_shared_pipes"].as_u64().unwrap()
    );

    // Each user's report covers their own pipes; an admin's covers the instance.
    let bobs = w.server.call(&w.bob, json!({"action": "generate_share_report"})).await;
    let bobs = bobs.ok();
    assert_eq!(bobs["summary"]["total_shared_pipes"], 0);
    assert_eq!(bobs["usage_stats"]["downloads"], 0);
    let admins = w.server.call(&w.root, json!({"action": "generate_share_report", "report_options": {"time_range": "all_time"}})).await;
    let admins = admins.ok();
    assert_eq!(admins["summary"]["total_shared_pipes"], 3);
    assert_eq!(admins["usage_stats"]["downloads"], 3);
    assert_eq!(admins["scope"], "instance");

    let bad = w.server.call(&w.alice, json!({"action": "generate_share_report", "report_options": {"time_range": "2_weeks"}})).await;
    let error = bad.failed(400);
    assert!(error.contains("2_weeks") && error.contains("30_days"), "{error}");
}

#[tokio::test]
async fn every_bad_request_gets_an_envelope() {
    let w = world().await;
    let body = |v: Value| serde_json::to_vec(&v).unwrap();
    let no_token = w.server.post(None, body(json!({"context": {}}))).await;
    assert!(no_token.failed(401).contains("Bearer"));
    let bad_token = w.server.post(Some("pps_0000"), body(json!({"context": {}}))).await;
    assert_eq!(bad_token.failed(401), "Invalid API token");
    let malformed = w.server.post(Some(&w.alice), b"{\"context\": ".to_vec()).await;
    assert!(malformed.failed(400).contains("Malformed JSON"));
    let not_object = w.server.post(Some(&w.alice), body(json!([1, 2]))).await;
    not_object.failed(400);
    let no_context = w.server.post(Some(&w.alice), body(json!({"config": {}}))).await;
    assert!(no_context.failed(400).contains("context"));
    let context_string = w.server.post(Some(&w.alice), body(json!({"context": "list"}))).await;
    assert!(context_string.failed(400).contains("context"));
    let action_number = w.server.post(Some(&w.alice), body(json!({"context": {"action": 7}}))).await;
    assert!(action_number.failed(400).contains("action"));
    let config_list = w.server.post(Some(&w.alice), body(json!({"context": {}, "config": [1]}))).await;
    assert!(config_list.failed(400).contains("config"));
    let no_config = w.server.post(Some(&w.alice), body(json!({"context": {"action": "list_shareable"}}))).await;
    no_config.ok();

    let mut huge = b"{\"context\": {\"pad\": \"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 2 << 20));
    huge.extend(b"\"}}");
    // On its own connection: the server answers before reading the rest and closes it.
    let response =
        reqwest::Client::new().post(format!("{}/api/v1/process", w.server.url)).bearer_auth(&w.alice).body(huge).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(body["error"].as_str().unwrap().contains("larger"), "{body}");

    let response = w.server.http.get(format!("{}/api/v1/process", w.server.url)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);
    let response = w.server.http.post(format!("{}/api/v1/elsewhere", w.server.url)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.json::<Value>().await.unwrap()["success"], false);

    assert_eq!(w.server.get("/healthz").await, (200, "ok".to_string()));
}

#[tokio::test]
async fn the_public_page_shows_only_active_public_shares() {
    let w = world().await;
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 404);
    assert_eq!(w.server.get("/pipes/no_such_pipe").await.0, 404);
    w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}})).await.ok();
    w.server.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "factory", "sharing_options": {"public": false}})).await.ok();

    let (status, html) = w.server.get("/pipes/sqlite").await;
    assert_eq!(status, 200);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h1>sqlite</h1>"));
    assert!(html.contains("alice"), "owner shown");
    assert!(html.contains("1.0.0"), "versions shown");
    assert!(html.contains("Kubernetes-native SQLite database plugin"), "description shown");
    assert!(html.contains("plugin_storage"), "manifest shown");
    let (status, html) = w.server.get("/pipes/factory").await;
    assert_eq!(status, 404);
    assert!(html.contains("Not found"));
}

#[tokio::test]
async fn share_urls_use_the_configured_base() {
    let instance = Instance::new();
    let token = instance.user_with_token("erin", false);
    let tree =
        write_tree(&instance.path().join("tree"), &[("plugs/x/tool/1.0.0/plug.yaml", &plug("tool", "1.0.0", "x", "stable", "E", "d"))]);
    instance.scan(&tree, "erin");
    let server = instance.serve_with(&[("PIPESHARE_BASE_URL", "https://pipes.example.org/")]).await;
    let share = server.call(&token, json!({"action": "share_pipe", "pipe_name": "tool"})).await;
    assert_eq!(share.ok()["share_url"], "https://pipes.example.org/pipes/tool");
}

#[tokio::test]
async fn the_demo_command_loads_a_corpus_and_serves() {
    let instance = Instance::new();
    let mut child = tokio::process::Command::new(common::BIN)
        .args(["demo", "--addr", "127.0.0.1:0", "--corpus", fixture_corpus().parent().unwrap().to_str().unwrap()])
        .env("DATABASE_URL", &instance.database_url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut token, mut page, mut url, mut curl) = (None, None, None, None);
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(t) = line.strip_prefix("admin API token: ") {
            token = Some(t.trim().to_string());
        }
        if let Some(p) = line.strip_prefix("a public pipe page: ") {
            page = Some(p.trim().to_string());
        }
        if let Some(rest) = line.strip_prefix("pipeshare listening on ") {
            url = Some(rest.split_whitespace().next().unwrap().to_string());
        }
        if let Some(command) = line.strip_prefix("try: ") {
            curl = Some(command.to_string());
            break;
        }
    }
    let (token, page, url, curl) = (token.unwrap(), page.unwrap(), url.unwrap(), curl.unwrap());
    // Full addresses, and a curl line that works as pasted.
    assert!(page.starts_with(&format!("{url}/pipes/")), "{page}");
    let html = reqwest::get(&page).await.unwrap();
    assert_eq!(html.status().as_u16(), 200);
    let pasted = std::process::Command::new("sh").args(["-c", &curl]).output().unwrap();
    let answer: Value = serde_json::from_slice(&pasted.stdout).unwrap_or_else(|_| panic!("{curl}: {pasted:?}"));
    assert_eq!(answer["success"], true, "{answer}");
    let reply: Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/process"))
        .bearer_auth(token)
        .json(&json!({"context": {"action": "list_shareable"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pipes = reply["result"]["pipes"].as_array().unwrap();
    assert!(pipes.iter().any(|p| p["owner"] == "alice") && pipes.iter().any(|p| p["owner"] == "admin"));
}

#[tokio::test]
async fn two_servers_on_one_database_agree() {
    let instance = Instance::new();
    let token = instance.user_with_token("dana", false);
    instance.scan(&numbered_tree(&instance.path().join("tree"), "q", 16), "dana");
    let (a, b) = (instance.serve().await, instance.serve().await);

    // The quota holds when the shares are spread over both servers.
    instance.cli_ok(&["settings", "set", "max_pipes_per_user", "4"], None);
    let replies = futures::future::join_all((0..16).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        server.call(&token, json!({"action": "share_pipe", "pipe_name": format!("q{i:02}")}))
    }))
    .await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 4, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 12, "{statuses:?}");

    // A setting changed while both run is obeyed by both at once.
    instance.cli_ok(&["settings", "set", "enable_public_sharing", "false"], None);
    for server in [&a, &b] {
        let refused = server.call(&token, json!({"action": "share_pipe", "pipe_name": "q00", "sharing_options": {"public": true}})).await;
        refused.failed(403);
    }
    // And a download through one is counted in the report of the other.
    let shared =
        b.call(&token, json!({})).await.ok()["pipes"].as_array().unwrap().iter().find(|p| p["sharing_enabled"] == true).unwrap()["name"]
            .clone();
    a.call(&token, json!({"action": "download_pipe", "pipe_name": shared})).await.ok();
    let report = b.call(&token, json!({"action": "generate_share_report"})).await;
    assert_eq!(report.ok()["usage_stats"]["downloads"], 1);
    // The same download through the other server within the minute is known there from the
    // database (newest, or by its exact version), and not counted again.
    b.call(&token, json!({"action": "download_pipe", "pipe_name": shared})).await.ok();
    b.call(&token, json!({"action": "download_pipe", "pipe_name": shared, "version": "1.0.0"})).await.ok();
    let report = a.call(&token, json!({"action": "generate_share_report"})).await;
    assert_eq!(report.ok()["usage_stats"]["downloads"], 1);
}

#[tokio::test]
async fn downloads_at_once_are_each_counted_once() {
    let instance = Instance::new();
    let token = instance.user_with_token("erin", false);
    instance.scan(&numbered_tree(&instance.path().join("tree"), "d", 24), "erin");
    let (server, other) = (instance.serve().await, instance.serve().await);
    // Stored together, each still counts once, in every tally, though every pipe is fetched
    // through both servers at the same moment; the same again within the minute counts
    // nothing more.
    for _ in 0..2 {
        let replies = futures::future::join_all((0..48).map(|i| {
            let through = if i % 2 == 0 { &server } else { &other };
            through.call(&token, json!({"action": "download_pipe", "pipe_name": format!("d{:02}", i / 2)}))
        }))
        .await;
        for reply in replies {
            reply.ok();
        }
    }
    let report =
        server.call(&token, json!({"action": "generate_share_report", "report_options": {"report_format": "comprehensive"}})).await;
    let report = report.ok();
    assert_eq!(report["usage_stats"]["downloads"], 24);
    assert_eq!(report["usage_stats"]["category_downloads"], json!([{"category": "data", "downloads": 24}]));
}

#[tokio::test]
async fn every_sharing_change_is_in_the_audit_log() {
    let w = world().await;
    let call = |token: &String, context: Value| {
        let token = token.clone();
        let server = &w.server;
        async move { server.call(&token, context).await }
    };
    call(&w.alice, json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"approval_required": true}})).await.ok();
    call(
        &w.alice,
        json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"], "expiration": "2031-01-02"}}),
    )
    .await
    .ok();
    call(&w.alice, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"], "revoke": true}}))
        .await
        .ok();
    call(&w.root, json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve", "note": "fine"})).await.ok();
    call(&w.alice, json!({"action": "unshare_pipe", "pipe_name": "sqlite"})).await.ok();
    w.instance.cli_ok(&["settings", "set", "max_pipes_per_user", "7"], None);
    // A refused change leaves no trace.
    call(&w.bob, json!({"action": "share_pipe", "pipe_name": "factory"})).await.failed(404);

    // The owner reads the pipe's log, newest first, with who did what.
    let log = call(&w.alice, json!({"action": "audit_log", "pipe_name": "sqlite"})).await;
    let log = log.ok();
    let actions: Vec<(&str, &str)> =
        log["events"].as_array().unwrap().iter().map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap())).collect();
    assert_eq!(
        actions,
        vec![("alice", "unshare_pipe"), ("root", "review_share"), ("alice", "revoke"), ("alice", "grant"), ("alice", "share_pipe")]
    );
    assert_eq!(log["total_count"], 5);
    let grant = &log["events"][3];
    assert_eq!(grant["pipe_name"], "sqlite");
    assert_eq!((grant["detail"]["users"].clone(), grant["detail"]["access_level"].clone()), (json!(["bob"]), json!("read")));
    assert!(grant["detail"]["expiration"].as_str().unwrap().starts_with("2031-01-02T23:59:59"));
    assert_eq!(log["events"][1]["detail"]["note"], "fine");
    assert_eq!(log["events"][4]["detail"]["sharing_status"], "pending_approval");

    // Paging.
    let page = call(&w.alice, json!({"action": "audit_log", "pipe_name": "sqlite", "limit": 2, "offset": 1})).await;
    let page = page.ok();
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    assert_eq!(page["events"][0]["action"], "review_share");
    call(&w.alice, json!({"action": "audit_log", "pipe_name": "sqlite", "limit": 0})).await.failed(400);

    // The whole log, settings included, is for admins; others see a pipe only if they manage it.
    let all = call(&w.root, json!({"action": "audit_log"})).await;
    let all = all.ok();
    assert_eq!(all["total_count"], 6);
    let setting = &all["events"][0];
    assert_eq!((setting["actor"].clone(), setting["action"].clone()), (json!("cli"), json!("set_setting")));
    assert_eq!(setting["detail"], json!({"key": "max_pipes_per_user", "from": "50", "to": "7"}));
    assert!(call(&w.alice, json!({"action": "audit_log"})).await.failed(403).contains("admin"));
    call(&w.bob, json!({"action": "audit_log", "pipe_name": "sqlite"})).await.failed(404);
    assert!(call(&w.carol, json!({"action": "audit_log", "pipe_name": "no_such_pipe"})).await.failed(404).contains("no_such_pipe"));
}

#[tokio::test]
async fn a_large_catalogue_comes_in_pages_of_at_most_a_thousand() {
    let instance = Instance::new();
    let token = instance.user_with_token("alice", false);
    instance.scan(&numbered_tree(&instance.path().join("tree"), "p", 1003), "alice");
    let server = instance.serve().await;

    // No limit, as the guide's callers ask: the first thousand, the whole count, and the way on.
    let first = server.call(&token, json!({"action": "list_shareable"})).await.ok().clone();
    assert_eq!(first["pipes"].as_array().unwrap().len(), 1000);
    assert_eq!(first["total_count"], 1003);
    assert_eq!(first["next_after"], "p0999");
    let rest = server.call(&token, json!({"action": "list_shareable", "after": "p0999"})).await.ok().clone();
    let names: Vec<&str> = rest["pipes"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["p1000", "p1001", "p1002"]);
    assert!(rest["next_after"].is_null(), "the last page says so");
    // A page read backwards still says what follows it.
    let before = server.call(&token, json!({"action": "list_shareable", "before": "p0003", "limit": 2})).await.ok().clone();
    assert_eq!(before["next_after"], "p0002");
    let by_offset = server.call(&token, json!({"action": "list_shareable", "limit": 2, "offset": 1001})).await.ok().clone();
    assert!(by_offset["next_after"].is_null());
    // More than a thousand at once is refused.
    let refused = server.call(&token, json!({"action": "list_shareable", "limit": 1001})).await.failed(400);
    assert!(refused.contains("next_after"), "{refused}");
}

/// How many answers of `kind` (`list`, `download`) `server` sent by `outcome` (`kept`, `read`).
async fn answers(server: &Server, kind: &str, outcome: &str) -> u64 {
    server.counter(&format!("pipeshare_answers_total{{kind=\"{kind}\",outcome=\"{outcome}\"}}")).await
}

#[tokio::test]
async fn kept_listings_and_downloads_follow_every_change_and_a_grants_end() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let bob = instance.user_with_token("bob", false);
    let tree = instance.path().join("tree");
    write_tree(&tree, &[("sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "an embedded database"))]);
    instance.scan(&tree, "alice");
    let (one, two) = (instance.serve().await, instance.serve().await);
    let shared_with_bob = json!({"pipe_filters": {"scope": "shared_with_me"}});
    let download = json!({"action": "download_pipe", "pipe_name": "sqlite"});

    assert!(names(one.call(&bob, shared_with_bob.clone()).await.ok()).is_empty());
    one.call(&bob, download.clone()).await.failed(404);
    // The same question again is answered from memory.
    assert!(names(one.call(&bob, shared_with_bob.clone()).await.ok()).is_empty());
    assert_eq!((answers(&one, "list", "read").await, answers(&one, "list", "kept").await), (1, 1));

    // Shared and granted through the other server, until a few seconds from now: seen at once.
    two.call(&alice, json!({"action": "share_pipe", "pipe_name": "sqlite"})).await.ok();
    let ends = chrono::Utc::now() + chrono::Duration::seconds(3);
    let grant = json!({"action": "manage_permissions", "pipe_name": "sqlite",
                       "permissions": {"users": ["bob"], "expiration": ends.to_rfc3339()}});
    two.call(&alice, grant).await.ok();
    assert_eq!(names(one.call(&bob, shared_with_bob.clone()).await.ok()), ["sqlite"]);
    assert_eq!(one.call(&bob, download.clone()).await.ok()["version"], "1.0.0");
    let kept = one.call(&bob, download.clone()).await.ok().clone();
    assert_eq!(kept["version"], "1.0.0");
    assert!(answers(&one, "download", "kept").await >= 1);

    // A new version, scanned by the operator, is the next download; a description edited by
    // hand in the database is in the next listing.
    write_tree(&tree, &[("sqlite/1.1.0/plug.yaml", &plug("sqlite", "1.1.0", "database", "stable", "A", "an embedded database"))]);
    instance.scan(&tree, "alice");
    assert_eq!(one.call(&bob, download.clone()).await.ok()["versions"], json!(["1.1.0", "1.0.0"]));
    let db = sea_orm::Database::connect(&instance.database_url).await.unwrap();
    let by_hand = "UPDATE pipes SET description = 'edited by the operator' WHERE name = 'sqlite'";
    sea_orm::ConnectionTrait::execute_unprepared(&db, by_hand).await.unwrap();
    assert_eq!(entry(one.call(&bob, shared_with_bob.clone()).await.ok(), "sqlite")["description"], "edited by the operator");

    // The grant ends with no write at all: the next answers say so.
    let wait = (ends - chrono::Utc::now()).to_std().unwrap_or_default() + std::time::Duration::from_millis(50);
    tokio::time::sleep(wait).await;
    one.call(&bob, download.clone()).await.failed(404);
    assert!(names(one.call(&bob, shared_with_bob.clone()).await.ok()).is_empty());

    // Granted again, then the share withdrawn through the other server.
    let forever = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"]}});
    two.call(&alice, forever).await.ok();
    assert_eq!(one.call(&bob, download.clone()).await.ok()["version"], "1.1.0");
    two.call(&alice, json!({"action": "unshare_pipe", "pipe_name": "sqlite"})).await.ok();
    one.call(&bob, download.clone()).await.failed(404);
    assert!(names(one.call(&bob, shared_with_bob).await.ok()).is_empty());
    // The owner's own answers were never bob's.
    assert_eq!(one.call(&alice, download).await.ok()["version"], "1.1.0");
}

#[tokio::test]
async fn a_token_known_from_memory_stops_at_once_when_revoked_expired_disabled_or_demoted_anywhere() {
    let instance = Instance::new();
    let root = instance.user_with_token("root", true);
    let admin = instance.user_with_token("admin", true);
    let [alice, bob, carol] = ["alice", "bob", "carol"].map(|name| instance.user_with_token(name, false));
    let (one, two) = (instance.serve().await, instance.serve().await);
    let list = json!({"action": "list_shareable"});
    let admins_only = json!({"action": "list_tokens", "user": "alice"});
    for token in [&alice, &bob, &carol] {
        one.call(token, list.clone()).await.ok();
    }
    one.call(&admin, admins_only.clone()).await.ok();
    let kept = answers(&one, "token", "kept").await;
    one.call(&alice, list.clone()).await.ok();
    assert_eq!(answers(&one, "token", "kept").await, kept + 1, "a token asked again is known from memory");

    // Revoked, and a user disabled, through the other server: refused at once.
    let id = two.call(&root, admins_only.clone()).await.ok()[0]["id"].clone();
    two.call(&root, json!({"action": "revoke_token", "token_id": id})).await.ok();
    assert_eq!(one.call(&alice, list.clone()).await.failed(401), "Invalid API token");
    two.call(&root, json!({"action": "disable_user", "user": "bob"})).await.ok();
    assert_eq!(one.call(&bob, list.clone()).await.failed(401), "This account is disabled");

    // A token's end, and a role, changed by hand in the database: the next call knows.
    let db = sea_orm::Database::connect(&instance.database_url).await.unwrap();
    for by_hand in [
        "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00+00:00' WHERE user_id = (SELECT id FROM users WHERE username = 'carol')",
        "UPDATE users SET is_admin = false WHERE username = 'admin'",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&db, by_hand).await.unwrap();
    }
    assert_eq!(one.call(&carol, list.clone()).await.failed(401), "This API token has expired");
    assert!(one.call(&admin, admins_only).await.failed(403).contains("admin"));
}
