//! The database session store, and the browser-facing guards of the HTTP server.
mod common;

use common::{Instance, no_redirects, plug, write_tree};
use server::sessions::DbSessionStore;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
};

fn record(expires_in: time::Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert("user_id".to_string(), serde_json::json!(7));
    Record { id: Id::default(), data, expiry_date: time::OffsetDateTime::now_utc() + expires_in }
}

#[tokio::test]
async fn sessions_live_in_the_database() {
    let instance = Instance::new();
    let db = app::orchestrator::db::connect(&instance.database_url).await.unwrap();
    let store = DbSessionStore::new(db.clone());
    let mut live = record(time::Duration::hours(1));
    store.create(&mut live).await.unwrap();

    // A second store on the same database (another server instance) sees it.
    let other = DbSessionStore::new(app::orchestrator::db::connect(&instance.database_url).await.unwrap());
    let loaded = other.load(&live.id).await.unwrap().expect("session found");
    assert_eq!(loaded.data["user_id"], 7);

    live.data.insert("user_id".into(), serde_json::json!(8));
    store.save(&live).await.unwrap();
    assert_eq!(other.load(&live.id).await.unwrap().unwrap().data["user_id"], 8);

    let mut expired = record(time::Duration::seconds(-5));
    store.create(&mut expired).await.unwrap();
    assert!(store.load(&expired.id).await.unwrap().is_none(), "an expired session is not loaded");
    assert_eq!(store.delete_expired().await.unwrap(), 1);

    store.delete(&live.id).await.unwrap();
    assert!(other.load(&live.id).await.unwrap().is_none());
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let instance = Instance::new();
    let server = instance.serve().await;
    let post = |origin: Option<&str>| {
        let mut request = server.http.post(format!("{}/api/logout", server.url));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(post(Some("https://evil.example")).await.unwrap().status().as_u16(), 403);
    let host = server.url.trim_start_matches("http://");
    assert_ne!(post(Some(&format!("http://{host}"))).await.unwrap().status().as_u16(), 403);
    let fetch_metadata =
        server.http.post(format!("{}/api/logout", server.url)).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(fetch_metadata.status().as_u16(), 403);
}

#[tokio::test]
async fn pages_render_on_the_server() {
    let instance = Instance::new();
    let server = instance.serve().await;
    let (status, html) = server.get("/login").await;
    assert_eq!(status, 200);
    assert!(html.contains("<!DOCTYPE html>") && html.contains("User name") && html.contains("/pkg/pipeshare.js"), "{html}");
    let (status, html) = server.get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(html.contains("Not found"));
    let response = server.http.get(format!("{}/", server.url)).send().await.unwrap();
    assert!(response.headers().get("set-cookie").is_none(), "an anonymous visit makes no session");
}

/// The browser app's files are served whole, with status 200, even while 404 pages render at
/// the same moment (a page whose README links a missing image once made the app's wasm answer
/// 404), and browsers revalidate them cheaply.
#[tokio::test]
async fn site_files_keep_their_own_status() {
    let instance = Instance::new();
    let site = instance.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    let app = "x".repeat(20_000);
    std::fs::write(site.join("pkg/app.wasm"), &app).unwrap();
    let server = instance.serve_with(&[("LEPTOS_SITE_ROOT", site.to_str().unwrap())]).await;

    // Clients that each ask for a missing pipe's page and the app's file, over and over.
    let mut clients = Vec::new();
    for client in 0..16 {
        let (http, url, app) = (server.http.clone(), server.url.clone(), app.clone());
        clients.push(tokio::spawn(async move {
            for round in 0..30 {
                let page = http.get(format!("{url}/pipes/missing-{client}-{round}")).header("accept", "text/html").send().await.unwrap();
                assert_eq!(page.status().as_u16(), 404);
                let file = http.get(format!("{url}/pkg/app.wasm")).send().await.unwrap();
                assert_eq!(file.status().as_u16(), 200, "round {round}");
                assert_eq!(file.text().await.unwrap(), app);
            }
        }));
    }
    for client in clients {
        client.await.unwrap();
    }

    let first = server.http.get(format!("{}/pkg/app.wasm", server.url)).send().await.unwrap();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let modified = first.headers()["last-modified"].clone();
    let again = server.http.get(format!("{}/pkg/app.wasm", server.url)).header("if-modified-since", modified).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 304, "an unchanged file is not sent again");
    assert_eq!(server.get("/pkg/../../etc/passwd").await.0, 404);
    assert_eq!(server.get("/pkg/missing.js").await.0, 404);
}

