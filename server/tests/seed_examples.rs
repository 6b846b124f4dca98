//! The seed guide's example functions, in Python and unchanged, run against the live API.
mod common;

use common::{Instance, fixture_corpus, plug, write_tree};
use serde_json::{Value, json};

#[tokio::test]
async fn the_seed_examples_run_unchanged() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    for name in ["bob", "carol", "testuser"] {
        instance.add_user(name, false);
    }
    instance.scan(&fixture_corpus(), "alice");
    let tree = write_tree(
        &instance.path().join("extra"),
        &[("pipes/test_pipe/0.1.0/plug.yaml", &plug("test_pipe", "0.1.0", "testing", "development", "QA", "used by the seed's test"))],
    );
    instance.scan(&tree, "alice");
    let server = instance.serve().await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seed_examples.py");
    let out = tokio::process::Command::new("python3")
        .arg(script)
        .env("PIPESHARE_URL", &server.url)
        .env("PIPESHARE_TOKEN", &alice)
        .output()
        .await
        .expect("python3 runs");
    assert!(out.status.success(), "the seed examples failed: {}", String::from_utf8_lossy(&out.stderr));
    let outcome: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");

    let basic = &outcome["share_pipe_basic"];
    assert_eq!(basic["status"], "shared", "{basic}");
    assert_eq!(basic["share_url"], format!("{}/pipes/sqlite", server.url));

    let discovered = &outcome["discover_and_share_pipes"];
    assert_eq!(discovered["total_discovered"], 3, "{discovered}");
    assert_eq!(discovered["total_shared"], 3);
    assert_eq!(discovered["shared_pipes"][2]["name"], "sqlite");
    assert_eq!(discovered["shared_pipes"][2]["share_id"], basic["share_id"], "re-sharing keeps the share");

    let collaboration = &outcome["setup_collaboration"];
    assert_eq!(collaboration["collaboration_setup"], true, "{collaboration}");
    assert!(collaboration["share_id"].is_string());

    let batch = &outcome["batch_share_pipes"];
    assert_eq!(batch["total_pipes"], 3);
    assert_eq!(batch["successful_shares"], 2, "{batch}");
    assert_eq!(batch["results"][2], json!({"pipe_name": "no_such_pipe", "success": false, "share_id": null}));

    assert_eq!(outcome["test_full_sharing_workflow"], "All tests passed");

    let analytics = &outcome["generate_sharing_analytics"];
    assert!(analytics["report_id"].as_str().unwrap().starts_with("share_report_"));
    // sqlite, database_adapter, factory, the two batch pipes and test_pipe are active;
    // agent_workflow_manager waits for approval.
    assert_eq!(
        analytics["summary"],
        json!({"total_shared_pipes": 6, "public_pipes": 6, "private_pipes": 0, "active_collaborations": 1, "pending_approvals": 1})
    );
    assert_eq!(analytics["trends"]["daily"].as_array().unwrap().len(), 31);
    assert!(!analytics["recommendations"].as_array().unwrap().is_empty());

    assert_eq!(
        outcome["invalid_action"],
        json!({"success": false, "message": "Pipe sharing orchestration failed", "error": "Unknown sharing action: invalid_action"})
    );
    assert_eq!(outcome["missing_pipe_name"]["error"], "Pipe name is required for sharing operation");
}
