//! The CLI for users of a running hub: `pipeshare login URL`, then `pipeshare pipes ...`
//! over the JSON API with the stored token. (The operator's commands work on the database.)
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// Where to reach the hub, and as whom.
#[derive(Args, Clone)]
pub struct Remote {
    /// The hub's address (default: the one `pipeshare login` stored).
    #[arg(long, env = "PIPESHARE_URL", global = true)]
    pub server: Option<String>,
    /// An API token (default: the one `pipeshare login` stored).
    #[arg(long, env = "PIPESHARE_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Print the API's result as JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum PipesCommand {
    /// Pipes you may share (`--shared` for those shared with you).
    ///
    /// Example: pipeshare pipes list --category database --status stable
    List {
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        search: Option<String>,
        /// Other people's pipes shared with you.
        #[arg(long)]
        shared: bool,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// One pipe: versions, sharing, grants.
    ///
    /// Example: pipeshare pipes show sqlite
    Show { name: String },
    /// Share a pipe (privately unless --public).
    ///
    /// Example: pipeshare pipes share sqlite --public
    Share {
        name: String,
        #[arg(long)]
        public: bool,
        /// Ask an instance admin to approve it.
        #[arg(long)]
        approval: bool,
    },
    /// Withdraw a pipe's share.
    Unshare { name: String },
    /// Grant users or groups access.
    ///
    /// Example: pipeshare pipes grant sqlite --user bob --level read_write --expires 2027-01-31
    Grant {
        name: String,
        #[arg(long = "user")]
        users: Vec<String>,
        #[arg(long = "group")]
        groups: Vec<String>,
        /// read, read_write or admin.
        #[arg(long, default_value = "read")]
        level: String,
        /// YYYY-MM-DD or an RFC 3339 time.
        #[arg(long)]
        expires: Option<String>,
    },
    /// Take users' or groups' access away.
    Revoke {
        name: String,
        #[arg(long = "user")]
        users: Vec<String>,
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// Download a pipe's manifest (YAML), or with --package its files as a .tar.gz, checked
    /// against its SHA-256 (`-o -` for standard output).
    ///
    /// Example: pipeshare pipes download sqlite --environment prod --package
    Download {
        name: String,
        #[arg(long)]
        version: Option<String>,
        /// The version an environment (prod, staging, ...) points at.
        #[arg(long, conflicts_with = "version")]
        environment: Option<String>,
        /// The version's package (.tar.gz) instead of its manifest.
        #[arg(long)]
        package: bool,
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Publish a version folder (`<name>/<version>/`, or any folder with a manifest at its
    /// root): its files are packed and uploaded.
    ///
    /// Example: pipeshare pipes publish ./pipes/cleaner/1.2.0
    Publish { dir: PathBuf },
    /// Point an environment at a version (a protected one may wait for an admin).
    ///
    /// Example: pipeshare pipes promote cleaner 1.2.0 --to prod
    Promote {
        name: String,
        version: String,
        /// The environment: dev, staging, prod or any name of letters, digits and '-'.
        #[arg(long = "to")]
        environment: String,
    },
    /// Copy a version into a new pipe of yours.
    ///
    /// Example: pipeshare pipes fork cleaner my-cleaner --version 1.2.0
    Fork {
        name: String,
        new_name: String,
        #[arg(long)]
        version: Option<String>,
    },
    /// Ask a pipe's managers for access (a gated pipe, an ended grant, a higher level).
    ///
    /// Example: pipeshare pipes request reports --reason "weekly summary" --level read --days 30
    Request {
        name: String,
        #[arg(long)]
        reason: String,
        /// read, read_write or admin.
        #[arg(long, default_value = "read")]
        level: String,
        /// For how many days (default: for good).
        #[arg(long)]
        days: Option<u64>,
    },
    /// Who can reach a pipe, and why.
    Explain { name: String },
    /// Extend an expiring grant by its original length (or --days).
    ///
    /// Example: pipeshare pipes renew sqlite --user bob
    Renew {
        name: String,
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        group: Option<String>,
        #[arg(long)]
        days: Option<u64>,
    },
    /// Withdraw a version: no longer the latest, still there by its exact version.
    ///
    /// Example: pipeshare pipes yank cleaner 1.2.0 --reason "drops rows"
    Yank {
        name: String,
        version: String,
        #[arg(long)]
        reason: String,
    },
}

/// What a command failed with: the hub's message and HTTP status (0: no answer at all).
pub struct Failure {
    pub status: u16,
    pub message: String,
}

impl Failure {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Failure { status, message: message.into() }
    }

    /// The exit code of its kind (`terminal::exit_code`).
    pub fn exit_code(&self) -> u8 {
        crate::terminal::exit_code(self.status)
    }
}

type Outcome = Result<(), Failure>;

#[derive(serde::Serialize, serde::Deserialize)]
struct Credentials {
    url: String,
    token: String,
}

/// `$PIPESHARE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/pipeshare`, else `~/.config/pipeshare`.
fn config_dir() -> Result<PathBuf, Failure> {
    if let Some(dir) = std::env::var_os("PIPESHARE_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(dir).join("pipeshare"));
    }
    let home = std::env::var_os("HOME").ok_or_else(|| Failure::new(2, "No home folder to keep the login in; set PIPESHARE_CONFIG_DIR"))?;
    Ok(PathBuf::from(home).join(".config/pipeshare"))
}

/// The hub's address and token: from the flags or the environment, else from the login.
fn credentials(remote: &Remote) -> Result<Credentials, Failure> {
    let stored = || -> Option<Credentials> {
        let text = std::fs::read_to_string(config_dir().ok()?.join("credentials.json")).ok()?;
        serde_json::from_str(&text).ok()
    };
    match (&remote.server, &remote.token) {
        (Some(url), Some(token)) => Ok(Credentials { url: url.clone(), token: token.clone() }),
        _ => {
            let found = stored().ok_or_else(|| Failure::new(401, "Not signed in to a hub: run `pipeshare login URL` first"))?;
            Ok(Credentials { url: remote.server.clone().unwrap_or(found.url), token: remote.token.clone().unwrap_or(found.token) })
        }
    }
}

/// Runs one action on the hub; its result, or the hub's refusal.
async fn process(hub: &Credentials, context: Value) -> Result<Value, Failure> {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/process", hub.url.trim_end_matches('/')))
        .bearer_auth(&hub.token)
        .json(&json!({"context": context}))
        .send()
        .await
        .map_err(|err| Failure::new(0, format!("Cannot reach {}: {err}", hub.url)))?;
    let status = response.status().as_u16();
    let envelope: Value = response.json().await.map_err(|err| Failure::new(status, format!("The hub's answer is not the API's: {err}")))?;
    if envelope["success"] == true {
        Ok(envelope["result"].clone())
    } else {
        Err(Failure::new(status, envelope["error"].as_str().unwrap_or("refused")))
    }
}

/// Prints the result: as JSON with `--json`, else the text `describe` makes of it.
fn print(remote: &Remote, result: &Value, describe: impl FnOnce(&Value) -> String) {
    if remote.json {
        println!("{result}");
    } else {
        println!("{}", describe(result));
    }
}

/// `pipeshare login URL`: checks the token (read from standard input unless given) against
/// the hub and keeps both in a file only its owner may read.
pub async fn login(url: String, remote: &Remote) -> Outcome {
    let token = match &remote.token {
        Some(token) => token.clone(),
        None => {
            eprintln!("API token for {url} (create one on its /tokens page):");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| Failure::new(2, format!("Cannot read the token: {e}")))?;
            line.trim().to_string()
        }
    };
    let hub = Credentials { url: url.trim_end_matches('/').to_string(), token };
    let listed = process(&hub, json!({"action": "list_shareable", "limit": 1})).await?;
    let dir = config_dir()?;
    std::fs::create_dir_all(&dir).map_err(|e| Failure::new(1, format!("Cannot create {}: {e}", dir.display())))?;
    let path = dir.join("credentials.json");
    let mut file =
        crate::terminal::private_file(&path, true).map_err(|e| Failure::new(1, format!("Cannot write {}: {e}", path.display())))?;
    let text = serde_json::to_string(&hub).map_err(|e| Failure::new(1, e.to_string()))?;
    file.write_all(text.as_bytes()).map_err(|e| Failure::new(1, format!("Cannot write {}: {e}", path.display())))?;
    let result = json!({"url": hub.url, "credentials": path, "pipes_you_may_share": listed["total_count"]});
    print(remote, &result, |r| {
        format!("signed in to {} ({} pipes you may share); the token is kept in {}", hub.url, r["pipes_you_may_share"], path.display())
    });
    Ok(())
}

/// `pipeshare pipes ...`.
pub async fn pipes(command: PipesCommand, remote: &Remote) -> Outcome {
    let hub = credentials(remote)?;
    match command {
        PipesCommand::List { category, status, search, shared, limit } => {
            let scope = if shared { "shared_with_me" } else { "shareable" };
            let filters = json!({"scope": scope, "category": category, "status": status, "search": search});
            let result = process(&hub, json!({"action": "list_shareable", "pipe_filters": filters, "limit": limit})).await?;
            print(remote, &result, |r| {
                let mut lines: Vec<String> = r["pipes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        let sharing = p["share_status"]
                            .as_str()
                            .map_or("not shared".to_string(), |s| format!("{} {s}", p["visibility"].as_str().unwrap_or_default()));
                        format!(
                            "{}\t{}\t{}\t{}",
                            p["name"].as_str().unwrap_or_default(),
                            p["version"].as_str().unwrap_or_default(),
                            p["owner"].as_str().unwrap_or_default(),
                            sharing
                        )
                    })
                    .collect();
                lines.push(format!("{} of {} pipes", r["pipes"].as_array().map_or(0, Vec::len), r["total_count"]));
                lines.join("\n")
            });
        }
        PipesCommand::Show { name } => {
            let result = process(&hub, json!({"action": "get_pipe", "pipe_name": name})).await?;
            print(remote, &result, |r| {
                let summary = &r["summary"];
                format!(
                    "{} {} by {}\n{}\nversions: {}\nsharing: {}\ndownloads: {}",
                    summary["name"].as_str().unwrap_or_default(),
                    summary["version"].as_str().unwrap_or_default(),
                    summary["owner"].as_str().unwrap_or_default(),
                    summary["description"].as_str().unwrap_or_default(),
                    r["versions"].as_array().into_iter().flatten().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
                    summary["share_status"].as_str().unwrap_or("not shared"),
                    r["download_count"]
                )
            });
        }
        PipesCommand::Share { name, public, approval } => {
            let options = json!({"public": public, "approval_required": approval});
            let result = process(&hub, json!({"action": "share_pipe", "pipe_name": name, "sharing_options": options})).await?;
            print(remote, &result, |r| {
                format!("{} is {}: {}", name, r["sharing_status"].as_str().unwrap_or_default(), r["share_url"].as_str().unwrap_or_default())
            });
        }
        PipesCommand::Unshare { name } => {
            let result = process(&hub, json!({"action": "unshare_pipe", "pipe_name": name})).await?;
            print(remote, &result, |_| format!("{name} is no longer shared"));
        }
        PipesCommand::Grant { name, users, groups, level, expires } => {
            let permissions = json!({"users": users, "groups": groups, "access_level": level, "expiration": expires});
            let result = process(&hub, json!({"action": "manage_permissions", "pipe_name": name, "permissions": permissions})).await?;
            print(remote, &result, |r| format!("granted {level} on {name}; {} grant(s) now", r["grants"].as_array().map_or(0, Vec::len)));
        }
        PipesCommand::Revoke { name, users, groups } => {
            let permissions = json!({"users": users, "groups": groups, "revoke": true});
            let result = process(&hub, json!({"action": "manage_permissions", "pipe_name": name, "permissions": permissions})).await?;
            print(remote, &result, |r| format!("revoked on {name}; {} grant(s) left", r["grants"].as_array().map_or(0, Vec::len)));
        }
        PipesCommand::Publish { dir } => return publish(&dir, remote).await,
        PipesCommand::Promote { name, version, environment } => {
            let context = json!({"action": "promote_pipe", "pipe_name": name, "version": version, "environment": environment});
            let result = process(&hub, context).await?;
            print(remote, &result, |r| match r["status"].as_str() {
                Some("pending_approval") => format!("promoting {name} {version} to {environment} waits for an admin's approval"),
                _ => format!("{environment} of {name} now points at {version}"),
            });
        }
        PipesCommand::Fork { name, new_name, version } => {
            let context = json!({"action": "fork_pipe", "pipe_name": name, "new_name": new_name, "version": version});
            let result = process(&hub, context).await?;
            print(remote, &result, |r| format!("forked {name} {} as {new_name}", r["version"].as_str().unwrap_or_default()));
        }
        PipesCommand::Request { name, reason, level, days } => {
            let context =
                json!({"action": "request_access", "pipe_name": name, "reason": reason, "access_level": level, "duration_days": days});
            let result = process(&hub, context).await?;
            print(remote, &result, |r| {
                format!("asked for {level} access to {name} (request {}); it waits for its managers", r["request_id"])
            });
        }
        PipesCommand::Explain { name } => {
            let result = process(&hub, json!({"action": "explain_access", "pipe_name": name})).await?;
            print(remote, &result, explained_text);
        }
        PipesCommand::Renew { name, user, group, days } => {
            let context = json!({"action": "renew_grant", "pipe_name": name, "user": user, "group": group, "days": days});
            let result = process(&hub, context).await?;
            print(remote, &result, |r| {
                format!(
                    "the grant of {} on {name} now ends {}",
                    r["name"].as_str().unwrap_or_default(),
                    r["expires_at"].as_str().unwrap_or_default()
                )
            });
        }
        PipesCommand::Yank { name, version, reason } => {
            let result = process(&hub, json!({"action": "yank_version", "pipe_name": name, "version": version, "reason": reason})).await?;
            print(remote, &result, |r| {
                format!("yanked {name} {version}; the latest is now {}", r["latest_version"].as_str().unwrap_or_default())
            });
        }
        PipesCommand::Download { name, version, environment, package, output } => {
            let context = json!({"action": "download_pipe", "pipe_name": name, "version": version, "environment": environment});
            let result = process(&hub, context).await?;
            if package {
                return save_package(&hub, remote, &result, output).await;
            }
            let yaml = serde_norway::to_string(&result["spec"]).map_err(|e| Failure::new(1, e.to_string()))?;
            let path = output.unwrap_or_else(|| PathBuf::from(format!("{}-{}.yaml", name, result["version"].as_str().unwrap_or("latest"))));
            if path.as_os_str() == "-" {
                print!("{yaml}");
            } else {
                std::fs::write(&path, &yaml).map_err(|e| Failure::new(1, format!("Cannot write {}: {e}", path.display())))?;
                let summary = json!({"pipe_name": name, "version": result["version"], "file": path, "bytes": yaml.len()});
                print(remote, &summary, |s| {
                    format!("{} {} saved to {} ({} bytes)", name, s["version"].as_str().unwrap_or_default(), path.display(), yaml.len())
                });
            }
        }
    }
    Ok(())
}

/// A progress bar on standard error, for a person watching (hidden with `--json` or when
/// standard error is not a terminal).
fn progress_bar(remote: &Remote, total: u64, what: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if remote.json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}") {
        bar.set_style(style);
    }
    bar.set_message(what.to_string());
    bar
}

