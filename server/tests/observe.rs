//! What an operator watches: `/metrics` after traffic, who may read it, request ids, JSON
//! logs, and no secret in any log line.
mod common;

use common::{Instance, Server};
use serde_json::{Value, json};

async fn scrape(server: &Server, token: Option<&str>) -> (u16, String) {
    let mut request = server.http.get(format!("{}/metrics", server.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of the metric line starting with `series`, or 0.
fn value(text: &str, series: &str) -> f64 {
    text.lines().find(|l| l.starts_with(series)).and_then(|l| l.rsplit(' ').next()).map_or(0.0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn metrics_move_with_traffic() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let server = instance.serve().await;
    let (status, before) = scrape(&server, None).await;
    assert_eq!(status, 200, "loopback may read them");
    for _ in 0..3 {
        server.call(&alice, json!({})).await.ok();
    }
    server.call(&alice, json!({"action": "download_pipe", "pipe_name": "nothing"})).await.failed(404);
    for _ in 0..4 {
        server
            .http
            .post(format!("{}/api/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("username=alice&password=wrong+password")
            .send()
            .await
            .unwrap();
    }
    let (_, after) = scrape(&server, None).await;
    let ok = "pipeshare_http_requests_total{route=\"/api/v1/process\",method=\"POST\",status=\"200\"}";
    assert_eq!(value(&after, ok) - value(&before, ok), 3.0, "{after}");
    assert_eq!(value(&after, "pipeshare_http_requests_total{route=\"/api/v1/process\",method=\"POST\",status=\"404\"}"), 1.0);
    let count = "pipeshare_http_request_duration_seconds_count{route=\"/api/v1/process\"}";
    assert_eq!(value(&after, count), 4.0, "{after}");
    assert!(value(&after, "pipeshare_throttled_total{kind=\"sign-in-user\"}") >= 1.0, "{after}");
    assert!(value(&after, "pipeshare_db_connections_max") >= 1.0);
    assert!(after.contains("# TYPE pipeshare_http_request_duration_seconds histogram"));
}

/// Source scans and states: a scan moves the scan histogram, a source that cannot be read any
/// more shows as offline with its failures counted, and its pipes stay counted.
#[tokio::test]
async fn metrics_show_scans_and_source_states() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let root = instance.user_with_token("root", true);
    let tree = common::write_tree(
        &instance.path().join("tree"),
        &[("a/1.0.0/plug.yaml", &common::plug("a", "1.0.0", "tools", "stable", "A", "first"))],
    );
    let server = instance.serve().await;
    let add = json!({"action": "add_source", "name": "team", "kind": "folder", "location": tree, "owner": "alice", "interval": "manual"});
    server.call(&root, add).await.ok();
    let (_, before) = scrape(&server, None).await;
    assert_eq!(value(&before, "pipeshare_source_state{source=\"team\",kind=\"folder\",state=\"unknown\"}"), 1.0, "{before}");

    server.call(&root, json!({"action": "scan_source", "name": "team"})).await.ok();
    let (_, scanned) = scrape(&server, None).await;
    assert_eq!(value(&scanned, "pipeshare_source_state{source=\"team\",kind=\"folder\",state=\"healthy\"}"), 1.0, "{scanned}");
    assert_eq!(value(&scanned, "pipeshare_source_state{source=\"team\",kind=\"folder\",state=\"unknown\"}"), 0.0);
    assert_eq!(value(&scanned, "pipeshare_source_pipes{source=\"team\"}"), 1.0);
    assert_eq!(value(&scanned, "pipeshare_source_scan_duration_seconds_count{kind=\"scan\",outcome=\"ok\"}"), 1.0, "{scanned}");
    assert!(value(&scanned, "pipeshare_source_last_success_timestamp_seconds{source=\"team\"}") > 1.7e9);

    std::fs::rename(&tree, instance.path().join("moved")).unwrap();
    server.call(&root, json!({"action": "scan_source", "name": "team"})).await.ok();
    let (_, failed) = scrape(&server, None).await;
    assert_eq!(value(&failed, "pipeshare_source_scan_duration_seconds_count{kind=\"rescan\",outcome=\"failed\"}"), 1.0, "{failed}");
    assert_eq!(value(&failed, "pipeshare_source_consecutive_failures{source=\"team\"}"), 1.0);
    assert_eq!(value(&failed, "pipeshare_source_state{source=\"team\",kind=\"folder\",state=\"healthy\"}"), 0.0);
    assert_eq!(value(&failed, "pipeshare_source_pipes{source=\"team\"}"), 1.0, "a failed scan loses nothing");
}

#[tokio::test]
async fn metrics_are_for_allowed_addresses_and_admins() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let root = instance.user_with_token("root", true);
    let server = instance.serve_with(&[("PIPESHARE_METRICS_ALLOW", "10.9.9.9")]).await;
    assert_eq!(scrape(&server, None).await.0, 403);
    assert_eq!(scrape(&server, Some(&alice)).await.0, 403);
    assert_eq!(scrape(&server, Some(&root)).await.0, 200);
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_no_secret() {
    let instance = Instance::new();
    let token = instance.user_with_token("alice", false);
    let server = instance.serve_with(&[("PIPESHARE_LOG_FORMAT", "json"), ("RUST_LOG", "debug")]).await;
    let answer = server
        .http
        .post(format!("{}/api/v1/process", server.url))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-42")
        .body("{\"context\": {}}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["x-request-id"], "trace-me-42");
    let fresh = server.http.get(format!("{}/healthz", server.url)).send().await.unwrap();
    let id = fresh.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 16, "a new id when none is sent: {id}");
    let password = "correct horse battery";
    server
        .http
        .post(format!("{}/api/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=alice&password=correct+horse+battery")
        .send()
        .await
        .unwrap();
    server.call(&token, json!({"action": "download_pipe", "pipe_name": "nothing"})).await.failed(404);
    drop(server);

    let mut lines = Vec::new();
    for entry in std::fs::read_dir(instance.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("server-") {
            lines.extend(std::fs::read_to_string(path).unwrap().lines().map(String::from));
        }
    }
    assert!(!lines.is_empty());
    let mut tagged = 0;
    for line in &lines {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("a JSON line: {line}"));
        assert!(!line.contains(&token), "the token is in the log: {line}");
        assert!(!line.contains(password) && !line.contains("correct+horse"), "the password is in the log: {line}");
        if entry["span"]["id"] == "trace-me-42" && entry["fields"]["message"] == "answered" {
            tagged += 1;
        }
    }
    assert_eq!(tagged, 1, "the request's line names its id: {lines:#?}");
}
