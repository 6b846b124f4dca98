//! The authorization matrix: every action against every kind of caller and every share state,
//! each cell the status it must answer. A pipe the caller may not see answers exactly like a
//! pipe that does not exist (the same 404 and text). Runs on SQLite and on PostgreSQL.
mod common;

use common::{Instance, Server, plug, write_tree};
use serde_json::{Value, json};

/// The share states, one pipe each, all owned by `owner`.
const STATES: [&str; 6] = ["unshared", "pending", "public", "private", "rejected", "gated"];

/// The kinds of caller, in the order of every table's rows.
const CALLERS: [&str; 13] = [
    "anonymous", // no token at all
    "stranger",  // signed up, no grant
    "reader",    // `read` grant
    "writer",    // `read_write` grant
    "delegate",  // `admin` grant
    "member",    // in a group with a `read` grant
    "lapsed",    // `read` grant that has expired
    "disabled",  // had a `read` grant; account disabled
    "read_only", // the owner's read-only token
    "revoked",   // the owner's revoked token
    "owner",
    "admin",          // instance admin
    "admin_readonly", // instance admin's read-only token
];

struct World {
    instance: Instance,
    server: Server,
    tokens: Vec<(&'static str, Option<String>)>,
}

impl World {
    fn token(&self, who: &str) -> Option<&str> {
        self.tokens.iter().find(|(name, _)| *name == who).and_then(|(_, t)| t.as_deref())
    }

    async fn call(&self, who: &str, context: Value) -> (u16, Value) {
        let body = serde_json::to_vec(&json!({"context": context})).unwrap();
        let reply = self.server.post(self.token(who), body).await;
        (reply.status, reply.body)
    }

    async fn root(&self, context: Value) -> Value {
        let (status, body) = self.call("admin", context.clone()).await;
        assert_eq!(status, 200, "{context}: {body}");
        body["result"].clone()
    }

