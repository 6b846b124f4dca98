//! The `pipeshare` CLI against a temporary SQLite file.
mod common;

use common::{Instance, fixture_corpus, plug, write_tree};
use serde_json::{Value, json};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn users_are_unique_and_passwords_come_from_stdin() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let dup = instance.cli(&["user", "add", "alice", "--password-stdin"], Some("another password\n"));
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("User 'alice' already exists"), "{}", stderr(&dup));

    let no_flag = instance.cli(&["user", "add", "bob"], Some("a fine password\n"));
    assert!(!no_flag.status.success());
    assert!(stderr(&no_flag).contains("--password-stdin"));
    let short = instance.cli(&["user", "add", "bob", "--password-stdin"], Some("short\n"));
    assert!(!short.status.success());
    assert!(stderr(&short).contains("at least 8"));
    let bad_name = instance.cli(&["user", "add", "bob smith", "--password-stdin"], Some("a fine password\n"));
    assert!(!bad_name.status.success());
    instance.add_user("bob", true);
}

#[test]
fn tokens_are_printed_once_and_stored_hashed() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let token = instance.token("alice");
    assert!(token.len() >= 20, "{token}");
    let other = instance.token("alice");
    assert_ne!(token, other);
    assert!(!instance.database_contains(&token), "the token itself is not stored");
    assert!(instance.database_contains("alice"), "the check reads the stored data");
    let unknown = instance.cli(&["token", "create", "nobody"], None);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("User 'nobody' not found"));
}

#[test]
fn groups_and_members() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    instance.cli_ok(&["group", "add", "developers"], None);
    assert!(!instance.cli(&["group", "add", "developers"], None).status.success());
    instance.cli_ok(&["group", "member", "add", "developers", "alice"], None);
    let twice = instance.cli(&["group", "member", "add", "developers", "alice"], None);
    assert!(!twice.status.success());
    let no_group = instance.cli(&["group", "member", "add", "ghosts", "alice"], None);
    assert!(stderr(&no_group).contains("Group 'ghosts' not found"));
    let no_user = instance.cli(&["group", "member", "add", "developers", "nobody"], None);
    assert!(stderr(&no_user).contains("User 'nobody' not found"));
}

#[test]
fn settings_are_validated_and_kept() {
    let instance = Instance::new();
    assert_eq!(
        instance.cli_ok(&["settings", "get"], None),
        "max_pipes_per_user = 50\nenable_public_sharing = true\nrequire_approval = false\nallow_self_signup = false\nmax_archive_bytes = 10485760\nmax_storage_per_user_mb = 500\nprotected_environments = prod\naccess_request_ttl_days = 14\nreminder_days = 7\n"
    );
    instance.cli_ok(&["settings", "set", "max_pipes_per_user", "1000"], None);
    instance.cli_ok(&["settings", "set", "require_approval", "true"], None);
    for (key, value) in [
        ("max_pipes_per_user", "0"),
        ("max_pipes_per_user", "1001"),
        ("max_pipes_per_user", "ten"),
        ("require_approval", "yes"),
        ("enable_public_sharing", "1"),
        ("access_request_ttl_days", "0"),
        ("access_request_ttl_days", "366"),
        ("reminder_days", "0"),
        ("reminder_days", "91"),
        ("theme", "dark"),
    ] {
        let out = instance.cli(&["settings", "set", key, value], None);
        assert!(!out.status.success(), "{key}={value} must be refused");
        assert!(stderr(&out).contains(key), "{}", stderr(&out));
    }
    assert_eq!(instance.cli_ok(&["settings", "get", "max_pipes_per_user"], None), "1000\n");
    assert_eq!(instance.cli_ok(&["settings", "get", "require_approval"], None), "true\n");
    assert!(!instance.cli(&["settings", "get", "theme"], None).status.success());
}

