//! The hub benchmark: the whole product as users meet it, beside baselines measured in the
//! same run.
//!
//! ```sh
//! cargo bench -p server --bench hub                                   # 1,000 and 10,000 pipes
//! PIPESHARE_BENCH_SIZES=1000,10000,100000 cargo bench -p server --bench hub
//! PIPESHARE_BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 cargo bench -p server --bench hub
//! ```
//!
//! For each size, on fresh temporary databases: it writes that many manifests (about 6 KB each,
//! deterministic), times reading + parsing them alone, then `pipeshare scan` as a whole process
//! and its unchanged rescan (with peak RSS, and how many cores each kept busy); loads ten
//! downloads per pipe spread over a year; starts `pipeshare serve` and a bare axum + sqlx
//! handler on the same database, and drives both over HTTP from 64 connections (16 for
//! `share_pipe`) for `PIPESHARE_BENCH_SECONDS` each (default 5). The load generator is wrk
//! (Debian's `wrk` package) when it is installed, in its own process on one thread; otherwise
//! this process drives the load, and then its own work (receiving every answer) is part of the
//! figures, largest for the largest answers (the pages). It prints one table with requests/s,
//! p50 and p99 per load, the bare handler's figures beside pipeshare's, then where one list
//! request's time goes and how long text searches take by how much of the catalogue they
//! match. Everything is also written as JSON to `PIPESHARE_BENCH_JSON` (default
//! `target/bench-hub.json`), so two runs can be compared.
use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use app::orchestrator::{Orchestrator, accounts, db, list, scan, settings::Settings};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, TransactionTrait};
use serde::Serialize;
use serde_json::{Value, json};

// The allocator pipeshare runs with, for the bare handler too (and the load generator).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CATEGORIES: [&str; 8] = ["security", "data", "api", "integration", "monitoring", "core", "agents", "database"];
const STATUSES: [&str; 4] = ["stable", "development", "experimental", "deprecated"];
/// A request is one of these per connection at a time.
const CONNECTIONS: usize = 64;
const SHARE_CONNECTIONS: usize = 16;
const PASSWORD: &str = "bench-password";
/// Downloads loaded per pipe: a year of history (1,000,000 rows at 100,000 pipes).
const DOWNLOADS_PER_PIPE: usize = 10;

/// A manifest shaped like the corpus's `plug.yaml` files (about 6 KB).
fn manifest(i: usize) -> String {
    let category = CATEGORIES[i % CATEGORIES.len()];
    let status = STATUSES[(i / CATEGORIES.len()) % STATUSES.len()];
    let mut text = format!(
        "name: pipe_{i:06}\nversion: 1.0.0\ncategory: {category}\nstatus: {status}\nauthor: Team {}\n\
         description: Generated pipe number {i} for the hub benchmark, a {category} plug that reads, checks and\n  \
         writes records for the registry with retries, timeouts and audit logging.\n\
         tags: [bench, {category}, team-{}]\nowner: platform-team\nlicense: MIT\n\
         capabilities:\n- read\n- write\n- search\n- health_monitoring\n- audit_logging\n\
         compliance:\n  audit_logging: true\n  gdpr_compliant: true\n  data_retention: Records kept as the retention policy says\n\
         external_dependencies:\n  install_method: pip\n  packages:\n  - requests\n  - pyyaml\n\
         input_schema:\n  type: object\n  properties:\n",
        i % 50,
        i % 20
    );
    for field in 0..24 {
        text.push_str(&format!(
            "    field_{field:02}:\n      type: string\n      description: Field {field} of operation {i}, checked against the \
             schema before the plug runs and echoed in the audit trail\n      default: value-{field}\n"
        ));
    }
    text.push_str("output_schema:\n  type: object\n  properties:\n    success:\n      type: boolean\n    result:\n      type: object\n");
    text.push_str("config:\n  retries: 3\n  timeout_seconds: 30\n  batch_size: 100\n");
    text
}

fn write_tree(root: &Path, pipes: usize) {
    for i in 0..pipes {
        let dir = root.join(format!("plugs/{}/pipe_{i:06}/1.0.0", CATEGORIES[i % CATEGORIES.len()]));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plug.yaml"), manifest(i)).unwrap();
    }
}

/// The floor under any scan: every manifest read and parsed, on one thread. How many, the
/// wall time and the thread's CPU time.
fn read_and_parse(root: &Path) -> (usize, Duration, Duration) {
    let start = Instant::now();
    let cpu_start = thread_cpu_time();
    let mut parsed = 0;
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_name() == "plug.yaml" {
            scan::parse_manifest(&fs::read(entry.path()).unwrap()).unwrap();
            parsed += 1;
        }
    }
    (parsed, start.elapsed(), thread_cpu_time() - cpu_start)
}