/// `pipeshare publish DIR` (and `pipeshare pipes publish DIR`): packs the folder and uploads
/// it to `POST /api/v1/pipes/publish`.
pub async fn publish(dir: &std::path::Path, remote: &Remote) -> Outcome {
    use app::orchestrator::archive;
    let hub = credentials(remote)?;
    // The hub checks its own bound; this one only keeps the CLI from packing a disk.
    let files = archive::read_dir(dir, &archive::Limits::new(1 << 30)).map_err(|refusal| Failure::new(400, refusal.to_string()))?;
    if archive::manifest_at_root(&files).is_none() {
        return Err(Failure::new(400, format!("{} holds no plug.yaml, plugin.yaml, glue.yaml or pipe.yaml", dir.display())));
    }
    let bytes = archive::pack(&files).map_err(|refusal| Failure::new(400, refusal.to_string()))?;
    let bar = progress_bar(remote, bytes.len() as u64, "uploading");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(64 * 1024).map(|chunk| Ok(chunk.to_vec())).collect();
    let uploaded = {
        let bar = bar.clone();
        futures_util::StreamExt::inspect(futures_util::stream::iter(chunks), move |chunk| {
            if let Ok(chunk) = chunk {
                bar.inc(chunk.len() as u64);
            }
        })
    };
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/pipes/publish", hub.url.trim_end_matches('/')))
        .bearer_auth(&hub.token)
        .header(reqwest::header::CONTENT_TYPE, "application/gzip")
        .header(reqwest::header::CONTENT_LENGTH, bytes.len())
        .body(reqwest::Body::wrap_stream(uploaded))
        .send()
        .await
        .map_err(|err| Failure::new(0, format!("Cannot reach {}: {err}", hub.url)))?;
    bar.finish_and_clear();
    let status = response.status().as_u16();
    let envelope: Value = response.json().await.map_err(|err| Failure::new(status, format!("The hub's answer is not the API's: {err}")))?;
    if envelope["success"] != true {
        return Err(Failure::new(status, envelope["error"].as_str().unwrap_or("refused")));
    }
    print(remote, &envelope["result"], |r| {
        format!(
            "published {} {} ({} files, {} bytes, sha256 {})",
            r["pipe_name"].as_str().unwrap_or_default(),
            r["version"].as_str().unwrap_or_default(),
            r["files"].as_array().map_or(0, Vec::len),
            r["size"],
            r["sha256"].as_str().unwrap_or_default()
        )
    });
    Ok(())
}

