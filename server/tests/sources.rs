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

    // Unreadable: degraded right after a success, nothing marked gone, listings still answer.
    std::fs::rename(&tree, instance.path().join("moved")).unwrap();
    until("a failed scan", async || source("tree").await["consecutive_failures"].as_i64() >= Some(1)).await;
    let failed = source("tree").await;
    assert_eq!(failed["state"], "degraded", "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("cannot be read"));
    assert_eq!(failed["pipes"], 3, "a failed scan marks nothing gone");
    assert_eq!(
        server.call(&alice, json!({"action": "download_pipe", "pipe_name": "a"})).await.status,
        200,
        "still served from what was stored"
    );
    std::fs::rename(instance.path().join("moved"), &tree).unwrap();
    until("healthy once readable", async || source("tree").await["state"] == "healthy").await;
    // Never readable: offline.
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
