//! Holes found by attacking pipeshare, each closed: every test here failed before the fix.
mod common;

use common::{Instance, World, no_redirects, plug, write_tree};
use serde_json::{Value, json};

/// alice owns `sqlite` (category `database`) and `vault` (category `secrets`, status
/// `classified`); bob and carol are colleagues, root an instance admin.
async fn world() -> World {
    World::new(|instance| {
        let tree = write_tree(
            &instance.path().join("tree"),
            &[
                ("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "an embedded database")),
                ("plugs/sec/vault/1.0.0/plug.yaml", &plug("vault", "1.0.0", "secrets", "classified", "A", "where keys live")),
            ],
        );
        instance.scan(&tree, "alice");
    })
    .await
}

#[tokio::test]
async fn sign_in_never_redirects_off_site_and_never_panics() {
    let w = world().await;
    for next in ["/\t/evil.example", "/\n/evil.example", "/a\u{7}b", "/\\evil.example", "//evil.example"] {
        let response = no_redirects()
            .post(format!("{}/api/login", w.server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "text/html")
            .body(format!("username=alice&password=correct+horse+battery&next={}", app::urls::encode(next)))
            .send()
            .await
            .unwrap_or_else(|err| panic!("{next:?}: the connection was dropped: {err}"));
        assert_eq!(response.headers()["location"], "/", "{next:?}");
    }
}

#[tokio::test]
async fn out_of_range_numbers_are_refused_not_dropped() {
    let w = world().await;
    for context in [
        json!({"action": "list_shareable", "limit": 18446744073709551615u64}),
        json!({"action": "list_shareable", "pipe_filters": {"offset": 9223372036854775808u64}}),
        json!({"action": "audit_log", "offset": 18446744073709551615u64}),
        json!({"action": "list_shareable", "limit": -1}),
        json!({"action": "list_shareable", "limit": 1e300}),
    ] {
        let error = w.server.call(&w.alice, context.clone()).await.failed(400);
        assert!(error.contains("whole number"), "{context}: {error}");
    }
}

#[tokio::test]
async fn an_approval_decides_the_request_the_admin_saw() {
    let w = world().await;
    let share = |public: bool| json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": public, "approval_required": true}});
    w.server.call(&w.alice, share(false)).await.ok();
    let queue = w.server.call(&w.root, json!({"action": "list_pending_shares"})).await;
    let seen = queue.ok()["shares"][0]["requested_at"].as_str().unwrap().to_string();

    // The owner turns the private request into a public one while the admin looks.
    w.server.call(&w.alice, share(true)).await.ok();
    let review =
        |requested_at: &str| json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve", "requested_at": requested_at});
    let stale = w.server.call(&w.root, review(&seen)).await.failed(409);
    assert!(stale.contains("changed after it was shown") && stale.contains("public"), "{stale}");
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 404, "nothing was made public");

    // Approval re-checks the settings of the moment.
    let queue = w.server.call(&w.root, json!({"action": "list_pending_shares"})).await;
    let now_seen = queue.ok()["shares"][0]["requested_at"].as_str().unwrap().to_string();
    w.instance.cli_ok(&["settings", "set", "enable_public_sharing", "false"], None);
    let refused = w.server.call(&w.root, review(&now_seen)).await.failed(403);
    assert!(refused.contains("Public sharing is disabled"), "{refused}");
    w.instance.cli_ok(&["settings", "set", "enable_public_sharing", "true"], None);
    assert_eq!(w.server.call(&w.root, review(&now_seen)).await.ok()["sharing_status"], "active");
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 200);
}

#[tokio::test]
async fn grant_requests_and_stored_options_are_bounded() {
    let w = world().await;
    let many: Vec<String> = (0..1001).map(|i| format!("user{i}")).collect();
    let grant = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": many}});
    assert!(w.server.call(&w.alice, grant).await.failed(400).contains("at most 1000"));
    // The same name twice is one grant.
    let twice = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob", "bob"]}});
    let result = w.server.call(&w.alice, twice).await;
    assert_eq!(result.ok()["grants"].as_array().unwrap().len(), 1);

    let big = "x".repeat(17 * 1024);
    let options = json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"notes": big}});
    assert!(w.server.call(&w.alice, options).await.failed(413).contains("at most 16384"));
    let metadata = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["carol"], "why": big}});
    w.server.call(&w.alice, metadata).await.failed(413);
}