/// Signs in with a form post to the login server function; returns where it sends the
/// browser and the session cookie.
async fn sign_in(server: &common::Server, username: &str, password: &str) -> (Option<String>, Option<String>) {
    sign_in_to(server, username, password, "").await
}

/// Signs in from the sign-in page that was given `next`.
async fn sign_in_to(server: &common::Server, username: &str, password: &str, next: &str) -> (Option<String>, Option<String>) {
    let response = no_redirects()
        .post(format!("{}/api/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("referer", format!("{}/login", server.url))
        .body(format!("username={username}&password={}&next={}", password.replace(' ', "+"), app::urls::encode(next)))
        .send()
        .await
        .unwrap();
    let header = |name: &str| response.headers().get(name).map(|c| c.to_str().unwrap().to_string());
    (header("location"), header("set-cookie"))
}

#[tokio::test]
async fn signing_in_sets_a_safe_cookie_that_every_instance_honours() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let first = instance.serve().await;
    let second = instance.serve().await;

    let (location, cookie) = sign_in(&first, "alice", "wrong password").await;
    assert!(cookie.is_none(), "no session for a failed sign-in");
    assert!(location.as_deref().is_some_and(|l| l.contains("/login")), "a failed sign-in goes back to the form: {location:?}");
    // Without JavaScript, the form's page shows why.
    let form = first.http.get(location.unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("Wrong user name or password"), "{form}");

    let (location, cookie) = sign_in(&first, "alice", "correct horse battery").await;
    assert_eq!(location.as_deref(), Some("/"), "signed in, off to the pipes");
    let cookie = cookie.expect("a session cookie");
    assert!(cookie.starts_with("pipeshare_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http on loopback: {cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();

    // The session is in the database: the other instance knows alice too.
    let page = second.http.get(format!("{}/tokens", second.url)).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("alice") && page.contains("Create token"), "{page}");
    // A visitor who is not signed in is sent to the sign-in page, and back after it.
    let anonymous = no_redirects().get(format!("{}/tokens?x=1", second.url)).header("accept", "text/html").send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 303);
    assert_eq!(anonymous.headers()["location"], "/login?next=%2Ftokens%3Fx%3D1");
    let script = second.http.get(format!("{}/tokens", second.url)).send().await.unwrap();
    assert_eq!(script.status().as_u16(), 401, "a client that does not ask for a page gets the status");
    assert!(script.text().await.unwrap().contains("sign in"));
    let (location, _) = sign_in_to(&second, "alice", "correct horse battery", "/tokens?x=1").await;
    assert_eq!(location.as_deref(), Some("/tokens?x=1"), "back where the visitor was going");

    // Signing out ends the session everywhere.
    let out =
        second.http.post(format!("{}/api/logout", second.url)).header("cookie", &pair).header("accept", "text/html").send().await.unwrap();
    assert!(out.status().as_u16() < 400);
    let after = first.http.get(format!("{}/tokens", first.url)).header("cookie", &pair).send().await.unwrap().text().await.unwrap();
    assert!(after.contains("sign in"), "{after}");
}

/// Signs in with a script's form post (no page to go back to): the status and `Retry-After`.
async fn sign_in_status(server: &common::Server, username: &str, password: &str) -> (u16, Option<String>) {
    let response = no_redirects()
        .post(format!("{}/api/login", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username={}&password={}", app::urls::encode(username), app::urls::encode(password)))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string()))
}

#[tokio::test]
async fn failed_sign_ins_are_refused_for_a_while_on_every_instance() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let first = instance.serve().await;
    let second = instance.serve().await;
    for _ in 0..3 {
        sign_in(&first, "Alice", "wrong password").await;
    }
    // Three failures in a row (the name in any case): the next try is refused at once, on the
    // other instance too, even with the right password, and says when to come back.
    let start = std::time::Instant::now();
    let (status, retry_after) = sign_in_status(&second, "alice", "correct horse battery").await;
    assert!(start.elapsed() < std::time::Duration::from_millis(900), "answered at once: {:?}", start.elapsed());
    assert_eq!((status, retry_after.as_deref()), (429, Some("1")));
    // After the wait the right password gets in.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (location, cookie) = sign_in(&second, "alice", "correct horse battery").await;
    assert_eq!(location.as_deref(), Some("/"));
    assert!(cookie.is_some());
}

#[tokio::test]
async fn parallel_guesses_get_no_more_tries_than_serial_ones() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let server = instance.serve().await;
    let guesses: Vec<_> = (0..60).map(|i| sign_in_status(&server, "alice", if i % 2 == 0 { "guess one" } else { "guess two" })).collect();
    let statuses: Vec<u16> = futures::future::join_all(guesses).await.into_iter().map(|(status, _)| status).collect();
    // Only the free tries reached a password check; every other was refused at once.
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 3, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 57, "{statuses:?}");
    let (status, retry_after) = sign_in_status(&server, "alice", "correct horse battery").await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("1")));
}

