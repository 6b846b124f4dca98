//! Scale figures: scanning a generated PlugPipe tree, then listing, sharing, downloading
//! and reporting on the loaded catalogue, on a SQLite file.
//!
//! `cargo bench -p server --bench scale` (10,000 pipes); `PIPESHARE_BENCH_PIPES=100000` for more.
use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use app::orchestrator::{Caller, Orchestrator, accounts, db, scan};
use serde_json::{Value, json};

const CATEGORIES: [&str; 8] = ["security", "data", "api", "integration", "monitoring", "core", "agents", "database"];
const STATUSES: [&str; 4] = ["stable", "development", "experimental", "deprecated"];

fn write_tree(root: &Path, pipes: usize) {
    for i in 0..pipes {
        let category = CATEGORIES[i % CATEGORIES.len()];
        let dir = root.join(format!("plugs/{category}/pipe_{i:06}/1.0.0"));
        fs::create_dir_all(&dir).unwrap();
        let manifest = format!(
            "name: pipe_{i:06}\nversion: 1.0.0\ncategory: {category}\nstatus: {}\nauthor: Team {}\n\
description: Generated pipe number {i} for the scale benchmark\ntags: [bench, {category}]\n\
capabilities:\n- read\n- write\nconfig:\n  retries: 3\n  timeout_seconds: 30\n",
            STATUSES[i % STATUSES.len()],
            i % 50
        );
        fs::write(dir.join("plug.yaml"), manifest).unwrap();
    }
}

fn peak_rss_mib() -> f64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<f64>().unwrap_or(0.0))
        })
        .unwrap_or(0.0)
        / 1024.0
}

