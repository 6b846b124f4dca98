//! Notification emails received on a local SMTP sink: a new access request reaches the pipe's
//! owner, its outcome the requester, a grant ending soon its grantee, each at most once a day.
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Instance, plug, write_tree};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One received message: the recipients and the raw text.
type Received = Arc<Mutex<Vec<(Vec<String>, String)>>>;

/// A minimal SMTP server that accepts every message.
async fn sink() -> (u16, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let store = received.clone();
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ready\r\n").await.unwrap();
                let mut to = Vec::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(|c| c == '<' || c == '>').to_string());
                        write.write_all(b"250 ok\r\n").await.unwrap();
                    } else if upper == "DATA" {
                        write.write_all(b"354 go on\r\n").await.unwrap();
                        let mut text = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            text.push_str(&line);
                            text.push('\n');
                        }
                        store.lock().unwrap().push((std::mem::take(&mut to), text));
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        write.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, received)
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..150 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

fn to(received: &Received, address: &str) -> Vec<String> {
    received.lock().unwrap().iter().filter(|(to, _)| to.iter().any(|t| t == address)).map(|(_, text)| text.clone()).collect()
}

#[tokio::test]
async fn notifications_are_emailed_once_a_day() {
    let (port, received) = sink().await;
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let bob = instance.user_with_token("bob", false);
    instance.user_with_token("carol", false);
    instance.cli_ok(&["user", "email", "alice", "alice@example.com"], None);
    instance.cli_ok(&["user", "email", "bob", "bob@example.com"], None);
    assert!(!instance.cli(&["user", "email", "carol", "not an address"], None).status.success());
    let tree =
        write_tree(&instance.path().join("tree"), &[("reports/1.0.0/plug.yaml", &plug("reports", "1.0.0", "data", "stable", "A", "d"))]);
    instance.scan(&tree, "alice");
    let smtp = format!("smtp://127.0.0.1:{port}");
    let server = instance
        .serve_with(&[("PIPESHARE_SMTP_URL", &smtp), ("PIPESHARE_SMTP_FROM", "hub@example.com"), ("PIPESHARE_WEBHOOK_POLL_MS", "100")])
        .await;
    server.call(&alice, json!({"action": "share_pipe", "pipe_name": "reports", "sharing_options": {"gated": true}})).await.ok();

    // A new request reaches the owner; asking again the same day sends nothing more.
    let ask = json!({"action": "request_access", "pipe_name": "reports", "reason": "the weekly summary", "duration_days": 30});
    let request = server.call(&bob, ask.clone()).await.ok().clone();
    until("alice is told", || !to(&received, "alice@example.com").is_empty()).await;
    let mail = to(&received, "alice@example.com").remove(0);
    assert!(mail.contains("Subject: bob asks for read access to reports"), "{mail}");
    assert!(mail.contains("the weekly summary") && mail.contains("From: hub@example.com"), "{mail}");
    server.call(&bob, ask).await.ok();

    // The outcome reaches bob.
    let approve = json!({"action": "review_access_request", "request_id": request["request_id"], "decision": "approve", "note": "enjoy"});
    server.call(&alice, approve).await.ok();
    until("bob is told", || !to(&received, "bob@example.com").is_empty()).await;
    let mail = to(&received, "bob@example.com").remove(0);
    assert!(mail.contains("was approved: read") && mail.contains("alice wrote: enjoy"), "{mail}");

    // A grant ending soon: a reminder to its grantee and to the owner, once.
    let ends = (chrono::Utc::now() + chrono::TimeDelta::days(2)).to_rfc3339();
    let grant = json!({"action": "manage_permissions", "pipe_name": "reports", "permissions": {"users": ["bob"], "expiration": ends}});
    server.call(&alice, grant).await.ok();
    // Reminders are looked for every 60 looks of the worker (6 s here).
    until("bob is reminded", || to(&received, "bob@example.com").iter().any(|m| m.contains("ends"))).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let reminders =
        to(&received, "bob@example.com").into_iter().filter(|m| m.contains("Subject: Your read access to reports ends")).count();
    assert_eq!(reminders, 1, "once a day");
    assert_eq!(to(&received, "alice@example.com").len(), 2, "the request and the owner's reminder, nothing twice");
    assert!(to(&received, "carol@example.com").is_empty(), "no address, no email");

    // Setting one's own address over the API; another's needs an admin.
    let set = server.call(&bob, json!({"action": "set_email", "email": "robert@example.com"})).await.ok().clone();
    assert_eq!(set["email"], "robert@example.com");
    server.call(&bob, json!({"action": "set_email", "user": "alice", "email": "x@example.com"})).await.failed(403);
    server.call(&bob, json!({"action": "set_email", "email": "two@@example.com"})).await.failed(400);
    assert_eq!(server.call(&bob, json!({"action": "set_email", "email": ""})).await.ok()["email"], serde_json::Value::Null);
}
