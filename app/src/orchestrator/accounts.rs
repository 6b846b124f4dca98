//! Users, groups, passwords and API tokens.
pub use crate::model::{Caller, GroupName, TokenInfo, TokenScope, UserName};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use chrono::{DateTime, Utc};
use rand::{RngCore, rngs::OsRng};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::entities::{api_tokens, group_members, user_groups, users};
use super::error::{Error, Result};

impl From<&users::Model> for Caller {
    fn from(user: &users::Model) -> Self {
        Caller { user_id: user.id, username: user.username.clone(), is_admin: user.is_admin, read_only: false, via_token: false }
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

/// A password pipeshare accepts: long enough to resist guessing, short enough to hash.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::bad(format!("The password must have at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::bad(format!("The password may have at most {MAX_PASSWORD_LEN} bytes")));
    }
    Ok(())
}

pub async fn create_user(db: &impl ConnectionTrait, username: &UserName, password: &str, is_admin: bool) -> Result<users::Model> {
    check_password(password)?;
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
    user.insert(db).await.map_err(|err| Error::unique_violation(err, || format!("User '{username}' already exists")))
}

/// The user with this id as a caller (with their own full rights), if they still exist.
pub async fn caller_for(db: &impl ConnectionTrait, user_id: i32) -> Result<Option<Caller>> {
    Ok(users::Entity::find_by_id(user_id).one(db).await?.as_ref().map(Caller::from))
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
    match user.filter(|_| matches) {
        Some(user) if user.disabled_at.is_some() => Err(Error::Forbidden("This account is disabled; ask an admin".into())),
        found => Ok(found.as_ref().map(Caller::from)),
    }
}

