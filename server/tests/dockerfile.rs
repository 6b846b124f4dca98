//! No Docker engine runs here, so the Dockerfile is checked for what can be checked: every
//! path it copies from the repository exists, and what it copies out of the build stage is
//! what the build scripts produce. The SQLite built into pipeshare is checked for the flags
//! the repository compiles it with (`.cargo/config.toml`), which the image build copies too.
use std::path::Path;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

#[test]
fn the_dockerfile_copies_what_exists() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let dockerfile = std::fs::read_to_string(repo.join("Dockerfile")).unwrap();
    let mut from_repo = 0;
    for line in dockerfile.lines().filter(|l| l.starts_with("COPY ")) {
        let parts: Vec<&str> = line.split_whitespace().skip(1).collect();
        let (sources, _destination) = parts.split_at(parts.len() - 1);
        if sources[0].starts_with("--from=") {
            let path = sources[1].trim_start_matches("/src/");
            assert!(
                path == "target/release/pipeshare" || path == "target/site",
                "{path}: the build stage makes target/release/pipeshare and target/site"
            );
        } else {
            for source in sources {
                assert!(repo.join(source).exists(), "Dockerfile copies {source}, which is not in the repository");
                from_repo += 1;
            }
        }
    }
    assert!(from_repo >= 7, "the build stage copies the workspace");
    // The build writes the site where the runtime stage copies it from.
    let build_site = std::fs::read_to_string(repo.join("scripts/build-site")).unwrap();
    assert!(build_site.contains("out=target/site/pkg"));
    let members = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    for member in ["app", "server", "frontend", "migrations"] {
        assert!(members.contains(&format!("\"{member}\"")) && dockerfile.contains(&format!("COPY {member} {member}")), "{member}");
    }
    assert!(dockerfile.contains("COPY .cargo .cargo"), "the image builds SQLite with the repository's flags");
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("/healthz"));
    for variable in ["DATABASE_URL", "PIPESHARE_ADDR", "PIPESHARE_BASE_URL"] {
        assert!(dockerfile.contains(variable), "{variable} documented");
    }
}

#[tokio::test]
async fn the_built_in_sqlite_has_the_repositorys_flags() {
    let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    // Each `-DSQLITE_<option>` of `.cargo/config.toml`, as SQLite names it (`<option>`).
    let flags = env!("LIBSQLITE3_FLAGS");
    let options: Vec<&str> = flags.split_whitespace().filter_map(|flag| flag.strip_prefix("-DSQLITE_")).collect();
    assert!(options.len() >= 2, "the flags are read: {flags}");
    for option in options {
        let sql = Statement::from_sql_and_values(DbBackend::Sqlite, "SELECT sqlite_compileoption_used($1)", [option.into()]);
        let row = db.query_one(sql).await.unwrap().unwrap();
        assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 1, "SQLite compiled with {option}");
    }
}