/// The CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    // SAFETY: an all-zero timespec is a valid value for clock_gettime to fill in.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: a valid clock id and a pointer to a local.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[derive(Serialize)]
struct ProcessRun {
    seconds: f64,
    per_second: f64,
    /// User plus system CPU time: `cpu_seconds / seconds` is how many cores were busy.
    cpu_seconds: f64,
    /// `None` for the baseline, which runs in this process: its memory is not its own.
    peak_rss_mib: Option<f64>,
}

/// Runs a command to its end; its wall time and peak resident memory.
#[expect(clippy::zombie_processes, reason = "wait4 reaps the child, with its resource usage")]
fn run_measured(command: &mut Command, items: usize) -> ProcessRun {
    let start = Instant::now();
    let child = command.stdout(Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, with valid pointers to locals.
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let seconds = start.elapsed().as_secs_f64();
    assert!(waited > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{command:?} failed");
    let cpu = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    ProcessRun {
        seconds,
        per_second: items as f64 / seconds,
        cpu_seconds: cpu(usage.ru_utime) + cpu(usage.ru_stime),
        peak_rss_mib: Some(usage.ru_maxrss as f64 / 1024.0),
    }
}

/// A fresh database for one size: a SQLite file in `dir`, or a new PostgreSQL database.
async fn fresh_database(dir: &Path, pipes: usize) -> String {
    match std::env::var("PIPESHARE_BENCH_POSTGRES") {
        Ok(server) => {
            let admin = sea_orm::Database::connect(format!("{server}/postgres")).await.unwrap();
            let name = format!("pipeshare_bench_{pipes}");
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            format!("{server}/{name}")
        }
        Err(_) => format!("sqlite://{}?mode=rwc", dir.join("hub.db").display()),
    }
}

/// Ten downloads per pipe over the last year, by a mix of users, tokens and anonymous visitors.
async fn load_downloads(db: &DatabaseConnection, users: &[i32], rows: usize) {
    use app::model::DownloadClient;
    use app::orchestrator::entities::{downloads, pipes};
    use sea_orm::QuerySelect;
    let ids: Vec<(i32, Option<String>)> =
        pipes::Entity::find().select_only().columns([pipes::Column::Id, pipes::Column::Category]).into_tuple().all(db).await.unwrap();
    let now = app::orchestrator::now();
    let txn = db.begin().await.unwrap();
    let mut batch = Vec::with_capacity(1000);
    for i in 0..rows {
        // A skewed spread: a few pipes are popular, most are downloaded now and then.
        let pick = (i * 2_654_435_761) % ids.len();
        let (pipe, category) = ids[if i % 3 == 0 { pick % ids.len().div_ceil(100) } else { pick }].clone();
        let user = users.get(i % (users.len() + 1)).copied();
        batch.push(downloads::ActiveModel {
            pipe_id: Set(pipe),
            user_id: Set(user),
            version: Set("1.0.0".into()),
            downloaded_at: Set(now - chrono::Duration::seconds(((i * 7_919) % (365 * 86_400)) as i64)),
            environment: Set((i % 5 == 0).then(|| "prod".to_string())),
            client: Set(Some(if user.is_some() { DownloadClient::Token } else { DownloadClient::Anonymous })),
            category: Set(category),
            ..Default::default()
        });
        if batch.len() == 1000 {
            downloads::Entity::insert_many(std::mem::take(&mut batch)).exec_without_returning(&txn).await.unwrap();
        }
    }
    if !batch.is_empty() {
        downloads::Entity::insert_many(batch).exec_without_returning(&txn).await.unwrap();
    }
    txn.commit().await.unwrap();
    db::refresh_statistics(db).await.unwrap();
}

struct Tokens {
    owner: String,
    reader: String,
    admin: String,
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// A server process, stopped when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_until_up(base: &str, path: &str) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client.get(format!("{base}{path}")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not start");
}

/// `pipeshare serve` keeping `kept_answers_mib` of listings and downloads (see the README).
async fn start_pipeshare(url: &str, dir: &Path, kept_answers_mib: u16) -> (Serving, String) {
    let addr = free_address();
    let log = fs::File::create(dir.join(format!("serve-{kept_answers_mib}.log"))).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_pipeshare"))
        .args(["serve", "--addr", &addr, "--site-root"])
        .arg(dir)
        .env("DATABASE_URL", url)
        .env("PIPESHARE_KEPT_ANSWERS_MIB", kept_answers_mib.to_string())
        .env("PIPESHARE_SOURCE_POLL_MS", "3600000")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    wait_until_up(&base, "/healthz").await;
    (Serving(child), base)
}

async fn start_bare(url: &str) -> (Serving, String) {
    let addr = free_address();
    let child = Command::new(std::env::current_exe().unwrap())
        .env("PIPESHARE_BENCH_BARE", format!("{addr} {url}"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{addr}");
    wait_until_up(&base, "/up").await;
    (Serving(child), base)
}

#[derive(Serialize, Clone)]
struct Load {
    load: String,
    target: String,
    connections: usize,
    requests: usize,
    errors: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

/// Distinct requests a load cycles through (every load's own cycle divides it).
const CYCLE: usize = 1800;

/// `connections` clients sending requests back to back for `seconds`, by wrk when it is
/// installed (a load generator in its own process, as the issue measures), otherwise by this
/// process; every answer must be a success.
async fn drive(load: &str, target: &str, connections: usize, seconds: f64, make: MakeRequest) -> Load {
    let driven = if wrk_installed() { drive_wrk(connections, seconds, &make) } else { drive_here(connections, seconds, make).await };
    Load { load: load.into(), target: target.into(), connections, ..driven }
}

fn wrk_installed() -> bool {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *INSTALLED.get_or_init(|| Command::new("wrk").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
}

/// Which load generator drives the loads.
fn load_generator() -> &'static str {
    if wrk_installed() { "wrk" } else { "in-process" }
}

/// `text` as a Lua string literal.
fn lua_string(text: &[u8]) -> String {
    let mut quoted = String::from("\"");
    for &byte in text {
        match byte {
            b'"' | b'\\' => quoted.extend(['\\', byte as char]),
            b' '..=b'~' => quoted.push(byte as char),
            _ => quoted.push_str(&format!("\\{byte:03}")),
        }
    }
    quoted.push('"');
    quoted
}

/// wrk on one thread, cycling through the first `CYCLE` requests `make` builds.
fn drive_wrk(connections: usize, seconds: f64, make: &MakeRequest) -> Load {
    let client = reqwest::Client::new();
    let mut script = String::from("local requests = {}\nlocal formats = {\n");
    let mut base = String::new();
    for i in 0..CYCLE {
        let request = make(&client, i).build().unwrap();
        let url = request.url();
        base = format!("{}://{}:{}", url.scheme(), url.host_str().unwrap(), url.port_or_known_default().unwrap());
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let headers: Vec<String> = request
            .headers()
            .iter()
            .map(|(name, value)| format!("[{}] = {}", lua_string(name.as_str().as_bytes()), lua_string(value.as_bytes())))
            .collect();
        let body = request.body().and_then(|b| b.as_bytes()).map_or("nil".to_string(), lua_string);
        script += &format!(
            "  {{{}, {}, {{{}}}, {}}},\n",
            lua_string(request.method().as_str().as_bytes()),
            lua_string(path.as_bytes()),
            headers.join(", "),
            body
        );
    }
    script += "}\n\
        init = function(args)\n  for i, f in ipairs(formats) do requests[i] = wrk.format(f[1], f[2], f[3], f[4]) end\nend\n\
        local next = 0\n\
        request = function()\n  next = next % #requests + 1\n  return requests[next]\nend\n\
        done = function(summary, latency, requests)\n  local e = summary.errors\n  \
          io.write(string.format(\"RESULT %d %d %d %d %d\\n\", summary.requests, summary.duration, \
          latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout))\nend\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.lua");
    fs::write(&path, script).unwrap();
    let output = Command::new("wrk")
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--timeout", "10s", "-s"])
        .arg(&path)
        .arg(&base)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let result = text.lines().find_map(|line| line.strip_prefix("RESULT ")).unwrap_or_else(|| panic!("wrk said: {text}"));
    let n: Vec<f64> = result.split(' ').map(|n| n.parse().unwrap()).collect();
    let (requests, micros, p50, p99, errors) = (n[0], n[1], n[2], n[3], n[4]);
    Load {
        load: String::new(),
        target: String::new(),
        connections,
        requests: requests as usize,
        errors: errors as usize,
        per_second: requests / (micros / 1e6),
        p50_ms: p50 / 1000.0,
        p99_ms: p99 / 1000.0,
    }
}

/// This process as the load generator: `connections` clients, each on its own connection.
async fn drive_here(connections: usize, seconds: f64, make: MakeRequest) -> Load {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().unwrap();
            let (mut times, mut errors) = (Vec::new(), 0usize);
            let mut i = connection;
            while Instant::now() < deadline {
                let start = Instant::now();
                match make(&client, i).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                    }
                    Ok(response) => {
                        errors += 1;
                        if errors == 1 {
                            eprintln!("{}: {}", response.status(), response.text().await.unwrap_or_default());
                        }
                    }
                    Err(_) => errors += 1,
                }
                times.push(start.elapsed().as_micros() as u32);
                i += connections;
            }
            (times, errors)
        }));
    }
    let (mut times, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (t, e) = task.await.unwrap();
        times.extend(t);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort_unstable();
    let at =
        |q: f64| times.get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1))).copied().unwrap_or(0) as f64 / 1000.0;
    Load {
        load: String::new(),
        target: String::new(),
        connections,
        requests: times.len(),
        errors,
        per_second: times.len() as f64 / elapsed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
    }
}

