//! `pipeshare`: serve the hub, and manage it from the terminal.
use std::{
    io::{BufRead, IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
};

use app::components::when;
use app::model::{PipeFilters, ShareOptions, TokenScope};
use app::orchestrator::accounts::{self, NewToken};
use app::orchestrator::{
    Error, Orchestrator,
    db::{self, DEFAULT_DATABASE_URL},
    input::parse,
    scan::ScanSummary,
    settings::KEYS,
    transfer,
};
use clap::{Args, Parser, Subcommand};
use sea_orm::DatabaseConnection;
use serde_json::json;
use server::{remote, startup, terminal};

#[derive(Parser)]
#[command(name = "pipeshare", version, about = "A self-hosted hub where teams share PlugPipe pipes")]
struct Cli {
    /// The database: `sqlite://path?mode=rwc` or `postgres://...`.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    database_url: String,
    /// Database connections this process keeps open at most.
    #[arg(long, global = true, env = "PIPESHARE_DB_POOL_SIZE", default_value_t = db::DEFAULT_POOL_SIZE)]
    db_pool_size: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "PIPESHARE_ADDR", default_value = "127.0.0.1:3000")]
    addr: String,
    /// Public address used in share URLs; defaults to http://<addr>.
    #[arg(long, env = "PIPESHARE_BASE_URL")]
    base_url: Option<String>,
    /// Addresses of the reverse proxies in front of the server, comma-separated: only their
    /// `X-Forwarded-For` is believed for the client's address (sign-in throttling).
    #[arg(long, env = "PIPESHARE_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Client addresses that may read /metrics without an admin token, comma-separated.
    #[arg(long, env = "PIPESHARE_METRICS_ALLOW", value_delimiter = ',', default_value = "127.0.0.1,::1")]
    metrics_allow: Vec<std::net::IpAddr>,
    /// Folder holding the browser app's files (`pkg/`), as built by `scripts/build-site`.
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    site_root: String,
    /// MiB of callers' listings, and as much of their downloads, kept in memory while what
    /// they answer is unchanged; 0 keeps none.
    #[arg(long, env = "PIPESHARE_KEPT_ANSWERS_MIB", default_value_t = 16, value_parser = clap::value_parser!(u16))]
    kept_answers_mib: u16,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a running hub with an API token (read from standard input), for the
    /// `pipes` commands.
    ///
    /// Example: echo "$TOKEN" | pipeshare login https://pipes.example.com
    Login {
        url: String,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Work with the pipes of a running hub (after `pipeshare login`); --json for scripts.
    Pipes {
        #[command(subcommand)]
        command: remote::PipesCommand,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// What waits on you on a running hub: approvals, access requests, your requests, grants
    /// and tokens ending soon; `approve` or `reject` items as listed.
    ///
    /// Example: pipeshare inbox; pipeshare inbox approve access_request:7@2 --note welcome
    Inbox {
        #[command(subcommand)]
        command: Option<remote::InboxCommand>,
        /// Only one kind: share_approval, promotion, access_request, my_request, expiring_grant, expiring_token.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Publish a version folder to a running hub (the same as `pipeshare pipes publish`).
    ///
    /// Example: pipeshare publish ./pipes/cleaner/1.2.0 --server https://pipes.example.com --token "$TOKEN"
    Publish {
        dir: std::path::PathBuf,
        #[command(flatten)]
        remote: remote::Remote,
    },
    /// Run the web server and the JSON API.
    Serve(ServeArgs),
    /// Load demo users and a corpus of manifests, then serve.
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// Folder of PlugPipe manifests to load.
        #[arg(long, default_value = "../shared/corpus")]
        corpus: PathBuf,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage groups.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Load the manifests under DIR as pipes owned by a user.
    Scan {
        dir: PathBuf,
        /// The user who owns what the scan adds.
        #[arg(long)]
        owner: String,
        /// Exit with an error if any manifest is invalid or any pipe was skipped.
        #[arg(long)]
        strict: bool,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read and change the instance settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Registry sources: places pipes come from, rescanned by the server on their interval.
    #[command(subcommand)]
    Source(SourceCommand),
    /// Write every table to FILE (`-` for standard output), to move the instance elsewhere:
    /// one consistent snapshot, even of a running instance. The file is readable by its
    /// owner only (it holds the password and token hashes).
    Export {
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Copy a live SQLite database to PATH, consistently, as a database that opens as it is
    /// (on PostgreSQL, use pg_dump).
    Backup { path: PathBuf },
    /// Load an export into this (empty) database.
    Import { file: PathBuf },
    /// Run the database migrations as a separate step (every other command applies them too).
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

#[derive(Subcommand)]
enum MigrateCommand {
    /// Apply every pending migration.
    Up,
    /// List the migrations and whether each is applied; exits non-zero if any is pending.
    Status,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (so it stays out of shell history).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user: admin or not, disabled or not, groups.
    List,
    /// Disable a user: their sessions and tokens stop at once; their pipes stay.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Delete a user (refused while they own pipes: transfer-pipes first).
    Delete { name: String },
    /// Hand every pipe of FROM to TO.
    TransferPipes { from: String, to: String },
    /// Set a user's password, read from standard input; their sessions end.
    Password {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a user an instance admin (`--remove` takes it away; never from the last admin).
    Admin {
        name: String,
        #[arg(long)]
        remove: bool,
    },
    /// Set where a user's notification emails go (no address: none any more).
    ///
    /// Example: pipeshare user email alice alice@example.com
    Email { name: String, address: Option<String> },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; the token is printed once, on the last line.
    Create {
        name: String,
        #[arg(long, default_value = "cli")]
        label: String,
        /// How long it lives: 90d, 12h, 30m (default: until revoked).
        #[arg(long)]
        expires: Option<String>,
        /// It may list and download, never change anything.
        #[arg(long)]
        read_only: bool,
    },
    /// List API tokens: one user's, or everyone's.
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke an API token by its id (see `token list`).
    Revoke { id: i32 },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group.
    Add { name: String },
    /// Delete a group, its memberships and the grants made to it.
    Delete { name: String },
    /// Manage group members.
    #[command(subcommand)]
    Member(MemberCommand),
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Add a user to a group.
    Add { group: String, user: String },
    /// Remove a user from a group.
    Remove { group: String, user: String },
}

#[derive(Subcommand)]
enum SourceCommand {
    /// Add a source, checked now.
    ///
    /// Example: pipeshare source add team-tree --location /srv/plugpipe --owner alice --interval 15m
    ///
    /// Example: pipeshare source add hub --kind pipeshare --location https://hub.example.org --owner alice --token-stdin < token.txt
    Add {
        name: String,
        /// folder (a tree on this machine) or pipeshare (another instance, read through its API).
        #[arg(long, default_value = "folder")]
        kind: String,
        /// The folder's absolute path, or the other instance's address.
        #[arg(long)]
        location: String,
        /// Read a token for the other instance from standard input (its public pipes are read
        /// without one). Never given as an argument, which other users of the machine can see.
        #[arg(long)]
        token_stdin: bool,
        #[arg(long)]
        owner: String,
        /// 15m, 2h, 1d (at least a minute) or manual.
        #[arg(long, default_value = "15m")]
        interval: String,
        /// Add it even if the location cannot be read now.
        #[arg(long)]
        force: bool,
    },
    /// Every source with its health.
    List,
    /// One source with its latest scan reports, as JSON.
    Show { name: String },
    /// Rescan a source now and print its report.
    Scan { name: String },
    /// Remove a source; its pipes stay, as local pipes (keep) or marked gone.
    Remove {
        name: String,
        #[arg(long)]
        pipes: String,
    },
}

#[derive(Subcommand)]
enum SettingsCommand {
    /// Change a setting: max_pipes_per_user (1 to 1000), enable_public_sharing, require_approval, allow_self_signup
    /// (true/false), max_archive_bytes (1024 to 1073741824), max_storage_per_user_mb (1 to 1048576),
    /// protected_environments (comma-separated names), access_request_ttl_days (1 to 365), reminder_days (1 to 90).
    Set { key: String, value: String },
    /// Print one setting, or all of them.
    Get { key: Option<String> },
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // One JSON object a line (with the request's id) for log collectors; text for people.
    if std::env::var("PIPESHARE_LOG_FORMAT").is_ok_and(|format| format == "json") {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
    let cli = Cli::parse();
    // A hub's users talk to it over HTTP; every other command works on the database.
    let outcome = match cli.command {
        Command::Login { url, remote } => remote::login(url, &remote).await,
        Command::Pipes { command, remote } => remote::pipes(command, &remote).await,
        Command::Publish { dir, remote } => remote::publish(&dir, &remote).await,
        Command::Inbox { command, kind, remote } => remote::inbox(command, kind, &remote).await,
        command => {
            return match run(Cli { command, ..cli }).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => failure(err),
            };
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.exit_code())
        }
    }
}

/// How the CLI ends on an error: the message on standard error (internal details in the
/// log) and the exit code of its kind (`terminal::exit_code`).
fn failure(err: Error) -> ExitCode {
    err.log();
    eprintln!("error: {}", err.public_message());
    ExitCode::from(terminal::exit_code(err.http_status()))
}

async fn run(cli: Cli) -> Result<(), Error> {
    if let Command::Migrate(command) = &cli.command {
        return migrate(&cli.database_url, command).await;
    }
    let workload = match cli.command {
        Command::Serve(_) | Command::Demo { .. } => db::Workload::Serving,
        _ => db::Workload::Command,
    };
    let db = db::connect_with_pool(&cli.database_url, cli.db_pool_size, workload).await?;
    // The operator at the terminal: every action runs as `None`, trusted like an admin.
    let orchestrator = Orchestrator::new(db.clone(), String::new());
    match cli.command {
        Command::Serve(args) => {
            let listening = listen(&args).await?;
            serve(db, listening, args).await
        }
        Command::Demo { serve: args, corpus } => {
            // Listen first, so the demo's links name the real address.
            let listening = listen(&args).await?;
            load_demo(&orchestrator, &corpus, &listening.1).await?;
            serve(db, listening, args).await
        }
        Command::User(command) => manage_user(&orchestrator, command).await,
        Command::Token(TokenCommand::Create { name, label, expires, read_only }) => {
            let expires_at =
                expires.as_deref().map(accounts::parse_lifetime).transpose()?.map(|lifetime| app::orchestrator::now() + lifetime);
            let scope = if read_only { TokenScope::ReadOnly } else { TokenScope::Full };
            let token = orchestrator.create_token(None, &parse(&name)?, &NewToken { label, expires_at, scope }).await?;
            println!("API token for '{name}' (shown only now; send it as 'Authorization: Bearer <token>'):");
            println!("{token}");
            Ok(())
        }
        Command::Group(GroupCommand::Add { name }) => {
            orchestrator.create_group(None, &parse(&name)?).await?;
            println!("created group '{name}'");
            Ok(())
        }
        Command::Token(TokenCommand::List { user }) => {
            let user = user.as_deref().map(parse).transpose()?;
            for token in orchestrator.list_tokens(None, user.as_ref()).await? {
                let ends = token.expires_at.map_or("never".into(), when);
                let used = token.last_used_at.map_or("never".into(), when);
                println!("{}\t{}\t{}\t{}\texpires {ends}\tlast used {used}", token.id, token.owner, token.label, token.scope);
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            orchestrator.revoke_token(None, id).await?;
            println!("revoked token {id}");
            Ok(())
        }
        Command::Group(GroupCommand::Member(MemberCommand::Add { group, user })) => {
            orchestrator.add_group_member(None, &parse(&group)?, &parse(&user)?).await?;
            println!("added '{user}' to group '{group}'");
            Ok(())
        }
        Command::Group(GroupCommand::Member(MemberCommand::Remove { group, user })) => {
            orchestrator.remove_group_member(None, &parse(&group)?, &parse(&user)?).await?;
            println!("removed '{user}' from group '{group}'");
            Ok(())
        }
        Command::Group(GroupCommand::Delete { name }) => {
            orchestrator.delete_group(None, &parse(&name)?).await?;
            println!("deleted group '{name}'");
            Ok(())
        }
        Command::Scan { dir, owner, strict, json } => {
            let summary = scan_with_progress(&orchestrator, &dir, &owner).await?;
            report_scan(&summary, json);
            if strict && (summary.invalid > 0 || summary.skipped > 0) {
                return Err(Error::bad(format!(
                    "--strict: {} invalid manifest(s) and {} skipped folder(s)",
                    summary.invalid, summary.skipped
                )));
            }
            Ok(())
        }
        Command::Migrate(_) => unreachable!("handled before connecting"),
        Command::Login { .. } | Command::Pipes { .. } | Command::Publish { .. } | Command::Inbox { .. } => {
            unreachable!("handled before connecting")
        }
        Command::Export { file, force } => {
            let counts = if file.as_os_str() == "-" {
                orchestrator.export(&mut std::io::BufWriter::new(std::io::stdout().lock())).await?
            } else {
                orchestrator.export(&mut std::io::BufWriter::new(export_file(&file, force)?)).await?
            };
            eprintln!("exported {}", describe_counts(&counts));
            Ok(())
        }
        Command::Backup { path } => {
            orchestrator.backup(&path).await?;
            println!("backed up to {}", path.display());
            Ok(())
        }
        Command::Import { file } => {
            let input = std::fs::File::open(&file).map_err(|e| Error::bad(format!("Cannot read {}: {e}", file.display())))?;
            let counts = orchestrator.import(std::io::BufReader::new(input)).await?;
            println!("imported {}", describe_counts(&counts));
            Ok(())
        }
        Command::Source(command) => manage_sources(&orchestrator, command).await,
        Command::Settings(SettingsCommand::Set { key, value }) => {
            let settings = orchestrator.update_settings(None, &[(key.as_str(), value)]).await?;
            println!("{key} = {}", settings.get(&key).unwrap_or_default());
            Ok(())
        }
        Command::Settings(SettingsCommand::Get { key }) => {
            let settings = orchestrator.instance_settings(None).await?;
            match key {
                Some(key) => {
                    let value = settings
                        .get(&key)
                        .ok_or_else(|| Error::bad(format!("Unknown setting '{key}'; the settings are {}", KEYS.join(", "))))?;
                    println!("{value}");
                }
                None => {
                    for key in KEYS {
                        println!("{key} = {}", settings.get(key).unwrap_or_default());
                    }
                }
            }
            Ok(())
        }
    }
}

/// The `user` commands.
async fn manage_user(orchestrator: &Orchestrator, command: UserCommand) -> Result<(), Error> {
    match command {
        UserCommand::Add { name, admin, password_stdin } => {
            if !password_stdin {
                return Err(Error::bad("Give the password on standard input with --password-stdin"));
            }
            let password = read_password()?;
            let user = orchestrator.create_user(None, &parse(&name)?, &password, admin).await?;
            println!("created {} '{}'", if user.is_admin { "admin" } else { "user" }, user.username);
        }
        UserCommand::List => {
            for user in orchestrator.directory(None).await?.users {
                let role = if user.is_admin { "admin" } else { "user" };
                let state = if user.disabled { "disabled" } else { "enabled" };
                println!("{}\t{role}\t{state}\t{}", user.username, user.groups.join(","));
            }
        }
        UserCommand::Disable { name } => {
            orchestrator.set_disabled(None, &parse(&name)?, true).await?;
            println!("disabled '{name}': their sessions and tokens no longer work");
        }
        UserCommand::Enable { name } => {
            orchestrator.set_disabled(None, &parse(&name)?, false).await?;
            println!("enabled '{name}'");
        }
        UserCommand::Delete { name } => {
            orchestrator.delete_user(None, &parse(&name)?).await?;
            println!("deleted '{name}'");
        }
        UserCommand::TransferPipes { from, to } => {
            let moved = orchestrator.transfer_pipes(None, &parse(&from)?, &parse(&to)?).await?;
            println!("{moved} pipe(s) of '{from}' now belong to '{to}'");
        }
        UserCommand::Password { name, password_stdin } => {
            if !password_stdin {
                return Err(Error::bad("Give the password on standard input with --password-stdin"));
            }
            orchestrator.set_password(None, &parse(&name)?, &read_password()?).await?;
            println!("password of '{name}' set; their sessions are signed out");
        }
        UserCommand::Admin { name, remove } => {
            orchestrator.set_admin(None, &parse(&name)?, !remove).await?;
            println!("'{name}' is {} an instance admin", if remove { "no longer" } else { "now" });
        }
        UserCommand::Email { name, address } => match orchestrator.set_email(None, &parse(&name)?, address.as_deref()).await? {
            Some(email) => println!("emails to '{name}' go to {email}"),
            None => println!("'{name}' gets no emails"),
        },
    }
    Ok(())
}

/// `pipeshare source ...`: the operator's hand on the registry sources.
async fn manage_sources(orchestrator: &Orchestrator, command: SourceCommand) -> Result<(), Error> {
    use app::orchestrator::sources::{NewSource, parse_interval, source_name};
    match command {
        SourceCommand::Add { name, kind, location, token_stdin, owner, interval, force } => {
            let token = if token_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map_err(|err| Error::bad(format!("reading the token: {err}")))?;
                Some(line.trim().to_string()).filter(|t| !t.is_empty())
            } else {
                None
            };
            let new = NewSource {
                name: source_name(&name)?,
                kind: parse(&kind)?,
                location,
                owner: parse(&owner)?,
                token,
                interval: parse_interval(&interval)?,
                force,
            };
            let source = orchestrator.add_source(None, &new).await?;
            println!("source '{}' added ({} at {}, every {})", source.name, source.kind, source.location, source.interval);
        }
        SourceCommand::List => {
            for s in orchestrator.list_sources(None).await?.sources {
                println!("{}\t{}\t{}\t{} pipes\t{}", s.name, s.kind, s.state, s.pipes, s.location);
            }
        }
        SourceCommand::Show { name } => {
            let list = orchestrator.list_sources(None).await?;
            let source =
                list.sources.into_iter().find(|s| s.name == name).ok_or_else(|| Error::NotFound(format!("No source named '{name}'")))?;
            println!("{}", serde_json::to_string_pretty(&source).map_err(|e| Error::Internal(e.to_string()))?);
        }
        SourceCommand::Scan { name } => {
            let report = orchestrator.scan_source(None, &name).await?;
            println!("{}", serde_json::to_string(&report).map_err(|e| Error::Internal(e.to_string()))?);
            if !report.succeeded {
                return Err(Error::Conflict(format!("the scan of '{name}' failed: {}", report.details.error.unwrap_or_default())));
            }
        }
        SourceCommand::Remove { name, pipes } => {
            let keep = match pipes.as_str() {
                "keep" => true,
                "gone" => false,
                _ => return Err(Error::bad("--pipes is keep (they stay as local pipes) or gone")),
            };
            let removed = orchestrator.remove_source(None, &name, keep).await?;
            println!("source '{}' removed; {} pipe(s) {}", removed.name, removed.count, removed.pipes);
        }
    }
    Ok(())
}

async fn migrate(database_url: &str, command: &MigrateCommand) -> Result<(), Error> {
    let db = db::connect_only(database_url, 1, db::Workload::Command).await?;
    match command {
        MigrateCommand::Up => {
            let applied = db::migrate_up(&db).await?;
            println!("applied {applied} migration(s)");
            Ok(())
        }
        MigrateCommand::Status => {
            let status = db::migration_status(&db).await?;
            for (name, applied) in &status {
                println!("{} {name}", if *applied { "applied" } else { "pending" });
            }
            let pending = status.iter().filter(|(_, applied)| !applied).count();
            if pending > 0 {
                return Err(Error::Conflict(format!("{pending} migration(s) pending; run `pipeshare migrate up`")));
            }
            Ok(())
        }
    }
}

fn describe_counts(counts: &transfer::Counts) -> String {
    counts.iter().map(|(table, rows)| format!("{rows} {table}")).collect::<Vec<_>>().join(", ")
}

/// The export file: readable by its owner only; an existing one is replaced only with `force`.
fn export_file(path: &Path, force: bool) -> Result<std::fs::File, Error> {
    terminal::private_file(path, force).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::Conflict(format!("{} exists; give --force to replace it", path.display())),
        _ => Error::bad(format!("Cannot write {}: {e}", path.display())),
    })
}

fn read_password() -> Result<String, Error> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::bad(format!("Cannot read the password: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Binds the listening socket; returns it with the public base URL.
async fn listen(args: &ServeArgs) -> Result<(tokio::net::TcpListener, String), Error> {
    let listener =
        tokio::net::TcpListener::bind(&args.addr).await.map_err(|e| Error::bad(format!("Cannot listen on {}: {e}", args.addr)))?;
    let local = listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?;
    let base_url = args.base_url.clone().unwrap_or_else(|| format!("http://{local}"));
    println!("pipeshare listening on http://{local} (share URLs use {base_url})");
    let _ = std::io::stdout().flush();
    Ok((listener, base_url))
}

async fn serve(db: DatabaseConnection, (listener, base_url): (tokio::net::TcpListener, String), args: ServeArgs) -> Result<(), Error> {
    if !Path::new(&args.site_root).join("pkg").is_dir() {
        tracing::warn!("{}/pkg is missing: pages render, but without the browser app; run scripts/build-site", args.site_root);
    }
    let config = startup::ServerConfig {
        base_url: base_url.clone(),
        base_url_set: args.base_url.is_some(),
        trusted_proxies: args.trusted_proxies,
        metrics_allow: args.metrics_allow,
        site_root: args.site_root,
    };
    let orchestrator = Orchestrator::new(db, base_url).keeping_answers(usize::from(args.kept_answers_mib) << 20);
    startup::serve(listener, orchestrator, config).await.map_err(|e| Error::Internal(format!("server: {e}")))
}

async fn scan_with_progress(orchestrator: &Orchestrator, dir: &Path, owner: &str) -> Result<ScanSummary, Error> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    });
    let summary = orchestrator
        .scan(None, dir, owner, |s| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "{} folders: {} added, {} updated, {} unchanged, {} skipped, {} invalid",
                    s.folders_seen(),
                    s.added,
                    s.updated,
                    s.unchanged,
                    s.skipped,
                    s.invalid
                ));
            }
        })
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    summary
}

