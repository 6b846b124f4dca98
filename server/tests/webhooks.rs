//! Webhooks against receivers on loopback: deliveries signed and verified, a receiver that is
//! down at first and gets its delivery on a retry, one redelivered by hand, none lost across a
//! server restart, none sent twice by two servers on one database, ended grants and shares
//! refused by the share limit announced.
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use common::{Instance, Server, plug, write_tree};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// What a receiver saw: each request's headers and body.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(HeaderMap, Value, String)>>>);

impl Seen {
    fn bodies(&self) -> Vec<Value> {
        self.0.lock().unwrap().iter().map(|(_, body, _)| body.clone()).collect()
    }
}

/// A receiver on `listener` answering `status`; returns what it sees, and a handle to stop it.
async fn receiver(listener: tokio::net::TcpListener, status: StatusCode) -> (Seen, tokio::task::JoinHandle<()>) {
    let seen = Seen::default();
    let app = Router::new()
        .route(
            "/hook",
            post(|State((seen, status)): State<(Seen, StatusCode)>, headers: HeaderMap, body: Bytes| async move {
                let text = String::from_utf8(body.to_vec()).unwrap();
                seen.0.lock().unwrap().push((headers, serde_json::from_str(&text).unwrap(), text));
                status
            }),
        )
        .with_state((seen.clone(), status));
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (seen, handle)
}

async fn free_port() -> u16 {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port()
}

/// A server whose worker looks every 100 ms and retries after 300 ms, 1.5 s, ...
async fn serve(instance: &Instance) -> Server {
    instance
        .serve_with(&[
            ("PIPESHARE_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("PIPESHARE_WEBHOOK_POLL_MS", "100"),
            ("PIPESHARE_WEBHOOK_RETRY_BASE_MS", "300"),
        ])
        .await
}

/// Waits up to 20 s for `done`.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

fn verify(secret: &str, headers: &HeaderMap, text: &str) {
    let sign = |message: &[u8]| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(message);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(headers["x-pipeshare-signature"].to_str().unwrap(), sign(text.as_bytes()), "signed over the body");
    let timestamp = headers["x-pipeshare-timestamp"].to_str().unwrap();
    let age = chrono::Utc::now().timestamp() - timestamp.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "a fresh timestamp: {age}");
    assert_eq!(headers["x-pipeshare-timestamp-signature"].to_str().unwrap(), sign(format!("{timestamp}.{text}").as_bytes()));
    let mut forged = text.to_string();
    forged.push(' ');
    assert_ne!(headers["x-pipeshare-signature"].to_str().unwrap(), sign(forged.as_bytes()));
}

fn instance() -> (Instance, String, String, String) {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let bob = instance.user_with_token("bob", false);
    let root = instance.user_with_token("root", true);
    let files: Vec<(String, String)> =
        ["sqlite", "other"].iter().map(|n| (format!("{n}/1.0.0/plug.yaml"), plug(n, "1.0.0", "database", "stable", "A", "d"))).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    instance.scan(&write_tree(&instance.path().join("tree"), &files), "alice");
    (instance, alice, bob, root)
}

async fn deliveries(server: &Server, token: &str, pipe: Option<&str>) -> Vec<Value> {
    let mut context = json!({"action": "list_webhooks"});
    if let Some(pipe) = pipe {
        context["pipe_name"] = json!(pipe);
    }
    let list = server.call(token, context).await.ok().clone();
    list["webhooks"].as_array().unwrap().iter().flat_map(|w| w["deliveries"].as_array().unwrap().clone()).collect()
}