    /// Puts the pipe of `state` back in that state (after an action changed it).
    async fn restore(&self, state: &str) {
        let pipe = format!("p_{state}");
        let _ = self.call("admin", json!({"action": "unshare_pipe", "pipe_name": pipe})).await;
        let share = |public: bool, approval: bool| json!({"action": "share_pipe", "pipe_name": pipe, "sharing_options": {"public": public, "approval_required": approval}});
        match state {
            "pending" => {
                self.root(share(false, true)).await;
            }
            "public" => {
                self.root(share(true, false)).await;
            }
            "private" => {
                self.root(share(false, false)).await;
            }
            "rejected" => {
                self.root(share(false, true)).await;
                self.root(json!({"action": "review_share", "pipe_name": pipe, "decision": "reject"})).await;
            }
            "gated" => {
                self.root(json!({"action": "share_pipe", "pipe_name": pipe, "sharing_options": {"gated": true}})).await;
            }
            _ => {}
        }
    }
}

async fn world() -> World {
    let instance = Instance::new();
    let mut tokens: Vec<(&'static str, Option<String>)> = vec![("anonymous", None)];
    for who in ["stranger", "reader", "writer", "delegate", "member", "lapsed", "disabled", "owner", "target"] {
        tokens.push((who, Some(instance.user_with_token(who, false))));
    }
    tokens.push(("admin", Some(instance.user_with_token("root", true))));
    let read_only = instance.cli_ok(&["token", "create", "owner", "--read-only"], None);
    tokens.push(("read_only", Some(read_only.lines().last().unwrap().trim().to_string())));
    let admin_read_only = instance.cli_ok(&["token", "create", "root", "--read-only"], None);
    tokens.push(("admin_readonly", Some(admin_read_only.lines().last().unwrap().trim().to_string())));
    let revoked = instance.token("owner");
    let listed = instance.cli_ok(&["token", "list", "--user", "owner"], None);
    let newest = listed.lines().next().unwrap().split('\t').next().unwrap().to_string();
    instance.cli_ok(&["token", "revoke", &newest], None);
    tokens.push(("revoked", Some(revoked)));
    instance.cli_ok(&["group", "add", "team"], None);
    instance.cli_ok(&["group", "member", "add", "team", "member"], None);

    let files: Vec<(String, String)> =
        STATES.iter().map(|s| (format!("p_{s}/1.0.0/plug.yaml"), plug(&format!("p_{s}"), "1.0.0", "tools", "stable", "O", "m"))).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    instance.scan(&write_tree(&instance.path().join("tree"), &files), "owner");
    let server = instance.serve().await;
    let world = World { instance, server, tokens };
    for state in STATES {
        let pipe = format!("p_{state}");
        for (who, level, expiration) in [
            ("reader", "read", None),
            ("writer", "read_write", None),
            ("delegate", "admin", None),
            ("lapsed", "read", Some("2000-01-01")),
            ("disabled", "read", None),
        ] {
            let mut permissions = json!({"users": [who], "access_level": level});
            if let Some(e) = expiration {
                permissions["expiration"] = json!(e);
            }
            world.root(json!({"action": "manage_permissions", "pipe_name": pipe, "permissions": permissions})).await;
        }
        world.root(json!({"action": "manage_permissions", "pipe_name": pipe, "permissions": {"groups": ["team"]}})).await;
        world.restore(state).await;
    }
    world.instance.cli_ok(&["user", "disable", "disabled"], None);
    world
}

/// A table: per caller (in `CALLERS` order), the status for each state (in `STATES` order).
type Table = [[u16; 6]; 13];

/// Runs `context(pipe)` for every caller and state; restores the pipe after a success when
/// the action changes it.
async fn check(world: &World, action: &str, table: &Table, changes: bool, context: impl Fn(&str) -> Value) {
    let mut wrong = Vec::new();
    for (row, who) in CALLERS.iter().enumerate() {
        for (column, state) in STATES.iter().enumerate() {
            let pipe = format!("p_{state}");
            let (status, body) = world.call(who, context(&pipe)).await;
            if status != table[row][column] {
                wrong.push(format!("{who} on {state}: {status} (want {}): {}", table[row][column], body["error"]));
            }
            if status == 404 && body["error"] == format!("Pipe '{pipe}' not found") {
                // Hidden answers exactly like absent.
                let (_, absent) = world.call(who, context("p_nowhere")).await;
                assert_eq!(
                    body["error"].as_str().unwrap().replace(&pipe, "X"),
                    absent["error"].as_str().unwrap().replace("p_nowhere", "X")
                );
            }
            if changes && status == 200 {
                world.restore(state).await;
            }
        }
    }
    assert!(wrong.is_empty(), "{action}:\n{}", wrong.join("\n"));
}

// Rows: anonymous, stranger, reader, writer, delegate, member, lapsed, disabled, read_only,
// revoked, owner, admin, admin_readonly. Columns: unshared, pending, public, private, rejected, gated.

const SEE: Table = [
    [401, 401, 401, 401, 401, 401],
    [404, 404, 200, 404, 404, 200],
    [404, 404, 200, 200, 404, 200],
    [404, 404, 200, 200, 404, 200],
    [200, 200, 200, 200, 200, 200],
    [404, 404, 200, 200, 404, 200],
    [404, 404, 200, 404, 404, 200],
    [401, 401, 401, 401, 401, 401],
    [200, 200, 200, 200, 200, 200],
    [401, 401, 401, 401, 401, 401],
    [200, 200, 200, 200, 200, 200],
    [200, 200, 200, 200, 200, 200],
    [200, 200, 200, 200, 200, 200],
];

/// Downloading: as seeing, except that a gated pipe is seen by everyone and downloaded by
/// grantees only (the others are told to ask: 403).
const DOWNLOAD: Table = {
    let mut table = SEE;
    table[1][5] = 403;
    table[6][5] = 403;
    table
};

const MANAGE: Table = [
    [401, 401, 401, 401, 401, 401],
    [404, 404, 403, 404, 404, 403],
    [404, 404, 403, 403, 404, 403],
    [404, 404, 403, 403, 404, 403],
    [200, 200, 200, 200, 200, 200],
    [404, 404, 403, 403, 404, 403],
    [404, 404, 403, 404, 404, 403],
    [401, 401, 401, 401, 401, 401],
    [403, 403, 403, 403, 403, 403],
    [401, 401, 401, 401, 401, 401],
    [200, 200, 200, 200, 200, 200],
    [200, 200, 200, 200, 200, 200],
    [403, 403, 403, 403, 403, 403],
];

/// Unsharing a pipe that has no share is a 404 of its own ("not shared") for its managers.
const UNSHARE: Table = {
    let mut table = MANAGE;
    table[4][0] = 404;
    table[10][0] = 404;
    table[11][0] = 404;
    table
};

/// Reading a pipe's audit log: its managers, with any token.
const AUDIT: Table = {
    let mut table = MANAGE;
    table[8] = [200; 6];
    table[12] = [200; 6];
    table
};

/// Only instance admins review; only a pending request can be decided.
const REVIEW: Table = [
    [401, 401, 401, 401, 401, 401],
    [403, 403, 403, 403, 403, 403],
    [403, 403, 403, 403, 403, 403],
    [403, 403, 403, 403, 403, 403],
    [403, 403, 403, 403, 403, 403],
    [403, 403, 403, 403, 403, 403],
    [403, 403, 403, 403, 403, 403],
    [401, 401, 401, 401, 401, 401],
    [403, 403, 403, 403, 403, 403],
    [401, 401, 401, 401, 401, 401],
    [403, 403, 403, 403, 403, 403],
    [404, 200, 409, 409, 409, 409],
    [403, 403, 403, 403, 403, 403],
];

/// Asking for `read_write`: anyone signed in who lacks it, whether or not they can see the
/// pipe (a request never tells whether a pipe exists); 409 for those who hold it.
const REQUEST: Table =
    [[401; 6], [200; 6], [200; 6], [409; 6], [409; 6], [200; 6], [200; 6], [401; 6], [403; 6], [401; 6], [409; 6], [409; 6], [403; 6]];

/// Renewing a grant `target` does not hold: its managers learn that (404); the others get
/// what managing gets them.
const RENEW: Table = {
    let mut table = MANAGE;
    let mut row = 0;
    while row < 13 {
        let mut column = 0;
        while column < 6 {
            if table[row][column] == 200 {
                table[row][column] = 404;
            }
            column += 1;
        }
        row += 1;
    }
    table
};

#[tokio::test]
async fn every_action_for_every_caller_and_share_state() {
    let w = world().await;
    check(&w, "download_pipe", &DOWNLOAD, false, |p| json!({"action": "download_pipe", "pipe_name": p})).await;
    check(&w, "get_pipe", &SEE, false, |p| json!({"action": "get_pipe", "pipe_name": p})).await;
    check(&w, "share_pipe", &MANAGE, true, |p| json!({"action": "share_pipe", "pipe_name": p, "sharing_options": {"public": false}})).await;
    check(&w, "unshare_pipe", &UNSHARE, true, |p| json!({"action": "unshare_pipe", "pipe_name": p})).await;
    let grant = |p: &str| json!({"action": "manage_permissions", "pipe_name": p, "permissions": {"users": ["target"]}});
    check(&w, "grant", &MANAGE, false, grant).await;
    let revoke = |p: &str| json!({"action": "manage_permissions", "pipe_name": p, "permissions": {"users": ["target"], "revoke": true}});
    check(&w, "revoke", &MANAGE, false, revoke).await;
    check(&w, "audit_log", &AUDIT, false, |p| json!({"action": "audit_log", "pipe_name": p})).await;
    check(&w, "review_share", &REVIEW, true, |p| json!({"action": "review_share", "pipe_name": p, "decision": "approve"})).await;
    let ask = |p: &str| json!({"action": "request_access", "pipe_name": p, "access_level": "read_write", "reason": "work"});
    check(&w, "request_access", &REQUEST, false, ask).await;
    check(&w, "explain_access", &AUDIT, false, |p| json!({"action": "explain_access", "pipe_name": p})).await;
    check(&w, "renew_grant", &RENEW, false, |p| json!({"action": "renew_grant", "pipe_name": p, "user": "target"})).await;

    // Listings: everyone signed in gets 200. "shareable" lists what the caller manages;
    // "shared_with_me" other people's active shares the caller may see.
    let shared_with = |who: &str| -> &'static [&'static str] {
        match who {
            "reader" | "writer" | "delegate" | "member" => &["public", "private", "gated"],
            "owner" | "read_only" => &[],
            _ => &["public", "gated"],
        }
    };
    for (row, who) in CALLERS.iter().enumerate() {
        for scope in ["shareable", "shared_with_me"] {
            let (status, body) = w.call(who, json!({"pipe_filters": {"scope": scope}})).await;
            let expected_status = if SEE[row][0] == 401 { 401 } else { 200 };
            assert_eq!(status, expected_status, "{who} lists {scope}: {body}");
            if status != 200 {
                continue;
            }
            let listed: Vec<&str> = body["result"]["pipes"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
            for (column, state) in STATES.iter().enumerate() {
                let expected = match scope {
                    "shareable" => MANAGE[row][column] == 200 || matches!(*who, "read_only" | "admin_readonly"),
                    _ => shared_with(who).contains(state),
                };
                assert_eq!(listed.contains(&format!("p_{state}").as_str()), expected, "{who} in {scope}: p_{state} {listed:?}");
            }
        }
    }

    // Actions on no pipe: who may call them.
    let per_caller = |context: Value, table: [u16; 13]| {
        let w = &w;
        async move {
            for (row, who) in CALLERS.iter().enumerate() {
                let (status, body) = w.call(who, context.clone()).await;
                assert_eq!(status, table[row], "{who} {context}: {body}");
            }
        }
    };
    //                        anon str  rdr  wrt  dlg  mbr  lps  dis  ro   rvk  own  adm  adm-ro
    per_caller(json!({"action": "list_pending_shares"}), [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 200, 200]).await;
    per_caller(json!({"action": "generate_share_report"}), [401, 200, 200, 200, 200, 200, 200, 401, 200, 401, 200, 200, 200]).await;
    per_caller(json!({"action": "list_users"}), [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 200, 200]).await;
    per_caller(json!({"action": "list_tokens"}), [401, 200, 200, 200, 200, 200, 200, 401, 200, 401, 200, 200, 200]).await;
    per_caller(json!({"action": "audit_log"}), [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 200, 200]).await;
    per_caller(json!({"action": "list_tokens", "user": "owner"}), [401, 403, 403, 403, 403, 403, 403, 401, 200, 401, 200, 200, 200]).await;
    // Taking access away: instance admins with a token that may write. An id or name that
    // does not exist is the admin's 404; nobody else learns even that.
    let admin_only = [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 200, 403];
    let admin_finds_nothing = [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 404, 403];
    per_caller(json!({"action": "disable_user", "user": "target"}), admin_only).await;
    per_caller(json!({"action": "enable_user", "user": "target"}), admin_only).await;
    per_caller(json!({"action": "set_password", "user": "target", "password": "a new secret!"}), admin_only).await;
    per_caller(json!({"action": "transfer_pipes", "from": "target", "to": "stranger"}), admin_only).await;
    per_caller(json!({"action": "delete_user", "user": "nobody_here"}), admin_finds_nothing).await;
    per_caller(json!({"action": "remove_group_member", "group": "team", "user": "target"}), admin_finds_nothing).await;
    per_caller(json!({"action": "delete_group", "group": "no_such_group"}), admin_finds_nothing).await;
    // A token id that is nobody's: a caller may revoke only their own (an admin any), so it
    // is a 404 to everyone who may write.
    per_caller(json!({"action": "revoke_token", "token_id": 999_999}), [401, 404, 404, 404, 404, 404, 404, 401, 403, 401, 404, 404, 403])
        .await;
    per_caller(
        json!({"action": "set_admin", "user": "target", "admin": false}),
        [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 200, 403],
    )
    .await;

    // The people side and sources, on no pipe in particular.
    let signed_in = [401, 200, 200, 200, 200, 200, 200, 401, 200, 401, 200, 200, 200];
    let writers = [401, 200, 200, 200, 200, 200, 200, 401, 403, 401, 200, 200, 403];
    let writers_find_nothing = [401, 404, 404, 404, 404, 404, 404, 401, 403, 401, 404, 404, 403];
    let admins_read = [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 200, 200];
    per_caller(json!({"action": "list_inbox"}), signed_in).await;
    per_caller(json!({"action": "list_access_requests"}), signed_in).await;
    per_caller(json!({"action": "list_webhooks"}), signed_in).await;
    per_caller(json!({"action": "set_email", "email": ""}), writers).await;
    per_caller(
        json!({"action": "review_inbox", "items": [{"kind": "access_request", "id": "999999", "revision": "1"}], "decision": "approve"}),
        writers,
    )
    .await;
    per_caller(json!({"action": "review_access_request", "request_id": 999_999, "decision": "approve"}), writers_find_nothing).await;
    per_caller(json!({"action": "remove_webhook", "webhook_id": 999_999}), writers_find_nothing).await;
    per_caller(json!({"action": "test_webhook", "webhook_id": 999_999}), writers_find_nothing).await;
    per_caller(json!({"action": "redeliver_webhook", "delivery_id": 999_999}), writers_find_nothing).await;
    per_caller(json!({"action": "explain_access", "user": "target"}), admins_read).await;
    per_caller(json!({"action": "list_sources"}), admins_read).await;
    per_caller(json!({"action": "scan_source", "name": "nowhere"}), admin_finds_nothing).await;
    per_caller(json!({"action": "remove_source", "name": "nowhere", "pipes": "keep"}), admin_finds_nothing).await;
    let admin_refuses_the_path = [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 400, 403];
    let source = json!({"action": "add_source", "name": "s", "kind": "folder", "location": "relative", "owner": "owner"});
    per_caller(source, admin_refuses_the_path).await;
    let instance_hook = json!({"action": "add_webhook", "url": "http://127.0.0.1:9/x"});
    per_caller(instance_hook, [401, 403, 403, 403, 403, 403, 403, 401, 403, 401, 403, 400, 403]).await;

    // The public page and the download route, for anonymous visitors: a gated pipe's page
    // is shown, its download refused.
    for (column, state) in STATES.iter().enumerate() {
        let page = if SEE[1][column] == 200 { 200 } else { 404 };
        assert_eq!(w.server.get(&format!("/pipes/p_{state}")).await.0, page, "public page of p_{state}");
        assert_eq!(w.server.get(&format!("/pipes/p_{state}/download")).await.0, DOWNLOAD[1][column], "download of p_{state}");
    }
}

/// Signs `username` in; the session cookie.
async fn session(server: &Server, username: &str) -> String {
    common::session(server, username, "correct horse battery").await.expect("signed in")
}

#[tokio::test]
async fn every_page_for_every_signed_in_caller() {
    let w = world().await;
    // Sessions of the users who have one (the token-only kinds have none); `disabled` signed
    // in before the account was disabled.
    w.instance.cli_ok(&["user", "enable", "disabled"], None);
    let mut sessions = vec![("anonymous", None)];
    for (who, user) in [
        ("stranger", "stranger"),
        ("reader", "reader"),
        ("delegate", "delegate"),
        ("member", "member"),
        ("disabled", "disabled"),
        ("owner", "owner"),
        ("admin", "root"),
    ] {
        sessions.push((who, Some(session(&w.server, user).await)));
    }
    w.instance.cli_ok(&["user", "disable", "disabled"], None);
    let page = |path: String, cookie: Option<String>| {
        let mut request = w.server.http.get(format!("{}{path}", w.server.url));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    //                            anon stranger reader delegate member disabled owner admin
    let pages: [(&str, [u16; 8]); 4] = [
        ("/tokens", [401, 200, 200, 200, 200, 401, 200, 200]),
        ("/admin/settings", [401, 403, 403, 403, 403, 401, 403, 200]),
        ("/admin/approvals", [401, 403, 403, 403, 403, 401, 403, 200]),
        ("/admin/audit", [401, 403, 403, 403, 403, 401, 403, 200]),
    ];
    for (path, expected) in pages {
        for ((who, cookie), want) in sessions.iter().zip(expected) {
            assert_eq!(page(path.to_string(), cookie.clone()).await, want, "{who} on {path}");
        }
    }
    // A pipe's page follows who may see it, as the API does.
    for (who, cookie) in &sessions {
        let row = CALLERS.iter().position(|c| c == who).unwrap();
        for (column, state) in STATES.iter().enumerate() {
            let expected = match SEE[row][column] {
                200 => 200,
                // A page is for anyone; a visitor who may not see the pipe gets its 404.
                _ if SEE[1][column] == 200 => 200,
                _ => 404,
            };
            assert_eq!(page(format!("/pipes/p_{state}"), cookie.clone()).await, expected, "{who} on p_{state}");
        }
    }
}

/// Promoting to an environment that is not protected: managers everywhere, `read_write`
/// grantees where they may see the pipe; others who see it are refused.
const PROMOTE: Table = [
    [401, 401, 401, 401, 401, 401],
    [404, 404, 403, 404, 404, 403],
    [404, 404, 403, 403, 404, 403],
    [404, 404, 200, 200, 404, 200],
    [200, 200, 200, 200, 200, 200],
    [404, 404, 403, 403, 404, 403],
    [404, 404, 403, 404, 404, 403],
    [401, 401, 401, 401, 401, 401],
    [403, 403, 403, 403, 403, 403],
    [401, 401, 401, 401, 401, 401],
    [200, 200, 200, 200, 200, 200],
    [200, 200, 200, 200, 200, 200],
    [403, 403, 403, 403, 403, 403],
];

/// Forking without the share's fork permission: the same as promoting.
const FORK: Table = PROMOTE;

/// Publishing a new version without the share's `contribute`: managers only. To a caller
/// who cannot see the pipe the name is taken (409), which says nothing more.
const PUBLISH: Table = [
    [401, 401, 401, 401, 401, 401],
    [409, 409, 403, 409, 409, 403],
    [409, 409, 403, 403, 409, 403],
    [409, 409, 403, 403, 409, 403],
    [200, 200, 200, 200, 200, 200],
    [409, 409, 403, 403, 409, 403],
    [409, 409, 403, 409, 409, 403],
    [401, 401, 401, 401, 401, 401],
    [403, 403, 403, 403, 403, 403],
    [401, 401, 401, 401, 401, 401],
    [200, 200, 200, 200, 200, 200],
    [200, 200, 200, 200, 200, 200],
    [403, 403, 403, 403, 403, 403],
];

#[tokio::test]
async fn publishing_actions_for_every_caller_and_share_state() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let w = world().await;
    check(
        &w,
        "promote_pipe",
        &PROMOTE,
        false,
        |p| json!({"action": "promote_pipe", "pipe_name": p, "version": "1.0.0", "environment": "dev"}),
    )
    .await;
    let forks = AtomicUsize::new(0);
    let fork =
        |p: &str| json!({"action": "fork_pipe", "pipe_name": p, "new_name": format!("fork-{}", forks.fetch_add(1, Ordering::Relaxed))});
    check(&w, "fork_pipe", &FORK, false, fork).await;
    let versions = AtomicUsize::new(1);
    let publish = |p: &str| {
        let version = format!("1.0.{}", versions.fetch_add(1, Ordering::Relaxed));
        json!({"action": "publish_pipe", "manifest": format!("name: {p}\nversion: {version}\n")})
    };
    check(&w, "publish_pipe", &PUBLISH, false, publish).await;
}