fn process_call(base: &str, token: &str, context: Value) -> impl Fn(&reqwest::Client) -> reqwest::RequestBuilder + use<> {
    let (url, token, body) = (format!("{base}/api/v1/process"), format!("Bearer {token}"), json!({ "context": context }).to_string());
    move |client: &reqwest::Client| {
        client.post(&url).header("authorization", &token).header("content-type", "application/json").body(body.clone())
    }
}

/// The filtered first page every list load asks for, varied by `i`.
fn list_context(i: usize) -> Value {
    json!({"action": "list_shareable", "limit": 50,
           "pipe_filters": {"category": CATEGORIES[i % CATEGORIES.len()], "status": STATUSES[(i / 8) % 3]}})
}

#[derive(Serialize)]
struct Stage {
    stage: String,
    p50_ms: f64,
}

/// Where one list request's time goes, stage by stage, in this process on the same database.
async fn list_stages(db: &DatabaseConnection, orchestrator: &Orchestrator, owner_token: &str) -> Vec<Stage> {
    async fn median<F: std::future::Future<Output = ()>>(runs: usize, mut f: impl FnMut(usize) -> F) -> f64 {
        let mut times = Vec::with_capacity(runs);
        for i in 0..runs {
            let start = Instant::now();
            f(i).await;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        times[runs / 2]
    }
    let caller = accounts::authenticate_token(db, owner_token).await.unwrap().unwrap();
    let filters = |i: usize| {
        let context = list_context(i);
        let fields = app::orchestrator::input::Fields::new("context", Some(&context)).unwrap();
        list::PipeFilters::from_context(&fields).unwrap()
    };
    let sample = list::list_shareable(db, &caller, &filters(0)).await.unwrap();
    let unkept = orchestrator.clone().keeping_answers(0);
    vec![
        Stage {
            stage: "authenticate the bearer token".into(),
            p50_ms: median(200, |_| async {
                accounts::authenticate_token(db, owner_token).await.unwrap().unwrap();
            })
            .await,
        },
        Stage {
            stage: "read the request's filters".into(),
            p50_ms: median(200, |i| {
                let _ = filters(i);
                async {}
            })
            .await,
        },
        Stage {
            stage: "query: validate, count, page, owners".into(),
            p50_ms: median(200, |i| {
                let (caller, filters) = (&caller, filters(i));
                async move {
                    list::list_shareable(db, caller, &filters).await.unwrap();
                }
            })
            .await,
        },
        Stage {
            stage: "build the JSON answer".into(),
            p50_ms: median(200, |_| {
                let _ = serde_json::to_vec(&json!({"success": true, "result": sample})).unwrap();
                async {}
            })
            .await,
        },
        Stage {
            stage: "the whole action, in process, read".into(),
            p50_ms: median(200, |i| {
                let (caller, context, orchestrator) = (&caller, list_context(i), &unkept);
                async move {
                    orchestrator.process(caller, &context, &json!({})).await.unwrap();
                }
            })
            .await,
        },
        Stage {
            stage: "the whole action, in process, kept".into(),
            p50_ms: median(200, |i| {
                let (caller, context) = (&caller, list_context(i));
                async move {
                    orchestrator.process(caller, &context, &json!({})).await.unwrap();
                }
            })
            .await,
        },
    ]
}

#[derive(Serialize)]
struct SearchTime {
    search: String,
    matches: u64,
    load: Load,
}

/// Searches matching ever more of the catalogue: one pipe, about 1%, 5%, 12.5% and every pipe.
const SEARCH_BREADTH: [&str; 5] = ["pipe_000123", "number 12", "team-7", "data plug", "registry"];

/// Each search of [`SEARCH_BREADTH`] asked from one connection, one request at a time, of the
/// server at `base` that keeps no answers: the text index's cost as it grows with the matches
/// (every match is counted for `total_count`, and the page is the first 50 by name).
async fn search_breadth(base: &str, token: &str, seconds: f64) -> Vec<SearchTime> {
    let client = reqwest::Client::new();
    let mut measured = Vec::new();
    for search in SEARCH_BREADTH {
        let call = process_call(base, token, json!({"action": "list_shareable", "limit": 50, "search": search}));
        let answer: Value = call(&client).send().await.unwrap().json().await.unwrap();
        let matches = answer["result"]["total_count"].as_u64().unwrap_or_else(|| panic!("{answer}"));
        let make: MakeRequest = Arc::new(move |client, _| call(client));
        let load = drive(&format!("text search \"{search}\", one connection"), "uncached", 1, seconds, make).await;
        measured.push(SearchTime { search: search.into(), matches, load });
    }
    measured
}

#[derive(Serialize)]
struct Plan {
    filter: String,
    steps: Vec<String>,
}

/// How the database runs the owner's listing under each filter.
async fn list_plans(db: &DatabaseConnection, owner_token: &str) -> Vec<Plan> {
    let caller = accounts::authenticate_token(db, owner_token).await.unwrap().unwrap();
    let mut plans = Vec::new();
    for (filter, context) in [
        ("first page", json!({"limit": 50})),
        ("category + status", list_context(0)),
        ("author", json!({"limit": 50, "pipe_filters": {"author": "Team 7"}})),
        ("text search", json!({"limit": 50, "search": "number 12"})),
        ("public", json!({"limit": 50, "pipe_filters": {"visibility": "public"}})),
        ("shared", json!({"limit": 50, "pipe_filters": {"shared": true}})),
        ("after a name", json!({"limit": 50, "after": "pipe_000500"})),
        ("shared with me", json!({"limit": 50, "pipe_filters": {"scope": "shared_with_me"}})),
    ] {
        let fields = app::orchestrator::input::Fields::new("context", Some(&context)).unwrap();
        let filters = list::PipeFilters::from_context(&fields).unwrap();
        plans.push(Plan { filter: filter.into(), steps: list::query_plans(db, &caller, &filters).await.unwrap() });
    }
    plans
}

#[derive(Serialize)]
struct SizeRun {
    pipes: usize,
    backend: String,
    read_and_parse: ProcessRun,
    scan: ProcessRun,
    rescan: ProcessRun,
    downloads: usize,
    /// Counting the loaded downloads into the report tallies, as an import does.
    tally_rebuild_seconds: f64,
    loads: Vec<Load>,
    list_stages: Vec<Stage>,
    list_stages_over_http_ms: f64,
    list_plans: Vec<Plan>,
    search_breadth: Vec<SearchTime>,
}

async fn run_size(pipes: usize, seconds: f64) -> SizeRun {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    write_tree(&tree, pipes);
    // The tree goes to disk before anything is timed: the kernel writing it back meanwhile
    // took both cores' time from whatever ran then (a scan of 100k took twice as long).
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() };
    let (parsed, parse_time, parse_cpu) = read_and_parse(&tree);
    assert_eq!(parsed, pipes);
    let read_and_parse = ProcessRun {
        seconds: parse_time.as_secs_f64(),
        per_second: pipes as f64 / parse_time.as_secs_f64(),
        cpu_seconds: parse_cpu.as_secs_f64(),
        peak_rss_mib: None,
    };

    let url = fresh_database(dir.path(), pipes).await;
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let db = db::connect(&url).await.unwrap();
    let mut users = Vec::new();
    for (name, admin) in [("owner", false), ("reader", false), ("admin", true)] {
        users.push(accounts::create_user(&db, &name.parse().unwrap(), PASSWORD, admin).await.unwrap().id);
    }
    let token = |user: &'static str| {
        let db = db.clone();
        async move {
            let new = accounts::NewToken { label: "bench".into(), expires_at: None, scope: Default::default() };
            accounts::create_token(&db, user, &new).await.unwrap()
        }
    };
    let tokens = Tokens { owner: token("owner").await, reader: token("reader").await, admin: token("admin").await };

    let scan_command = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pipeshare"));
        command.args(["scan", "--owner", "owner"]).arg(&tree).env("DATABASE_URL", &url).env("RUST_LOG", "warn");
        command
    };
    let scan = run_measured(&mut scan_command(), pipes);
    let rescan = run_measured(&mut scan_command(), pipes);

    // Shared pipes for downloads and public pages; the owner's share limit is the highest.
    let orchestrator = Orchestrator::new(db.clone(), "http://bench");
    Settings::update(&db, None, &[("max_pipes_per_user", "1000".into())]).await.unwrap();
    let owner = accounts::authenticate_token(&db, &tokens.owner).await.unwrap().unwrap();
    let shared = (pipes / 2).min(900);
    for i in 0..shared {
        let context = json!({"action": "share_pipe", "pipe_name": format!("pipe_{i:06}"), "sharing_options": {"public": true}});
        orchestrator.process(&owner, &context, &json!({})).await.unwrap();
    }
    let downloads = pipes * DOWNLOADS_PER_PIPE;
    load_downloads(&db, &users, downloads).await;
    // The downloads went in behind the application's back: count them, as an import does.
    let rebuilding = Instant::now();
    let txn = db.begin().await.unwrap();
    app::orchestrator::tallies::rebuild(&txn, app::orchestrator::now().date_naive()).await.unwrap();
    txn.commit().await.unwrap();
    let tally_rebuild_seconds = rebuilding.elapsed().as_secs_f64();
    if backend == "sqlite" {
        // The rows loaded move from the write-ahead log into the database file, as on a
        // database at rest: no load below waits on their checkpoint.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
    }

    let (_pipeshare, base) = start_pipeshare(&url, dir.path(), 16).await;
    // The same server keeping no answers: every listing and download read from the database.
    let (_uncached, uncached) = start_pipeshare(&url, dir.path(), 0).await;
    let (_bare, bare) = start_bare(&url).await;
    let mut loads = Vec::new();
    let mut add = |load: Load| {
        print_load(pipes, &load);
        loads.push(load);
    };

    // The filtered first page of list_shareable, against the bare handler's same query.
    let targets = [("pipeshare", format!("{base}/api/v1/process")), ("uncached", format!("{uncached}/api/v1/process"))];
    for (target, url) in targets.into_iter().chain([("bare", format!("{bare}/list"))]) {
        let token = format!("Bearer {}", tokens.owner);
        let make: MakeRequest = Arc::new(move |client, i| {
            client
                .post(&url)
                .header("authorization", &token)
                .header("content-type", "application/json")
                .body(json!({"context": list_context(i)}).to_string())
        });
        add(drive("list_shareable, category + status", target, CONNECTIONS, seconds, make).await);
    }
    for (target, base) in [("pipeshare", base.clone()), ("uncached", uncached.clone())] {
        let token = tokens.owner.clone();
        let search = Arc::new(move |client: &reqwest::Client, i: usize| {
            let words = ["number 1", "registry", "monitoring", "pipe_00", "team-7", "audit"];
            process_call(
                &base,
                &token,
                json!({"action": "list_shareable", "limit": 50, "search": format!("{} {}", words[i % words.len()], i % 10)}),
            )(client)
        }) as MakeRequest;
        add(drive("list_shareable, text search", target, CONNECTIONS, seconds, search).await);
    }
    // Each pipe asked for once first with a HEAD, which is answered (and the answer kept) but
    // counts no download: the load meets downloads as scripts mostly do, kept, and still
    // counts each pipe's first download, which the answer waits for.
    let client = reqwest::Client::new();
    for i in 0..shared {
        let asked = client.head(format!("{base}/pipes/pipe_{i:06}/download")).bearer_auth(&tokens.reader).send().await.unwrap();
        assert!(asked.status().is_success(), "{}", asked.status());
    }
    for (target, base) in [("pipeshare", base.clone()), ("uncached", uncached.clone()), ("bare", bare.clone())] {
        let token = format!("Bearer {}", tokens.reader);
        let make: MakeRequest =
            Arc::new(move |client, i| client.get(format!("{base}/pipes/pipe_{:06}/download", i % shared)).header("authorization", &token));
        add(drive("download_pipe (manifest)", target, CONNECTIONS, seconds, make).await);
    }
    // Each page once first (each is rendered then, as on its first visit after a change):
    // the load measures pages as visitors mostly meet them, kept.
    for i in 0..shared {
        let page = client.get(format!("{base}/pipes/pipe_{i:06}")).send().await.unwrap();
        assert!(page.status().is_success(), "{}", page.status());
    }
    for (target, base) in [("pipeshare", base.clone()), ("bare", bare.clone())] {
        let make: MakeRequest =
            Arc::new(move |client, i| client.get(format!("{base}/pipes/pipe_{:06}", i % shared)).header("accept", "text/html"));
        add(drive("public pipe page (SSR)", target, CONNECTIONS, seconds, make).await);
    }
    {
        let base = base.clone();
        let make: MakeRequest = Arc::new(move |client, i| {
            client.get(format!("{base}/?category={}", CATEGORIES[i % CATEGORIES.len()])).header("accept", "text/html")
        });
        add(drive("browse page (SSR, anonymous)", "pipeshare", CONNECTIONS, seconds, make).await);
    }
    for (who, token, connections) in [("admin", &tokens.admin, CONNECTIONS), ("admin", &tokens.admin, 1), ("owner", &tokens.owner, 1)] {
        let call = process_call(
            &base,
            token,
            json!({"action": "generate_share_report", "report_options": {"time_range": "1_year", "report_format": "comprehensive"}}),
        );
        let make: MakeRequest = Arc::new(move |client, _| call(client));
        add(drive(&format!("generate_share_report, {who}, a year"), "pipeshare", connections, seconds, make).await);
    }
    {
        let (base, token) = (base.clone(), tokens.owner.clone());
        let make: MakeRequest = Arc::new(move |client, i| {
            let public = i % 2 == 0;
            process_call(
                &base,
                &token,
                json!({"action": "share_pipe", "pipe_name": format!("pipe_{:06}", i % shared), "sharing_options": {"public": public}}),
            )(client)
        });
        add(drive("share_pipe", "pipeshare", SHARE_CONNECTIONS, seconds, make).await);
    }
    // The quota stays exact under concurrent writes.
    let shares = app::orchestrator::entities::shares::Entity::find().all(&db).await.unwrap();
    assert_eq!(shares.len(), shared, "share_pipe under load made or lost shares");

    let list_stages = list_stages(&db, &orchestrator, &tokens.owner).await;
    let one = {
        let call = process_call(&base, &tokens.owner, list_context(0));
        let make: MakeRequest = Arc::new(move |client, _| call(client));
        drive("list, one connection", "pipeshare", 1, seconds.min(2.0), make).await
    };
    SizeRun {
        pipes,
        backend: backend.into(),
        read_and_parse,
        scan,
        rescan,
        downloads,
        tally_rebuild_seconds,
        loads,
        list_stages,
        list_stages_over_http_ms: one.p50_ms,
        list_plans: list_plans(&db, &tokens.owner).await,
        search_breadth: search_breadth(&uncached, &tokens.owner, seconds.min(2.0)).await,
    }
}

