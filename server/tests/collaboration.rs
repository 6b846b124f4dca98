//! The people side over the JSON API, against one server: gated pipes, access requests (and
//! how they hide whether a private pipe exists), reviews, lapsing, renewals and "who can see
//! this and why".
mod common;

use app::orchestrator::entities::access_requests;
use chrono::{DateTime, TimeDelta, Utc};
use common::{World, plug, write_tree};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};

fn time(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap_or_else(|| panic!("a time, not {value}")).parse().unwrap()
}

/// alice owns `gp` (shared gated), `secret` (not shared) and `team_pipe` (shared privately);
/// carol and dave are in the group `team`.
async fn world() -> World {
    let world = World::new(|instance| {
        instance.add_user("dave", false);
        let files: Vec<(String, String)> = ["gp", "secret", "team_pipe"]
            .iter()
            .map(|name| (format!("{name}/1.0.0/plug.yaml"), plug(name, "1.0.0", "tools", "stable", "A", &format!("{name} does things"))))
            .collect();
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
        instance.scan(&write_tree(&instance.path().join("tree"), &files), "alice");
        instance.cli_ok(&["group", "add", "team"], None);
        instance.cli_ok(&["group", "member", "add", "team", "carol"], None);
        instance.cli_ok(&["group", "member", "add", "team", "dave"], None);
    })
    .await;
    let share = |name: &str, options: Value| json!({"action": "share_pipe", "pipe_name": name, "sharing_options": options});
    world.server.call(&world.alice, share("gp", json!({"gated": true}))).await.ok();
    world.server.call(&world.alice, share("team_pipe", json!({}))).await.ok();
    world
}

