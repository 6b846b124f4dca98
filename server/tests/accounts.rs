//! Taking access away: disabling, deleting, passwords, the admin role, group membership and
//! tokens that expire, are read-only or are revoked by an admin.
mod common;

use common::{Server, World, no_redirects, plug, session, write_tree};
use serde_json::{Value, json};

/// alice owns `sqlite`, bob owns `duck`; carol is a colleague; root is the one instance admin.
async fn world() -> World {
    World::new(|instance| {
        let tree = write_tree(
            &instance.path().join("tree"),
            &[
                ("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "an embedded database")),
                ("plugs/db/duck/1.0.0/plug.yaml", &plug("duck", "1.0.0", "database", "stable", "B", "bob's")),
            ],
        );
        instance.scan(&tree.join("plugs/db/sqlite"), "alice");
        instance.scan(&tree.join("plugs/db/duck"), "bob");
    })
    .await
}

/// Whether the session cookie still signs its user in (the tokens page answers 200).
async fn signed_in(server: &Server, cookie: &str) -> bool {
    server.http.get(format!("{}/tokens", server.url)).header("cookie", cookie).send().await.unwrap().status().as_u16() == 200
}

#[tokio::test]
async fn a_disabled_user_stops_at_once_and_keeps_their_pipes() {
    let w = world().await;
    let cookie = session(&w.server, "bob", "correct horse battery").await.unwrap();
    assert!(signed_in(&w.server, &cookie).await);

    w.server.call(&w.root, json!({"action": "disable_user", "user": "bob"})).await.ok();
    assert_eq!(w.server.call(&w.bob, json!({})).await.failed(401), "This account is disabled");
    assert!(!signed_in(&w.server, &cookie).await, "the session stopped too");
    let refused = no_redirects()
        .post(format!("{}/api/login", w.server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=bob&password=correct+horse+battery")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403, "the right password does not get in either");
    let users = w.server.call(&w.root, json!({"action": "list_users"})).await;
    let bob = users.ok()["users"].as_array().unwrap().iter().find(|u| u["username"] == "bob").unwrap().clone();
    assert_eq!(bob["disabled"], true);
    let all = w.server.call(&w.root, json!({"pipe_filters": {"search": "duck"}})).await;
    assert_eq!(all.ok()["pipes"][0]["owner"], "bob", "the pipe stays");

    w.server.call(&w.root, json!({"action": "enable_user", "user": "bob"})).await.ok();
    w.server.call(&w.bob, json!({})).await.ok();
    // A user cannot disable themselves, nor the last admin be lost.
    assert!(w.server.call(&w.root, json!({"action": "disable_user", "user": "root"})).await.failed(409).contains("own account"));
    assert!(w.server.call(&w.root, json!({"action": "set_admin", "user": "root", "admin": false})).await.failed(409).contains("last"));
    w.server.call(&w.root, json!({"action": "set_admin", "user": "carol", "admin": true})).await.ok();
    w.server.call(&w.carol, json!({"action": "set_admin", "user": "root", "admin": false})).await.ok();
    assert!(w.server.call(&w.carol, json!({"action": "delete_user", "user": "carol"})).await.failed(409).contains("own account"));
    // Only admins do any of this.
    w.server.call(&w.alice, json!({"action": "disable_user", "user": "bob"})).await.failed(403);
    w.server.call(&w.root, json!({"action": "list_users"})).await.failed(403);
}

#[tokio::test]
async fn a_user_who_owns_pipes_is_deleted_only_after_handing_them_on() {
    let w = world().await;
    let refused = w.server.call(&w.root, json!({"action": "delete_user", "user": "bob"})).await.failed(409);
    assert!(refused.contains("owns 1 pipe") && refused.contains("transfer-pipes"), "{refused}");
    let moved = w.server.call(&w.root, json!({"action": "transfer_pipes", "from": "bob", "to": "carol"})).await;
    assert_eq!(moved.ok()["pipes"], 1);
    w.server.call(&w.root, json!({"action": "delete_user", "user": "bob"})).await.ok();
    assert_eq!(w.server.call(&w.bob, json!({})).await.failed(401), "Invalid API token");
    let carols = w.server.call(&w.carol, json!({})).await;
    assert_eq!(carols.ok()["pipes"][0]["name"], "duck");
    // From the terminal too.
    w.instance.cli_ok(&["user", "transfer-pipes", "carol", "alice"], None);
    w.instance.cli_ok(&["user", "delete", "carol"], None);
    let listed = w.instance.cli_ok(&["user", "list"], None);
    assert!(!listed.contains("carol") && listed.contains("alice\tuser\tenabled"), "{listed}");
}

#[tokio::test]
async fn a_new_password_ends_every_session() {
    let w = world().await;
    let cookie = session(&w.server, "bob", "correct horse battery").await.unwrap();
    w.server.call(&w.root, json!({"action": "set_password", "user": "bob", "password": "a brand new secret"})).await.ok();
    assert!(!signed_in(&w.server, &cookie).await);
    assert!(session(&w.server, "bob", "correct horse battery").await.is_none());
    let cookie = session(&w.server, "bob", "a brand new secret").await.unwrap();
    assert!(signed_in(&w.server, &cookie).await);
    // A user sets their own; nobody else's.
    w.server.call(&w.bob, json!({"action": "set_password", "user": "bob", "password": "yet another secret"})).await.ok();
    assert!(!signed_in(&w.server, &cookie).await);
    w.server.call(&w.bob, json!({"action": "set_password", "user": "alice", "password": "taken over!"})).await.failed(403);
    w.server.call(&w.bob, json!({"action": "set_password", "user": "bob", "password": "short"})).await.failed(400);
}

#[tokio::test]
async fn tokens_can_be_read_only_listed_and_revoked_by_an_admin() {
    let w = world().await;
    let reader = w.instance.cli_ok(&["token", "create", "alice", "--label", "reader", "--read-only", "--expires", "30d"], None);
    let reader = reader.lines().last().unwrap().trim().to_string();
    assert_eq!(w.server.call(&reader, json!({})).await.ok()["total_count"], 1, "it lists");
    w.server.call(&reader, json!({"action": "download_pipe", "pipe_name": "sqlite"})).await.ok();
    for context in [
        json!({"action": "share_pipe", "pipe_name": "sqlite"}),
        json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"]}}),
    ] {
        assert!(w.server.call(&reader, context).await.failed(403).contains("read-only"));
    }

    // The admin sees alice's tokens, when each was last used, and revokes one.
    let listed = w.server.call(&w.root, json!({"action": "list_tokens", "user": "alice"})).await;
    let listed = listed.ok().as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    let read_only = listed.iter().find(|t| t["label"] == "reader").unwrap();
    assert_eq!(read_only["scope"], "read-only");
    assert!(read_only["expires_at"].is_string() && read_only["last_used_at"].is_string(), "{read_only}");
    let id = read_only["id"].clone();
    // Nobody else may see or revoke it.
    w.server.call(&w.bob, json!({"action": "list_tokens", "user": "alice"})).await.failed(403);
    w.server.call(&w.bob, json!({"action": "revoke_token", "token_id": id})).await.failed(404);
    w.server.call(&w.root, json!({"action": "revoke_token", "token_id": id})).await.ok();
    assert_eq!(w.server.call(&reader, json!({})).await.failed(401), "Invalid API token");
    // A user lists their own.
    let own = w.server.call(&w.alice, json!({"action": "list_tokens"})).await;
    assert_eq!(own.ok().as_array().unwrap().len(), 1);
    let bad = w.instance.cli(&["token", "create", "alice", "--expires", "soon"], None);
    assert_eq!(bad.status.code(), Some(2));
}

#[tokio::test]
async fn leaving_a_group_or_deleting_it_takes_its_access_away() {
    let w = world().await;
    w.instance.cli_ok(&["group", "add", "devs"], None);
    w.instance.cli_ok(&["group", "member", "add", "devs", "carol"], None);
    let share = json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": false}});
    w.server.call(&w.alice, share).await.ok();
    let grant = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"groups": ["devs"]}});
    w.server.call(&w.alice, grant.clone()).await.ok();
    let download = json!({"action": "download_pipe", "pipe_name": "sqlite"});
    w.server.call(&w.carol, download.clone()).await.ok();

    w.server.call(&w.root, json!({"action": "remove_group_member", "group": "devs", "user": "carol"})).await.ok();
    w.server.call(&w.carol, download.clone()).await.failed(404);
    w.server.call(&w.root, json!({"action": "remove_group_member", "group": "devs", "user": "carol"})).await.failed(404);

    w.instance.cli_ok(&["group", "member", "add", "devs", "carol"], None);
    w.server.call(&w.carol, download.clone()).await.ok();
    w.server.call(&w.root, json!({"action": "delete_group", "group": "devs"})).await.ok();
    w.server.call(&w.carol, download).await.failed(404);
    let grants =
        w.server.call(&w.alice, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob"]}})).await;
    let grants: Vec<Value> = grants.ok()["grants"].as_array().unwrap().clone();
    assert_eq!(grants.len(), 1, "the group's grant went with it: {grants:?}");
    let log = w.server.call(&w.root, json!({"action": "audit_log"})).await;
    let actions: Vec<String> = log.ok()["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect();
    assert!(actions.contains(&"delete_group".to_string()) && actions.contains(&"remove_member".to_string()), "{actions:?}");
}

#[tokio::test]
async fn the_pages_offer_taking_access_away() {
    let w = world().await;
    let cookie = session(&w.server, "root", "correct horse battery").await.unwrap();
    let page = |path: &str| {
        let request = w.server.http.get(format!("{}{path}", w.server.url)).header("cookie", &cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let settings = page("/admin/settings").await;
    for expected in [
        "aria-label=\"Disable bob\"",
        "aria-label=\"Make admin bob\"",
        "aria-label=\"Delete bob\"",
        "Set a password",
        "Hand on pipes",
        "Remove a member",
        "Delete a group",
    ] {
        assert!(settings.contains(expected), "{expected} in {settings}");
    }
    assert!(settings.contains("aria-label=\"Revoke cli\"") && settings.contains("Last used"), "every token is listed");
    let tokens = page("/tokens").await;
    assert!(tokens.contains("Read-only") && tokens.contains("Expires") && tokens.contains("Change password"), "{tokens}");
}
