//! Publishing and packages over HTTP: new pipes and versions from the JSON action and from an
//! uploaded archive, immutable versions, who may contribute, downloads by version and newest,
//! the package's bytes against its SHA-256, yanking, quotas, and hostile uploads refused with
//! nothing stored. One server per file; each test publishes under its own names.
mod common;

use std::io::Write;

use app::orchestrator::archive::{self, Limits, PackageFile};
use base64::{Engine, engine::general_purpose::STANDARD};
use common::{Server, World};
use serde_json::{Value, json};

fn manifest(name: &str, version: &str) -> String {
    format!("name: {name}\nversion: {version}\ndescription: {name} at {version}\ncategory: data\n")
}

fn file(path: &str, text: &str) -> PackageFile {
    PackageFile { path: path.into(), bytes: text.as_bytes().to_vec() }
}

/// A `.tar.gz` of a version folder, wrapped in `<name>/<version>/` as a tree holds it.
fn archive_of(name: &str, version: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut files = vec![file(&format!("{name}/{version}/pipe.yaml"), &manifest(name, version))];
    files.extend(extra.iter().map(|(path, text)| file(&format!("{name}/{version}/{path}"), text)));
    archive::pack(&files).unwrap()
}

async fn upload(server: &Server, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut request = server.http.post(format!("{}/api/v1/pipes/publish", server.url)).body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn get_bytes(server: &Server, token: Option<&str>, url: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = server.http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.headers().clone(), response.bytes().await.unwrap().to_vec())
}

fn publish_context(name: &str, version: &str, files: &[(&str, &str)]) -> Value {
    let files: serde_json::Map<String, Value> = files.iter().map(|(p, t)| (p.to_string(), Value::from(STANDARD.encode(t)))).collect();
    json!({"action": "publish_pipe", "manifest": manifest(name, version), "files": files})
}

