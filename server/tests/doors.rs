//! One way in for every door: the same caller check (bearer token or session) for the JSON
//! API, downloads and exports, and the same 400 for a malformed name wherever it comes in.
mod common;

use common::{Instance, Server, plug, write_tree};
use serde_json::{Value, json};

/// Signs `username` in with the sign-in form; returns the session cookie (`name=value`).
async fn session_cookie(server: &Server, username: &str) -> String {
    common::session(server, username, "correct horse battery").await.expect("signed in")
}

/// alice owns `sqlite` (not shared) and has a token; the server runs.
async fn setup() -> (Instance, Server, String) {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    instance.add_user("bob", false);
    let tree = write_tree(
        &instance.path().join("tree"),
        &[("plugs/db/sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "an embedded database"))],
    );
    instance.scan(&tree, "alice");
    let server = instance.serve().await;
    (instance, server, alice)
}

fn envelope_error(body: &str) -> String {
    let body: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON envelope: {body}"));
    assert_eq!(body["success"], false, "{body}");
    body["error"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_bearer_token_downloads_and_exports_like_a_session() {
    let (_instance, server, alice) = setup().await;
    let http = &server.http;

    // The manifest of a pipe that is not shared: its owner's token may download it.
    let download = http.get(format!("{}/pipes/sqlite/download", server.url)).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(download.status().as_u16(), 200);
    assert_eq!(download.headers()["content-disposition"], "attachment; filename=\"sqlite-1.0.0.yaml\"");
    assert!(download.text().await.unwrap().contains("an embedded database"));
    // Anonymous: the same not-found as for a pipe that does not exist.
    let anonymous = http.get(format!("{}/pipes/sqlite/download", server.url)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 404);
    assert_eq!(envelope_error(&anonymous.text().await.unwrap()), "Pipe 'sqlite' not found");
    // A wrong token is refused, never taken for an anonymous visitor.
    let forged = http.get(format!("{}/pipes/sqlite/download", server.url)).bearer_auth("pps_forged").send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    assert_eq!(forged.headers()["www-authenticate"], "Bearer");

    // The download was recorded for alice: her report counts it.
    let export = http.get(format!("{}/reports/export?format=json&time_range=7_days", server.url)).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(export.status().as_u16(), 200);
    assert_eq!(export.headers()["content-type"], "application/json");
    let report: Value = export.json().await.unwrap();
    assert_eq!(report["scope"], "own_pipes");
    assert_eq!(report["usage_stats"]["downloads"], 1);
    let csv = http.get(format!("{}/reports/export?format=csv", server.url)).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(csv.status().as_u16(), 200);
    assert!(csv.text().await.unwrap().starts_with("metric,value\n"));
    let nobody = http.get(format!("{}/reports/export?format=csv", server.url)).send().await.unwrap();
    assert_eq!(nobody.status().as_u16(), 401);
    assert!(envelope_error(&nobody.text().await.unwrap()).contains("/login"));
}

#[tokio::test]
async fn a_session_calls_the_json_api_from_this_site_only() {
    let (_instance, server, _alice) = setup().await;
    let cookie = session_cookie(&server, "alice").await;
    let host = server.url.trim_start_matches("http://").to_string();
    let call = |origin: Option<String>| {
        let mut request = server
            .http
            .post(format!("{}/api/v1/process", server.url))
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(json!({"context": {"action": "list_shareable"}}).to_string());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = call(Some(format!("http://{host}"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["pipes"][0]["name"], "sqlite");
    assert_eq!(body["result"]["pipes"][0]["owner"], "alice");

    let (status, body) = call(Some("https://evil.example".into())).await;
    assert_eq!(status, 403, "a page of another site may not use alice's session: {body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["error"], "Cross-site request refused");

    // A proxy's Basic credentials are not ours: the session still counts, and the write is
    // still checked for its origin.
    let basic = server
        .http
        .post(format!("{}/api/v1/process", server.url))
        .header("cookie", &cookie)
        .header("authorization", "Basic dXNlcjpwYXNz")
        .header("origin", "https://evil.example")
        .body(json!({"context": {}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 403);
    let basic = server
        .http
        .post(format!("{}/api/v1/process", server.url))
        .header("cookie", &cookie)
        .header("authorization", "Basic dXNlcjpwYXNz")
        .body(json!({"context": {}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 200);

    // Without a session or a token: asked to sign in or send one.
    let anonymous = server.post(None, json!({"context": {}}).to_string().into_bytes()).await;
    assert!(anonymous.failed(401).contains("Bearer"));
}

#[tokio::test]
async fn a_malformed_name_is_a_400_at_every_door() {
    let (instance, server, alice) = setup().await;
    for context in [
        json!({"action": "download_pipe", "pipe_name": "../etc/passwd"}),
        json!({"action": "share_pipe", "pipe_name": "sqlite\u{7}"}),
        json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"users": ["bob smith"]}}),
        json!({"action": "manage_permissions", "pipe_name": "sqlite", "permissions": {"groups": ["a/b"]}}),
        json!({"action": "audit_log", "pipe_name": "x".repeat(200)}),
    ] {
        let error = server.call(&alice, context.clone()).await.failed(400);
        assert!(error.contains("is not valid"), "{context}: {error}");
    }
    // A name shown in an error is cut short and its control characters escaped.
    let error = server.call(&alice, json!({"action": "download_pipe", "pipe_name": format!("a\u{1b}{}", "y".repeat(5000))})).await;
    let error = error.failed(400);
    assert!(error.len() < 300 && error.contains("a\\u{1b}yyy"), "{error}");

    let download = server.http.get(format!("{}/pipes/..%2Fsecret/download", server.url)).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(download.status().as_u16(), 400);
    assert!(envelope_error(&download.text().await.unwrap()).contains("is not valid"));
    let (status, page) = server.get("/pipes/bad%20name").await;
    assert_eq!(status, 400);
    assert!(page.contains("is not valid"), "{page}");

    let cli = instance.cli(&["group", "member", "add", "developers", "../alice"], None);
    assert_eq!(cli.status.code(), Some(2), "bad input exits with 2");
    assert!(String::from_utf8_lossy(&cli.stderr).contains("User name '../alice' is not valid"), "{cli:?}");
}
