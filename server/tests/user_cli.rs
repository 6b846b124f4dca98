//! The CLI for users of a running hub (`pipeshare login`, `pipeshare pipes ...`) against a
//! live server: text and `--json` output, exit codes by kind of error.
mod common;

use std::process::Output;

use common::{BIN, Instance, plug, write_tree};
use serde_json::Value;

/// Runs `pipeshare ARGS` as a user whose login lives in `config` (no database given).
fn pipeshare(config: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = std::process::Command::new(BIN)
        .args(args)
        .env("PIPESHARE_CONFIG_DIR", config)
        .env("DATABASE_URL", "sqlite:///nonexistent/never-opened.db")
        .env_remove("PIPESHARE_URL")
        .env_remove("PIPESHARE_TOKEN")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("JSON: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test]
async fn a_user_works_with_a_remote_hub_from_the_command_line() {
    let instance = Instance::new();
    let token = instance.user_with_token("alice", false);
    instance.add_user("bob", false);
    let tree = write_tree(
        &instance.path().join("tree"),
        &[("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "an embedded database"))],
    );
    instance.scan(&tree, "alice");
    let server = instance.serve().await;
    let config = instance.path().join("config");

    // Not signed in: told so, exit 5.
    let out = pipeshare(&config, &["pipes", "list"], None);
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pipeshare login"));
    // A wrong token is refused and nothing is kept.
    assert_eq!(pipeshare(&config, &["login", &server.url], Some("pps_wrong\n")).status.code(), Some(5));
    assert!(!config.join("credentials.json").exists());
    let login = json(&pipeshare(&config, &["login", &server.url, "--json"], Some(&format!("{token}\n"))));
    assert_eq!(login["pipes_you_may_share"], 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(config.join("credentials.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the token");
    }

    let listed = json(&pipeshare(&config, &["pipes", "list", "--category", "database", "--json"], None));
    assert_eq!(listed["pipes"][0]["name"], "sqlite");
    let text = pipeshare(&config, &["pipes", "list"], None);
    assert!(String::from_utf8_lossy(&text.stdout).contains("sqlite\t1.0.0\talice\tnot shared"), "{text:?}");
    let shared = json(&pipeshare(&config, &["pipes", "share", "sqlite", "--public", "--json"], None));
    assert_eq!(shared["sharing_status"], "active");
    let granted = json(&pipeshare(
        &config,
        &["pipes", "grant", "sqlite", "--user", "bob", "--level", "read_write", "--expires", "2999-01-01", "--json"],
        None,
    ));
    assert_eq!(granted["grants"][0]["name"], "bob");
    let shown = json(&pipeshare(&config, &["pipes", "show", "sqlite", "--json"], None));
    assert_eq!(
        (shown["summary"]["share_status"].clone(), shown["grants"][0]["access_level"].clone()),
        ("active".into(), "read_write".into())
    );
    let revoked = json(&pipeshare(&config, &["pipes", "revoke", "sqlite", "--user", "bob", "--json"], None));
    assert_eq!(revoked["grants"], serde_json::json!([]));
    let file = instance.path().join("sqlite.yaml");
    let saved = json(&pipeshare(&config, &["pipes", "download", "sqlite", "-o", file.to_str().unwrap(), "--json"], None));
    assert_eq!(saved["version"], "1.0.0");
    assert!(std::fs::read_to_string(&file).unwrap().contains("an embedded database"));
    json(&pipeshare(&config, &["pipes", "unshare", "sqlite", "--json"], None));

    // Exit codes by kind: 3 not found, 2 bad input, 4 conflict, 6 no hub.
    assert_eq!(pipeshare(&config, &["pipes", "show", "nothing"], None).status.code(), Some(3));
    assert_eq!(pipeshare(&config, &["pipes", "grant", "sqlite", "--user", "bob", "--level", "owner"], None).status.code(), Some(2));
    assert_eq!(pipeshare(&config, &["pipes", "unshare", "sqlite"], None).status.code(), Some(3));
    let elsewhere = pipeshare(&config, &["pipes", "list", "--server", "http://127.0.0.1:9", "--token", &token], None);
    assert_eq!(elsewhere.status.code(), Some(6));
    // The flags and the environment win over the login.
    let other = std::process::Command::new(BIN)
        .args(["pipes", "list", "--json"])
        .env("PIPESHARE_CONFIG_DIR", instance.path().join("empty"))
        .env("PIPESHARE_URL", &server.url)
        .env("PIPESHARE_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(json(&other)["total_count"], 1);
}

#[tokio::test]
async fn a_user_publishes_downloads_and_yanks_from_the_command_line() {
    let instance = Instance::new();
    let token = instance.user_with_token("alice", false);
    let server = instance.serve().await;
    let config = instance.path().join("config");
    let folder = |version: &str, code: &str| {
        write_tree(
            &instance.path().join("work"),
            &[
                (&format!("cleaner/{version}/pipe.yaml"), &format!("name: cleaner\nversion: {version}\ndescription: cleans\n")),
                (&format!("cleaner/{version}/src/main.py"), code),
            ],
        )
        .join(format!("cleaner/{version}"))
    };

    // `pipeshare publish DIR --server URL --token T`, with no login.
    let first = folder("1.0.0", "print('one')\n");
    let args = ["publish", first.to_str().unwrap(), "--server", &server.url, "--token", &token, "--json"];
    let published = json(&pipeshare(&config, &args, None));
    assert_eq!((published["pipe_name"].as_str(), published["version"].as_str()), (Some("cleaner"), Some("1.0.0")));
    assert_eq!(published["files"], serde_json::json!(["pipe.yaml", "src/main.py"]));
    // The same version again: a conflict, exit 4.
    let again = pipeshare(&config, &args, None);
    assert_eq!(again.status.code(), Some(4), "{}", String::from_utf8_lossy(&again.stderr));
    // A folder without a manifest: bad input, exit 2, nothing sent.
    let empty = instance.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = pipeshare(&config, &["publish", empty.to_str().unwrap(), "--server", &server.url, "--token", &token], None);
    assert_eq!(out.status.code(), Some(2));

    json(&pipeshare(&config, &["login", &server.url, "--json"], Some(&format!("{token}\n"))));
    let second = folder("1.1.0", "print('two')\n");
    json(&pipeshare(&config, &["pipes", "publish", second.to_str().unwrap(), "--json"], None));

    // The package, checked against its SHA-256 and saved.
    let saved = instance.path().join("cleaner.tar.gz");
    let args = ["pipes", "download", "cleaner", "--version", "1.0.0", "--package", "-o", saved.to_str().unwrap(), "--json"];
    let download = json(&pipeshare(&config, &args, None));
    assert_eq!(download["sha256"], published["sha256"]);
    let bytes = std::fs::read(&saved).unwrap();
    let files = app::orchestrator::archive::unpack(&bytes, &app::orchestrator::archive::Limits::new(1 << 20)).unwrap();
    assert_eq!(files.iter().find(|f| f.path == "src/main.py").unwrap().bytes, b"print('one')\n");

    // Environments and forks from the command line.
    let promoted = json(&pipeshare(&config, &["pipes", "promote", "cleaner", "1.1.0", "--to", "staging", "--json"], None));
    assert_eq!(promoted["status"], "active");
    let forked = json(&pipeshare(&config, &["pipes", "fork", "cleaner", "my-cleaner", "--version", "1.0.0", "--json"], None));
    assert_eq!(forked["pipe_name"], "my-cleaner");
    let out = pipeshare(&config, &["pipes", "promote", "cleaner", "1.1.0", "--to", "bad/name"], None);
    assert_eq!(out.status.code(), Some(2));
    json(&pipeshare(&config, &["pipes", "promote", "cleaner", "1.0.0", "--to", "staging", "--json"], None));

    // Yanking the newest makes the older one the latest.
    let yanked = json(&pipeshare(&config, &["pipes", "yank", "cleaner", "1.1.0", "--reason", "broken", "--json"], None));
    assert_eq!(yanked["latest_version"], "1.0.0");
    let manifest = instance.path().join("cleaner.yaml");
    let newest = json(&pipeshare(&config, &["pipes", "download", "cleaner", "-o", manifest.to_str().unwrap(), "--json"], None));
    assert_eq!(newest["version"], "1.0.0");
}

#[tokio::test]
async fn access_is_asked_for_and_decided_from_the_command_line() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let bob = instance.user_with_token("bob", false);
    let tree =
        write_tree(&instance.path().join("tree"), &[("reports/1.0.0/plug.yaml", &plug("reports", "1.0.0", "data", "stable", "A", "d"))]);
    instance.scan(&tree, "alice");
    let server = instance.serve().await;
    let (alice_config, bob_config) = (instance.path().join("alice"), instance.path().join("bob"));
    json(&pipeshare(&alice_config, &["login", &server.url, "--json"], Some(&format!("{alice}\n"))));
    json(&pipeshare(&bob_config, &["login", &server.url, "--json"], Some(&format!("{bob}\n"))));
    let shared =
        server.call(&alice, serde_json::json!({"action": "share_pipe", "pipe_name": "reports", "sharing_options": {"gated": true}})).await;
    shared.ok();

    let asked =
        json(&pipeshare(&bob_config, &["pipes", "request", "reports", "--reason", "weekly summary", "--days", "30", "--json"], None));
    assert_eq!(asked["status"], "pending");
    // alice's inbox lists it with the reference to decide it by.
    let listing = pipeshare(&alice_config, &["inbox"], None);
    let text = String::from_utf8_lossy(&listing.stdout).to_string();
    let reference = format!("access_request:{}@1", asked["request_id"]);
    assert!(text.contains(&reference) && text.contains("bob asks for read access for 30 days to reports"), "{text}");
    let stale = pipeshare(&alice_config, &["inbox", "approve", &format!("access_request:{}@0", asked["request_id"])], None);
    assert_eq!(stale.status.code(), Some(4), "a changed item is not decided");
    assert!(String::from_utf8_lossy(&stale.stdout).contains("not decided"));
    let decided = pipeshare(&alice_config, &["inbox", "approve", &reference, "--note", "welcome"], None);
    assert!(decided.status.success(), "{}", String::from_utf8_lossy(&decided.stderr));
    assert!(String::from_utf8_lossy(&decided.stdout).contains(&format!("approved access_request:{}", asked["request_id"])));
    assert_eq!(pipeshare(&alice_config, &["inbox", "approve", "nonsense"], None).status.code(), Some(2));

    // Why bob can reach it now; the grant renewed.
    let explained = pipeshare(&alice_config, &["pipes", "explain", "reports"], None);
    let text = String::from_utf8_lossy(&explained.stdout).to_string();
    assert!(text.contains("everyone\tgated_share") && text.contains("bob\tread\tdirect_grant"), "{text}");
    let renewed = json(&pipeshare(&alice_config, &["pipes", "renew", "reports", "--user", "bob", "--days", "5", "--json"], None));
    assert!(renewed["expires_at"].is_string());
    let mine = json(&pipeshare(&bob_config, &["inbox", "--kind", "my_request", "--json"], None));
    assert_eq!(mine["items"][0]["status"], "approved");
}