#[test]
fn scanning_the_fixture_corpus() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    instance.add_user("bob", false);
    let first = instance.scan(&fixture_corpus(), "alice");
    assert_eq!(first["added"], 11, "{first}");
    assert_eq!((first["updated"].clone(), first["skipped"].clone(), first["invalid"].clone()), (json!(0), json!(0), json!(0)));

    let again = instance.scan(&fixture_corpus(), "alice");
    assert_eq!((again["added"].clone(), again["unchanged"].clone()), (json!(0), json!(11)));

    // Someone else's rescan takes nothing.
    let by_bob = instance.scan(&fixture_corpus(), "bob");
    assert_eq!((by_bob["added"].clone(), by_bob["skipped"].clone()), (json!(0), json!(11)));
    assert!(by_bob["problems"][0]["reason"].as_str().unwrap().contains("belongs to another user"));

    // The text summary.
    let text = instance.cli_ok(&["scan", fixture_corpus().to_str().unwrap(), "--owner", "alice"], None);
    assert_eq!(text.trim(), "added 0, updated 0, unchanged 11, skipped 0 (owned by someone else), invalid 0");

    let missing = instance.cli(&["scan", "/no/such/folder", "--owner", "alice"], None);
    assert!(!missing.status.success());
    let nobody = instance.cli(&["scan", fixture_corpus().to_str().unwrap(), "--owner", "nobody"], None);
    assert!(stderr(&nobody).contains("User 'nobody' not found"));
}

#[tokio::test]
async fn scan_versions_updates_and_broken_files() {
    let instance = Instance::new();
    let token = instance.user_with_token("alice", false);
    let root = instance.path().join("tree");
    write_tree(
        &root,
        &[
            ("plugs/security/scanner/1.0.0/plug.yaml", &plug("scanner", "1.0.0", "Security", "Stable", "Sec Team", "first")),
            ("plugs/security/scanner/1.2.0/plug.yaml", &plug("scanner", "1.2.0", "Security", "Experimental", "Sec Team", "newest")),
            ("plugs/security/scanner/1.10.0/plugin.yaml", "status: stable\ndescription: from the plugin file\n"),
            ("plugs/security/scanner/1.10.0/plug.yaml", "description: from the plug file\n"),
            ("plugs/security/broken/1.0.0/plug.yaml", "name: broken\n  version: [1.0\n"),
            (
                "pipes/flow/2.0.0/pipe.yaml",
                "apiVersion: v1\nkind: PipeSpec\nmetadata:\n  name: flow\n  owner: Flow Team\n  version: 2.0.0\n  tags: [pipeline]\npipeline: []\n",
            ),
        ],
    );
    let summary = instance.scan(&root, "alice");
    assert_eq!((summary["added"].clone(), summary["invalid"].clone()), (json!(4), json!(1)), "{summary}");
    let problem = &summary["problems"][0];
    assert!(problem["path"].as_str().unwrap().ends_with("broken/1.0.0/plug.yaml"), "{problem}");

    let strict = instance.cli(&["scan", root.to_str().unwrap(), "--owner", "alice", "--strict"], None);
    assert!(!strict.status.success());
    assert!(stderr(&strict).contains("broken/1.0.0/plug.yaml"));

    // Change one version: it is updated, the rest unchanged.
    std::fs::write(
        root.join("plugs/security/scanner/1.0.0/plug.yaml"),
        plug("scanner", "1.0.0", "security", "stable", "Sec Team", "edited"),
    )
    .unwrap();
    let rescan = instance.scan(&root, "alice");
    assert_eq!((rescan["updated"].clone(), rescan["unchanged"].clone()), (json!(1), json!(3)), "{rescan}");

    let server = instance.serve().await;
    let listed = server.call(&token, json!({"action": "list_shareable"})).await;
    let pipes: Vec<Value> = listed.ok()["pipes"].as_array().unwrap().clone();
    assert_eq!(pipes.len(), 2, "two versions of one name are one pipe: {pipes:?}");
    let scanner = pipes.iter().find(|p| p["name"] == "scanner").unwrap();
    // 1.10.0 is the newest; its plug.yaml wins over plugin.yaml, and the folders name it.
    assert_eq!(scanner["version"], "1.10.0");
    assert_eq!(scanner["description"], "from the plug file");
    assert_eq!(scanner["status"], "stable");
    assert_eq!(scanner["category"], "security");
    let flow = pipes.iter().find(|p| p["name"] == "flow").unwrap();
    assert_eq!((flow["author"].clone(), flow["category"].clone()), (json!("Flow Team"), Value::Null));
    assert_eq!(flow["tags"], json!(["pipeline"]));

    let download = server.call(&token, json!({"action": "download_pipe", "pipe_name": "scanner", "version": "1.0.0"})).await;
    let download = download.ok();
    assert_eq!(download["versions"], json!(["1.10.0", "1.2.0", "1.0.0"]));
    assert_eq!(download["spec"]["description"], "edited");
    assert_eq!(download["manifests"]["plug.yaml"]["name"], "scanner");
}