#[tokio::test]
async fn the_people_side() {
    let w = world().await;
    let (s, alice, bob, carol, root) = (&w.server, w.alice.as_str(), w.bob.as_str(), w.carol.as_str(), w.root.as_str());

    // A gated pipe: listed for everyone and its page shown to anonymous visitors, but its
    // downloads need a grant.
    let listed = s.call(bob, json!({"pipe_filters": {"scope": "shared_with_me", "visibility": "gated"}})).await;
    let names: Vec<&str> = listed.ok()["pipes"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gp"]);
    assert_eq!(listed.ok()["pipes"][0]["visibility"], "gated");
    let (status, page) = s.get("/pipes/gp").await;
    assert_eq!(status, 200);
    assert!(page.contains("gp does things") && page.contains("gated"), "{page}");
    assert!(!page.contains("Download manifest"), "no download offered without a grant");
    assert_eq!(s.get("/pipes/gp/download").await.0, 403);
    assert_eq!(s.get("/pipes/gp/versions/1.0.0/package.tar.gz").await.0, 403);
    let refused = s.call(bob, json!({"action": "download_pipe", "pipe_name": "gp"})).await.failed(403);
    assert!(refused.contains("request_access"), "{refused}");
    let details = s.call(bob, json!({"action": "get_pipe", "pipe_name": "gp"})).await;
    assert_eq!(details.ok()["can_download"], false);
    assert_eq!(details.ok()["can_request_access"], true);
    assert_eq!(details.ok()["manifest_yaml"], "", "the manifest is what a download gives");

    // Asking, then asking again: one request, updated, its revision counted.
    let ask = |level: &str, reason: &str, days: Value| json!({"action": "request_access", "pipe_name": "gp", "access_level": level, "reason": reason, "duration_days": days});
    let first = s.call(bob, ask("read", "nightly import", json!(30))).await.ok().clone();
    assert_eq!(first["status"], "pending");
    assert_eq!(first["revision"], 1);
    assert_eq!(first["requester"], "bob");
    let again = s.call(bob, ask("read_write", "nightly import, and fixes", json!(30))).await.ok().clone();
    assert_eq!(again["request_id"], first["request_id"]);
    assert_eq!(again["revision"], 2);
    let id = again["request_id"].as_i64().unwrap();

    // Its managers see it; others do not, and may not decide it; nor may bob.
    let pending = s.call(alice, json!({"action": "list_access_requests", "status": "pending"})).await;
    assert_eq!(pending.ok()["requests"][0]["request_id"], id);
    assert_eq!(s.call(carol, json!({"action": "list_access_requests"})).await.ok()["total_count"], 0);
    let decide = |extra: Value| {
        let mut context = json!({"action": "review_access_request", "request_id": id, "decision": "approve"});
        context.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        context
    };
    s.call(carol, decide(json!({}))).await.failed(404);
    s.call(bob, decide(json!({}))).await.failed(403);
    // Decisions are bound to what the reviewer saw.
    let stale = s.call(alice, decide(json!({"revision": 1}))).await.failed(409);
    assert!(stale.contains("changed"), "{stale}");
    // Narrower or sooner only.
    s.call(alice, decide(json!({"access_level": "admin"}))).await.failed(400);
    let far = (Utc::now() + TimeDelta::days(60)).format("%Y-%m-%d").to_string();
    s.call(alice, decide(json!({"expiration": far}))).await.failed(400);
    let soon = (Utc::now() + TimeDelta::days(10)).format("%Y-%m-%d").to_string();
    let approved = s
        .call(alice, decide(json!({"revision": 2, "access_level": "read", "expiration": soon, "note": "read is enough"})))
        .await
        .ok()
        .clone();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["granted_level"], "read");
    assert_eq!(approved["review_note"], "read is enough");
    assert_eq!(approved["reviewed_by"], "alice");
    let until = time(&approved["granted_until"]);
    assert!(until > Utc::now() + TimeDelta::days(9) && until < Utc::now() + TimeDelta::days(11), "{until}");
    s.call(alice, decide(json!({}))).await.failed(409);
    // The grant works, and bob now holds read.
    assert_eq!(s.call(bob, json!({"action": "download_pipe", "pipe_name": "gp"})).await.ok()["pipe_name"], "gp");
    assert!(s.call(bob, ask("read", "more", Value::Null)).await.failed(409).contains("already hold read"));
    let mine = s.call(bob, json!({"action": "list_access_requests"})).await;
    assert_eq!(mine.ok()["requests"][0]["status"], "approved");

    // A request about a pipe the caller cannot see is answered exactly as a real one, and
    // nobody else hears of it.
    let hidden = |name: &str| json!({"action": "request_access", "pipe_name": name, "access_level": "read", "reason": "curious"});
    let secret = s.call(carol, hidden("secret")).await.ok().clone();
    let nowhere = s.call(carol, hidden("no_such_pipe")).await.ok().clone();
    let shape = |v: &Value| {
        let mut v = v.clone();
        for key in ["request_id", "pipe_name", "created_at", "updated_at", "expires_at"] {
            v.as_object_mut().unwrap().remove(key);
        }
        v
    };
    assert_eq!(shape(&secret), shape(&nowhere));
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&secret), keys(&first));
    for manager in [alice, root] {
        let seen = s.call(manager, json!({"action": "list_access_requests"})).await;
        assert!(!seen.body.to_string().contains("curious"), "{}", seen.body);
    }
    let audit = s.call(root, json!({"action": "audit_log", "limit": 500})).await;
    assert!(!audit.body.to_string().contains("\"secret\""), "no event names the hidden request");
    assert_eq!(s.call(carol, json!({"action": "list_access_requests"})).await.ok()["total_count"], 2);
    // Its id is not the managers' to decide either.
    let secret_id = secret["request_id"].clone();
    s.call(alice, json!({"action": "review_access_request", "request_id": secret_id, "decision": "approve"})).await.failed(404);

    // A request nobody decides lapses.
    let lapsing = s.call(carol, ask("read", "soon gone", Value::Null)).await.ok().clone();
    let db = app::orchestrator::db::connect(&w.instance.database_url).await.unwrap();
    access_requests::Entity::update_many()
        .col_expr(access_requests::Column::ExpiresAt, Expr::value(Utc::now() - TimeDelta::hours(1)))
        .filter(access_requests::Column::Id.eq(lapsing["request_id"].as_i64().unwrap() as i32))
        .exec(&db)
        .await
        .unwrap();
    let expired = s.call(alice, json!({"action": "list_access_requests", "status": "expired"})).await;
    assert_eq!(expired.ok()["requests"][0]["request_id"], lapsing["request_id"]);
    assert_eq!(s.call(alice, json!({"action": "list_access_requests", "status": "pending"})).await.ok()["total_count"], 0);
    let late = json!({"action": "review_access_request", "request_id": lapsing["request_id"], "decision": "approve"});
    assert!(s.call(alice, late).await.failed(409).contains("expired"));
    // Asking again opens it again, for another access_request_ttl_days.
    w.instance.cli_ok(&["settings", "set", "access_request_ttl_days", "3"], None);
    let reopened = s.call(carol, ask("read", "still needed", Value::Null)).await.ok().clone();
    assert_eq!(reopened["status"], "pending");
    let lapses = time(&reopened["expires_at"]);
    assert!(lapses > Utc::now() + TimeDelta::days(2) && lapses < Utc::now() + TimeDelta::days(4), "{lapses}");
    let rejected =
        json!({"action": "review_access_request", "request_id": reopened["request_id"], "decision": "reject", "note": "ask bob"});
    assert_eq!(s.call(alice, rejected).await.ok()["status"], "rejected");
    let theirs = s.call(carol, json!({"action": "list_access_requests", "pipe_name": "gp"})).await;
    assert_eq!(theirs.ok()["requests"][0]["review_note"], "ask bob");

    // Bad input: each a 400 that stores nothing.
    let before = s.call(bob, json!({"action": "list_access_requests"})).await.ok()["total_count"].clone();
    for context in [
        json!({"action": "request_access", "pipe_name": "gp", "access_level": "admin"}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "   "}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "x".repeat(2001)}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "bell\u{7}"}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "r", "duration_days": 0}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "r", "duration_days": -3}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "r", "duration_days": 99_999_999_999u64}),
        json!({"action": "request_access", "pipe_name": "gp", "reason": "r", "access_level": "owner"}),
        json!({"action": "request_access", "pipe_name": "../etc", "reason": "r"}),
        json!({"action": "list_access_requests", "status": "maybe"}),
        json!({"action": "review_access_request", "request_id": -1, "decision": "approve"}),
        json!({"action": "review_access_request", "request_id": id, "decision": "perhaps"}),
    ] {
        s.call(bob, context).await.failed(400);
    }
    assert_eq!(s.call(bob, json!({"action": "list_access_requests"})).await.ok()["total_count"], before);
    // Asking is cheap; storage is not: 100 pending requests at most.
    for n in 0..100 {
        let reply = s.call(w.bob.as_str(), hidden(&format!("wanted_{n}"))).await;
        if reply.status != 200 {
            assert_eq!(reply.status, 429, "{}", reply.body);
            break;
        }
    }
    s.call(bob, hidden("one_too_many")).await.failed(429);

    // Who can see this, and why: through a group, directly, expired apart.
    let grant = |permissions: Value| json!({"action": "manage_permissions", "pipe_name": "team_pipe", "permissions": permissions});
    s.call(alice, grant(json!({"groups": ["team"], "access_level": "read"}))).await.ok();
    s.call(alice, grant(json!({"users": ["bob"], "access_level": "read_write", "expiration": "2001-01-01"}))).await.ok();
    let ends = (Utc::now() + TimeDelta::days(3)).to_rfc3339();
    s.call(alice, grant(json!({"users": ["carol"], "access_level": "read_write", "expiration": ends}))).await.ok();
    let explained = s.call(alice, json!({"action": "explain_access", "pipe_name": "team_pipe"})).await.ok().clone();
    let user = |name: &str| explained["users"].as_array().unwrap().iter().find(|u| u["user"] == name).cloned();
    assert_eq!(user("alice").unwrap()["paths"][0]["reason"], "owner");
    assert_eq!(user("root").unwrap()["paths"][0]["reason"], "instance_admin");
    let dave = user("dave").expect("dave reaches it through team");
    assert_eq!(dave["access_level"], "read");
    assert_eq!(dave["paths"][0]["reason"], "group_grant");
    assert_eq!(dave["paths"][0]["group"], "team");
    assert_eq!(dave["paths"][0]["granted_by"], "alice");
    let carol_access = user("carol").unwrap();
    let carol_paths: Vec<&str> = carol_access["paths"].as_array().unwrap().iter().map(|p| p["reason"].as_str().unwrap()).collect();
    assert_eq!(carol_paths, ["direct_grant", "group_grant"]);
    assert_eq!(carol_access["access_level"], "read_write");
    assert!(user("bob").is_none(), "bob's grant has ended");
    assert_eq!(explained["expired"][0]["name"], "bob");
    assert_eq!(explained["groups"][0]["members"], json!(["carol", "dave"]));
    assert!(explained["everyone"].is_null());
    let gated = s.call(alice, json!({"action": "explain_access", "pipe_name": "gp"})).await;
    assert_eq!(gated.ok()["everyone"]["reason"], "gated_share");
    s.call(carol, json!({"action": "explain_access", "pipe_name": "team_pipe"})).await.failed(403);
    s.call(carol, json!({"action": "explain_access", "pipe_name": "secret"})).await.failed(404);
    // About a user: themself, or any for an instance admin.
    let reach = s.call(carol, json!({"action": "explain_access", "user": "carol"})).await.ok().clone();
    let team_pipe = reach["pipes"].as_array().unwrap().iter().find(|p| p["pipe_name"] == "team_pipe").unwrap();
    assert_eq!(team_pipe["access_level"], "read_write");
    assert_eq!(reach["gated_pipes"], 1);
    s.call(bob, json!({"action": "explain_access", "user": "carol"})).await.failed(403);
    let of_bob = s.call(root, json!({"action": "explain_access", "user": "bob"})).await.ok().clone();
    assert_eq!(of_bob["expired"][0]["pipe_name"], "team_pipe");
    s.call(root, json!({"action": "explain_access"})).await.failed(400);
    s.call(root, json!({"action": "explain_access", "pipe_name": "gp", "user": "bob"})).await.failed(400);

    // Renewing: a grant ending soon is marked, and renewing extends it by its length.
    let page = s.call(alice, json!({"action": "get_pipe", "pipe_name": "team_pipe"})).await.ok().clone();
    let carol_grant = page["grants"].as_array().unwrap().iter().find(|g| g["name"] == "carol").unwrap().clone();
    assert_eq!(carol_grant["ending_soon"], true);
    let was = time(&carol_grant["expires_at"]);
    let renew = |extra: Value| {
        let mut context = json!({"action": "renew_grant", "pipe_name": "team_pipe"});
        context.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        context
    };
    let renewed = s.call(alice, renew(json!({"user": "carol"}))).await.ok().clone();
    let now_ends = time(&renewed["expires_at"]);
    let added = now_ends - was;
    assert!((added - TimeDelta::days(3)).num_seconds().abs() < 60, "extended by its length: {added}");
    let by_days = s.call(alice, renew(json!({"user": "carol", "days": 1}))).await.ok().clone();
    assert_eq!(time(&by_days["expires_at"]) - now_ends, TimeDelta::days(1));
    // An ended grant renews from now.
    let bob_renewed = s.call(alice, renew(json!({"user": "bob"}))).await.ok().clone();
    assert!(time(&bob_renewed["expires_at"]) > Utc::now());
    assert!(s.call(alice, renew(json!({"group": "team"}))).await.failed(409).contains("never ends"));
    s.call(alice, renew(json!({"user": "dave"}))).await.failed(404);
    s.call(alice, renew(json!({"user": "carol", "days": 0}))).await.failed(400);
    s.call(alice, renew(json!({}))).await.failed(400);
    s.call(carol, renew(json!({"user": "carol"}))).await.failed(403);
    assert!(access_requests::Entity::find().all(&db).await.unwrap().len() >= 100);

    // Webhooks cannot be aimed inward unless the operator allows it.
    for url in ["http://127.0.0.1:8080/x", "http://[::1]/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://localhost/x"] {
        let refused = s.call(alice, json!({"action": "add_webhook", "url": url, "pipe_name": "gp"})).await.failed(400);
        assert!(refused.contains("private") || refused.contains("loopback"), "{url}: {refused}");
    }
}

