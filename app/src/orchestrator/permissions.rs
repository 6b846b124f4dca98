//! `manage_permissions`: grants per user and per group, with an optional expiry.
pub use crate::model::{AppliedPermissions, GrantView, PermissionsResult};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rand::Rng;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
    sea_query::OnConflict,
};
use serde_json::{Map, Value, json};

use super::access::{AccessLevel, SubjectKind, admin_grant_ends, pipe_to_manage};
use super::accounts::{Caller, GroupName, UserName, require_group, require_user};
use super::audit;
use super::catalog::{group_names, usernames};
use super::entities::pipes;
use super::entities::{JsonText, grants};
use super::error::{Error, Result};
use super::input::Fields;
use super::input::check_stored_size;
use super::settings::Settings;
use crate::model::AuditAction;

/// When a grant ends: as the caller wrote it, and as a UTC instant.
#[derive(Clone, Debug, PartialEq)]
pub struct Expiration {
    pub text: String,
    pub at: DateTime<Utc>,
}

impl Expiration {
    /// `YYYY-MM-DD` (the end of that day, UTC) or an RFC 3339 time.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let at = if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            day.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time")).and_utc()
        } else if let Ok(time) = DateTime::parse_from_rfc3339(text) {
            time.with_timezone(&Utc)
        } else {
            return Err(Error::bad(format!("permissions.expiration '{text}' is not a date (YYYY-MM-DD) or an RFC 3339 time")));
        };
        Ok(Expiration { text: text.to_string(), at })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PermissionChange {
    pub users: Vec<UserName>,
    pub groups: Vec<GroupName>,
    pub access_level: AccessLevel,
    pub expiration: Option<Expiration>,
    /// Remove the named grants instead of setting them.
    pub revoke: bool,
    /// Any other keys the caller sent, kept with the grant.
    pub extra: Map<String, Value>,
}

impl PermissionChange {
    pub fn from_context(context: &Fields) -> Result<Self> {
        if context.get("permissions").is_none() {
            return Err(Error::bad("context.permissions is required"));
        }
        let permissions = context.object("permissions")?;
        let change = PermissionChange {
            users: permissions.names("users")?,
            groups: permissions.names("groups")?,
            access_level: permissions.parsed("access_level")?.unwrap_or(AccessLevel::Read),
            expiration: permissions.str("expiration")?.map(Expiration::parse).transpose()?,
            revoke: permissions.bool("revoke")?.unwrap_or(false),
            extra: permissions.rest(&["users", "groups", "access_level", "expiration", "revoke"]),
        };
        if change.users.is_empty() && change.groups.is_empty() {
            return Err(Error::bad("permissions must name at least one user or group"));
        }
        Ok(change)
    }
}

/// The most users and groups one grant request may name.
pub const MAX_SUBJECTS: usize = 1000;

/// Keeps the first of each name, in order.
fn unique<T: std::hash::Hash + Eq + Clone>(names: Vec<T>) -> Vec<T> {
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    names.into_iter().filter(|name| seen.insert(name.clone())).collect()
}

impl PermissionChange {
    /// Each name once, at most `MAX_SUBJECTS` of them, and metadata of a size pipeshare keeps.
    fn bounded(mut self) -> Result<Self> {
        self.users = unique(self.users);
        self.groups = unique(self.groups);
        if self.users.len() + self.groups.len() > MAX_SUBJECTS {
            return Err(Error::bad(format!("A grant names at most {MAX_SUBJECTS} users and groups at once")));
        }
        check_stored_size("The permission's other keys", &self.extra)?;
        Ok(self)
    }
}

/// What a manager who holds the pipe only through an expiring `admin` grant may not do: grant
/// themselves anything, or grant anyone access that outlasts their own.
async fn check_delegated(db: &impl ConnectionTrait, caller: &Caller, pipe: &pipes::Model, change: &PermissionChange) -> Result<()> {
    if change.revoke {
        return Ok(());
    }
    let users: Vec<&str> = change.users.iter().map(|u| u.as_str()).collect();
    check_delegated_grant(db, caller, pipe, &users, change.expiration.as_ref().map(|e| e.at)).await
}