fn print_load(pipes: usize, load: &Load) {
    println!(
        "{pipes:>7} {:<42} {:<9} {:>4} {:>9.0} {:>9.2} {:>9.2} {:>7}",
        load.load, load.target, load.connections, load.per_second, load.p50_ms, load.p99_ms, load.errors
    );
}

fn print_run(run: &SizeRun) {
    println!("\n{} pipes on {}:", run.pipes, run.backend);
    for (label, figures) in
        [("read + parse alone, one thread", &run.read_and_parse), ("pipeshare scan", &run.scan), ("pipeshare scan, unchanged", &run.rescan)]
    {
        let rss = figures.peak_rss_mib.map(|mib| format!("peak RSS {mib:>5.0} MiB")).unwrap_or_default();
        println!(
            "  {label:<34} {:>8.2} s {:>9.0} manifests/s  {:>4.2} cores busy  {rss}",
            figures.seconds,
            figures.per_second,
            figures.cpu_seconds / figures.seconds
        );
    }
    println!("  the scan took {:.2}x the time of read + parse alone", run.scan.seconds / run.read_and_parse.seconds);
    println!("  {} downloads loaded, counted into the report tallies in {:.2} s", run.downloads, run.tally_rebuild_seconds);
    for pair in run.loads.iter().filter(|l| l.target == "bare") {
        for ours in run.loads.iter().filter(|l| l.load == pair.load && l.target != "bare") {
            println!(
                "  {:<42} {:<9} {:.2}x the bare handler's requests/s, p99 {:.2}x",
                pair.load,
                ours.target,
                ours.per_second / pair.per_second,
                ours.p99_ms / pair.p99_ms.max(0.001)
            );
        }
    }
    println!("  one list request, stage by stage (median, in process):");
    for stage in &run.list_stages {
        println!("    {:<40} {:>7.3} ms", stage.stage, stage.p50_ms);
    }
    println!("    {:<40} {:>7.3} ms", "over HTTP, one connection", run.list_stages_over_http_ms);
    println!("  text search by how much it matches (one connection, over HTTP, no kept answers):");
    for search in &run.search_breadth {
        println!(
            "    {:<16} {:>7} matches   p50 {:>8.2} ms   p99 {:>8.2} ms",
            format!("\"{}\"", search.search),
            search.matches,
            search.load.p50_ms,
            search.load.p99_ms
        );
    }
    println!("  query plans of the owner's listing:");
    for plan in &run.list_plans {
        println!("    {}:", plan.filter);
        for step in &plan.steps {
            println!("      {step}");
        }
    }
}