#[tokio::test]
async fn publishing_downloading_and_yanking() {
    let w = World::new(|_| {}).await;
    let s = &w.server;

    // A new pipe from the JSON action: the publisher owns it.
    let first = s.call(&w.alice, publish_context("cleaner", "1.0.0", &[("main.py", "print('v1')\n"), ("README.md", "# Cleaner\n")])).await;
    let first = first.ok().clone();
    assert_eq!(first["new_pipe"], true);
    assert_eq!(first["published_by"], "alice");
    assert_eq!(first["files"], json!(["README.md", "main.py", "pipe.yaml"]));
    let listed = s.call(&w.alice, json!({"action": "get_pipe", "pipe_name": "cleaner"})).await;
    assert_eq!(listed.ok()["summary"]["owner"], "alice");

    // A second version from an uploaded archive (wrapped in <name>/<version>/).
    let (status, body) = upload(s, Some(&w.alice), archive_of("cleaner", "1.1.0", &[("main.py", "print('v2')\n")])).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["result"]["new_pipe"], false);

    // Versions are immutable, from either door.
    let again = s.call(&w.alice, publish_context("cleaner", "1.0.0", &[("main.py", "changed")])).await;
    assert!(again.failed(409).contains("immutable"));
    let (status, body) = upload(s, Some(&w.alice), archive_of("cleaner", "1.1.0", &[])).await;
    assert_eq!(status, 409, "{body}");

    // Newest by default; an exact version; the package's bytes match its SHA-256 and hold the files.
    let newest = s.call(&w.alice, json!({"action": "download_pipe", "pipe_name": "cleaner"})).await.ok().clone();
    assert_eq!(newest["version"], "1.1.0");
    let old = s.call(&w.alice, json!({"action": "download_pipe", "pipe_name": "cleaner", "version": "1.0.0"})).await.ok().clone();
    assert_eq!(old["sha256"], first["sha256"]);
    let url = old["archive_url"].as_str().unwrap().to_string();
    assert!(url.ends_with("/pipes/cleaner/versions/1.0.0/package.tar.gz"), "{url}");
    let (status, headers, bytes) = get_bytes(s, Some(&w.alice), &url).await;
    assert_eq!(status, 200);
    assert_eq!(archive::sha256_hex(&bytes), first["sha256"].as_str().unwrap());
    assert_eq!(headers["etag"], format!("\"{}\"", first["sha256"].as_str().unwrap()).as_str());
    assert!(headers["digest"].to_str().unwrap().starts_with("sha-256="));
    assert_eq!(bytes.len() as u64, old["size"].as_u64().unwrap());
    let files = archive::unpack(&bytes, &Limits::new(1 << 20)).unwrap();
    let main = files.iter().find(|f| f.path == "main.py").unwrap();
    assert_eq!(main.bytes, b"print('v1')\n");

    // Only those who may download the pipe get its package: not anonymous, not bob.
    assert_eq!(get_bytes(s, None, &url).await.0, 404);
    assert_eq!(get_bytes(s, Some(&w.bob), &url).await.0, 404);
    // A public share opens it to anyone.
    s.call(&w.alice, json!({"action": "share_pipe", "pipe_name": "cleaner", "sharing_options": {"public": true}})).await.ok();
    assert_eq!(get_bytes(s, None, &url).await.0, 200);

    // Yanking: no longer the newest, still there by exact version, marked.
    let yank = s.call(&w.bob, json!({"action": "yank_version", "pipe_name": "cleaner", "version": "1.1.0", "reason": "broken"})).await;
    yank.failed(403);
    let yanked = s.call(&w.alice, json!({"action": "yank_version", "pipe_name": "cleaner", "version": "1.1.0", "reason": "broken"})).await;
    assert_eq!(yanked.ok()["latest_version"], "1.0.0");
    let newest = s.call(&w.bob, json!({"action": "download_pipe", "pipe_name": "cleaner"})).await.ok().clone();
    assert_eq!((newest["version"].as_str(), newest["yanked"].as_bool()), (Some("1.0.0"), Some(false)));
    let exact = s.call(&w.bob, json!({"action": "download_pipe", "pipe_name": "cleaner", "version": "1.1.0"})).await.ok().clone();
    assert_eq!(exact["yanked"], true);
    s.call(&w.alice, json!({"action": "yank_version", "pipe_name": "cleaner", "version": "1.1.0", "reason": "again"})).await.failed(409);
    let summary = s.call(&w.alice, json!({"action": "get_pipe", "pipe_name": "cleaner"})).await.ok().clone();
    assert_eq!(summary["summary"]["version"], "1.0.0");
}

#[tokio::test]
async fn who_may_publish_to_an_existing_name() {
    let w = World::new(|_| {}).await;
    let s = &w.server;
    s.call(&w.alice, publish_context("shared-tool", "1.0.0", &[])).await.ok();

    // Carol cannot see it: the name is taken, and nothing more is said.
    let taken = s.call(&w.carol, publish_context("shared-tool", "2.0.0", &[])).await.failed(409);
    assert_eq!(taken, "The pipe name 'shared-tool' is taken; publish under another name");

    // Bob, a read_write grantee, may not publish until the share allows contributions.
    let share = |contribute: bool| {
        json!({"action": "share_pipe", "pipe_name": "shared-tool",
            "sharing_options": {"public": false, "permissions": {"read": true, "contribute": contribute}}})
    };
    s.call(&w.alice, share(false)).await.ok();
    let grant = json!({"action": "manage_permissions", "pipe_name": "shared-tool", "permissions": {"users": ["bob"], "access_level": "read_write"}});
    s.call(&w.alice, grant).await.ok();
    let refused = s.call(&w.bob, publish_context("shared-tool", "1.1.0", &[])).await.failed(403);
    assert!(refused.contains("contributions"), "{refused}");
    s.call(&w.alice, share(true)).await.ok();
    let published = s.call(&w.bob, publish_context("shared-tool", "1.1.0", &[])).await.ok().clone();
    assert_eq!((published["published_by"].as_str(), published["new_pipe"].as_bool()), (Some("bob"), Some(false)));
    let details = s.call(&w.alice, json!({"action": "get_pipe", "pipe_name": "shared-tool"})).await.ok().clone();
    assert_eq!(details["summary"]["owner"], "alice", "a contributor does not take the pipe");

    // A read grantee may see it but not contribute, whatever the share says.
    let read =
        json!({"action": "manage_permissions", "pipe_name": "shared-tool", "permissions": {"users": ["carol"], "access_level": "read"}});
    s.call(&w.alice, read).await.ok();
    s.call(&w.carol, publish_context("shared-tool", "1.2.0", &[])).await.failed(403);

    // A read-only token publishes nothing.
    let read_only = w.instance.cli_ok(&["token", "create", "alice", "--read-only"], None);
    let read_only = read_only.lines().last().unwrap().trim().to_string();
    s.call(&read_only, publish_context("shared-tool", "1.3.0", &[])).await.failed(403);
    // Nor does anyone without a token.
    assert_eq!(upload(s, None, archive_of("shared-tool", "1.3.0", &[])).await.0, 401);
}