/// Saves a version's package, refusing bytes that do not match its SHA-256.
async fn save_package(hub: &Credentials, remote: &Remote, found: &Value, output: Option<PathBuf>) -> Outcome {
    use futures_util::StreamExt;
    let (Some(url), Some(sha256)) = (found["archive_url"].as_str(), found["sha256"].as_str()) else {
        return Err(Failure::new(404, "This version has no package yet"));
    };
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(&hub.token)
        .send()
        .await
        .map_err(|err| Failure::new(0, format!("Cannot reach {url}: {err}")))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(Failure::new(status, format!("The hub answered {status} for {url}")));
    }
    let bar = progress_bar(remote, response.content_length().unwrap_or(0), "downloading");
    let mut bytes = Vec::new();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|err| Failure::new(0, format!("The download broke off: {err}")))?;
        bar.inc(chunk.len() as u64);
        bytes.extend_from_slice(&chunk);
    }
    bar.finish_and_clear();
    if app::orchestrator::archive::sha256_hex(&bytes) != sha256 {
        return Err(Failure::new(1, "The package does not match its SHA-256; nothing was saved"));
    }
    let name = found["pipe_name"].as_str().unwrap_or("pipe");
    let version = found["version"].as_str().unwrap_or("latest");
    let path = output.unwrap_or_else(|| PathBuf::from(format!("{name}-{version}.tar.gz")));
    if path.as_os_str() == "-" {
        std::io::stdout().write_all(&bytes).map_err(|e| Failure::new(1, e.to_string()))?;
        return Ok(());
    }
    std::fs::write(&path, &bytes).map_err(|e| Failure::new(1, format!("Cannot write {}: {e}", path.display())))?;
    let summary = json!({"pipe_name": name, "version": version, "file": path, "bytes": bytes.len(), "sha256": sha256});
    print(remote, &summary, |_| format!("{name} {version} saved to {} ({} bytes, sha256 verified)", path.display(), bytes.len()));
    Ok(())
}