#[test]
fn migrations_can_run_as_their_own_step() {
    let instance = Instance::new();
    let status = instance.cli(&["migrate", "status"], None);
    assert!(!status.status.success(), "a new database has pending migrations");
    let listed = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(listed.contains("pending m20261125_000001_initial"));
    let pending = listed.lines().filter(|l| l.starts_with("pending ")).count();
    assert!(pending >= 5, "{listed}");
    let up = instance.cli_ok(&["migrate", "up"], None);
    assert!(up.starts_with(&format!("applied {pending} migration")), "{up}");
    let status = instance.cli_ok(&["migrate", "status"], None);
    assert!(status.lines().all(|l| l.starts_with("applied ")), "{status}");
    assert_eq!(instance.cli_ok(&["migrate", "up"], None).trim(), "applied 0 migration(s)");
}

/// The rows of an export, without its header line (which holds the time of the export).
fn rows(export: &str) -> Vec<&str> {
    export.lines().skip(1).collect()
}

#[tokio::test]
async fn export_and_import_move_an_instance_losslessly() {
    // From SQLite to PostgreSQL when one is reachable (else to another SQLite file), and back.
    let source = Instance::sqlite();
    let token = source.user_with_token("alice", false);
    source.add_user("bob", false);
    source.cli_ok(&["group", "add", "devs"], None);
    source.cli_ok(&["group", "member", "add", "devs", "bob"], None);
    source.scan(&fixture_corpus(), "alice");
    source.cli_ok(&["settings", "set", "max_pipes_per_user", "7"], None);
    // A token's scope and expiry travel too.
    source.cli_ok(&["token", "create", "alice", "--label", "reader", "--read-only", "--expires", "30d"], None);
    // The people side travels too: an address, a source with its report, and (below) a
    // webhook with its deliveries, an access request and the email it queued.
    source.cli_ok(&["user", "email", "alice", "alice@example.com"], None);
    source.cli_ok(
        &["source", "add", "corpus", "--location", fixture_corpus().to_str().unwrap(), "--owner", "alice", "--interval", "manual"],
        None,
    );
    source.cli_ok(&["source", "scan", "corpus"], None);
    let bob = source.token("bob");
    {
        // Nothing listens on port 9: deliveries and emails stay queued with their attempts.
        let server = source.serve_with(&[("PIPESHARE_WEBHOOK_ALLOW_PRIVATE", "true"), ("PIPESHARE_SMTP_URL", "smtp://127.0.0.1:9")]).await;
        server.call(&token, json!({"action": "add_webhook", "url": "http://127.0.0.1:9/hook", "pipe_name": "sqlite"})).await.ok();
        server.call(&token, json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}})).await.ok();
        server
            .call(&bob, json!({"action": "request_access", "pipe_name": "sqlite", "access_level": "admin", "reason": "to help"}))
            .await
            .ok();
        server
            .call(&token, json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"groups": ["devs"], "expiration": "2999-01-01"}}))
            .await
            .ok();
        server.call(&token, json!({"action": "download_pipe", "pipe_name": "sqlite"})).await.ok();
        // A published pipe: its package, who published it, and a yanked version.
        for version in ["1.0.0", "1.0.1"] {
            let manifest = format!("name: shipped\nversion: {version}\n");
            server.call(&token, json!({"action": "publish_pipe", "manifest": manifest, "files": {"a.txt": "aGk="}})).await.ok();
        }
        let yank = json!({"action": "yank_version", "pipe_name": "shipped", "version": "1.0.1", "reason": "typo"});
        server.call(&token, yank).await.ok();
        // An environment, its history, and a promotion waiting for an admin travel too.
        let promote =
            |environment: &str| json!({"action": "promote_pipe", "pipe_name": "shipped", "version": "1.0.0", "environment": environment});
        server.call(&token, promote("staging")).await.ok();
        server.call_with(&token, promote("prod"), json!({"require_approval": true})).await.ok();
    }
    let exported = source.cli_ok(&["export", "-"], None);
    assert!(exported.starts_with("{\"format\":\"pipeshare-export-2\""));
    let file = source.path().join("export.jsonl");
    std::fs::write(&file, &exported).unwrap();

    let target = Instance::postgres_if_reachable().unwrap_or_else(Instance::sqlite);
    let imported = target.cli_ok(&["import", file.to_str().unwrap()], None);
    assert!(imported.contains("2 users") && imported.contains("1 downloads") && imported.contains("1 grants"), "{imported}");
    assert!(
        imported.contains("12 audit_events"),
        "the setting, the source added and its state, the webhook, the share, the request, the grant, two publishes, a yank, two promotions: {imported}"
    );
    assert!(
        imported.contains("1 environments") && imported.contains("1 environment_events") && imported.contains("1 promotions"),
        "{imported}"
    );
    for table in [" packages", "1 access_requests", "1 webhooks", " webhook_deliveries", "1 sources", "1 source_scans", "1 notifications"] {
        assert!(imported.contains(table), "{table}: {imported}");
    }
    assert_eq!(rows(&target.cli_ok(&["export", "-"], None)), rows(&exported), "the same rows come back out");
    let tokens = target.cli_ok(&["token", "list", "--user", "alice"], None);
    assert!(tokens.lines().any(|l| l.contains("\treader\tread-only\texpires 2")), "{tokens}");

    // Importing twice is refused; the data stays as it was.
    let again = target.cli(&["import", file.to_str().unwrap()], None);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not empty"));

    // The old token, passwords and settings work on the new database, and new rows (a share
    // and its audit event) get new ids.
    assert_eq!(target.cli_ok(&["settings", "get", "max_pipes_per_user"], None), "7\n");
    target.add_user("carol", false);
    let server = target.serve().await;
    let shipped = server.call(&token, json!({"action": "download_pipe", "pipe_name": "shipped"})).await.ok().clone();
    assert_eq!(shipped["version"], "1.0.0", "the yanked 1.0.1 stays yanked");
    let staged = server.call(&token, json!({"action": "download_pipe", "pipe_name": "shipped", "environment": "staging"})).await;
    assert_eq!(staged.ok()["version"], "1.0.0", "the environment came along");
    let package = server.http.get(shipped["archive_url"].as_str().unwrap()).bearer_auth(&token).send().await.unwrap();
    let bytes = package.bytes().await.unwrap();
    assert_eq!(app::orchestrator::archive::sha256_hex(&bytes), shipped["sha256"].as_str().unwrap(), "the package came along");
    let report = server.call(&token, json!({"action": "generate_share_report"})).await;
    // The download before, and one now: a caller's download of a version counts once a minute.
    assert_eq!(report.ok()["usage_stats"]["downloads"], 2);
    let shared = server.call(&token, json!({"action": "share_pipe", "pipe_name": "factory"})).await;
    shared.ok();
    // The search index is built from the imported rows.
    let found = server.call(&token, json!({"search": "SQLITE"})).await.ok().clone();
    assert!(found["pipes"].as_array().unwrap().iter().any(|p| p["name"] == "sqlite"), "{found}");
    // The catalogue revision is no data of the export: the target keeps its own, which the
    // imported rows moved (a page kept before the import would be checked again).
    let db = sea_orm::Database::connect(&target.database_url).await.unwrap();
    // So does the access revision (migration 22) that kept listings and downloads are checked at.
    let revisions = app::orchestrator::kept::read_revisions(&db).await.unwrap();
    assert!(revisions.catalog > 0 && revisions.access > 0, "{revisions:?}");

    // An export written before migration 21 holds each version's spec in its row as well: it
    // still imports, and the rows come back out as they are now.
    let older: String = exported
        .lines()
        .map(|line| {
            let mut line: serde_json::Value = serde_json::from_str(line).unwrap();
            if line["table"] == "pipe_versions" {
                line["row"]["spec"] = json!({"name": "as stored before"});
            }
            format!("{line}\n")
        })
        .collect();
    assert!(older.contains("as stored before"), "the export holds versions");
    let older_file = source.path().join("older.jsonl");
    std::fs::write(&older_file, older).unwrap();
    let upgraded = Instance::sqlite();
    upgraded.cli_ok(&["import", older_file.to_str().unwrap()], None);
    assert_eq!(rows(&upgraded.cli_ok(&["export", "-"], None)), rows(&exported));

    let broken = source.path().join("broken.jsonl");
    std::fs::write(&broken, "not an export\n").unwrap();
    let fresh = Instance::sqlite();
    let refused = fresh.cli(&["import", broken.to_str().unwrap()], None);
    assert!(stderr(&refused).contains("not a pipeshare export"), "{}", stderr(&refused));
}

