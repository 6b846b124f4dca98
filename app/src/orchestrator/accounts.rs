//! Users, groups, passwords and API tokens.
pub use crate::model::{Caller, GroupName, TokenInfo, UserName};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use rand::{RngCore, rngs::OsRng};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use super::entities::{api_tokens, group_members, user_groups, users};
use super::error::{Error, Result};

impl From<&users::Model> for Caller {
    fn from(user: &users::Model) -> Self {
        Caller { user_id: user.id, username: user.username.clone(), is_admin: user.is_admin }
    }
}

/// Every token starts with this, so a leaked one is easy to recognise in a scan of logs or code.
pub const TOKEN_PREFIX: &str = "pps_";
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longer passwords are refused (and never hashed).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Runs argon2 work on a blocking thread, at most one per core at a time: each run takes
/// tens of milliseconds and 19 MiB, so a flood of sign-ins waits in line instead of taking all
/// the memory.
async fn argon2_work<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));
    let _permit = permits.acquire().await.map_err(|err| Error::Internal(format!("argon2 queue: {err}")))?;
    tokio::task::spawn_blocking(work).await.map_err(|err| Error::Internal(format!("hashing task: {err}")))
}

/// Hashes with argon2: it is deliberately slow.
pub async fn hash_password(password: String) -> Result<String> {
    argon2_work(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| Error::Internal(format!("argon2: {err}")))
    })
    .await?
}

pub async fn create_user(db: &impl ConnectionTrait, username: &UserName, password: &str, is_admin: bool) -> Result<users::Model> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::bad(format!("The password must have at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::bad(format!("The password may have at most {MAX_PASSWORD_LEN} bytes")));
    }
    if find_user(db, username).await?.is_some() {
        return Err(Error::Conflict(format!("User '{username}' already exists")));
    }
    let password_hash = hash_password(password.to_string()).await?;
    let user = users::ActiveModel {
        username: Set(username.to_string()),
        password_hash: Set(password_hash),
        is_admin: Set(is_admin),
        quota_lock: Set(0),
        created_at: Set(crate::orchestrator::now()),
        ..Default::default()
    };
    user.insert(db).await.map_err(|err| unique_violation(err, || format!("User '{username}' already exists")))
}

/// Two inserts racing past the existence check meet the unique index; say so plainly.
fn unique_violation(err: sea_orm::DbErr, message: impl FnOnce() -> String) -> Error {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(message()),
        _ => err.into(),
    }
}

pub async fn find_user(db: &impl ConnectionTrait, username: &str) -> Result<Option<users::Model>> {
    Ok(users::Entity::find().filter(users::Column::Username.eq(username)).one(db).await?)
}

pub async fn require_user(db: &impl ConnectionTrait, username: &str) -> Result<users::Model> {
    find_user(db, username).await?.ok_or_else(|| Error::NotFound(format!("User '{username}' not found")))
}

pub async fn find_group(db: &impl ConnectionTrait, name: &str) -> Result<Option<user_groups::Model>> {
    Ok(user_groups::Entity::find().filter(user_groups::Column::Name.eq(name)).one(db).await?)
}

pub async fn require_group(db: &impl ConnectionTrait, name: &str) -> Result<user_groups::Model> {
    find_group(db, name).await?.ok_or_else(|| Error::NotFound(format!("Group '{name}' not found")))
}

/// Checks a password. An unknown user costs the same argon2 work as a wrong password, so
/// the answer's timing does not tell which names exist.
pub async fn verify_password(db: &impl ConnectionTrait, username: &str, password: &str) -> Result<Option<Caller>> {
    if password.len() > MAX_PASSWORD_LEN {
        return Ok(None);
    }
    let user = find_user(db, username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password = password.to_string();
    let matches = argon2_work(move || {
        let hash = stored.unwrap_or_else(|| dummy_hash().to_string());
        PasswordHash::new(&hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await?;
    Ok(user.filter(|_| matches).as_ref().map(Caller::from))
}

/// A hash of a random password, checked when the user does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut password = [0u8; 16];
        OsRng.fill_bytes(&mut password);
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(&password, &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates an API token for a user and returns it; only its SHA-256 is stored.
pub async fn create_token(db: &impl ConnectionTrait, username: &str, label: &str) -> Result<String> {
    let user = require_user(db, username).await?;
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    api_tokens::ActiveModel {
        user_id: Set(user.id),
        label: Set(label.to_string()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(crate::orchestrator::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The caller a bearer token belongs to, if any.
pub async fn authenticate_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<Caller>> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(token) = api_tokens::Entity::find().filter(api_tokens::Column::TokenHash.eq(token_hash(token))).one(db).await? else {
        return Ok(None);
    };
    Ok(users::Entity::find_by_id(token.user_id).one(db).await?.as_ref().map(Caller::from))
}

pub async fn create_group(db: &impl ConnectionTrait, name: &GroupName) -> Result<user_groups::Model> {
    if find_group(db, name).await?.is_some() {
        return Err(Error::Conflict(format!("Group '{name}' already exists")));
    }
    user_groups::ActiveModel { name: Set(name.to_string()), created_at: Set(crate::orchestrator::now()), ..Default::default() }
        .insert(db)
        .await
        .map_err(|err| unique_violation(err, || format!("Group '{name}' already exists")))
}

pub async fn add_group_member(db: &impl ConnectionTrait, group: &GroupName, username: &UserName) -> Result<()> {
    let group = require_group(db, group).await?;
    let user = require_user(db, username).await?;
    let existing = group_members::Entity::find_by_id((group.id, user.id)).one(db).await?;
    if existing.is_some() {
        return Err(Error::Conflict(format!("User '{username}' is already in group '{}'", group.name)));
    }
    group_members::ActiveModel { group_id: Set(group.id), user_id: Set(user.id) }.insert(db).await?;
    Ok(())
}

pub async fn list_tokens(db: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<TokenInfo>> {
    use sea_orm::QueryOrder;
    Ok(api_tokens::Entity::find()
        .filter(api_tokens::Column::UserId.eq(caller.user_id))
        .order_by_desc(api_tokens::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|t| TokenInfo { id: t.id, label: t.label, created_at: t.created_at })
        .collect())
}

/// Revokes one of the caller's own tokens; someone else's is not found.
pub async fn revoke_token(db: &impl ConnectionTrait, caller: &Caller, token_id: i32) -> Result<()> {
    let deleted = api_tokens::Entity::delete_many()
        .filter(api_tokens::Column::Id.eq(token_id))
        .filter(api_tokens::Column::UserId.eq(caller.user_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound("No such token".into()));
    }
    Ok(())
}