/// The epoch a session of the user begun now belongs to.
pub async fn session_epoch(db: &impl ConnectionTrait, user_id: i32) -> Result<i32> {
    Ok(users::Entity::find_by_id(user_id).one(db).await?.map_or(0, |u| u.session_epoch))
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

/// What a new token is for: its label, when it ends (never when `None`) and what it may do.
#[derive(Clone, Debug, PartialEq)]
pub struct NewToken {
    pub label: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: TokenScope,
}

/// The longest token label kept.
pub const MAX_LABEL_CHARS: usize = 100;

impl NewToken {
    /// A token that never ends and may do everything its user may.
    pub fn full(label: &str) -> Self {
        NewToken { label: label.to_string(), expires_at: None, scope: TokenScope::Full }
    }
}

/// How long a token lives, as `90d`, `12h` or `30m` (at most ten years).
pub fn parse_lifetime(text: &str) -> Result<chrono::TimeDelta> {
    let text = text.trim();
    let bad = || Error::bad(format!("'{}' is not a lifetime: write a number and d, h or m, such as 90d", crate::model::shown(text)));
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let number: i64 = number.parse().ok().filter(|n| *n > 0).ok_or_else(bad)?;
    let lifetime = match unit {
        "d" => chrono::TimeDelta::try_days(number),
        "h" => chrono::TimeDelta::try_hours(number),
        "m" => chrono::TimeDelta::try_minutes(number),
        _ => None,
    }
    .ok_or_else(bad)?;
    if lifetime > chrono::TimeDelta::days(3653) {
        return Err(Error::bad("A token lives at most ten years"));
    }
    Ok(lifetime)
}

/// Creates an API token for a user and returns it; only its SHA-256 is stored.
pub async fn create_token(db: &impl ConnectionTrait, username: &str, new: &NewToken) -> Result<String> {
    if new.label.chars().count() > MAX_LABEL_CHARS || new.label.chars().any(char::is_control) {
        return Err(Error::bad(format!("A token label has at most {MAX_LABEL_CHARS} characters and no control characters")));
    }
    if new.expires_at.is_some_and(|at| at <= crate::orchestrator::now()) {
        return Err(Error::bad("A token's expiry must be in the future"));
    }
    let user = require_user(db, username).await?;
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    api_tokens::ActiveModel {
        user_id: Set(user.id),
        label: Set(new.label.clone()),
        token_hash: Set(token_hash(&token)),
        created_at: Set(crate::orchestrator::now()),
        expires_at: Set(new.expires_at),
        scope: Set(new.scope),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// How often a token's last use is written down (not on every request).
const LAST_USED_PRECISION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// What authenticating a token reads: the token's fields that decide, and its user's (every
/// API call needs this, so nothing else of either row). Kept by the orchestrator while the
/// access revision stands (see [`super::Orchestrator::token_caller`]).
#[derive(Clone, Serialize, sea_orm::FromQueryResult)]
pub(crate) struct TokenHolder {
    token_id: i32,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    scope: TokenScope,
    user_id: i32,
    username: String,
    is_admin: bool,
    disabled: bool,
}

impl TokenHolder {
    /// Whether the token's last use, as read, is still written down precisely enough at `now`.
    pub(crate) fn use_noted(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at.is_some_and(|at| now - at < LAST_USED_PRECISION)
    }

    /// The caller the token stands for at `now`: refused (401) when it has expired or its user
    /// is disabled.
    pub(crate) fn caller(&self, now: DateTime<Utc>) -> Result<Caller> {
        if self.expires_at.is_some_and(|at| at <= now) {
            return Err(Error::Unauthorized("This API token has expired".into()));
        }
        if self.disabled {
            return Err(Error::Unauthorized("This account is disabled".into()));
        }
        Ok(Caller {
            user_id: self.user_id,
            username: self.username.clone(),
            is_admin: self.is_admin,
            read_only: self.scope == TokenScope::ReadOnly,
            via_token: true,
        })
    }
}

/// The hash a bearer token is stored by; `None` for a text that cannot be one of ours.
pub(crate) fn bearer_token_hash(token: &str) -> Option<String> {
    (token.starts_with(TOKEN_PREFIX) && token.len() <= 128).then(|| token_hash(token))
}

/// The token stored with `hash` and its user, its last use written down as of `now` (once a
/// `LAST_USED_PRECISION`, not on every request); `None` for no such token.
pub(crate) async fn token_holder(db: &impl ConnectionTrait, hash: &str, now: DateTime<Utc>) -> Result<Option<TokenHolder>> {
    use sea_orm::{JoinType, QuerySelect, RelationTrait, sea_query::Expr};
    let found = api_tokens::Entity::find()
        .select_only()
        .column_as(api_tokens::Column::Id, "token_id")
        .columns([api_tokens::Column::ExpiresAt, api_tokens::Column::LastUsedAt, api_tokens::Column::Scope, api_tokens::Column::UserId])
        .join(JoinType::InnerJoin, api_tokens::Relation::User.def())
        .columns([users::Column::Username, users::Column::IsAdmin])
        .expr_as(Expr::col((users::Entity, users::Column::DisabledAt)).is_not_null(), "disabled")
        .filter(api_tokens::Column::TokenHash.eq(hash))
        .into_model::<TokenHolder>()
        .one(db)
        .await?;
    let Some(mut holder) = found else {
        return Ok(None);
    };
    if !holder.use_noted(now) {
        api_tokens::Entity::update_many()
            .col_expr(api_tokens::Column::LastUsedAt, Expr::value(now))
            .filter(api_tokens::Column::Id.eq(holder.token_id))
            .exec(db)
            .await?;
        holder.last_used_at = Some(now);
    }
    Ok(Some(holder))
}

/// The caller a bearer token belongs to, read from the database: `None` for no such token;
/// refused (401) when it has expired or its user is disabled.
pub async fn authenticate_token(db: &impl ConnectionTrait, token: &str) -> Result<Option<Caller>> {
    let Some(hash) = bearer_token_hash(token) else {
        return Ok(None);
    };
    let now = crate::orchestrator::now();
    token_holder(db, &hash, now).await?.map(|holder| holder.caller(now)).transpose()
}

pub async fn create_group(db: &impl ConnectionTrait, name: &GroupName) -> Result<user_groups::Model> {
    if find_group(db, name).await?.is_some() {
        return Err(Error::Conflict(format!("Group '{name}' already exists")));
    }
    user_groups::ActiveModel { name: Set(name.to_string()), created_at: Set(crate::orchestrator::now()), ..Default::default() }
        .insert(db)
        .await
        .map_err(|err| Error::unique_violation(err, || format!("Group '{name}' already exists")))
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

/// The tokens of one user (`Some`), or of everyone, newest first.
pub async fn list_tokens(db: &impl ConnectionTrait, user_id: Option<i32>) -> Result<Vec<TokenInfo>> {
    use sea_orm::{QueryOrder, QueryTrait};
    let tokens = api_tokens::Entity::find()
        .apply_if(user_id, |query, id| query.filter(api_tokens::Column::UserId.eq(id)))
        .order_by_desc(api_tokens::Column::Id)
        .all(db)
        .await?;
    let owners = super::catalog::usernames(db, tokens.iter().map(|t| t.user_id)).await?;
    let now = crate::orchestrator::now();
    Ok(tokens
        .into_iter()
        .map(|t| TokenInfo {
            owner: owners.get(&t.user_id).cloned().unwrap_or_default(),
            id: t.id,
            label: t.label,
            created_at: t.created_at,
            expires_at: t.expires_at,
            expired: t.expires_at.is_some_and(|at| at <= now),
            scope: t.scope,
            last_used_at: t.last_used_at,
        })
        .collect())
}

/// Revokes a token: the caller's own, or anyone's for an instance admin or the operator
/// (`None`). Someone else's is not found. Returns whose it was.
pub async fn revoke_token(db: &impl ConnectionTrait, by: Option<&Caller>, token_id: i32) -> Result<String> {
    let token = api_tokens::Entity::find_by_id(token_id)
        .one(db)
        .await?
        .filter(|t| by.is_none_or(|caller| caller.is_admin || t.user_id == caller.user_id))
        .ok_or_else(|| Error::NotFound("No such token".into()))?;
    api_tokens::Entity::delete_by_id(token.id).exec(db).await?;
    Ok(super::catalog::usernames(db, [token.user_id]).await?.remove(&token.user_id).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_stops_at_its_expiry_and_a_disabled_user_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::orchestrator::db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        let alice = create_user(&db, &"alice".parse().unwrap(), "correct horse battery", false).await.unwrap();
        let soon = NewToken { expires_at: Some(crate::orchestrator::now() + chrono::TimeDelta::milliseconds(600)), ..NewToken::full("ci") };
        let token = create_token(&db, "alice", &soon).await.unwrap();
        assert_eq!(authenticate_token(&db, &token).await.unwrap().unwrap().username, "alice");
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        let expired = authenticate_token(&db, &token).await.unwrap_err();
        assert_eq!(expired.to_string(), "This API token has expired");

        let lasting = create_token(&db, "alice", &NewToken::full("lasting")).await.unwrap();
        let mut disabled: users::ActiveModel = alice.into();
        disabled.disabled_at = Set(Some(crate::orchestrator::now()));
        sea_orm::ActiveModelTrait::update(disabled, &db).await.unwrap();
        assert_eq!(authenticate_token(&db, &lasting).await.unwrap_err().to_string(), "This account is disabled");
        assert!(authenticate_token(&db, "pps_unknown").await.unwrap().is_none());
        assert!(
            create_token(&db, "alice", &NewToken { expires_at: Some(crate::orchestrator::now()), ..NewToken::full("x") }).await.is_err()
        );
    }

    #[test]
    fn lifetimes_read_as_days_hours_or_minutes() {
        assert_eq!(parse_lifetime("90d").unwrap(), chrono::TimeDelta::days(90));
        assert_eq!(parse_lifetime("12h").unwrap(), chrono::TimeDelta::hours(12));
        assert_eq!(parse_lifetime("30m").unwrap(), chrono::TimeDelta::minutes(30));
        for bad in ["", "d", "0d", "-1d", "5w", "99999999999d", "4000d"] {
            assert!(parse_lifetime(bad).is_err(), "{bad}");
        }
    }
}