#[tokio::test]
async fn an_export_is_private_whole_and_checked() {
    let source = Instance::sqlite();
    source.add_user("alice", false);
    source.scan(&fixture_corpus(), "alice");
    let file = source.path().join("instance.jsonl");
    let path = file.to_str().unwrap();
    source.cli_ok(&["export", path], None);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "only its owner reads the hashes");
    }
    let again = source.cli(&["export", path], None);
    assert!(!again.status.success() && stderr(&again).contains("--force"), "{}", stderr(&again));
    source.cli_ok(&["export", path, "--force"], None);
    let text = std::fs::read_to_string(&file).unwrap();
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("{\"end\":{") && last.contains("\"users\":1"), "{last}");

    // A file cut short is refused whole: nothing of it is loaded.
    let lines: Vec<&str> = text.lines().collect();
    let cut = source.path().join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 3].join("\n")).unwrap();
    let target = Instance::sqlite();
    let refused = target.cli(&["import", cut.to_str().unwrap()], None);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("incomplete"), "{}", stderr(&refused));
    let empty = target.cli_ok(&["export", "-"], None);
    assert!(empty.lines().last().unwrap().contains("\"pipes\":0,") && empty.contains("\"users\":0"), "nothing was imported: {empty}");
    target.cli_ok(&["import", path], None);
}