/// A gzip stream of a tar holding one file of `size` zero bytes, built without holding it.
fn gzip_bomb(size: u64) -> Vec<u8> {
    let encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut builder = tar::Builder::new(encoder);
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, "pipe.yaml", std::io::repeat(0).take_bytes(size)).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

trait TakeBytes {
    fn take_bytes(self, n: u64) -> std::io::Take<Self>
    where
        Self: Sized;
}

impl<R: std::io::Read> TakeBytes for R {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        std::io::Read::take(self, n)
    }
}

#[tokio::test]
async fn hostile_uploads_are_refused_and_store_nothing() {
    let w = World::new(|instance| {
        instance.cli_ok(&["settings", "set", "max_archive_bytes", "65536"], None);
    })
    .await;
    let s = &w.server;
    let refused = |status: u16, body: &Value, what: &str| {
        assert_eq!(body["success"], false, "{what}: {body}");
        (status, body["error"].as_str().unwrap_or_default().to_string())
    };

    let (status, body) = upload(s, Some(&w.alice), b"this is not an archive".to_vec()).await;
    let (status, error) = refused(status, &body, "text");
    assert_eq!(status, 400);
    assert!(error.contains(".tar.gz or .zip"), "{error}");

    let (status, body) = upload(s, Some(&w.alice), gzip_bomb(1 << 30)).await;
    let (status, error) = refused(status, &body, "bomb");
    assert_eq!(status, 413, "{error}");

    // Over the instance's bound, compressed or not.
    let big: String = (0..100_000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let (status, body) = upload(s, Some(&w.alice), archive_of("big", "1.0.0", &[("data.txt", &big)])).await;
    assert_eq!(refused(status, &body, "big").0, 413);

    // A link inside an archive, to anywhere.
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    let manifest = manifest("linked", "1.0.0");
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, "pipe.yaml", manifest.as_bytes()).unwrap();
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    builder.append_link(&mut link, "secrets", "/etc/shadow").unwrap();
    let linked = builder.into_inner().unwrap().finish().unwrap();
    let (status, body) = upload(s, Some(&w.alice), linked).await;
    let (status, error) = refused(status, &body, "symlink");
    assert_eq!(status, 400);
    assert!(error.contains("secrets"), "the entry is named: {error}");

    // Paths that escape, through the JSON door.
    for path in ["../evil.py", "/etc/passwd", "a/../../x", "C:\\x"] {
        let reply = s.call(&w.alice, publish_context("escape", "1.0.0", &[(path, "x")])).await;
        reply.failed(400);
    }
    // Names and versions the manifest must get right.
    let bad_name = json!({"action": "publish_pipe", "manifest": "name: a/b\nversion: 1.0.0\n"});
    assert!(s.call(&w.alice, bad_name).await.failed(400).contains("not valid"));
    let bad_version = json!({"action": "publish_pipe", "manifest": "name: ok\nversion: latest\n"});
    assert!(s.call(&w.alice, bad_version).await.failed(400).contains("semantic version"));
    let no_manifest = archive::pack(&[file("main.py", "x")]).unwrap();
    let (status, body) = upload(s, Some(&w.alice), no_manifest).await;
    assert!(refused(status, &body, "no manifest").1.contains("no manifest"));
    let not_yaml = json!({"action": "publish_pipe", "manifest": "name: [unclosed\n"});
    s.call(&w.alice, not_yaml).await.failed(400);

    // Nothing of it was stored.
    let listed = s.call(&w.root, json!({"action": "list_shareable"})).await;
    assert_eq!(listed.ok()["total_count"], 0, "{}", listed.body);
    assert!(!w.instance.database_contains("evil"));
    assert!(!w.instance.database_contains("linked"));
}

