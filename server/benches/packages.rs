//! Publishing and downloading 1 MiB packages over HTTP on loopback: the release server's
//! router in this process, a fresh SQLite file, concurrent clients with bearer tokens.
//!
//! `cargo bench -p server --bench packages` (`PIPESHARE_BENCH_CLIENTS`, default 8).
use std::time::{Duration, Instant};

use app::orchestrator::archive::{self, PackageFile};
use app::orchestrator::{Orchestrator, accounts, db};

const PACKAGE_BYTES: usize = 1 << 20;

/// A version folder with one file of incompressible bytes, so the package is about 1 MiB.
fn package(version: usize) -> Vec<u8> {
    let mut noise = Vec::with_capacity(PACKAGE_BYTES);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ version as u64;
    while noise.len() < PACKAGE_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let manifest = format!("name: big-pipe\nversion: 1.0.{version}\ndescription: a 1 MiB package\n");
    archive::pack(&[
        PackageFile { path: "pipe.yaml".into(), bytes: manifest.into_bytes() },
        PackageFile { path: "data.bin".into(), bytes: noise },
    ])
    .unwrap()
}

fn summary(label: &str, mut times: Vec<Duration>, elapsed: Duration, bytes: usize) {
    times.sort();
    let pct = |p: usize| times[(times.len() * p / 100).min(times.len() - 1)].as_secs_f64() * 1000.0;
    let rate = times.len() as f64 / elapsed.as_secs_f64();
    let mib = bytes as f64 / (1 << 20) as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<34} {:>5} requests  {rate:>8.1} req/s  {mib:>7.1} MiB/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
        times.len(),
        pct(50),
        pct(99)
    );
}

#[tokio::main]
async fn main() {
    let clients: usize = std::env::var("PIPESHARE_BENCH_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let dir = tempfile::tempdir().unwrap();
    let db = db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display())).await.unwrap();
    accounts::create_user(&db, &app::model::UserName::parse("owner").unwrap(), "bench-password", false).await.unwrap();
    let new = accounts::NewToken { label: "bench".into(), expires_at: None, scope: Default::default() };
    let token = accounts::create_token(&db, "owner", &new).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let config = server::startup::ServerConfig {
        base_url: base.clone(),
        base_url_set: false,
        trusted_proxies: Vec::new(),
        metrics_allow: Vec::new(),
        site_root: "target/site".into(),
    };
    let router = server::startup::router(Orchestrator::new(db, base.clone()), &config, addr);
    tokio::spawn(async move { axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap() });
    let client = reqwest::Client::new();

    // Publish: every client uploads its own versions.
    let per_client = 8;
    let bodies: Vec<Vec<u8>> = (0..clients * per_client).map(package).collect();
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for chunk in bodies.chunks(per_client).map(<[Vec<u8>]>::to_vec) {
        let (client, token, url) = (client.clone(), token.clone(), format!("{base}/api/v1/pipes/publish"));
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            for body in chunk {
                let started = Instant::now();
                let response = client.post(&url).bearer_auth(&token).body(body).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 201, "{}", response.text().await.unwrap());
                times.push(started.elapsed());
            }
            times
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    summary(&format!("publish 1 MiB ({clients} clients)"), times, start.elapsed(), bytes);

    // Download: the same package again and again, as installs do.
    let url = format!("{base}/pipes/big-pipe/versions/1.0.0/package.tar.gz");
    let rounds = 40;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, token, url) = (client.clone(), token.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..rounds {
                let started = Instant::now();
                let response = client.get(&url).bearer_auth(&token).send().await.unwrap();
                assert_eq!(response.status().as_u16(), 200);
                bytes += response.bytes().await.unwrap().len();
                times.push(started.elapsed());
            }
            (times, bytes)
        }));
    }
    let (mut times, mut bytes) = (Vec::new(), 0);
    for task in tasks {
        let (t, b) = task.await.unwrap();
        times.extend(t);
        bytes += b;
    }
    summary(&format!("download 1 MiB ({clients} clients)"), times, start.elapsed(), bytes);
}