/// The rule of [`check_delegated`] for a grant to `users` ending at `ends_at` (`None`: never).
pub async fn check_delegated_grant(
    db: &impl ConnectionTrait,
    caller: &Caller,
    pipe: &pipes::Model,
    users: &[&str],
    ends_at: Option<DateTime<Utc>>,
) -> Result<()> {
    if caller.is_admin || pipe.owner_id == caller.user_id {
        return Ok(());
    }
    if users.contains(&caller.username.as_str()) {
        return Err(Error::Forbidden(format!("Permission denied: you may not grant yourself access to '{}'", pipe.name)));
    }
    if let Some(ends) = admin_grant_ends(db, caller, pipe.id).await?
        && ends_at.is_none_or(|at| at > ends)
    {
        return Err(Error::Forbidden(format!(
            "Permission denied: your admin access to '{}' ends at {}; a grant you make must end by then",
            pipe.name,
            ends.to_rfc3339()
        )));
    }
    Ok(())
}

pub async fn manage_permissions(
    db: &DatabaseConnection,
    caller: &Caller,
    pipe_name: &str,
    change: PermissionChange,
) -> Result<PermissionsResult> {
    let change = change.bounded()?;
    let (pipe, _) = pipe_to_manage(db, caller, pipe_name).await?;
    check_delegated(db, caller, &pipe, &change).await?;
    let mut subjects = Vec::new();
    for name in &change.users {
        subjects.push((SubjectKind::User, require_user(db, name).await?.id));
    }
    for name in &change.groups {
        subjects.push((SubjectKind::Group, require_group(db, name).await?.id));
    }
    let permission_id = new_permission_id(&pipe.name);
    let now = crate::orchestrator::now();

    let txn = db.begin().await?;
    for (kind, subject_id) in subjects {
        if change.revoke {
            grants::Entity::delete_many()
                .filter(grants::Column::PipeId.eq(pipe.id))
                .filter(grants::Column::SubjectKind.eq(kind))
                .filter(grants::Column::SubjectId.eq(subject_id))
                .exec(&txn)
                .await?;
            continue;
        }
        let grant = NewGrant {
            pipe_id: pipe.id,
            subject: (kind, subject_id),
            access_level: change.access_level,
            expires_at: change.expiration.as_ref().map(|e| e.at),
            extra: change.extra.clone(),
            permission_id: permission_id.clone(),
            granted_by: caller.user_id,
        };
        write_grant(&txn, grant, now).await?;
    }
    let detail = json!({
        "users": change.users,
        "groups": change.groups,
        "access_level": change.access_level,
        "expiration": change.expiration.as_ref().map(|e| e.at),
        "permission_id": permission_id,
    });
    let action = if change.revoke { AuditAction::Revoke } else { AuditAction::Grant };
    audit::record(&txn, Some(caller), action, Some(&pipe), detail).await?;
    txn.commit().await?;

    Ok(PermissionsResult {
        pipe_name: pipe.name.clone(),
        permissions_updated: true,
        active_permissions: AppliedPermissions {
            users: change.users,
            groups: change.groups,
            access_level: change.access_level,
            expiration: change.expiration.map(|e| e.text),
            revoked: change.revoke,
            extra: change.extra,
        },
        permission_id,
        grants: grants_on(db, pipe.id, &Settings::load(db).await?).await?,
    })
}

/// A grant to write, replacing any earlier grant of the pipe to the same user or group.
pub struct NewGrant {
    pub pipe_id: i32,
    pub subject: (SubjectKind, i32),
    pub access_level: AccessLevel,
    pub expires_at: Option<DateTime<Utc>>,
    pub extra: Map<String, Value>,
    pub permission_id: String,
    pub granted_by: i32,
}