#[tokio::test]
async fn a_guesser_is_throttled_by_address_and_forwarded_addresses_count_only_from_trusted_proxies() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let post = |server: &common::Server, forwarded: &str, username: String| {
        let request = no_redirects()
            .post(format!("{}/api/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", forwarded)
            .body(format!("username={username}&password=wrong+password"));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Behind a trusted proxy: the forwarded address is the client.
    let proxied = instance.serve_with(&[("PIPESHARE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    for i in 0..20 {
        assert_eq!(post(&proxied, "10.0.0.1", format!("name{i}")).await, 401);
    }
    assert_eq!(post(&proxied, "10.0.0.1", "another".into()).await, 429, "one address, many names: throttled");
    assert_eq!(post(&proxied, "10.0.0.2", "another".into()).await, 401, "another client is not");

    // Without it the header is anyone's to write, and the connection's address counts.
    let direct = instance.serve().await;
    for i in 0..20 {
        assert_eq!(post(&direct, &format!("10.1.0.{i}"), format!("other{i}")).await, 401);
    }
    assert_eq!(post(&direct, "10.9.9.9", "yet_another".into()).await, 429);
}

#[tokio::test]
async fn a_name_too_long_is_refused_before_any_work() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let server = instance.serve().await;
    let long = "n".repeat(500 * 1024);
    for _ in 0..3 {
        let response = no_redirects()
            .post(format!("{}/api/login", server.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username={long}&password=x"))
            .send()
            .await
            .unwrap();
        assert!(matches!(response.status().as_u16(), 401 | 413), "{}", response.status());
    }
    assert!(!instance.database_contains(&"n".repeat(1000)), "nothing of the name was stored");
}

#[tokio::test]
async fn browse_pages_link_to_each_other_by_name() {
    let instance = Instance::new();
    instance.add_user("alice", false);
    let files: Vec<(String, String)> =
        (0..60).map(|i| (format!("p{i:02}/1.0.0/plug.yaml"), plug(&format!("p{i:02}"), "1.0.0", "data", "stable", "A", "x"))).collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let dir = tempfile::tempdir().unwrap();
    instance.scan(&write_tree(dir.path(), &files), "alice");
    let server = instance.serve().await;
    let (_, cookie) = sign_in(&server, "alice", "correct horse battery").await;
    let cookie = cookie.unwrap().split(';').next().unwrap().to_string();
    let page = |path: &str| {
        let request = server.http.get(format!("{}{path}", server.url)).header("cookie", &cookie);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let link = |html: &str, rel: &str| {
        let at = html.find(&format!("rel=\"{rel}\"")).unwrap_or_else(|| panic!("a {rel} link in {html}"));
        let href = &html[..at];
        let start = href.rfind("href=\"").unwrap() + 6;
        href[start..].split('"').next().unwrap().replace("&amp;", "&")
    };

    let first = page("/").await;
    assert!(first.contains("1–25 of 60 pipes") && first.contains(">p24<") && !first.contains(">p25<"), "{first}");
    assert!(!first.contains("rel=\"prev\""));
    let next = link(&first, "next");
    assert_eq!(next, "?after=p24&offset=25");
    let second = page(&format!("/{next}")).await;
    assert!(second.contains("26–50 of 60 pipes") && second.contains(">p25<") && second.contains(">p49<"), "{second}");
    let third = page(&format!("/{}", link(&second, "next"))).await;
    assert!(third.contains("51–60 of 60 pipes") && third.contains(">p59<") && !third.contains("rel=\"next\""), "{third}");
    // Back: the page before the first name shown, then the plain first page.
    let back = link(&third, "prev");
    assert_eq!(back, "?before=p50&offset=25");
    let second_again = page(&format!("/{back}")).await;
    assert!(second_again.contains("26–50 of 60 pipes") && second_again.contains(">p25<") && second_again.contains(">p49<"));
    assert_eq!(link(&second_again, "prev"), "/");
    // A filter the server refuses is said as such, not taken for a missing sign-in.
    let refused = page("/?status=bogus").await;
    assert!(refused.contains("Unknown status &#x27;bogus&#x27;") || refused.contains("Unknown status 'bogus'"), "{refused}");
}

/// How many anonymous pipe pages `server` served by `outcome` (`kept`, `confirmed`, `rendered`).
async fn anonymous_pages(server: &common::Server, outcome: &str) -> u64 {
    server.counter(&format!("pipeshare_anonymous_pages_total{{outcome=\"{outcome}\"}}")).await
}

#[tokio::test]
async fn an_anonymous_pipe_page_is_kept_only_while_what_it_shows_is_unchanged() {
    let instance = Instance::new();
    let alice = instance.user_with_token("alice", false);
    let tree = instance.path().join("tree");
    write_tree(&tree, &[("sqlite/1.0.0/plug.yaml", &plug("sqlite", "1.0.0", "database", "stable", "A", "an embedded database"))]);
    instance.scan(&tree, "alice");
    instance.cli_ok(&["settings", "set", "enable_public_sharing", "true"], None);
    let (one, two) = (instance.serve().await, instance.serve().await);
    let share = serde_json::json!({"action": "share_pipe", "pipe_name": "sqlite", "sharing_options": {"public": true}});
    one.call(&alice, share.clone()).await.ok();
    let downloads = |html: &str| html.split("<dd class=\"downloads\">").nth(1).and_then(|r| r.split('<').next()).map(String::from);

    let (status, first) = one.get("/pipes/sqlite").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(downloads(&first).as_deref(), Some("0"), "{first}");
    assert_eq!(one.get("/pipes/sqlite").await, (200, first.clone()), "the kept page is the page");
    assert_eq!((anonymous_pages(&one, "rendered").await, anonymous_pages(&one, "kept").await), (1, 1));

    // A change elsewhere in the catalogue moves the revision: the page's details are read
    // again, found unchanged, and the kept page is sent (then on the revision alone again).
    write_tree(&tree, &[("other/1.0.0/plug.yaml", &plug("other", "1.0.0", "database", "stable", "A", "another pipe"))]);
    instance.scan(&tree, "alice");
    assert_eq!(one.get("/pipes/sqlite").await, (200, first.clone()));
    assert_eq!(one.get("/pipes/sqlite").await, (200, first.clone()));
    assert_eq!(
        (anonymous_pages(&one, "rendered").await, anonymous_pages(&one, "confirmed").await, anonymous_pages(&one, "kept").await),
        (1, 1, 2)
    );
    // A change made by hand in the database, by no instance, shows on the next visit.
    let db = sea_orm::Database::connect(&instance.database_url).await.unwrap();
    let by_hand = "UPDATE pipes SET description = 'edited by the operator' WHERE name = 'sqlite'";
    sea_orm::ConnectionTrait::execute_unprepared(&db, by_hand).await.unwrap();
    assert!(one.get("/pipes/sqlite").await.1.contains("edited by the operator"));
    let restore = "UPDATE pipes SET description = 'an embedded database' WHERE name = 'sqlite'";
    sea_orm::ConnectionTrait::execute_unprepared(&db, restore).await.unwrap();
    let restored = one.get("/pipes/sqlite").await.1;
    assert!(restored.contains("an embedded database") && !restored.contains("edited by the operator"), "{restored}");
    assert_eq!(anonymous_pages(&one, "rendered").await, 3);

    // A download counted by the other instance shows on the next visit.
    let download = two.http.get(format!("{}/pipes/sqlite/download", two.url)).bearer_auth(&alice).send().await.unwrap();
    assert_eq!(download.status().as_u16(), 200);
    let (_, counted) = one.get("/pipes/sqlite").await;
    assert_eq!(downloads(&counted).as_deref(), Some("1"), "{counted}");
    // So does a new version.
    write_tree(&tree, &[("sqlite/1.1.0/plug.yaml", &plug("sqlite", "1.1.0", "database", "stable", "A", "an embedded database"))]);
    instance.scan(&tree, "alice");
    assert!(one.get("/pipes/sqlite").await.1.contains("1.1.0"));
    assert_eq!(anonymous_pages(&one, "rendered").await, 5);

    // A signed-in visitor's page is their own, never the kept one.
    let personal = one.http.get(format!("{}/pipes/sqlite", one.url)).header("cookie", "pipeshare_session=none").send().await.unwrap();
    assert_eq!(personal.status().as_u16(), 200);
    assert_eq!((anonymous_pages(&one, "rendered").await, anonymous_pages(&one, "kept").await), (5, 2));

    // Withdrawn by the other instance: the next visit finds nothing, never the kept page.
    two.call(&alice, serde_json::json!({"action": "unshare_pipe", "pipe_name": "sqlite"})).await.ok();
    let (status, gone) = one.get("/pipes/sqlite").await;
    assert_eq!(status, 404);
    assert!(!gone.contains("an embedded database"), "{gone}");
    two.call(&alice, share).await.ok();
    assert_eq!(one.get("/pipes/sqlite").await.0, 200);
}