#[tokio::test]
async fn an_expiring_admin_grantee_cannot_outlast_their_grant() {
    let w = world().await;
    let until = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let server = &w.server;
    let grant = |token: &str, users: Value, expiration: Option<&str>| {
        let mut permissions = json!({"users": users, "access_level": "admin"});
        if let Some(e) = expiration {
            permissions["expiration"] = json!(e);
        }
        let context = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": permissions});
        let token = token.to_string();
        async move { server.call(&token, context).await }
    };
    grant(&w.alice, json!(["bob"]), Some(&until)).await.ok();

    let forever = grant(&w.bob, json!(["carol"]), None).await.failed(403);
    assert!(forever.contains("must end by then"), "{forever}");
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    grant(&w.bob, json!(["carol"]), Some(&later)).await.failed(403);
    let himself = grant(&w.bob, json!(["bob"]), None).await.failed(403);
    assert!(himself.contains("yourself"), "{himself}");
    // Within bob's own term it works.
    let sooner = (chrono::Utc::now() + chrono::Duration::days(5)).format("%Y-%m-%d").to_string();
    grant(&w.bob, json!(["carol"]), Some(&sooner)).await.ok();
    // The owner is not bound.
    grant(&w.alice, json!(["carol"]), None).await.ok();
}

#[tokio::test]
async fn turning_public_sharing_off_hides_public_shares_until_it_is_on_again() {
    let w = world().await;
    let public = json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}});
    w.server.call(&w.alice, public).await.ok();
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 200);
    let listed = |token: String| {
        let server = &w.server;
        async move {
            let list = server.call(&token, json!({"pipe_filters": {"scope": "shared_with_me"}})).await;
            list.ok()["total_count"].as_u64().unwrap()
        }
    };
    assert_eq!(listed(w.bob.clone()).await, 1);

    w.instance.cli_ok(&["settings", "set", "enable_public_sharing", "false"], None);
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 404);
    assert_eq!(w.server.get("/pipes/sqlite/download").await.0, 404);
    assert_eq!(listed(w.bob.clone()).await, 0, "a stranger no longer sees it");
    let owner = w.server.call(&w.alice, json!({"action": "download_pipe", "pipe_name": "sqlite"})).await;
    owner.ok();

    w.instance.cli_ok(&["settings", "set", "enable_public_sharing", "true"], None);
    assert_eq!(w.server.get("/pipes/sqlite").await.0, 200, "the share was kept");
}

#[tokio::test]
async fn nothing_leaks_of_pipes_the_caller_cannot_list() {
    let w = world().await;
    // bob sees no pipe: the statuses his refused filter lists are the seed's only.
    let error = w.server.call(&w.bob, json!({"pipe_filters": {"scope": "shared_with_me", "status": "bogus"}})).await.failed(400);
    assert!(!error.contains("classified"), "{error}");
    let error = w.server.call(&w.alice, json!({"pipe_filters": {"status": "bogus"}})).await.failed(400);
    assert!(error.contains("classified"), "the owner's own statuses are offered: {error}");

    // An admin's note on a public share is for its managers, not for visitors.
    let share = json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true, "approval_required": true}});
    w.server.call(&w.alice, share).await.ok();
    let approve = json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve", "note": "kept quiet: audit 7"});
    w.server.call(&w.root, approve).await.ok();
    let (status, page) = w.server.get("/pipes/sqlite").await;
    assert_eq!(status, 200);
    assert!(!page.contains("kept quiet"), "{page}");
    let shared = w.server.call(&w.carol, json!({"pipe_filters": {"scope": "shared_with_me"}})).await;
    assert_eq!(shared.ok()["pipes"][0]["review_note"], Value::Null);
    let own = w.server.call(&w.alice, json!({})).await;
    let own = own.ok()["pipes"].as_array().unwrap().iter().find(|p| p["name"] == "sqlite").unwrap().clone();
    assert_eq!(own["review_note"], "kept quiet: audit 7");

    // Asking whether a file is there is not downloading it.
    let head = w.server.http.head(format!("{}/pipes/sqlite/download", w.server.url)).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(head.headers()["content-disposition"], "attachment; filename=\"sqlite-1.0.0.yaml\"");
    let length: usize = head.headers()["content-length"].to_str().unwrap().parse().unwrap();
    assert!(head.bytes().await.unwrap().is_empty(), "a HEAD has no body");
    let report = w.server.call(&w.alice, json!({"action": "generate_share_report"})).await;
    assert_eq!(report.ok()["usage_stats"]["downloads"], 0);
    // A caller fetching the same version again within a minute counts once.
    for _ in 0..3 {
        w.server.call(&w.carol, json!({"action": "download_pipe", "pipe_name": "sqlite"})).await.ok();
    }
    let report = w.server.call(&w.alice, json!({"action": "generate_share_report"})).await;
    assert_eq!(report.ok()["usage_stats"]["downloads"], 1);
    // So does an anonymous visitor, told apart by their address; the HEAD told the file's size.
    for _ in 0..3 {
        let (status, file) = w.server.get("/pipes/sqlite/download").await;
        assert_eq!((status, file.len()), (200, length), "{file}");
    }
    let report = w.server.call(&w.alice, json!({"action": "generate_share_report"})).await;
    assert_eq!(report.ok()["usage_stats"]["downloads"], 2);
}