/// A new permission id for grants made on `pipe_name` now.
pub fn new_permission_id(pipe_name: &str) -> String {
    let suffix: u32 = rand::thread_rng().r#gen();
    format!("perm_{pipe_name}_{}_{suffix:08x}", crate::orchestrator::now().format("%Y%m%d"))
}

/// Writes one grant made at `now`; an expiring one remembers its length for renewals.
pub async fn write_grant(db: &impl ConnectionTrait, grant: NewGrant, now: DateTime<Utc>) -> Result<()> {
    let row = grants::ActiveModel {
        pipe_id: Set(grant.pipe_id),
        subject_kind: Set(grant.subject.0),
        subject_id: Set(grant.subject.1),
        access_level: Set(grant.access_level),
        expires_at: Set(grant.expires_at),
        extra: Set(JsonText(grant.extra)),
        permission_id: Set(grant.permission_id),
        granted_by: Set(grant.granted_by),
        created_at: Set(now),
        term_seconds: Set(grant.expires_at.map(|at| (at - now).num_seconds().max(1))),
        end_announced: Set(false),
        ..Default::default()
    };
    grants::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([grants::Column::PipeId, grants::Column::SubjectKind, grants::Column::SubjectId])
                .update_columns([
                    grants::Column::AccessLevel,
                    grants::Column::ExpiresAt,
                    grants::Column::Extra,
                    grants::Column::PermissionId,
                    grants::Column::GrantedBy,
                    grants::Column::CreatedAt,
                    grants::Column::TermSeconds,
                    grants::Column::EndAnnounced,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Every grant on a pipe, with the names of its users and groups.
pub async fn grants_on(db: &impl ConnectionTrait, pipe_id: i32, settings: &Settings) -> Result<Vec<GrantView>> {
    let rows = grants::Entity::find()
        .filter(grants::Column::PipeId.eq(pipe_id))
        .order_by_asc(grants::Column::SubjectKind)
        .order_by_asc(grants::Column::Id)
        .all(db)
        .await?;
    let user_names = usernames(db, rows.iter().filter(|g| g.subject_kind == SubjectKind::User).map(|g| g.subject_id)).await?;
    let group_ids: Vec<i32> = rows.iter().filter(|g| g.subject_kind == SubjectKind::Group).map(|g| g.subject_id).collect();
    let group_names = group_names(db, group_ids.iter().copied()).await?;
    let granters = usernames(db, rows.iter().map(|g| g.granted_by)).await?;
    let now = crate::orchestrator::now();
    let soon = now + chrono::TimeDelta::days(i64::from(settings.reminder_days));
    Ok(rows
        .into_iter()
        .map(|grant| {
            let names = if grant.subject_kind == SubjectKind::User { &user_names } else { &group_names };
            GrantView {
                granted_by: granters.get(&grant.granted_by).cloned().unwrap_or_default(),
                ending_soon: grant.expires_at.is_some_and(|at| at > now && at <= soon),
                name: names.get(&grant.subject_id).cloned().unwrap_or_default(),
                subject_type: grant.subject_kind,
                access_level: grant.access_level,
                expired: grant.expires_at.is_some_and(|at| at <= now),
                expires_at: grant.expires_at,
                permission_id: grant.permission_id,
                granted_at: grant.created_at,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_means_the_end_of_that_day_utc() {
        let e = Expiration::parse("2024-12-31").unwrap();
        assert_eq!(e.at.to_rfc3339(), "2024-12-31T23:59:59+00:00");
        let e = Expiration::parse("2030-01-02T03:04:05+02:00").unwrap();
        assert_eq!(e.at.to_rfc3339(), "2030-01-02T01:04:05+00:00");
        assert!(Expiration::parse("next tuesday").is_err());
        assert!(Expiration::parse("2024-13-01").is_err());
    }
}