#[tokio::test]
async fn deliveries_are_signed_retried_redelivered_and_survive_restarts() {
    let (instance, alice, bob, root) = instance();
    let server = serve(&instance).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (seen, _receiver) = receiver(listener, StatusCode::OK).await;

    // Who may subscribe, and to what.
    let add = |pipe: Option<&str>, url: &str| {
        let mut context = json!({"action": "add_webhook", "url": url});
        if let Some(pipe) = pipe {
            context["pipe_name"] = json!(pipe);
        }
        context
    };
    server.call(&bob, add(Some("sqlite"), &url)).await.failed(404);
    server.call(&bob, add(None, &url)).await.failed(403);
    for bad in
        ["ftp://example.com/x", "not a url", "http://user:pw@example.com/x", "http:///x", &format!("http://e.com/{}", "a".repeat(3000))]
    {
        server.call(&alice, add(Some("sqlite"), bad)).await.failed(400);
    }
    let bad_events = json!({"action": "add_webhook", "url": url, "pipe_name": "sqlite", "events": ["everything"]});
    server.call(&alice, bad_events).await.failed(400);
    let created = server.call(&alice, add(Some("sqlite"), &url)).await.ok().clone();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let webhook_id = created["webhook"]["webhook_id"].clone();
    let listed = server.call(&alice, json!({"action": "list_webhooks", "pipe_name": "sqlite"})).await;
    assert!(!listed.body.to_string().contains(&secret), "the secret is shown once");

    // A change is delivered, signed, with the typed payload.
    let share = json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}});
    server.call(&alice, share).await.ok();
    server.call(&alice, json!({"action": "share_pipe", "pipe_name": "other"})).await.ok();
    until("the share is delivered", async || !seen.bodies().is_empty()).await;
    let (headers, body, text) = seen.0.lock().unwrap()[0].clone();
    verify(&secret, &headers, &text);
    assert_eq!(body["type"], "share");
    assert_eq!(headers["x-pipeshare-event"], "share");
    assert_eq!(body["schema_version"], 1);
    assert_eq!(body["actor"]["user"], "alice");
    assert_eq!(body["pipe"]["name"], "sqlite");
    assert_eq!(body["data"]["sharing_options"]["public"], true);
    assert!(body["id"].as_str().unwrap().starts_with("evt_") && body["occurred_at"].is_string());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(seen.bodies().len(), 1, "the other pipe's share is not this subscription's");
    let log = deliveries(&server, &alice, Some("sqlite")).await;
    assert_eq!(log[0]["status"], "delivered");
    assert_eq!(log[0]["log"][0]["status_code"], 200);
    assert!(log[0]["log"][0]["duration_ms"].is_number());

    // By hand: a ping, and a redelivery of the same event (same id).
    server.call(&alice, json!({"action": "test_webhook", "webhook_id": webhook_id})).await.ok();
    until("the ping arrives", async || seen.bodies().iter().any(|b| b["type"] == "ping")).await;
    let first = log[0]["delivery_id"].clone();
    server.call(&alice, json!({"action": "redeliver_webhook", "delivery_id": first})).await.ok();
    let first_id = body["id"].clone();
    until("the redelivery arrives", async || seen.bodies().iter().filter(|b| b["id"] == first_id).count() == 2).await;
    server.call(&bob, json!({"action": "redeliver_webhook", "delivery_id": first})).await.failed(404);
    server.call(&bob, json!({"action": "test_webhook", "webhook_id": webhook_id})).await.failed(404);

    // A receiver that is down at first gets the delivery on a retry.
    let port = free_port().await;
    let late_url = format!("http://127.0.0.1:{port}/hook");
    let instance_wide = server.call(&root, add(None, &late_url)).await.ok().clone();
    let late_secret = instance_wide["secret"].as_str().unwrap().to_string();
    let grant = json!({"action": "manage_permissions", "pipe_name": "other", "permissions": {"users": ["bob"]}});
    server.call(&alice, grant).await.ok();
    until("an attempt failed", async || {
        deliveries(&server, &root, None).await.iter().any(|d| d["event_type"] == "grant" && d["attempts"].as_i64() >= Some(1))
    })
    .await;
    let failed = deliveries(&server, &root, None).await.into_iter().find(|d| d["event_type"] == "grant").unwrap();
    assert_eq!(failed["status"], "pending", "{failed}");
    assert!(failed["last_error"].as_str().unwrap().contains("connect"), "{failed}");
    // It is restarted before the retry: nothing queued is lost.
    drop(server);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let (late_seen, _late) = receiver(listener, StatusCode::OK).await;
    let server = serve(&instance).await;
    until("the retry arrives after the restart", async || late_seen.bodies().iter().any(|b| b["type"] == "grant")).await;
    let (headers, body, text) = late_seen.0.lock().unwrap().iter().find(|(_, b, _)| b["type"] == "grant").unwrap().clone();
    verify(&late_secret, &headers, &text);
    assert_eq!(body["data"]["users"], json!(["bob"]));
    // The outcome is recorded once the receiver has answered, a moment after it saw the body.
    until("the retry is recorded as delivered", async || {
        deliveries(&server, &root, None).await.iter().any(|d| d["event_type"] == "grant" && d["status"] == "delivered")
    })
    .await;
    let delivered = deliveries(&server, &root, None).await.into_iter().find(|d| d["event_type"] == "grant").unwrap();
    assert!(delivered["log"].as_array().unwrap().len() >= 2, "the failed attempt is in the log: {delivered}");

    // An ended grant is announced once.
    let ends = (chrono::Utc::now() + chrono::TimeDelta::seconds(1)).to_rfc3339();
    let short = json!({"action": "manage_permissions", "pipe_name": "other", "permissions": {"users": ["bob"], "expiration": ends}});
    server.call(&alice, short).await.ok();
    until("the ended grant is announced", async || late_seen.bodies().iter().any(|b| b["type"] == "grant_expired")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(late_seen.bodies().iter().filter(|b| b["type"] == "grant_expired").count(), 1);

    // A disabled owner's subscription hears nothing; the instance's still does.
    instance.cli_ok(&["user", "disable", "alice"], None);
    server.call(&root, json!({"action": "unshare_pipe", "pipe_name": "sqlite"})).await.ok();
    until("the instance hears of it", async || late_seen.bodies().iter().any(|b| b["type"] == "unshare")).await;
    assert!(!seen.bodies().iter().any(|b| b["type"] == "unshare"), "nothing for a disabled owner");
    instance.cli_ok(&["user", "enable", "alice"], None);

    // Removing a subscription stops its deliveries and forgets its log.
    server.call(&alice, json!({"action": "remove_webhook", "webhook_id": webhook_id})).await.ok();
    server.call(&alice, json!({"action": "remove_webhook", "webhook_id": webhook_id})).await.failed(404);
    assert!(deliveries(&server, &alice, Some("sqlite")).await.is_empty());
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_back_off_and_two_servers_send_each_delivery_once() {
    let (instance, alice, _bob, root) = instance();
    let failing = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let failing_url = format!("http://{}/hook", failing.local_addr().unwrap());
    let (failing_seen, _f) = receiver(failing, StatusCode::INTERNAL_SERVER_ERROR).await;
    let ok = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ok_url = format!("http://{}/hook", ok.local_addr().unwrap());
    let (seen, _r) = receiver(ok, StatusCode::NO_CONTENT).await;
    let (one, two) = (serve(&instance).await, serve(&instance).await);
    one.call(&root, json!({"action": "add_webhook", "url": failing_url, "events": ["grant"]})).await.ok();
    two.call(&root, json!({"action": "add_webhook", "url": ok_url, "events": ["grant", "revoke"]})).await.ok();
    for n in 0..10 {
        let server = if n % 2 == 0 { &one } else { &two };
        let user = format!("user{n}");
        instance.add_user(&user, false);
        let grant = json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": [user]}});
        server.call(&alice, grant).await.ok();
    }
    until("all ten arrive", async || seen.bodies().len() >= 10).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut ids: Vec<String> = seen.bodies().iter().map(|b| b["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((ids.len(), seen.bodies().len()), (10, 10), "each sent once by the two servers");

    // The failing receiver: answered 500 each time, tried again later each time.
    let three_logged = |d: &Value| d["last_status_code"] == 500 && d["log"].as_array().is_some_and(|l| l.len() >= 3);
    until("three attempts are logged", async || deliveries(&one, &root, None).await.iter().any(three_logged)).await;
    let log = deliveries(&one, &root, None).await;
    let failing_one = log.iter().find(|d| three_logged(d)).unwrap();
    assert_eq!(failing_one["status"], "pending");
    let attempts = failing_one["log"].as_array().unwrap();
    let at = |i: usize| chrono::DateTime::parse_from_rfc3339(attempts[i]["at"].as_str().unwrap()).unwrap();
    assert!(attempts.len() >= 3, "{failing_one}");
    // Waits of at least 300 ms, then 1.5 s: the back-off grows.
    assert!((at(1) - at(0)).num_milliseconds() >= 300);
    assert!((at(2) - at(1)).num_milliseconds() >= 1500);
    assert_eq!(attempts[0]["error"], "the receiver answered 500");

    // An operator sees the queue and the failed attempts in /metrics.
    let mut failed = 0.0;
    for server in [&one, &two] {
        let text = server.http.get(format!("{}/metrics", server.url)).send().await.unwrap().text().await.unwrap();
        let value =
            |name: &str| -> f64 { text.lines().find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0) };
        assert!(value("pipeshare_queue_messages{queue=\"webhook\",status=\"pending\"}") >= 10.0, "{text}");
        assert!(value("pipeshare_queue_messages{queue=\"webhook\",status=\"delivered\"}") >= 10.0, "{text}");
        failed += value("pipeshare_send_attempts_total{queue=\"webhook\",outcome=\"failed\"}");
    }
    assert!(failed >= 3.0, "refused attempts are counted: {failed}");
    assert!(failing_seen.bodies().len() >= 3, "the failing receiver saw each attempt");
}

#[tokio::test]
async fn a_share_refused_by_the_share_limit_is_announced_and_not_made() {
    let (instance, alice, _bob, root) = instance();
    instance.cli_ok(&["settings", "set", "max_pipes_per_user", "1"], None);
    let server = serve(&instance).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (seen, _receiver) = receiver(listener, StatusCode::OK).await;
    server.call(&root, json!({"action": "add_webhook", "url": url, "events": ["share", "quota_refused"]})).await.ok();

    server.call(&alice, json!({"action": "share_pipe", "pipe_name": "sqlite"})).await.ok();
    let refused = server.call(&alice, json!({"action": "share_pipe", "pipe_name": "other"})).await;
    assert!(refused.failed(409).contains("max_pipes_per_user is 1"));
    until("the refusal arrives", async || seen.bodies().iter().any(|b| b["type"] == "quota_refused")).await;
    let bodies = seen.bodies();
    let refusal = bodies.iter().find(|b| b["type"] == "quota_refused").unwrap();
    assert_eq!((refusal["pipe"]["name"].clone(), refusal["actor"]["user"].clone()), (json!("other"), json!("alice")));
    assert_eq!(refusal["data"], json!({"max_pipes_per_user": 1, "action": "share_pipe"}));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shares: Vec<Value> = seen.bodies().into_iter().filter(|b| b["type"] == "share").collect();
    assert_eq!(shares.len(), 1, "only the share that was made is announced: {shares:?}");
    assert_eq!(shares[0]["pipe"]["name"], "sqlite");
    let other = server.call(&alice, json!({"action": "get_pipe", "pipe_name": "other"})).await.ok().clone();
    assert!(other["sharing_options"].is_null(), "the refused share was not stored: {other}");
}