#[test]
fn a_backup_is_a_database_that_opens() {
    let instance = Instance::sqlite();
    instance.add_user("alice", false);
    instance.scan(&fixture_corpus(), "alice");
    instance.cli_ok(&["settings", "set", "max_pipes_per_user", "9"], None);
    let copy = instance.path().join("backup.db");
    instance.cli_ok(&["backup", copy.to_str().unwrap()], None);
    let again = instance.cli(&["backup", copy.to_str().unwrap()], None);
    assert!(!again.status.success(), "an existing file is never overwritten");

    let restored = std::process::Command::new(common::BIN)
        .args(["settings", "get", "max_pipes_per_user"])
        .env("DATABASE_URL", format!("sqlite://{}", copy.display()))
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert_eq!(String::from_utf8_lossy(&restored.stdout), "9\n");
    let export = |url: String| {
        let out = std::process::Command::new(common::BIN).args(["export", "-"]).env("DATABASE_URL", url).output().unwrap();
        String::from_utf8(out.stdout).unwrap().lines().skip(1).map(String::from).collect::<Vec<_>>()
    };
    assert_eq!(export(format!("sqlite://{}", copy.display())), export(instance.database_url.clone()), "everything is in it");
}

#[tokio::test]
async fn a_scan_packs_each_version_folder_and_rescans_a_changed_file() {
    let instance = Instance::new();
    let token = instance.user_with_token("alice", false);
    let root = instance.path().join("tree");
    let version = root.join("plugs/data/cleaner/1.0.0");
    write_tree(
        &root,
        &[
            ("plugs/data/cleaner/1.0.0/plug.yaml", &plug("cleaner", "1.0.0", "data", "stable", "A", "cleans")),
            ("plugs/data/cleaner/1.0.0/main.py", "print('one')\n"),
            ("plugs/data/cleaner/1.0.0/.git/HEAD", "ref: refs/heads/main\n"),
        ],
    );
    // A link out of the tree is left out of the package, never followed.
    std::os::unix::fs::symlink("/etc/passwd", version.join("passwd")).unwrap();
    instance.scan(&root, "alice");
    let server = instance.serve().await;
    let newest = json!({"action": "download_pipe", "pipe_name": "cleaner"});
    let first = server.call(&token, newest.clone()).await.ok().clone();
    assert_eq!(first["files"], json!(["main.py", "plug.yaml"]));
    let bytes = server.http.get(first["archive_url"].as_str().unwrap()).bearer_auth(&token).send().await.unwrap().bytes().await.unwrap();
    let files = app::orchestrator::archive::unpack(&bytes, &app::orchestrator::archive::Limits::new(1 << 20)).unwrap();
    assert_eq!(files.iter().find(|f| f.path == "main.py").unwrap().bytes, b"print('one')\n");

    // Code changed beside an unchanged manifest: the rescan updates the package.
    std::fs::write(version.join("main.py"), "print('two')\n").unwrap();
    let summary = instance.scan(&root, "alice");
    assert_eq!(summary["updated"], 1, "{summary}");
    let second = server.call(&token, newest).await.ok().clone();
    assert_ne!(second["sha256"], first["sha256"]);
}