fn report_scan(summary: &ScanSummary, as_json: bool) {
    if as_json {
        println!("{}", json!(summary));
        return;
    }
    for problem in &summary.problems {
        eprintln!("skipped {}: {}", problem.path, problem.reason);
    }
    println!(
        "added {}, updated {}, unchanged {}, skipped {} (owned by someone else), invalid {}",
        summary.added, summary.updated, summary.unchanged, summary.skipped, summary.invalid
    );
}

/// Demo users and passwords; printed at start so a newcomer can log in.
const DEMO_USERS: [(&str, &str, bool); 3] =
    [("admin", "pipeshare-admin", true), ("alice", "pipeshare-alice", false), ("bob", "pipeshare-bob", false)];

/// Ok when the thing was made, or was there already (the demo loads again on every start).
fn made_or_there<T>(result: Result<T, Error>) -> Result<(), Error> {
    match result {
        Ok(_) | Err(Error::Conflict(_)) => Ok(()),
        Err(err) => Err(err),
    }
}

/// Loads the demo users, group and corpus, shares a few pipes publicly, and prints where to go
/// (full addresses under `base_url`) and a `curl` line that works as pasted.
async fn load_demo(orchestrator: &Orchestrator, corpus: &Path, base_url: &str) -> Result<(), Error> {
    for (name, password, admin) in DEMO_USERS {
        made_or_there(orchestrator.create_user(None, &parse(name)?, password, admin).await)?;
    }
    let developers = parse("developers")?;
    made_or_there(orchestrator.create_group(None, &developers).await)?;
    for member in ["alice", "bob"] {
        made_or_there(orchestrator.add_group_member(None, &developers, &parse(member)?).await)?;
    }
    // Pipelines belong to alice, plugins to the admin, so both have something to share.
    let (pipes_dir, plugs_dir) = (corpus.join("plugpipe/pipes"), corpus.join("plugpipe/plugs"));
    if pipes_dir.is_dir() && plugs_dir.is_dir() {
        report_scan(&scan_with_progress(orchestrator, &pipes_dir, "alice").await?, false);
        report_scan(&scan_with_progress(orchestrator, &plugs_dir, "admin").await?, false);
    } else {
        report_scan(&scan_with_progress(orchestrator, corpus, "admin").await?, false);
    }

    let admin = parse("admin")?;
    let caller = orchestrator.user(&admin).await?;
    let filters = PipeFilters { status: Some("stable".into()), limit: Some(3), ..Default::default() };
    let stable = orchestrator.list_shareable(&caller, &filters).await?.pipes;
    for pipe in stable.iter().filter(|p| !p.sharing_enabled) {
        let options = ShareOptions { public: true, ..Default::default() };
        orchestrator.share_pipe(&caller, &parse(&pipe.name)?, options).await?;
    }
    let token = orchestrator.create_token(None, &admin, &NewToken::full("demo")).await?;
    let base = base_url.trim_end_matches('/');
    println!("sign in at {base}/login as one of the demo users: {}", DEMO_USERS.map(|(n, p, _)| format!("{n} / {p}")).join(", "));
    if let Some(first) = stable.first() {
        println!("a public pipe page: {}", app::orchestrator::share::share_url(base, &first.name));
    }
    println!("admin API token: {token}");
    println!(
        "try: curl -s -H 'Authorization: Bearer {token}' -d '{{\"context\":{{\"action\":\"list_shareable\",\"limit\":5}}}}' {base}/api/v1/process"
    );
    let _ = std::io::stdout().flush();
    Ok(())
}