#[tokio::test]
async fn storage_quota_and_two_instances_serving_one_package() {
    let w = World::new(|instance| {
        instance.cli_ok(&["settings", "set", "max_storage_per_user_mb", "1"], None);
    })
    .await;
    let s = &w.server;
    // Incompressible content, so the package is about as large as the file.
    let mut noise = String::new();
    let mut x: u64 = 1;
    while noise.len() < 1_200_000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        noise.push_str(&format!("{:016x}", x));
    }
    let (status, body) = upload(s, Some(&w.alice), archive_of("noise", "1.0.0", &[("data.txt", &noise)])).await;
    assert_eq!(status, 201, "{body}");
    let sha = body["result"]["sha256"].as_str().unwrap().to_string();
    let (status, body) = upload(s, Some(&w.alice), archive_of("noise", "1.0.1", &[("data.txt", &noise[1000..])])).await;
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Storage quota"), "{body}");

    // A second server on the same database serves the same bytes.
    let other = w.instance.serve().await;
    let url = format!("{}/pipes/noise/versions/1.0.0/package.tar.gz", other.url);
    let (status, _, bytes) = get_bytes(&other, Some(&w.alice), &url).await;
    assert_eq!(status, 200);
    assert_eq!(archive::sha256_hex(&bytes), sha);
    let mut sink = std::io::sink();
    sink.write_all(&bytes).unwrap();
}

