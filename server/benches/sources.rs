//! Registry source figures: the first scan and an unchanged rescan of a folder source, and of
//! another pipeshare (a real server on loopback, reached through a proxy that counts the
//! bytes), each with N manifests.
//!
//! `cargo bench -p server --bench sources` (10,000 pipes); `PIPESHARE_BENCH_PIPES` for more.
use std::{
    fs,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use app::orchestrator::{
    Orchestrator, accounts, db,
    entities::{JsonText, pipes, shares},
    scan,
    sources::{NewSource, SourceKind, SourceScanReport},
};
use sea_orm::{EntityTrait, QuerySelect, Set};
use server::startup::{ServerConfig, serve};
use tokio::net::{TcpListener, TcpStream};

fn write_tree(root: &Path, pipes: usize) {
    for i in 0..pipes {
        let dir = root.join(format!("plugs/tools/pipe_{i:06}/1.0.0"));
        fs::create_dir_all(&dir).unwrap();
        let manifest = format!(
            "name: pipe_{i:06}\nversion: 1.0.0\ncategory: tools\nstatus: stable\nauthor: Team {}\n\
description: Generated pipe number {i} for the sources benchmark\ntags: [bench]\n\
capabilities:\n- read\n- write\nconfig:\n  retries: 3\n  timeout_seconds: 30\n",
            i % 50
        );
        fs::write(dir.join("plug.yaml"), manifest).unwrap();
    }
}

/// Forwards loopback connections to `target`, counting the bytes both ways.
async fn counting_proxy(target: std::net::SocketAddr, moved: Arc<AtomicU64>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut inbound, _) = listener.accept().await.unwrap();
            let moved = moved.clone();
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(target).await.unwrap();
                if let Ok((up, down)) = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await {
                    moved.fetch_add(up + down, Ordering::Relaxed);
                }
            });
        }
    });
    addr
}

fn row(label: &str, report: &SourceScanReport, seconds: f64, bytes: Option<u64>) {
    let handled = report.added + report.updated + report.unchanged;
    let moved = bytes.map_or(String::new(), |b| format!("   {:>10.1} KiB moved", b as f64 / 1024.0));
    println!(
        "{label:<34} {seconds:>8.3} s  {:>9.0} manifests/s   added {:>6} unchanged {:>6} conflicts {:>6}{moved}",
        handled as f64 / seconds,
        report.added,
        report.unchanged,
        report.conflicts
    );
}

#[tokio::main]
async fn main() {
    let count: usize = std::env::var("PIPESHARE_BENCH_PIPES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    write_tree(&tree, count);
    println!("pipeshare sources benchmark: {count} manifests, SQLite");

    // The remote: the tree scanned, every pipe shared publicly, served on loopback.
    let remote_db = db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("remote.db").display())).await.unwrap();
    let carol = accounts::create_user(&remote_db, &"carol".parse().unwrap(), "bench-password", false).await.unwrap();
    scan::scan_dir(&remote_db, &tree, scan::ScanTarget { owner_id: carol.id, source_id: None }, |_| {}).await.unwrap();
    let ids: Vec<(i32, String)> = pipes::Entity::find()
        .select_only()
        .column(pipes::Column::Id)
        .column(pipes::Column::Name)
        .into_tuple()
        .all(&remote_db)
        .await
        .unwrap();
    let now = chrono::Utc::now();
    for chunk in ids.chunks(1000) {
        let rows = chunk.iter().map(|(id, name)| shares::ActiveModel {
            pipe_id: Set(*id),
            share_id: Set(format!("bench-{name}")),
            is_public: Set(true),
            gated: Set(false),
            status: Set(app::model::ShareStatus::Active),
            options: Set(JsonText(Default::default())),
            requested_by: Set(carol.id),
            requested_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        });
        shares::Entity::insert_many(rows).exec(&remote_db).await.unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let remote_addr = listener.local_addr().unwrap();
    let config = ServerConfig {
        base_url: format!("http://{remote_addr}"),
        base_url_set: false,
        trusted_proxies: Vec::new(),
        metrics_allow: Vec::new(),
        site_root: dir.path().display().to_string(),
    };
    tokio::spawn(serve(listener, Orchestrator::new(remote_db, config.base_url.clone()), config));
    let moved = Arc::new(AtomicU64::new(0));
    let proxy = counting_proxy(remote_addr, moved.clone()).await;

    // Here: each kind of source on an instance of its own (they hold the same names), scanned
    // by hand.
    let sources =
        [("folder", SourceKind::Folder, tree.display().to_string()), ("remote", SourceKind::Pipeshare, format!("http://{proxy}"))];
    for (name, kind, location) in sources {
        let local_db = db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join(format!("here-{name}.db")).display())).await.unwrap();
        accounts::create_user(&local_db, &"owner".parse().unwrap(), "bench-password", false).await.unwrap();
        let local = Orchestrator::new(local_db, "http://127.0.0.1:3000");
        let new =
            NewSource { name: name.into(), kind, location, owner: "owner".parse().unwrap(), token: None, interval: None, force: false };
        local.add_source(None, &new).await.unwrap();
        for pass in ["first scan", "unchanged rescan"] {
            moved.store(0, Ordering::Relaxed);
            let start = Instant::now();
            let report = local.scan_source(None, name).await.unwrap();
            let seconds = start.elapsed().as_secs_f64();
            assert!(report.succeeded, "{report:?}");
            // The proxy counts a connection once it closes: wait for the client's to.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let bytes = (kind == SourceKind::Pipeshare).then(|| moved.load(Ordering::Relaxed));
            row(&format!("{name} source, {pass}"), &report, seconds, bytes);
        }
    }
}