#[tokio::test]
async fn one_inbox() {
    let w = world().await;
    let (s, alice, bob, carol, root) = (&w.server, w.alice.as_str(), w.bob.as_str(), w.carol.as_str(), w.root.as_str());
    w.instance.cli_ok(&["token", "create", "carol", "--label", "laptop", "--expires", "3d"], None);
    let share = json!({"action": "share_pipe", "pipe_name": "secret", "sharing_options": {"approval_required": true}});
    s.call(alice, share).await.ok();
    let asked = json!({"action": "request_access", "pipe_name": "gp", "reason": "for the report", "duration_days": 7});
    let request = s.call(bob, asked).await.ok().clone();
    let ends = (Utc::now() + TimeDelta::days(2)).to_rfc3339();
    let grant = json!({"action": "manage_permissions", "pipe_name": "team_pipe",
        "permissions": {"users": ["carol"], "access_level": "read", "expiration": ends}});
    s.call(alice, grant).await.ok();

    let inbox = async |token: &str, kind: Option<&str>| {
        let mut context = json!({"action": "list_inbox"});
        if let Some(kind) = kind {
            context["kind"] = json!(kind);
        }
        s.call(token, context).await.ok().clone()
    };
    let kinds = |inbox: &Value| -> Vec<String> {
        inbox["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap().to_string()).collect()
    };
    // Each sees what waits on them.
    let of_alice = inbox(alice, None).await;
    assert_eq!(kinds(&of_alice), ["access_request", "expiring_grant"], "{of_alice}");
    assert_eq!(of_alice["waiting"], 2);
    let item = of_alice["items"][0].clone();
    assert_eq!(item["id"], request["request_id"].to_string());
    assert_eq!(item["decidable"], true);
    assert!(item["summary"].as_str().unwrap().contains("for the report"), "{item}");
    let of_carol = inbox(carol, None).await;
    assert_eq!(kinds(&of_carol), ["expiring_grant", "expiring_token"], "{of_carol}");
    assert!(of_carol["items"][0]["summary"].as_str().unwrap().starts_with("Your read access to team_pipe"));
    assert_eq!(kinds(&inbox(bob, None).await), ["my_request"]);
    let of_root = inbox(root, Some("share_approval")).await;
    assert_eq!(kinds(&of_root), ["share_approval"]);
    assert_eq!(of_root["items"][0]["pipe_name"], "secret");

    // Several at once, each as shown: a changed item is not decided.
    let bulk = |items: Value, decision: &str| json!({"action": "review_inbox", "items": items, "decision": decision, "note": "thanks"});
    let stale = json!([{"kind": "access_request", "id": item["id"], "revision": "0"}]);
    let refused = s.call(alice, bulk(stale, "approve")).await.ok().clone();
    assert_eq!(refused["outcomes"][0]["decided"], false);
    assert!(refused["outcomes"][0]["error"].as_str().unwrap().contains("changed"), "{refused}");
    let items = json!([
        {"kind": "access_request", "id": item["id"], "revision": item["revision"]},
        {"kind": "expiring_grant", "id": of_alice["items"][1]["id"], "revision": "1"},
        {"kind": "share_approval", "id": "secret", "revision": of_root["items"][0]["revision"]},
    ]);
    let decided = s.call(alice, bulk(items, "approve")).await.ok().clone();
    let outcomes: Vec<bool> = decided["outcomes"].as_array().unwrap().iter().map(|o| o["decided"].as_bool().unwrap()).collect();
    assert_eq!(outcomes, [true, false, false], "alice decides her request, not a reminder nor an admin's approval: {decided}");
    let approved = inbox(bob, Some("my_request")).await;
    assert_eq!(approved["items"][0]["status"], "approved");
    assert_eq!(approved["waiting"], 0, "an outcome is news, not a task");
    let share_ref = json!([{"kind": "share_approval", "id": "secret", "revision": of_root["items"][0]["revision"]}]);
    let rejected = s.call(root, bulk(share_ref, "reject")).await.ok().clone();
    assert_eq!(rejected["outcomes"][0]["decided"], true, "{rejected}");
    assert!(inbox(root, Some("share_approval")).await["items"].as_array().unwrap().is_empty());

    // Bad input is a 400.
    s.call(alice, bulk(json!([]), "approve")).await.failed(400);
    let many: Vec<Value> = (0..101).map(|n| json!({"kind": "access_request", "id": n.to_string(), "revision": "1"})).collect();
    s.call(alice, bulk(json!(many), "approve")).await.failed(400);
    s.call(alice, bulk(json!([{"kind": "letters", "id": "1"}]), "approve")).await.failed(400);
    s.call(alice, bulk(json!("all"), "approve")).await.failed(400);
    s.call(alice, json!({"action": "list_inbox", "kind": "everything"})).await.failed(400);

    // The header counts what waits, on every page.
    let cookie = common::session(s, "alice", "correct horse battery").await.unwrap();
    let page = s.http.get(format!("{}/inbox", s.url)).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
    // carol's grant, and bob's new one (asked for 7 days, within reminder_days) end soon.
    assert!(page.contains("2 waiting"), "{page}");
    assert!(page.contains("bob&#x27;s read access to gp ends soon") || page.contains("bob's read access to gp ends soon"), "{page}");
    assert!(page.contains("Grants ending soon"));
}

#[tokio::test]
async fn reports_in_each_format() {
    let w = world().await;
    let (s, alice, bob, root) = (&w.server, w.alice.as_str(), w.bob.as_str(), w.root.as_str());
    let share = json!({"action": "share_pipe", "pipe_name": "secret", "sharing_options": {"public": true}});
    s.call(alice, share).await.ok();
    let promote = json!({"action": "promote_pipe", "pipe_name": "secret", "version": "1.0.0", "environment": "staging"});
    s.call(alice, promote).await.ok();
    // Downloads by an anonymous visitor, a browser session and two tokens (one through an environment).
    assert_eq!(s.get("/pipes/secret/download").await.0, 200);
    let cookie = common::session(s, "carol", "correct horse battery").await.unwrap();
    let browser = s.http.get(format!("{}/pipes/secret/download", s.url)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(browser.status(), 200);
    s.call(bob, json!({"action": "download_pipe", "pipe_name": "secret"})).await.ok();
    s.call(root, json!({"action": "download_pipe", "pipe_name": "secret", "environment": "staging"})).await.ok();

    let report = |format: &str| json!({"action": "generate_share_report", "report_options": {"report_format": format}});
    let summary = s.call(alice, report("summary")).await.ok().clone();
    assert_eq!(summary["report_format"], "summary");
    assert!(summary["summary"]["total_shared_pipes"].as_u64().unwrap() >= 1);
    for absent in ["usage_stats", "trend_analysis", "user_metrics"] {
        assert!(summary.get(absent).is_none(), "{absent} in a summary: {summary}");
    }
    assert_eq!(summary["recommendations"], json!([]));

    let detailed = s.call(alice, report("detailed")).await.ok().clone();
    let usage = &detailed["usage_stats"];
    let counts = |list: &Value| -> Vec<(String, u64)> {
        list.as_array().unwrap().iter().map(|c| (c["name"].as_str().unwrap().to_string(), c["downloads"].as_u64().unwrap())).collect()
    };
    let mut by_client = counts(&usage["by_client"]);
    by_client.sort();
    assert_eq!(by_client, [("anonymous".into(), 1), ("browser".into(), 1), ("token".into(), 2)]);
    assert_eq!(counts(&usage["by_environment"]), [("direct".to_string(), 3), ("staging".to_string(), 1)]);
    assert_eq!(counts(&usage["by_version"]), [("secret@1.0.0".to_string(), 4)]);
    assert_eq!(counts(&usage["top_pipes"]), [("secret".to_string(), 4)]);
    assert_eq!(usage["unique_downloaders"]["last_day"], 3, "bob, carol and root");
    assert!(detailed.get("trend_analysis").is_none() && detailed.get("user_metrics").is_none());

    let comprehensive = s.call(alice, report("comprehensive")).await.ok().clone();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let daily = comprehensive["trend_analysis"]["daily"].as_array().unwrap();
    let last = daily.last().unwrap();
    assert_eq!((last["date"].as_str().unwrap(), last["downloads"].as_u64().unwrap()), (today.as_str(), 4), "{last}");
    assert_eq!(daily.len(), 31, "every day of 30_days, today included");
    assert!(comprehensive["user_metrics"]["top_downloaders"].is_array());
    assert!(comprehensive["recommendations"].is_array());
    s.call(alice, report("dashboard")).await.failed(400);

    // The exports carry the same figures.
    let csv = s.http.get(format!("{}/reports/export?format=csv", s.url)).bearer_auth(alice).send().await.unwrap().text().await.unwrap();
    for line in ["downloads_by_client.token,2", "downloads_by_environment.staging,1", "top_pipe.secret,4", "unique_downloaders_last_day,3"]
    {
        assert!(csv.lines().any(|l| l == line), "{line} in {csv}");
    }
}