/// Who can reach a pipe, one line per user: level, then each reason.
fn explained_text(result: &Value) -> String {
    let mut lines = Vec::new();
    if let Some(reason) = result["everyone"]["reason"].as_str() {
        lines.push(format!("everyone\t{reason}"));
    }
    for user in result["users"].as_array().into_iter().flatten() {
        let reasons: Vec<String> = user["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| match p["group"].as_str() {
                Some(group) => format!("{} (group {group})", p["reason"].as_str().unwrap_or_default()),
                None => p["reason"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        lines.push(format!(
            "{}\t{}\t{}",
            user["user"].as_str().unwrap_or_default(),
            user["access_level"].as_str().unwrap_or("-"),
            reasons.join(", ")
        ));
    }
    for grant in result["expired"].as_array().into_iter().flatten() {
        lines.push(format!("{}\tended {}", grant["name"].as_str().unwrap_or_default(), grant["expires_at"].as_str().unwrap_or_default()));
    }
    lines.join("\n")
}

#[derive(Subcommand)]
pub enum InboxCommand {
    /// Approve items as `pipeshare inbox` listed them (KIND:ID@REVISION).
    ///
    /// Example: pipeshare inbox approve access_request:7@2 --note welcome
    Approve {
        items: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reject items as listed.
    Reject {
        items: Vec<String>,
        #[arg(long)]
        note: Option<String>,
    },
}

/// An item as the inbox listing prints it: `kind:id@revision` (`@revision` absent for
/// reminders).
fn inbox_ref(item: &Value) -> String {
    let base = format!("{}:{}", item["kind"].as_str().unwrap_or_default(), item["id"].as_str().unwrap_or_default());
    match item["revision"].as_str() {
        Some(revision) => format!("{base}@{revision}"),
        None => base,
    }
}

fn parse_inbox_ref(text: &str) -> Result<Value, Failure> {
    let bad = || Failure::new(400, format!("'{text}' is not an inbox item: write KIND:ID@REVISION as `pipeshare inbox` lists it"));
    let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
    let (id, revision) = match rest.rsplit_once('@') {
        Some((id, revision)) => (id, Some(revision)),
        None => (rest, None),
    };
    Ok(json!({"kind": kind, "id": id, "revision": revision}))
}

/// `pipeshare inbox`: what waits on you; `approve` and `reject` decide items as listed.
pub async fn inbox(command: Option<InboxCommand>, kind: Option<String>, remote: &Remote) -> Outcome {
    let hub = credentials(remote)?;
    let (items, decision, note) = match command {
        None => {
            let result = process(&hub, json!({"action": "list_inbox", "kind": kind})).await?;
            print(remote, &result, |r| {
                let mut lines: Vec<String> = r["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| format!("{}\t{}", inbox_ref(i), i["summary"].as_str().unwrap_or_default()))
                    .collect();
                lines.push(format!("{} waiting on you", r["waiting"]));
                lines.join("\n")
            });
            return Ok(());
        }
        Some(InboxCommand::Approve { items, note }) => (items, "approve", note),
        Some(InboxCommand::Reject { items, note }) => (items, "reject", note),
    };
    let refs = items.iter().map(|i| parse_inbox_ref(i)).collect::<Result<Vec<_>, _>>()?;
    let result = process(&hub, json!({"action": "review_inbox", "items": refs, "decision": decision, "note": note})).await?;
    let outcomes = result["outcomes"].as_array().cloned().unwrap_or_default();
    print(remote, &result, |_| {
        outcomes
            .iter()
            .map(|o| match o["error"].as_str() {
                None => format!("{decision}d {}:{}", o["kind"].as_str().unwrap_or_default(), o["id"].as_str().unwrap_or_default()),
                Some(error) => {
                    format!("not decided {}:{}: {error}", o["kind"].as_str().unwrap_or_default(), o["id"].as_str().unwrap_or_default())
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    if outcomes.iter().any(|o| o["decided"] != true) {
        return Err(Failure::new(409, "some items were not decided"));
    }
    Ok(())
}
