//! `explain_access`: who can reach a pipe and why, or what one user can reach and why. Each
//! answer takes a fixed handful of queries, however many users and grants there are.
pub use crate::model::{AccessPath, GroupAccess, PipeAccessExplained, ReachedPipe, UserAccess, UserAccessExplained};
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::access::{AccessLevel, ShareStatus, SubjectKind, pipe_to_manage, reaches};
use super::accounts::{Caller, require_user};
use super::catalog::{group_names, usernames};
use super::entities::{grants, group_members, pipes, shares, users};
use super::error::{Error, Result};
use super::permissions::grants_on;
use super::settings::Settings;
use crate::model::{AccessReason, UserName, Visibility};

/// The most pipes a user's answer lists.
const MAX_LISTED: u64 = 1000;

fn path(reason: AccessReason, access_level: Option<AccessLevel>) -> AccessPath {
    AccessPath { reason, access_level, group: None, granted_by: None, granted_at: None, expires_at: None, in_force: true }
}

/// A grant as a path: `read` and `read_write` count only while the pipe has an active share.
fn grant_path(grant: &grants::Model, group: Option<String>, granters: &HashMap<i32, String>, shared: bool) -> AccessPath {
    AccessPath {
        reason: if group.is_some() { AccessReason::GroupGrant } else { AccessReason::DirectGrant },
        access_level: Some(grant.access_level),
        group,
        granted_by: granters.get(&grant.granted_by).cloned(),
        granted_at: Some(grant.created_at),
        expires_at: grant.expires_at,
        in_force: shared || grant.access_level == AccessLevel::Admin,
    }
}

/// The strongest level among the paths in force.
fn strongest(paths: &[AccessPath]) -> Option<AccessLevel> {
    paths.iter().filter(|p| p.in_force).filter_map(|p| p.access_level).max()
}

fn live(grant: &grants::Model, now: DateTime<Utc>) -> bool {
    grant.expires_at.is_none_or(|at| at > now)
}

/// Who can reach the pipe, for its managers and instance admins.
pub async fn explain_pipe(db: &impl ConnectionTrait, caller: &Caller, pipe_name: &str) -> Result<PipeAccessExplained> {
    let (pipe, share) = pipe_to_manage(db, caller, pipe_name).await?;
    let settings = Settings::load(db).await?;
    let now = crate::orchestrator::now();
    let active = share.as_ref().is_some_and(|s| s.status == ShareStatus::Active);
    let open = active && settings.enable_public_sharing;
    let everyone = share.as_ref().filter(|_| open).and_then(|s| {
        if s.is_public {
            Some(path(AccessReason::PublicShare, Some(AccessLevel::Read)))
        } else if s.gated {
            Some(path(AccessReason::GatedShare, None))
        } else {
            None
        }
    });

    let rows = grants::Entity::find().filter(grants::Column::PipeId.eq(pipe.id)).all(db).await?;
    let (live_rows, _): (Vec<_>, Vec<_>) = rows.into_iter().partition(|g| live(g, now));
    let group_ids: Vec<i32> = live_rows.iter().filter(|g| g.subject_kind == SubjectKind::Group).map(|g| g.subject_id).collect();
    let groups = group_names(db, group_ids.iter().copied()).await?;
    let members: Vec<(i32, i32)> = if group_ids.is_empty() {
        Vec::new()
    } else {
        group_members::Entity::find()
            .select_only()
            .column(group_members::Column::GroupId)
            .column(group_members::Column::UserId)
            .filter(group_members::Column::GroupId.is_in(group_ids))
            .into_tuple()
            .all(db)
            .await?
    };
    let admins: Vec<i32> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::IsAdmin.eq(true))
        .filter(users::Column::DisabledAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let ids = live_rows
        .iter()
        .flat_map(|g| [Some(g.granted_by), (g.subject_kind == SubjectKind::User).then_some(g.subject_id)].into_iter().flatten())
        .chain(members.iter().map(|(_, user)| *user))
        .chain(admins.iter().copied())
        .chain([pipe.owner_id]);
    let (names, disabled) = names_and_disabled(db, ids).await?;

    let mut reached: BTreeMap<String, Vec<AccessPath>> = BTreeMap::new();
    let mut reach = |user_id: i32, path: AccessPath| {
        if let Some(name) = names.get(&user_id).filter(|_| !disabled.contains(&user_id)) {
            reached.entry(name.clone()).or_default().push(path);
        }
    };
    reach(pipe.owner_id, path(AccessReason::Owner, Some(AccessLevel::Admin)));
    for grant in live_rows.iter().filter(|g| g.subject_kind == SubjectKind::User) {
        reach(grant.subject_id, grant_path(grant, None, &names, active));
    }
    let mut group_answers = Vec::new();
    for grant in live_rows.iter().filter(|g| g.subject_kind == SubjectKind::Group) {
        let group = groups.get(&grant.subject_id).cloned().unwrap_or_default();
        let mut member_names = Vec::new();
        for (_, user) in members.iter().filter(|(g, _)| *g == grant.subject_id) {
            reach(*user, grant_path(grant, Some(group.clone()), &names, active));
            member_names.extend(names.get(user).filter(|_| !disabled.contains(user)).cloned());
        }
        member_names.sort();
        group_answers.push(GroupAccess {
            group,
            access_level: grant.access_level,
            granted_by: names.get(&grant.granted_by).cloned().unwrap_or_default(),
            granted_at: grant.created_at,
            expires_at: grant.expires_at,
            members: member_names,
        });
    }
    for admin in &admins {
        reach(*admin, path(AccessReason::InstanceAdmin, Some(AccessLevel::Admin)));
    }
    group_answers.sort_by(|a, b| a.group.cmp(&b.group));
    let expired = grants_on(db, pipe.id, &settings).await?.into_iter().filter(|g| g.expired).collect();
    Ok(PipeAccessExplained {
        pipe_name: pipe.name,
        visibility: share.as_ref().map_or(Visibility::Private, |s| Visibility::of(s.is_public, s.gated)),
        share_status: share.map(|s| s.status),
        everyone,
        users: reached.into_iter().map(|(user, paths)| UserAccess { user, access_level: strongest(&paths), paths }).collect(),
        groups: group_answers,
        expired,
    })
}

