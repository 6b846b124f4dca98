//! Test harness: a fresh SQLite file per test, the real `pipeshare` binary for the CLI, and a
//! real `pipeshare serve` on a loopback port for the API.
#![allow(dead_code)]

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

pub const BIN: &str = env!("CARGO_BIN_EXE_pipeshare");

/// Where the tests' databases live: a SQLite file per test (the default), or, with
/// `PIPESHARE_TEST_BACKEND=postgres`, a fresh database per test on the server at
/// `PIPESHARE_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`), dropped after.
pub enum Backend {
    Sqlite,
    Postgres { server: String, database: String },
}

pub struct Instance {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub backend: Backend,
}

fn postgres_server() -> Option<String> {
    (std::env::var("PIPESHARE_TEST_BACKEND").ok()?.as_str() == "postgres")
        .then(|| std::env::var("PIPESHARE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into()))
}

fn psql(server: &str, database: &str, sql: &str) -> Output {
    Command::new("psql")
        .args([&format!("{server}/{database}"), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .unwrap_or_else(|_| Command::new("false").output().expect("false runs"))
}

impl Instance {
    /// An instance on the backend the test run asks for.
    pub fn new() -> Self {
        match postgres_server() {
            None => Instance::sqlite(),
            Some(server) => Instance::postgres(server),
        }
    }

    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("pipeshare.db").display());
        Instance { dir, database_url, backend: Backend::Sqlite }
    }

    pub fn postgres(server: String) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = format!("pipeshare_test_{}_{}", std::process::id(), rand_suffix());
        let created = psql(&server, "postgres", &format!("CREATE DATABASE {database}"));
        assert!(created.status.success(), "create {database}: {}", String::from_utf8_lossy(&created.stderr));
        let database_url = format!("{server}/{database}");
        Instance { dir, database_url, backend: Backend::Postgres { server, database } }
    }

    /// A PostgreSQL instance when a server is reachable (`PIPESHARE_TEST_POSTGRES` or the local one).
    pub fn postgres_if_reachable() -> Option<Self> {
        let server = std::env::var("PIPESHARE_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        psql(&server, "postgres", "SELECT 1").status.success().then(|| Instance::postgres(server))
    }

    /// Whether `text` appears anywhere in the stored data.
    pub fn database_contains(&self, text: &str) -> bool {
        let bytes = match &self.backend {
            Backend::Sqlite => {
                let mut bytes = fs::read(self.path().join("pipeshare.db")).unwrap();
                bytes.extend(fs::read(self.path().join("pipeshare.db-wal")).unwrap_or_default());
                bytes
            }
            Backend::Postgres { .. } => {
                Command::new("pg_dump").args(["--data-only", &self.database_url]).output().expect("pg_dump runs").stdout
            }
        };
        bytes.windows(text.len()).any(|w| w == text.as_bytes())
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `pipeshare ARGS` against this instance's database.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new(BIN)
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pipeshare");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(input);
        child.wait_with_output().expect("wait for pipeshare")
    }

    /// Runs the CLI and returns its standard output, failing the test if it fails.
    pub fn cli_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.cli(args, stdin);
        assert!(out.status.success(), "pipeshare {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    pub fn add_user(&self, name: &str, admin: bool) {
        let mut args = vec!["user", "add", name, "--password-stdin"];
        if admin {
            args.push("--admin");
        }
        self.cli_ok(&args, Some("correct horse battery\n"));
    }

    /// Creates a user and returns a fresh API token for them.
    pub fn user_with_token(&self, name: &str, admin: bool) -> String {
        self.add_user(name, admin);
        self.token(name)
    }

    pub fn token(&self, name: &str) -> String {
        let out = self.cli_ok(&["token", "create", name], None);
        out.lines().last().expect("token line").trim().to_string()
    }

    pub fn scan(&self, dir: &Path, owner: &str) -> Value {
        let out = self.cli_ok(&["scan", dir.to_str().unwrap(), "--owner", owner, "--json"], None);
        serde_json::from_str(out.trim()).expect("scan --json prints JSON")
    }

    pub async fn serve(&self) -> Server {
        self.serve_with(&[]).await
    }

    /// Starts `pipeshare serve` on a free loopback port, with extra environment variables.
    pub async fn serve_with(&self, env: &[(&str, &str)]) -> Server {
        self.serve_on("127.0.0.1:0", env).await
    }

    /// Starts `pipeshare serve` on `addr` (a stopped server's, to start it again).
    pub async fn serve_on(&self, addr: &str, env: &[(&str, &str)]) -> Server {
        let log = fs::File::create(self.path().join(format!("server-{}.log", rand_suffix()))).expect("log file");
        let mut child = tokio::process::Command::new(BIN)
            .args(["serve", "--addr", addr])
            .env("DATABASE_URL", &self.database_url)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("start pipeshare serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
                .await
                .expect("server started in time")
                .expect("read stdout")
                .expect("server printed its address");
            if let Some(rest) = line.strip_prefix("pipeshare listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        Server { _child: child, url, http: reqwest::Client::new() }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Backend::Postgres { server, database } = &self.backend {
            // WITH (FORCE) ends the connections of servers that are still shutting down.
            psql(server, "postgres", &format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"));
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

pub struct Server {
    _child: tokio::process::Child,
    pub url: String,
    pub http: reqwest::Client,
}

impl Server {
    /// Stops the server and waits until it is gone (its port free again).
    pub async fn stop(mut self) {
        self._child.kill().await.expect("stop pipeshare serve");
    }
}

/// A reply from the JSON API: HTTP status and the parsed body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "expected success, got {}: {}", self.status, self.body);
        assert_eq!(self.body["success"], true);
        assert_eq!(self.body["message"], "Pipe sharing orchestration completed");
        &self.body["result"]
    }

    /// Asserts a failure envelope with this status, and returns its error text.
    pub fn failed(&self, status: u16) -> String {
        assert_eq!(self.status, status, "expected {status}, got {}: {}", self.status, self.body);
        assert_eq!(self.body["success"], false, "{}", self.body);
        assert_eq!(self.body["message"], "Pipe sharing orchestration failed");
        self.body["error"].as_str().expect("error text").to_string()
    }
}

impl Server {
    pub async fn call(&self, token: &str, context: Value) -> Reply {
        self.call_with(token, context, json!({})).await
    }

    pub async fn call_with(&self, token: &str, context: Value, config: Value) -> Reply {
        self.post(Some(token), serde_json::to_vec(&json!({"context": context, "config": config})).unwrap()).await
    }

    pub async fn post(&self, token: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = self.http.post(format!("{}/api/v1/process", self.url)).body(body);
        request = request.header("content-type", "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("status {status}: body is not JSON: {text}"));
        Reply { status, body }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(format!("{}{path}", self.url)).send().await.expect("request");
        (response.status().as_u16(), response.text().await.expect("body"))
    }

    /// The value of one counter in `/metrics`, named with its labels (0 when absent).
    pub async fn counter(&self, series: &str) -> u64 {
        let (_, text) = self.get("/metrics").await;
        let prefix = format!("{series} ");
        text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map_or(0, |v| v.parse().unwrap())
    }
}

/// Writes a small PlugPipe tree; returns its root.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) -> PathBuf {
    for (rel, text) in files {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    root.to_path_buf()
}

/// A tree of `count` small pipes named `<prefix>00`, `<prefix>01`, ... (as many digits as the
/// largest number needs, at least two), version 1.0.0 in category `data`; returns its root.
pub fn numbered_tree(root: &Path, prefix: &str, count: usize) -> PathBuf {
    let width = count.saturating_sub(1).to_string().len().max(2);
    let files: Vec<(String, String)> = (0..count)
        .map(|i| {
            let name = format!("{prefix}{i:0width$}");
            (format!("plugs/data/{name}/1.0.0/plug.yaml"), plug(&name, "1.0.0", "data", "stable", "A", "d"))
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(path, text)| (path.as_str(), text.as_str())).collect();
    write_tree(root, &files)
}

pub fn plug(name: &str, version: &str, category: &str, status: &str, author: &str, description: &str) -> String {
    format!(
        "name: {name}\nversion: {version}\ncategory: {category}\nstatus: {status}\nauthor: {author}\ndescription: {description}\ntags: [demo]\n"
    )
}

/// The committed fixture: real manifests taken from a PlugPipe tree.
pub fn fixture_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/plugpipe")
}

/// A client that does not follow redirects, to see where the server sends a browser.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Signs in with the sign-in form; the session cookie (`name=value`) when the password was
/// right.
pub async fn session(server: &Server, username: &str, password: &str) -> Option<String> {
    let response = no_redirects()
        .post(format!("{}/api/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={username}&password={}", app::urls::encode(password)))
        .send()
        .await
        .unwrap();
    response.headers().get("set-cookie").map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
}

/// The usual people of a test, with their API tokens: alice, bob and carol, and root, an
/// instance admin; and a server over the instance.
pub struct World {
    pub instance: Instance,
    pub server: Server,
    pub alice: String,
    pub bob: String,
    pub carol: String,
    pub root: String,
}

impl World {
    /// Makes the people, runs `load` (scans, settings), then starts the server.
    pub async fn new(load: impl FnOnce(&Instance)) -> World {
        World::new_with(&[], load).await
    }

    /// The same, the server started with extra environment variables.
    pub async fn new_with(env: &[(&str, &str)], load: impl FnOnce(&Instance)) -> World {
        let instance = Instance::new();
        let alice = instance.user_with_token("alice", false);
        let bob = instance.user_with_token("bob", false);
        let carol = instance.user_with_token("carol", false);
        let root = instance.user_with_token("root", true);
        load(&instance);
        let server = instance.serve_with(env).await;
        World { instance, server, alice, bob, carol, root }
    }
}