#[tokio::test]
async fn environments_promotions_rollback_and_forks() {
    let w = World::new(|_| {}).await;
    let s = &w.server;
    for version in ["1.0.0", "1.1.0"] {
        s.call(&w.alice, publish_context("env-tool", version, &[("main.py", version)])).await.ok();
    }
    let share = |fork: bool| json!({"action": "share_pipe", "pipe_name": "env-tool", "sharing_options": {"permissions": {"read": true, "fork": fork}}});
    s.call(&w.alice, share(false)).await.ok();
    let grant = |user: &str, level: &str| json!({"action": "manage_permissions", "pipe_name": "env-tool", "permissions": {"users": [user], "access_level": level}});
    s.call(&w.alice, grant("bob", "read_write")).await.ok();
    s.call(&w.alice, grant("carol", "read")).await.ok();
    let promote = |version: &str, environment: &str| json!({"action": "promote_pipe", "pipe_name": "env-tool", "version": version, "environment": environment});

    // A read_write grantee promotes to staging, not to the protected prod; a reader to neither.
    let staged = s.call(&w.bob, promote("1.1.0", "staging")).await.ok().clone();
    assert_eq!((staged["status"].as_str(), staged["previous_version"].is_null()), (Some("active"), true));
    assert!(s.call(&w.bob, promote("1.1.0", "prod")).await.failed(403).contains("protected"));
    s.call(&w.carol, promote("1.1.0", "staging")).await.failed(403);
    s.call(&w.alice, promote("1.1.0", "no/such")).await.failed(400);
    s.call(&w.alice, promote("9.9.9", "staging")).await.failed(404);

    // With approval required, prod waits for an instance admin, bound to the version asked for.
    let waiting = s.call_with(&w.alice, promote("1.1.0", "prod"), json!({"require_approval": true})).await.ok().clone();
    assert_eq!(waiting["status"], "pending_approval");
    s.call_with(&w.alice, promote("1.0.0", "prod"), json!({"require_approval": true})).await.failed(409);
    let queue = s.call(&w.root, json!({"action": "list_pending_promotions"})).await.ok().clone();
    assert_eq!(queue["promotions"][0]["version"], "1.1.0");
    s.call(&w.alice, json!({"action": "list_pending_promotions"})).await.failed(403);
    let id = waiting["promotion_id"].clone();
    let wrong = json!({"action": "review_promotion", "promotion_id": id, "decision": "approve", "version": "1.0.0"});
    s.call(&w.root, wrong).await.failed(409);
    let approve = json!({"action": "review_promotion", "promotion_id": id, "decision": "approve", "version": "1.1.0"});
    s.call(&w.root, approve.clone()).await.ok();
    s.call(&w.root, approve).await.failed(409);
    let in_prod = s.call(&w.carol, json!({"action": "download_pipe", "pipe_name": "env-tool", "environment": "prod"})).await.ok().clone();
    assert_eq!((in_prod["version"].as_str(), in_prod["environment"].as_str()), (Some("1.1.0"), Some("prod")));

    // Rollback: prod back to 1.0.0, with the history kept.
    let rolled = s.call(&w.alice, promote("1.0.0", "prod")).await.ok().clone();
    assert_eq!(rolled["previous_version"], "1.1.0");
    let page = s.call(&w.alice, json!({"action": "get_pipe", "pipe_name": "env-tool"})).await.ok().clone();
    let moves: Vec<(String, String)> = page["environment_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["environment"].as_str().unwrap().to_string(), m["to_version"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(moves, [("prod".into(), "1.0.0".into()), ("prod".into(), "1.1.0".into()), ("staging".into(), "1.1.0".into())]);
    assert_eq!(page["environments"].as_array().unwrap().len(), 2);
    assert!(page["version_details"][0]["sha256"].is_string());

    // A version an environment points at is not yanked until the environment moves; a
    // yanked version is not promoted.
    let yank = |version: &str| json!({"action": "yank_version", "pipe_name": "env-tool", "version": version, "reason": "bad"});
    assert!(s.call(&w.alice, yank("1.1.0")).await.failed(409).contains("staging"));
    s.call(&w.alice, promote("1.0.0", "staging")).await.ok();
    s.call(&w.alice, yank("1.1.0")).await.ok();
    assert!(s.call(&w.alice, promote("1.1.0", "dev")).await.failed(409).contains("yanked"));

    // Forks: a reader needs the share's fork permission; the copy is renamed and remembers
    // where it came from.
    let fork = |name: &str| json!({"action": "fork_pipe", "pipe_name": "env-tool", "version": "1.0.0", "new_name": name});
    assert!(s.call(&w.carol, fork("carols-tool")).await.failed(403).contains("fork"));
    s.call(&w.alice, share(true)).await.ok();
    let forked = s.call(&w.carol, fork("carols-tool")).await.ok().clone();
    assert_eq!((forked["pipe_name"].as_str(), forked["new_pipe"].as_bool()), (Some("carols-tool"), Some(true)));
    s.call(&w.carol, fork("env-tool")).await.failed(409);
    let copy = s.call(&w.carol, json!({"action": "download_pipe", "pipe_name": "carols-tool"})).await.ok().clone();
    assert_eq!(copy["spec"]["name"], "carols-tool");
    assert!(copy["files"].as_array().unwrap().contains(&json!("main.py")));
    let fork_page = s.call(&w.carol, json!({"action": "get_pipe", "pipe_name": "carols-tool"})).await.ok().clone();
    assert_eq!(fork_page["forked_from"], json!({"pipe": "env-tool", "version": "1.0.0"}));
    assert_eq!(fork_page["summary"]["owner"], "carol");
    // The fork is carol's own, unshared: listed to those who may see it only.
    let original = s.call(&w.alice, json!({"action": "get_pipe", "pipe_name": "env-tool"})).await.ok().clone();
    assert_eq!(original["forks"], json!([]));
    let original = s.call(&w.root, json!({"action": "get_pipe", "pipe_name": "env-tool"})).await.ok().clone();
    assert_eq!(original["forks"], json!(["carols-tool"]));
}

#[tokio::test]
async fn concurrent_publishes_all_land() {
    let w = World::new(|_| {}).await;
    let s = &w.server;
    s.call(&w.alice, publish_context("busy", "0.1.0", &[])).await.ok();
    // Versions of one pipe and new pipes at once, from two users: each is stored, none fails.
    let uploads = (0..12).map(|i| {
        let (token, body) = match i % 3 {
            0 => (w.alice.clone(), archive_of("busy", &format!("1.0.{i}"), &[("n.txt", "x")])),
            1 => (w.alice.clone(), archive_of(&format!("alice-{i}"), "1.0.0", &[])),
            _ => (w.bob.clone(), archive_of(&format!("bob-{i}"), "1.0.0", &[])),
        };
        async move { upload(s, Some(&token), body).await }
    });
    // A scan of a tree writes beside them, from another process.
    let tree = common::numbered_tree(&w.instance.path().join("tree"), "s", 300);
    let scan = tokio::process::Command::new(common::BIN)
        .args(["scan", tree.to_str().unwrap(), "--owner", "carol"])
        .env("DATABASE_URL", &w.instance.database_url)
        .output();
    let (scanned, published) = tokio::join!(scan, futures::future::join_all(uploads));
    let scanned = scanned.unwrap();
    assert!(scanned.status.success(), "{}", String::from_utf8_lossy(&scanned.stderr));
    for (status, body) in published {
        assert_eq!(status, 201, "{body}");
    }
    let busy = s.call(&w.alice, json!({"action": "get_pipe", "pipe_name": "busy"})).await.ok().clone();
    assert_eq!(busy["versions"].as_array().unwrap().len(), 5);
}

/// A package that a transaction not yet committed is storing (for a version that will refer
/// to it) is not removed as unused beside it, and one stored while another transaction
/// removes it is stored anew: on PostgreSQL, where writers run side by side (SQLite has one
/// writer at a time).
#[tokio::test]
async fn removing_unused_packages_beside_a_transaction_that_stores_one() {
    use app::orchestrator::{
        db,
        publish::{NewPackage, remove_unused_packages_in, store_package},
    };
    use sea_orm::{EntityTrait, TransactionTrait};
    let Some(instance) = common::Instance::postgres_if_reachable() else {
        eprintln!("PostgreSQL is not reachable: skipped");
        return;
    };
    let db = db::connect(&instance.database_url).await.unwrap();
    let package = NewPackage::of(&[file("pipe.yaml", &manifest("kept", "1.0.0"))]).unwrap();
    let stored = || async { app::orchestrator::entities::packages::Entity::find_by_id(package.sha256.clone()).one(&db).await.unwrap() };
    // Stored and committed, referred to by nothing: unused.
    store_package(&db, &package).await.unwrap();

    // A transaction storing it (as a publish does before its version row) holds it: a
    // removal beside it passes it over.
    let storing = db.begin().await.unwrap();
    store_package(&storing, &package).await.unwrap();
    let removing = db.begin().await.unwrap();
    assert_eq!(remove_unused_packages_in(&removing).await.unwrap(), 0);
    removing.commit().await.unwrap();
    storing.commit().await.unwrap();
    assert!(stored().await.is_some());

    // The other order: the removal takes it first; the store waits for it to end and then
    // stores the package again.
    let removing = db.begin().await.unwrap();
    assert_eq!(remove_unused_packages_in(&removing).await.unwrap(), 1);
    let storing = tokio::spawn({
        let (db, package) = (db.clone(), package.clone());
        async move {
            let txn = db.begin().await.unwrap();
            store_package(&txn, &package).await.unwrap();
            txn.commit().await.unwrap();
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!storing.is_finished(), "the store waits for the removal's transaction");
    removing.commit().await.unwrap();
    storing.await.unwrap();
    assert_eq!(stored().await.map(|row| row.content), Some(package.bytes.clone()));
    db.close().await.unwrap();
}
