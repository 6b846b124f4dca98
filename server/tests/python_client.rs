//! The Python client (`clients/python`) against a live server: its own tests, and a wheel
//! that builds. (The seed guide's examples run through it in `seed_examples.rs`.)
mod common;

use common::{Instance, plug, write_tree};

#[tokio::test]
async fn the_python_client_works_against_a_live_hub() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    instance.add_user("bob", false);
    let tree = write_tree(
        &instance.path().join("tree"),
        &[("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "d"))],
    );
    instance.scan(&tree, "alice");
    let server = instance.serve().await;
    let client = concat!(env!("CARGO_MANIFEST_DIR"), "/../clients/python");
    let out = tokio::process::Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s", "tests"])
        .current_dir(client)
        .env("PYTHONPATH", client)
        .env("PIPESHARE_URL", &server.url)
        .env("PIPESHARE_TOKEN", &alice)
        .output()
        .await
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("Ran 7 tests"), "{report}");
}