fn main() {
    if let Ok(bare) = std::env::var("PIPESHARE_BENCH_BARE") {
        let (addr, url) = bare.split_once(' ').unwrap();
        return tokio::runtime::Runtime::new().unwrap().block_on(bare::serve(addr.to_string(), url.to_string()));
    }
    let sizes: Vec<usize> = std::env::var("PIPESHARE_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("PIPESHARE_BENCH_SIZES: numbers separated by commas"))
        .collect();
    let seconds: f64 = std::env::var("PIPESHARE_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let json_path = PathBuf::from(std::env::var("PIPESHARE_BENCH_JSON").unwrap_or_else(|_| "target/bench-hub.json".into()));
    // One thread drives the load, as a separate load generator would.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    println!("load generator: {}", load_generator());
    println!("{:>7} {:<42} {:<9} {:>4} {:>9} {:>9} {:>9} {:>7}", "pipes", "load", "target", "conn", "req/s", "p50 ms", "p99 ms", "errors");
    let runs: Vec<SizeRun> = sizes.iter().map(|&pipes| runtime.block_on(run_size(pipes, seconds))).collect();
    for run in &runs {
        print_run(run);
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let report = json!({"benchmark": "hub", "cores": cores, "seconds_per_load": seconds, "load_generator": load_generator(), "runs": runs});
    if let Some(parent) = json_path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&json_path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\nwritten to {}", json_path.display());
}

/// The baseline: the same queries by hand with axum and sqlx, nothing else.
mod bare {
    use axum::{
        Json, Router,
        extract::{Path, State},
        http::{HeaderMap, StatusCode},
        response::{Html, IntoResponse, Response},
        routing::{get, post},
    };
    use serde_json::{Value, json};
    use sha2::Digest;
    use sqlx::{AnyPool, Row, any::AnyPoolOptions};

    pub async fn serve(addr: String, url: String) {
        sqlx::any::install_default_drivers();
        let url = url.replace("?mode=rwc", "");
        // The pool pipeshare keeps: ten connections, SQLite's not pinged before each use.
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new().max_connections(10).test_before_acquire(!sqlite).connect(&url).await.unwrap();
        let app = Router::new()
            .route("/up", get(|| async { "ok" }))
            .route("/list", post(list))
            .route("/pipes/{name}/download", get(download))
            .route("/pipes/{name}", get(page))
            .with_state(pool);
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        axum::serve(listener, app).await.unwrap();
    }

    fn refused(status: StatusCode) -> Response {
        (status, Json(json!({"success": false, "error": "refused"}))).into_response()
    }

    /// The bearer token's user.
    async fn caller(pool: &AnyPool, headers: &HeaderMap) -> Option<i64> {
        let token = headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")?;
        let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
        let row = sqlx::query("SELECT u.id FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1")
            .bind(hash)
            .fetch_optional(pool)
            .await
            .ok()??;
        row.try_get::<i64, _>(0).ok().or_else(|| row.try_get::<i32, _>(0).ok().map(i64::from))
    }

    fn id(row: &sqlx::any::AnyRow, column: usize) -> i64 {
        row.try_get::<i64, _>(column).or_else(|_| row.try_get::<i32, _>(column).map(i64::from)).unwrap()
    }

    async fn list(State(pool): State<AnyPool>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
        let Some(user) = caller(&pool, &headers).await else { return refused(StatusCode::UNAUTHORIZED) };
        let filters = &body["context"]["pipe_filters"];
        let (category, status) = (filters["category"].as_str().unwrap_or_default(), filters["status"].as_str().unwrap_or_default());
        let count = sqlx::query("SELECT COUNT(*) FROM pipes WHERE owner_id = $1 AND category = $2 AND status = $3")
            .bind(user)
            .bind(category)
            .bind(status)
            .fetch_one(&pool)
            .await
            .unwrap();
        let rows = sqlx::query(
            "SELECT p.name, p.latest_version, p.category, p.author, p.status, p.description, p.tags, u.username, s.share_id, s.status \
             FROM pipes p JOIN users u ON u.id = p.owner_id LEFT JOIN shares s ON s.pipe_id = p.id \
             WHERE p.owner_id = $1 AND p.category = $2 AND p.status = $3 ORDER BY p.name LIMIT 51",
        )
        .bind(user)
        .bind(category)
        .bind(status)
        .fetch_all(&pool)
        .await
        .unwrap();
        let text = |row: &sqlx::any::AnyRow, i: usize| row.try_get::<Option<String>, _>(i).unwrap();
        let pipes: Vec<Value> = rows
            .iter()
            .take(50)
            .map(|row| {
                json!({"name": text(row, 0), "version": text(row, 1), "category": text(row, 2), "author": text(row, 3),
                       "status": text(row, 4), "description": text(row, 5),
                       "tags": serde_json::from_str::<Value>(&text(row, 6).unwrap_or_default()).unwrap_or_default(),
                       "owner": text(row, 7), "share_id": text(row, 8), "sharing_enabled": text(row, 9).as_deref() == Some("active")})
            })
            .collect();
        let next_after = (rows.len() > 50).then(|| pipes.last().map(|p| p["name"].clone()));
        Json(json!({"success": true, "message": "ok", "result": {"pipes": pipes, "total_count": id(&count, 0), "next_after": next_after}}))
            .into_response()
    }

    /// The newest version's manifests of a pipe the caller may see: their own, or shared.
    async fn download(State(pool): State<AnyPool>, headers: HeaderMap, Path(name): Path<String>) -> Response {
        let Some(user) = caller(&pool, &headers).await else { return refused(StatusCode::UNAUTHORIZED) };
        let Ok(Some(row)) = sqlx::query(
            "SELECT p.id, v.version, v.manifests FROM pipes p JOIN pipe_versions v ON v.pipe_id = p.id AND v.version = p.latest_version \
             WHERE p.name = $1 AND (p.owner_id = $2 OR EXISTS (SELECT 1 FROM shares s WHERE s.pipe_id = p.id AND s.status = 'active'))",
        )
        .bind(&name)
        .bind(user)
        .fetch_optional(&pool)
        .await
        else {
            return refused(StatusCode::NOT_FOUND);
        };
        let manifests: Value = serde_json::from_str(&row.try_get::<String, _>(2).unwrap()).unwrap();
        Json(json!({"success": true, "result": {"pipe_name": name, "version": row.try_get::<String, _>(1).unwrap(), "manifests": manifests}}))
            .into_response()
    }

    async fn page(State(pool): State<AnyPool>, Path(name): Path<String>) -> Response {
        let Ok(Some(row)) = sqlx::query(
            "SELECT p.name, p.description, p.latest_version, v.manifests FROM pipes p \
             JOIN shares s ON s.pipe_id = p.id AND s.status = 'active' \
             JOIN pipe_versions v ON v.pipe_id = p.id AND v.version = p.latest_version WHERE p.name = $1",
        )
        .bind(&name)
        .fetch_optional(&pool)
        .await
        else {
            return refused(StatusCode::NOT_FOUND);
        };
        let text = |i: usize| row.try_get::<Option<String>, _>(i).unwrap().unwrap_or_default();
        let escape = |s: String| s.replace('&', "&amp;").replace('<', "&lt;");
        Html(format!(
            "<!DOCTYPE html><html><head><title>{0}</title></head><body><h1>{0}</h1><p>{1}</p><p>version {2}</p><pre>{3}</pre></body></html>",
            escape(text(0)),
            escape(text(1)),
            escape(text(2)),
            escape(text(3))
        ))
        .into_response()
    }
}