#[tokio::test]
async fn pages_carry_security_headers_and_writes_follow_the_public_address() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let server = instance.serve_with(&[("PIPESHARE_BASE_URL", "https://pipes.example.org/hub")]).await;
    let page = server.http.get(format!("{}/login", server.url)).send().await.unwrap();
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("content-security-policy", "frame-ancestors 'none'"),
        ("referrer-policy", "same-origin"),
    ] {
        assert_eq!(page.headers()[name], value, "{name}");
    }
    // Behind a proxy the Host is the server's own; the browser's Origin is the public one.
    let logout = |origin: &str| server.http.post(format!("{}/api/logout", server.url)).header("origin", origin).send();
    assert_ne!(logout("https://pipes.example.org").await.unwrap().status().as_u16(), 403);
    let host = server.url.clone();
    assert_eq!(logout(&host).await.unwrap().status().as_u16(), 403, "the public address is configured: the Host is not enough");
    assert_eq!(logout("https://evil.example").await.unwrap().status().as_u16(), 403);

    // A signed-in page is never stored by a shared cache.
    let response = no_redirects()
        .post(format!("{}/api/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://pipes.example.org")
        .body("username=alice&password=correct+horse+battery")
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let tokens = server.http.get(format!("{}/tokens", server.url)).header("cookie", cookie).send().await.unwrap();
    assert_eq!(tokens.status().as_u16(), 200);
    assert_eq!(tokens.headers()["cache-control"], "private, no-store");
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let instance = Instance::new();
    instance.cli_ok(&["settings", "set", "allow_self_signup", "true"], None);
    let server = instance.serve().await;
    let sign_up = |name: String| {
        let request = no_redirects()
            .post(format!("{}/api/signup", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username={name}&password=a+long+enough+password"));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()))
        }
    };
    for i in 0..5 {
        let (status, _) = sign_up(format!("newcomer{i}")).await;
        assert!(status < 400, "sign-up {i}: {status}");
    }
    assert_eq!(sign_up("one_too_many".into()).await, (429, Some("1".to_string())));
    assert!(!instance.database_contains("one_too_many"));
}

#[tokio::test]
async fn a_nul_character_is_refused_before_it_reaches_the_database() {
    let w = world().await;
    for context in [
        json!({"pipe_filters": {"after": "a\u{0}b"}}),
        json!({"search": "\u{0}"}),
        json!({"action": "download_pipe", "pipe_name": "sqlite", "version": "1.0.0\u{0}"}),
        json!({"action": "review_share", "pipe_name": "sqlite", "decision": "approve", "note": "\u{0}"}),
    ] {
        let reply = w.server.call(if context["action"] == "review_share" { &w.root } else { &w.alice }, context.clone()).await;
        assert!(reply.failed(400).contains("NUL"), "{context}");
    }
}