/// Names of the users, and which of them are disabled (they reach nothing).
async fn names_and_disabled(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> Result<(HashMap<i32, String>, std::collections::HashSet<i32>)> {
    let mut ids: Vec<i32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    let rows: Vec<(i32, String, Option<DateTime<Utc>>)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::Username)
        .column(users::Column::DisabledAt)
        .filter(users::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    let disabled = rows.iter().filter(|(_, _, at)| at.is_some()).map(|(id, _, _)| *id).collect();
    Ok((rows.into_iter().map(|(id, name, _)| (id, name)).collect(), disabled))
}

/// What `user` can reach and why: for instance admins, or a user about themself.
pub async fn explain_user(db: &impl ConnectionTrait, caller: &Caller, user: &UserName) -> Result<UserAccessExplained> {
    if !caller.is_admin && caller.username != user.as_str() {
        return Err(Error::Forbidden("Permission denied: only instance admins may explain another user's access".into()));
    }
    let target = require_user(db, user).await?;
    let settings = Settings::load(db).await?;
    let now = crate::orchestrator::now();
    let owned: Vec<String> = pipes::Entity::find()
        .select_only()
        .column(pipes::Column::Name)
        .filter(pipes::Column::OwnerId.eq(target.id))
        .order_by_asc(pipes::Column::Name)
        .limit(MAX_LISTED)
        .into_tuple()
        .all(db)
        .await?;
    let owned_count = pipes::Entity::find().filter(pipes::Column::OwnerId.eq(target.id)).count(db).await?;
    let held = grants::Entity::find().filter(reaches(target.id)).order_by_asc(grants::Column::PipeId).all(db).await?;
    let pipe_ids: Vec<i32> = held.iter().map(|g| g.pipe_id).collect();
    let held_pipes: HashMap<i32, (String, bool)> = if pipe_ids.is_empty() {
        HashMap::new()
    } else {
        pipes::Entity::find()
            .filter(pipes::Column::Id.is_in(pipe_ids))
            .find_also_related(shares::Entity)
            .all(db)
            .await?
            .into_iter()
            .map(|(p, s)| (p.id, (p.name, s.is_some_and(|s| s.status == ShareStatus::Active))))
            .collect()
    };
    let group_ids: Vec<i32> = held.iter().filter(|g| g.subject_kind == SubjectKind::Group).map(|g| g.subject_id).collect();
    let groups = group_names(db, group_ids.iter().copied()).await?;
    let granters = usernames(db, held.iter().map(|g| g.granted_by)).await?;

    let mut live_paths: BTreeMap<String, Vec<AccessPath>> =
        owned.into_iter().map(|name| (name, vec![path(AccessReason::Owner, Some(AccessLevel::Admin))])).collect();
    let mut ended: BTreeMap<String, Vec<AccessPath>> = BTreeMap::new();
    for grant in &held {
        let Some((name, shared)) = held_pipes.get(&grant.pipe_id) else { continue };
        let group = (grant.subject_kind == SubjectKind::Group).then(|| groups.get(&grant.subject_id).cloned().unwrap_or_default());
        let mut path = grant_path(grant, group, &granters, *shared);
        if live(grant, now) {
            live_paths.entry(name.clone()).or_default().push(path);
        } else {
            path.in_force = false;
            ended.entry(name.clone()).or_default().push(path);
        }
    }
    // Every owned pipe, and every other pipe a grant in force reaches.
    let granted_only = live_paths.values().filter(|paths| paths[0].reason != AccessReason::Owner).count() as u64;
    let total_count = owned_count + granted_only;
    let open_shares = |column: shares::Column| {
        shares::Entity::find().filter(shares::Column::Status.eq(ShareStatus::Active)).filter(Condition::all().add(column.eq(true)))
    };
    let (public_pipes, gated_pipes) = if settings.enable_public_sharing {
        (open_shares(shares::Column::IsPublic).count(db).await?, open_shares(shares::Column::Gated).count(db).await?)
    } else {
        (0, 0)
    };
    let reached = |paths: BTreeMap<String, Vec<AccessPath>>| {
        paths
            .into_iter()
            .take(MAX_LISTED as usize)
            .map(|(pipe_name, paths)| ReachedPipe { pipe_name, access_level: strongest(&paths), paths })
            .collect()
    };
    Ok(UserAccessExplained {
        user: target.username,
        instance_admin: target.is_admin && target.disabled_at.is_none(),
        pipes: reached(live_paths),
        total_count,
        public_pipes,
        gated_pipes,
        expired: reached(ended),
    })
}
