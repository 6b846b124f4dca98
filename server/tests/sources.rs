//! Registry sources over the API and the CLI: a folder source scanned on its interval, its
//! reports as manifests change, break and vanish (gone, never deleted), conflicts between
//! sources, health through failures, `registry_status`, and bad input refused.
mod common;

use std::time::Duration;

use common::{Instance, plug, write_tree};
use serde_json::{Value, json};

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..150 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn folder_sources_are_rescanned_reported_and_kept() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let bob = instance.user_with_token("bob", false);
    let root = instance.user_with_token("root", true);
    let tree = write_tree(
        &instance.path().join("tree"),
        &[
            ("a/1.0.0/plug.yaml", &plug("a", "1.0.0", "tools", "stable", "A", "first")),
            ("b/1.0.0/plug.yaml", &plug("b", "1.0.0", "tools", "stable", "A", "second")),
        ],
    );
    let server = instance.serve_with(&[("PIPESHARE_SOURCE_MIN_INTERVAL_SECONDS", "1"), ("PIPESHARE_SOURCE_POLL_MS", "200")]).await;
    let add = |name: &str, location: &str, owner: &str, interval: &str| json!({"action": "add_source", "name": name, "kind": "folder", "location": location, "owner": owner, "interval": interval});
    let location = tree.display().to_string();

    // Bad input: each a clear 400 that stores nothing; only instance admins manage sources.
    server.call(&alice, add("tree", &location, "alice", "1s")).await.failed(403);
    for (context, why) in [
        (json!({"action": "add_source", "name": "x", "kind": "ftp", "location": location, "owner": "alice"}), "kind"),
        (add("x", "relative/path", "alice", "1s"), "absolute"),
        (add("x", "/no/such/folder", "alice", "1s"), "cannot be read"),
        (add("x", "/srv/../etc", "alice", "1s"), ".."),
        (add("x", &location, "alice", "0s"), "interval"),
        (add("x", &location, "alice", "often"), "interval"),
        (add("bad name!", &location, "alice", "1s"), "not valid"),
        (add("local", &location, "alice", "1s"), "local"),
        (add("x", &location, "nobody", "1s"), "nobody"),
        (json!({"action": "add_source", "name": "x", "kind": "pipeshare", "location": "ftp://elsewhere", "owner": "alice"}), "pipeshare"),
    ] {
        let reply = server.call(&root, context.clone()).await;
        let status = reply.status;
        assert!(status == 400 || status == 404, "{context}: {}", reply.body);
        assert!(reply.body["error"].as_str().unwrap().contains(why), "{context}: {}", reply.body);
    }
    assert!(server.call(&root, json!({"action": "list_sources"})).await.ok()["sources"].as_array().unwrap().is_empty());

    // Added, then scanned on its interval by the server itself.
    let added = server.call(&root, add("tree", &location, "alice", "1s")).await.ok().clone();
    assert_eq!(added["state"], "unknown");
    server.call(&root, add("tree", &location, "alice", "1s")).await.failed(400);
    let source = async |name: &str| -> Value {
        let list = server.call(&root, json!({"action": "list_sources"})).await.ok().clone();
        list["sources"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap()
    };
    until("the first scan", async || source("tree").await["state"] == "healthy").await;
    assert_eq!(source("tree").await["pipes"], 2);
    let download = server.call(&alice, json!({"action": "download_pipe", "pipe_name": "a"})).await.ok().clone();
    assert_eq!(download["source"]["name"], "tree");
    assert!(download["source"]["origin"].as_str().unwrap().ends_with("a/1.0.0"));

    // registry_status: for admins (with the location), or under debug_mode (without).
    let listed = server.call(&root, json!({})).await.ok().clone();
    assert_eq!(listed["registry_status"]["tree"]["state"], "healthy");
    assert_eq!(listed["registry_status"]["tree"]["location"], json!(location));
    assert!(listed["registry_status"]["local"].is_object());
    assert!(server.call(&alice, json!({})).await.ok().get("registry_status").is_none());
    let debug = server.call_with(&alice, json!({}), json!({"debug_mode": true})).await.ok().clone();
    assert_eq!(debug["registry_status"]["tree"]["pipes"], 2);
    assert!(debug["registry_status"]["tree"].get("location").is_none());

    // Changed, added, broken and removed between scans.
    std::fs::write(tree.join("a/1.0.0/plug.yaml"), plug("a", "1.0.0", "tools", "stable", "A", "first, changed")).unwrap();
    write_tree(
        &tree,
        &[("c/1.0.0/plug.yaml", &plug("c", "1.0.0", "tools", "stable", "A", "third")), ("d/1.0.0/plug.yaml", "name: [broken")],
    );
    std::fs::remove_dir_all(tree.join("b")).unwrap();
    until("a scan sees the changes", async || source("tree").await["reports"][0]["gone"] == 1).await;
    let report = source("tree").await["reports"][0].clone();
    assert_eq!((report["added"].as_u64(), report["updated"].as_u64(), report["invalid"].as_u64()), (Some(1), Some(1), Some(1)), "{report}");
    assert_eq!(report["details"]["gone"], json!(["b"]));
    assert!(report["details"]["invalid"][0]["path"].as_str().unwrap().contains("d/1.0.0"));
    assert_eq!(source("tree").await["state"], "degraded", "an invalid manifest degrades it");
    // The search index follows the scans: new text found, old text gone, tags and short texts too.
    let found = async |text: &str| -> Vec<String> {
        let listed = server.call(&alice, json!({"search": text})).await.ok().clone();
        listed["pipes"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(found("FIRST, CHANGED").await, ["a"]);
    assert_eq!(found("third").await, ["c"]);
    assert!(found("second").await.contains(&"b".to_string()), "a gone pipe is still listed");
    assert_eq!(found("dem").await.len(), 3, "tags are searched");
    assert_eq!(found("rd").await, ["c"], "a text too short for the index");
    // Gone: listed with a badge, kept, not downloadable.
    let b = server.call(&alice, json!({"pipe_filters": {"search": "second"}})).await.ok()["pipes"][0].clone();
    assert_eq!((b["name"].as_str(), b["gone"].as_bool()), (Some("b"), Some(true)));
    server.call(&alice, json!({"action": "download_pipe", "pipe_name": "b"})).await.failed(410);
    // It comes back when it reappears.
    write_tree(&tree, &[("b/1.0.0/plug.yaml", &plug("b", "1.0.0", "tools", "stable", "A", "second"))]);
    std::fs::remove_dir_all(tree.join("d")).unwrap();
    until("b is back", async || server.call(&alice, json!({"action": "download_pipe", "pipe_name": "b"})).await.status == 200).await;
    until("healthy again", async || source("tree").await["state"] == "healthy").await;

    // A name another source holds is a conflict, never overwritten.
    let other =
        write_tree(&instance.path().join("other"), &[("a/1.0.0/plug.yaml", &plug("a", "1.0.0", "tools", "stable", "B", "bob's a"))]);
    server.call(&root, add("other", &other.display().to_string(), "bob", "manual")).await.ok();
    let scanned = server.call(&root, json!({"action": "scan_source", "name": "other"})).await.ok().clone();
    assert_eq!(scanned["conflicts"], 1, "{scanned}");
    assert!(scanned["details"]["conflicts"][0]["reason"].as_str().unwrap().contains("not overwritten"));
    let a = server.call(&alice, json!({"action": "get_pipe", "pipe_name": "a"})).await.ok().clone();
    assert_eq!((a["summary"]["owner"].as_str(), a["summary"]["description"].as_str()), (Some("alice"), Some("first, changed")));
    let _ = &bob;

    // Unreadable: offline, nothing marked gone, listings still answer.
    std::fs::rename(&tree, instance.path().join("moved")).unwrap();
    until("a failed scan", async || source("tree").await["consecutive_failures"].as_i64() >= Some(1)).await;
    let failed = source("tree").await;
    assert_eq!(failed["state"], "offline", "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("cannot be read"));
    assert_eq!(failed["pipes"], 3, "a failed scan marks nothing gone");
    assert_eq!(
        server.call(&alice, json!({"action": "download_pipe", "pipe_name": "a"})).await.status,
        200,
        "still served from what was stored"
    );
    std::fs::rename(instance.path().join("moved"), &tree).unwrap();
    until("healthy once readable", async || source("tree").await["state"] == "healthy").await;
    // Never readable: offline too.
    let missing = json!({"action": "add_source", "name": "later", "kind": "folder", "location": "/no/such/folder", "owner": "alice", "interval": "manual", "force": true});
    server.call(&root, missing).await.ok();
    let report = server.call(&root, json!({"action": "scan_source", "name": "later"})).await.ok().clone();
    assert_eq!(report["succeeded"], false);
    assert_eq!(source("later").await["state"], "offline");

    // The operator's CLI sees the same; removing a source keeps its pipes as local ones.
    let listed = instance.cli_ok(&["source", "list"], None);
    assert!(listed.contains("tree\tfolder\thealthy\t3 pipes"), "{listed}");
    assert!(
        !instance.cli(&["source", "add", "x", "--location", &location, "--owner", "alice", "--interval", "30s"], None).status.success(),
        "under a minute"
    );
    let removed = server.call(&root, json!({"action": "remove_source", "name": "tree", "pipes": "keep"})).await.ok().clone();
    assert_eq!(removed["count"], 3);
    let a = server.call(&alice, json!({"action": "download_pipe", "pipe_name": "a"})).await.ok().clone();
    assert_eq!(a["source"]["name"], "local");
    server.call(&root, json!({"action": "remove_source", "name": "tree", "pipes": "keep"})).await.failed(404);
    server.call(&root, json!({"action": "remove_source", "name": "other", "pipes": "maybe"})).await.failed(400);
}

/// Another pipeshare on loopback as a source: its public pipes appear here, one it unshares
/// goes, an unchanged rescan is one 304, a token reads what its holder may download (names
/// another source holds are conflicts), and the remote stopped is offline with back-off while
/// listings still answer, then healthy once it is back.
#[tokio::test]
async fn remote_instances_are_sources() {
    let remote = Instance::new();
    let carol = remote.user_with_token("carol", false);
    let tree = write_tree(
        &remote.path().join("tree"),
        &[
            ("p1/1.0.0/plug.yaml", &plug("p1", "1.0.0", "tools", "stable", "C", "first")),
            ("p2/1.0.0/plug.yaml", &plug("p2", "1.0.0", "tools", "stable", "C", "second")),
            ("p3/1.0.0/plug.yaml", &plug("p3", "1.0.0", "tools", "stable", "C", "private")),
        ],
    );
    remote.scan(&tree, "carol");
    let remote_server = remote.serve().await;
    for name in ["p1", "p2"] {
        let share = json!({"action": "share_pipe", "pipe_name": name, "sharing_options": {"public": true}});
        remote_server.call(&carol, share).await.ok();
    }

    // The catalogue itself: public pipes for anyone, paged, tagged, 304 when unchanged.
    let catalogue = format!("{}/api/v1/catalogue", remote_server.url);
    let first = remote_server.http.get(&catalogue).send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let page: Value = first.json().await.unwrap();
    let names: Vec<&str> = page["pipes"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!((names, page["total"].as_u64()), (vec!["p1", "p2"], Some(2)), "{page}");
    assert_eq!(page["pipes"][0]["manifests"]["plug.yaml"]["description"], "first");
    let again = remote_server.http.get(&catalogue).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    let paged: Value = remote_server.http.get(format!("{catalogue}?limit=1")).send().await.unwrap().json().await.unwrap();
    assert_eq!((paged["pipes"].as_array().unwrap().len(), paged["next_after"].as_str()), (1, Some("p1")));
    let with_token: Value = remote_server.http.get(&catalogue).bearer_auth(&carol).send().await.unwrap().json().await.unwrap();
    assert_eq!(with_token["total"], 3, "the owner's token reads the private one too");
    for bad in ["limit=0", "limit=501", "limit=-1", "limit=many"] {
        let response = remote_server.http.get(format!("{catalogue}?{bad}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{bad}");
        assert_eq!(response.json::<Value>().await.unwrap()["success"], false);
    }
    assert_eq!(remote_server.http.get(&catalogue).bearer_auth("wrong").send().await.unwrap().status().as_u16(), 401);

    // Here: a source reading it on a one-second interval.
    let local = Instance::new();
    let alice = local.user_with_token("alice", false);
    local.add_user("bob", false);
    let root = local.user_with_token("root", true);
    let server = local.serve_with(&[("PIPESHARE_SOURCE_MIN_INTERVAL_SECONDS", "1"), ("PIPESHARE_SOURCE_POLL_MS", "200")]).await;
    let add = |name: &str, location: &str, owner: &str| json!({"action": "add_source", "name": name, "kind": "pipeshare", "location": location, "owner": owner, "interval": "1s"});
    for (location, why) in [
        ("ftp://hub.example", "http(s)"),
        ("http://user:pw@hub.example", "user name"),
        ("http://hub.example/?x=1", "query"),
        ("http://127.0.0.1:1", "cannot reach"),
    ] {
        let reply = server.call(&root, add("bad", location, "alice")).await;
        assert_eq!(reply.status, 400, "{location}: {}", reply.body);
        assert!(reply.body["error"].as_str().unwrap().contains(why), "{location}: {}", reply.body);
    }
    let wrong_token = json!({"action": "add_source", "name": "bad", "kind": "pipeshare", "location": remote_server.url, "owner": "alice", "token": "wrong"});
    assert!(server.call(&root, wrong_token).await.failed(400).contains("refused the source's token"));
    assert!(server.call(&root, json!({"action": "list_sources"})).await.ok()["sources"].as_array().unwrap().is_empty());

    server.call(&root, add("hub", &format!("{}/", remote_server.url), "alice")).await.ok();
    let source = async |name: &str| -> Value {
        let list = server.call(&root, json!({"action": "list_sources"})).await.ok().clone();
        list["sources"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap()
    };
    until("the remote is read", async || source("hub").await["state"] == "healthy").await;
    let hub = source("hub").await;
    assert_eq!((hub["pipes"].as_u64(), hub["location"].as_str()), (Some(2), Some(remote_server.url.as_str())), "{hub}");
    let p1 = server.call(&alice, json!({"action": "download_pipe", "pipe_name": "p1"})).await.ok().clone();
    assert_eq!(p1["source"]["name"], "hub");
    assert_eq!(p1["source"]["origin"], format!("{}/pipes/p1", remote_server.url));
    assert_eq!(p1["spec"]["description"], "first");
    until("an unchanged rescan", async || source("hub").await["reports"][0]["unchanged"] == 2).await;
    assert_eq!(source("hub").await["reports"][0]["added"], 0);

    // Unshared there: gone here (kept, 410), and the rescan after it reads as unchanged.
    remote_server.call(&carol, json!({"action": "unshare_pipe", "pipe_name": "p2"})).await.ok();
    until("p2 is gone", async || source("hub").await["reports"].as_array().unwrap().iter().any(|r| r["gone"] == 1)).await;
    server.call(&alice, json!({"action": "download_pipe", "pipe_name": "p2"})).await.failed(410);
    assert_eq!(source("hub").await["pipes"], 1);

    // With carol's token: her private pipe too; p1 and p2, held by the first source (p2 gone
    // but kept), are conflicts.
    let tokened = json!({"action": "add_source", "name": "hub-carol", "kind": "pipeshare", "location": remote_server.url, "owner": "bob", "token": carol, "interval": "manual"});
    let added = server.call(&root, tokened).await.ok().clone();
    assert_eq!(added["has_token"], true);
    assert!(!added.to_string().contains(&carol), "the token is never shown");
    let report = server.call(&root, json!({"action": "scan_source", "name": "hub-carol"})).await.ok().clone();
    assert_eq!((report["added"].as_u64(), report["conflicts"].as_u64()), (Some(1), Some(2)), "{report}");
    let p3 = server.call(&root, json!({"action": "get_pipe", "pipe_name": "p3"})).await.ok().clone();
    assert_eq!(p3["summary"]["owner"], "bob");
    let p1 = server.call(&alice, json!({"action": "get_pipe", "pipe_name": "p1"})).await.ok().clone();
    assert_eq!(p1["summary"]["owner"], "alice", "never overwritten");
    // The operator's CLI: the token from standard input, never an argument.
    let add =
        ["source", "add", "cli-hub", "--kind", "pipeshare", "--location", &remote_server.url, "--owner", "bob", "--interval", "manual"];
    let added = local.cli_ok(&[&add[..], &["--token-stdin"]].concat(), Some(&format!("{carol}\n")));
    assert!(added.contains("source 'cli-hub' added (pipeshare at http://127.0.0.1:") && !added.contains(&carol), "{added}");
    let report: Value = serde_json::from_str(local.cli_ok(&["source", "scan", "cli-hub"], None).trim()).unwrap();
    assert_eq!(report["conflicts"], 3, "all three are held by the other sources: {report}");
    local.cli_ok(&["source", "remove", "cli-hub", "--pipes", "gone"], None);

    // Stopped: offline, backing off, still listed and downloadable from what was stored.
    let address = remote_server.url.trim_start_matches("http://").to_string();
    remote_server.stop().await;
    until("offline", async || source("hub").await["consecutive_failures"].as_i64() >= Some(2)).await;
    let hub = source("hub").await;
    assert_eq!(hub["state"], "offline", "{hub}");
    assert!(hub["last_error"].as_str().unwrap().contains("cannot reach"), "{hub}");
    let at = |key: &str| chrono::DateTime::parse_from_rfc3339(hub[key].as_str().unwrap()).unwrap();
    assert!(
        at("next_scan_at") - at("last_scan_at") >= chrono::TimeDelta::milliseconds(1900),
        "the second failure waits twice as long: {hub}"
    );
    server.call(&alice, json!({"action": "download_pipe", "pipe_name": "p1"})).await.ok();
    let listed = server.call(&root, json!({})).await.ok().clone();
    assert_eq!(listed["registry_status"]["hub"]["state"], "offline");

    // Back: healthy again.
    let _remote_server = remote.serve_on(&address, &[]).await;
    until("healthy once back", async || source("hub").await["state"] == "healthy").await;
}

/// Two servers on one database (SQLite here, PostgreSQL in the PostgreSQL run) share the
/// schedule: a source is scanned by one of them at a time, never by both at once.
#[tokio::test]
async fn two_servers_never_scan_one_source_at_once() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let root = instance.user_with_token("root", true);
    let files: Vec<(String, String)> =
        (0..200).map(|i| (format!("p{i:03}/1.0.0/plug.yaml"), plug(&format!("p{i:03}"), "1.0.0", "tools", "stable", "A", "x"))).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(path, text)| (path.as_str(), text.as_str())).collect();
    let tree = write_tree(&instance.path().join("tree"), &files);
    let env = [("PIPESHARE_SOURCE_MIN_INTERVAL_SECONDS", "1"), ("PIPESHARE_SOURCE_POLL_MS", "50")];
    let (first, _second) = (instance.serve_with(&env).await, instance.serve_with(&env).await);
    let add = json!({"action": "add_source", "name": "tree", "kind": "folder", "location": tree, "owner": "alice", "interval": "1s"});
    first.call(&root, add).await.ok();
    let reports = async || -> Vec<Value> {
        let list = first.call(&root, json!({"action": "list_sources"})).await.ok().clone();
        list["sources"][0]["reports"].as_array().unwrap().clone()
    };
    until("five scans", async || reports().await.len() >= 5).await;
    let at = |report: &Value, key: &str| chrono::DateTime::parse_from_rfc3339(report[key].as_str().unwrap()).unwrap();
    let mut reports = reports().await;
    reports.sort_by_key(|r| at(r, "started_at"));
    for pair in reports.windows(2) {
        assert!(at(&pair[1], "started_at") >= at(&pair[0], "finished_at"), "two scans at once: {pair:?}");
    }
    assert_eq!(reports.last().unwrap()["unchanged"], 200);
}