/// Report windows are whole UTC days, for history as old as a year and more: downloads of
/// past days can only come in through an import, so an export's download times are moved
/// back before it is imported. A transfer takes the counts along.
#[tokio::test]
async fn report_windows_count_imported_history_by_whole_days() {
    let source = Instance::new();
    let alice = source.user_with_token("alice", false);
    let bob = source.user_with_token("bob", false);
    source.scan(&fixture_corpus(), "alice");
    let pipes = ["sqlite", "factory", "database_adapter", "agent_workflow_manager"];
    {
        let server = source.serve().await;
        for pipe in pipes {
            server.call(&alice, json!({"action": "share_pipe", "pipe_name": pipe, "sharing_options": {"public": true}})).await.ok();
            for token in [&alice, &bob] {
                server.call(token, json!({"action": "download_pipe", "pipe_name": pipe})).await.ok();
            }
        }
    }
    // The downloads, in id order, this many days old: 7 and 30 are the first days of their
    // windows.
    let ages = [0, 3, 7, 20, 30, 100, 200, 400];
    let now = chrono::Utc::now();
    let mut downloads = 0;
    let moved: Vec<String> = source
        .cli_ok(&["export", "-"], None)
        .lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            if value["table"] == "downloads" {
                let at = now - chrono::Duration::days(ages[downloads]);
                value["row"]["downloaded_at"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
                downloads += 1;
            }
            value.to_string()
        })
        .collect();
    assert_eq!(downloads, ages.len());
    let file = source.path().join("history.jsonl");
    std::fs::write(&file, moved.join("\n")).unwrap();

    let target = Instance::new();
    target.cli_ok(&["import", file.to_str().unwrap()], None);
    let server = target.serve().await;
    let report = |token: &str, range: &str| {
        let context = json!({"action": "generate_share_report", "report_options": {"time_range": range, "report_format": "comprehensive"}});
        let (server, token) = (&server, token.to_string());
        async move { server.call(&token, context).await.ok().clone() }
    };
    // "7 days" is today and the seven days before it, whatever the hour.
    for (range, expected) in [("7_days", 3), ("30_days", 5), ("90_days", 5), ("1_year", 7), ("all_time", 8)] {
        let found = report(&alice, range).await;
        assert_eq!(found["usage_stats"]["downloads"], expected, "{range}");
        let daily: u64 = found["trend_analysis"]["daily"].as_array().unwrap().iter().map(|d| d["downloads"].as_u64().unwrap()).sum();
        assert_eq!(daily, expected, "{range}: the trend counts the same days");
    }
    let month = report(&alice, "30_days").await;
    let three_days_ago = (now - chrono::Duration::days(3)).date_naive().to_string();
    let day = month["trend_analysis"]["daily"].as_array().unwrap().iter().find(|d| d["date"] == three_days_ago.as_str()).cloned();
    assert_eq!(day.unwrap()["downloads"], 1);
    assert_eq!(month["usage_stats"]["unique_users"], 2);
    let top: u64 = month["usage_stats"]["top_pipes"].as_array().unwrap().iter().map(|p| p["downloads"].as_u64().unwrap()).sum();
    assert_eq!(top, 5);

    // A new download counts at once (bob's download of factory was moved 20 days back).
    server.call(&bob, json!({"action": "download_pipe", "pipe_name": "factory"})).await.ok();
    assert_eq!(report(&alice, "7_days").await["usage_stats"]["downloads"], 4);
    assert_eq!(report(&bob, "all_time").await["usage_stats"]["downloads"], 0, "bob owns nothing");
    target.cli_ok(&["user", "transfer-pipes", "alice", "bob"], None);
    assert_eq!(report(&alice, "all_time").await["usage_stats"]["downloads"], 0);
    let bobs = report(&bob, "all_time").await;
    assert_eq!(bobs["usage_stats"]["downloads"], 9);
    assert_eq!(bobs["user_metrics"]["top_downloaders"][0], json!({"user": "bob", "count": 5}));
}