async fn time_calls(orchestrator: &Orchestrator, caller: &Caller, label: &str, runs: usize, context: impl Fn(usize) -> Value) {
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        orchestrator.process(caller, &context(i), &json!({})).await.unwrap_or_else(|e| panic!("{label}: {e}"));
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[runs / 2];
    let p95 = times[(runs * 95 / 100).min(runs - 1)];
    println!("{label:<44} median {:>8.2} ms   p95 {:>8.2} ms   ({runs} runs)", ms(median), ms(p95));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let pipes: usize = std::env::var("PIPESHARE_BENCH_PIPES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let start = Instant::now();
    write_tree(&tree, pipes);
    println!("pipeshare scale benchmark: {pipes} pipes (tree written in {:.1} s)", start.elapsed().as_secs_f64());

    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display());
    let db = db::connect(&url).await.unwrap();
    let owner = accounts::create_user(&db, &"owner".parse().unwrap(), "bench-password", false).await.unwrap();
    let reader = accounts::create_user(&db, &"reader".parse().unwrap(), "bench-password", false).await.unwrap();
    let admin = accounts::create_user(&db, &"admin".parse().unwrap(), "bench-password", true).await.unwrap();

    let rss_before = peak_rss_mib();
    let start = Instant::now();
    let summary = scan::scan_dir(&db, &tree, scan::ScanTarget { owner_id: owner.id, source_id: None }, |_| {}).await.unwrap();
    let first = start.elapsed();
    assert_eq!(summary.added as usize, pipes);
    println!(
        "scan, first load                             {:>8.2} s    {:>8.0} manifests/s   peak RSS {:.0} MiB (before {:.0} MiB)",
        first.as_secs_f64(),
        pipes as f64 / first.as_secs_f64(),
        peak_rss_mib(),
        rss_before
    );
    let start = Instant::now();
    let again = scan::scan_dir(&db, &tree, scan::ScanTarget { owner_id: owner.id, source_id: None }, |_| {}).await.unwrap();
    assert_eq!(again.unchanged as usize, pipes);
    let rescan = start.elapsed();
    println!(
        "rescan, nothing changed                      {:>8.2} s    {:>8.0} manifests/s",
        rescan.as_secs_f64(),
        pipes as f64 / rescan.as_secs_f64()
    );

    let orchestrator = Orchestrator::new(db.clone(), "http://bench");
    let owner = Caller::from(&owner);
    let reader = Caller::from(&reader);
    let admin = Caller::from(&admin);
    app::orchestrator::settings::Settings::update(&db, None, &[("max_pipes_per_user", "1000".into())]).await.unwrap();

    time_calls(&orchestrator, &owner, "list_shareable, first page of 50", 50, |_| json!({"limit": 50})).await;
    time_calls(&orchestrator, &owner, "list_shareable, deep page (offset n/2)", 20, |_| json!({"limit": 50, "offset": pipes / 2})).await;
    time_calls(
        &orchestrator,
        &owner,
        "list_shareable, deep page (after a name)",
        20,
        |_| json!({"limit": 50, "after": format!("pipe_{:06}", pipes / 2)}),
    )
    .await;
    time_calls(
        &orchestrator,
        &owner,
        "list_shareable, category + status",
        50,
        |_| json!({"pipe_filters": {"category": "security", "status": "stable", "limit": 50}}),
    )
    .await;
    time_calls(&orchestrator, &owner, "list_shareable, text search", 20, |i| json!({"search": format!("number {}", i * 7), "limit": 50}))
        .await;
    time_calls(&orchestrator, &admin, "list_shareable, admin, everything", 3, |_| json!({})).await;
    time_calls(
        &orchestrator,
        &owner,
        "share_pipe (public, new share)",
        500,
        |i| json!({"action": "share_pipe", "pipe_name": format!("pipe_{i:06}"), "sharing_options": {"public": true}}),
    )
    .await;
    time_calls(
        &orchestrator,
        &owner,
        "manage_permissions (one user)",
        100,
        |i| json!({"action": "manage_permissions", "pipe_name": format!("pipe_{i:06}"), "permissions": {"users": ["reader"]}}),
    )
    .await;
    time_calls(&orchestrator, &owner, "audit_log, one pipe", 100, |i| json!({"action": "audit_log", "pipe_name": format!("pipe_{i:06}")}))
        .await;
    time_calls(&orchestrator, &admin, "audit_log, whole instance, newest 50", 20, |_| json!({"action": "audit_log"})).await;
    time_calls(
        &orchestrator,
        &reader,
        "download_pipe (public share)",
        500,
        |i| json!({"action": "download_pipe", "pipe_name": format!("pipe_{:06}", i % 500)}),
    )
    .await;
    time_calls(&orchestrator, &reader, "list_shareable, non-owner (grant subquery)", 20, |_| json!({"limit": 50})).await;
    time_calls(&orchestrator, &admin, "generate_share_report, admin, all options", 10, |_| {
        json!({"action": "generate_share_report", "report_options": {"time_range": "30_days", "include_user_metrics": true, "include_trend_analysis": true}})
    })
    .await;
    time_calls(&orchestrator, &owner, "generate_share_report, owner", 10, |_| json!({"action": "generate_share_report"})).await;

    render_pages(orchestrator, pipes).await;
}

/// Server-side rendering of the browser app's pages over HTTP on loopback, signed in.
async fn render_pages(orchestrator: Orchestrator, pipes: usize) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = server::startup::ServerConfig {
        base_url: format!("http://{addr}"),
        base_url_set: false,
        trusted_proxies: Vec::new(),
        metrics_allow: Vec::new(),
        site_root: "target/site".into(),
    };
    let router = server::startup::router(orchestrator, &config, addr);
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = client
        .post(format!("{base}/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .body("username=owner&password=bench-password")
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let pages = [
        ("browse page 1 (25 rows)", "/".to_string()),
        ("browse, category + status filter", "/?category=security&status=stable".to_string()),
        ("browse, text search", "/?q=number%2012".to_string()),
        ("browse, last page (after a name)", format!("/?after=pipe_{:06}&offset={}", pipes - 26, pipes - 25)),
        ("browse, last page (offset)", format!("/?offset={}", pipes.saturating_sub(25))),
        ("pipe page", "/pipes/pipe_000001".to_string()),
    ];
    for (label, path) in pages {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..30 {
            let start = Instant::now();
            let response = client.get(format!("{base}{path}")).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
            bytes = response.bytes().await.unwrap().len();
            times.push(start.elapsed());
        }
        times.sort();
        println!("SSR {label:<40} median {:>8.2} ms   p95 {:>8.2} ms   ({} KiB of HTML)", ms(times[15]), ms(times[28]), bytes / 1024);
    }
}
