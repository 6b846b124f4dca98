//! Who may do what to a pipe. Every door asks here; no rule is written anywhere else.
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select,
    sea_query::{Expr, Query, SelectStatement},
};

use super::accounts::Caller;
use super::catalog::{pipe_share_owner, with_owner_name};
use super::entities::{grants, group_members, pipes, shares};
use super::error::{Error, Result};
use super::settings::Settings;
pub use crate::model::{AccessLevel, ShareStatus, SubjectKind};

/// The ids of the groups the user belongs to, as a subquery.
fn groups_of(user_id: i32) -> SelectStatement {
    Query::select()
        .column(group_members::Column::GroupId)
        .from(group_members::Entity)
        .and_where(group_members::Column::UserId.eq(user_id))
        .to_owned()
}

/// Grants that reach the user: made to them, or to a group they are in.
pub fn reaches(user_id: i32) -> Condition {
    Condition::any()
        .add(grants::Column::SubjectKind.eq(SubjectKind::User).and(grants::Column::SubjectId.eq(user_id)))
        .add(grants::Column::SubjectKind.eq(SubjectKind::Group).and(grants::Column::SubjectId.in_subquery(groups_of(user_id))))
}

/// Grants not yet expired at `now`.
pub fn unexpired(now: DateTime<Utc>) -> Condition {
    Condition::any().add(grants::Column::ExpiresAt.is_null()).add(grants::Column::ExpiresAt.gt(now))
}

/// The ids of the pipes with an unexpired grant that reaches the user.
fn granted_to(user_id: i32, now: DateTime<Utc>) -> Select<grants::Entity> {
    grants::Entity::find().select_only().column(grants::Column::PipeId).filter(reaches(user_id)).filter(unexpired(now))
}

/// The pipes the caller may share: owned, or held with an unexpired `admin` grant.
/// Instance admins may share every pipe.
pub fn shareable_by(caller: &Caller, now: DateTime<Utc>) -> Condition {
    if caller.is_admin {
        return Condition::all();
    }
    let admin_grants = granted_to(caller.user_id, now).filter(grants::Column::AccessLevel.eq(AccessLevel::Admin)).into_query();
    Condition::any().add(pipes::Column::OwnerId.eq(caller.user_id)).add(pipes::Column::Id.in_subquery(admin_grants))
}

/// The ids of the pipes with an active public or gated share: seen by everyone while the
/// instance allows public sharing.
fn listed_pipes() -> SelectStatement {
    shares::Entity::find()
        .select_only()
        .column(shares::Column::PipeId)
        .filter(shares::Column::Status.eq(ShareStatus::Active))
        .filter(Condition::any().add(shares::Column::IsPublic.eq(true)).add(shares::Column::Gated.eq(true)))
        .into_query()
}

/// Other people's pipes the caller may see: an active public or gated share (while the
/// instance allows public sharing: `public_open`), or an active share with an unexpired grant
/// that reaches the caller.
pub fn shared_with(caller: &Caller, now: DateTime<Utc>, public_open: bool) -> Condition {
    let granted = granted_to(caller.user_id, now).into_query();
    let active = shares::Entity::find()
        .select_only()
        .column(shares::Column::PipeId)
        .filter(shares::Column::Status.eq(ShareStatus::Active))
        .into_query();
    let visible = if public_open {
        Condition::any().add(pipes::Column::Id.in_subquery(listed_pipes())).add(pipes::Column::Id.in_subquery(granted))
    } else {
        Condition::any().add(pipes::Column::Id.in_subquery(granted))
    };
    Condition::all().add(pipes::Column::OwnerId.ne(caller.user_id)).add(pipes::Column::Id.in_subquery(active)).add(visible)
}

/// The pipes the caller may download (`None`: an anonymous visitor), as `access` decides for
/// one pipe: managers always; others with an active public share (while `public_open`), or
/// with an active share and an unexpired grant. Gated shares do not count.
pub fn downloadable_by(caller: Option<&Caller>, now: DateTime<Utc>, public_open: bool) -> Condition {
    let active =
        || shares::Entity::find().select_only().column(shares::Column::PipeId).filter(shares::Column::Status.eq(ShareStatus::Active));
    let public = if public_open {
        pipes::Column::Id.in_subquery(active().filter(shares::Column::IsPublic.eq(true)).into_query())
    } else {
        Expr::cust("1 = 0")
    };
    let Some(caller) = caller else {
        return Condition::all().add(public);
    };
    let granted = granted_to(caller.user_id, now).into_query();
    Condition::any()
        .add(shareable_by(caller, now))
        .add(public)
        .add(Condition::all().add(pipes::Column::Id.in_subquery(active().into_query())).add(pipes::Column::Id.in_subquery(granted)))
}

/// The pipes the caller may see (`None`: an anonymous visitor), as `access` decides for one
/// pipe: anyone, while an active public or gated share is open (`public_open`); a signed-in
/// caller also those they may share or that are shared with them.
pub fn seen_by(caller: Option<&Caller>, now: DateTime<Utc>, public_open: bool) -> Condition {
    let Some(caller) = caller else {
        if !public_open {
            return Condition::all().add(Expr::cust("1 = 0"));
        }
        return Condition::all().add(pipes::Column::Id.in_subquery(listed_pipes()));
    };
    Condition::any().add(shareable_by(caller, now)).add(shared_with(caller, now, public_open))
}

/// What the caller may do with one pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeAccess {
    /// Share, unshare and grant: the owner, an instance admin or an `admin` grantee.
    pub manage: bool,
    /// Download it: managers always; others with an active public share, or with an active
    /// share and an unexpired grant.
    pub download: bool,
    /// See its page and find it in listings: whoever may download it, and everyone while it
    /// has an active gated share.
    pub see: bool,
    /// Holds at least `read_write`: managers, and grantees of that level (who contribute
    /// when the share allows, promote outside protected environments, and fork).
    pub write: bool,
}

/// What `caller` may do with the pipe; `None` is an anonymous visitor.
pub async fn access(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    pipe: &pipes::Model,
    share: Option<&shares::Model>,
) -> Result<PipeAccess> {
    // Only an active public or gated share depends on the setting.
    let open_share = share.is_some_and(|s| s.status == ShareStatus::Active && (s.is_public || s.gated));
    let public_sharing = open_share && Settings::load(db).await?.enable_public_sharing;
    access_under(db, caller, pipe, share, public_sharing).await
}

/// Whether everyone may download the pipe, signed in or not: its share is active and public,
/// and the instance allows public sharing (`public_sharing`).
fn open_to_all(share: Option<&shares::Model>, public_sharing: bool) -> bool {
    public_sharing && share.is_some_and(|s| s.status == ShareStatus::Active && s.is_public)
}

/// `access`, with whether the instance allows public sharing known.
async fn access_under(
    db: &impl ConnectionTrait,
    caller: Option<&Caller>,
    pipe: &pipes::Model,
    share: Option<&shares::Model>,
    public_sharing: bool,
) -> Result<PipeAccess> {
    let active = share.is_some_and(|s| s.status == ShareStatus::Active);
    // A public or gated share is open while the instance allows public sharing; turned off,
    // it stays stored and counts for nobody, and comes back when it is turned on again.
    let listed = active && share.is_some_and(|s| s.is_public || s.gated) && public_sharing;
    let public = open_to_all(share, public_sharing);
    let Some(caller) = caller else {
        return Ok(PipeAccess { manage: false, download: public, see: listed, write: false });
    };
    if caller.is_admin || pipe.owner_id == caller.user_id {
        return Ok(PipeAccess { manage: true, download: true, see: true, write: true });
    }
    let held = held_levels(db, caller.user_id, pipe.id).await?;
    let manage = held.contains(&AccessLevel::Admin);
    let write = held.iter().any(|level| *level >= AccessLevel::ReadWrite);
    let download = manage || public || (active && !held.is_empty());
    Ok(PipeAccess { manage, download, see: download || listed, write })
}

/// The levels of the unexpired grants on a pipe that reach the user.
pub async fn held_levels(db: &impl ConnectionTrait, user_id: i32, pipe_id: i32) -> Result<Vec<AccessLevel>> {
    Ok(grants::Entity::find()
        .select_only()
        .column(grants::Column::AccessLevel)
        .filter(grants::Column::PipeId.eq(pipe_id))
        .filter(reaches(user_id))
        .filter(unexpired(crate::orchestrator::now()))
        .into_tuple()
        .all(db)
        .await?)
}

/// When the caller's `admin` access to a pipe through grants ends: `None` when they hold no
/// expiring admin grant on it (none at all, or one that never ends).
pub async fn admin_grant_ends(db: &impl ConnectionTrait, caller: &Caller, pipe_id: i32) -> Result<Option<DateTime<Utc>>> {
    let ends: Vec<Option<DateTime<Utc>>> = grants::Entity::find()
        .select_only()
        .column(grants::Column::ExpiresAt)
        .filter(grants::Column::PipeId.eq(pipe_id))
        .filter(reaches(caller.user_id))
        .filter(unexpired(crate::orchestrator::now()))
        .filter(grants::Column::AccessLevel.eq(AccessLevel::Admin))
        .into_tuple()
        .all(db)
        .await?;
    if ends.iter().any(Option::is_none) {
        return Ok(None);
    }
    Ok(ends.into_iter().flatten().max())
}

/// A pipe with its share, if it has one.
pub async fn find_pipe(db: &impl ConnectionTrait, name: &str) -> Result<Option<(pipes::Model, Option<shares::Model>)>> {
    Ok(pipes::Entity::find().filter(pipes::Column::Name.eq(name)).find_also_related(shares::Entity).one(db).await?)
}

/// The pipe, if the caller may manage its sharing. A caller who may see it gets the seed's
/// 403; one who may not gets the same 404 as for a pipe that does not exist.
pub async fn pipe_to_manage(db: &impl ConnectionTrait, caller: &Caller, name: &str) -> Result<(pipes::Model, Option<shares::Model>)> {
    let (pipe, share) = find_pipe(db, name).await?.ok_or_else(|| Error::pipe_not_found(name))?;
    let access = access(db, Some(caller), &pipe, share.as_ref()).await?;
    if access.manage {
        Ok((pipe, share))
    } else if access.see {
        Err(Error::no_sharing_permission(name))
    } else {
        Err(Error::pipe_not_found(name))
    }
}

/// A pipe as the pipe page and downloads find it, in one statement: its share, if it has one,
/// its owner's name, and whether the instance allows public sharing.
pub struct FoundPipe {
    pub pipe: pipes::Model,
    pub share: Option<shares::Model>,
    pub owner: String,
    pub public_sharing: bool,
}

/// `find_pipe`, with the pipe's owner's name and the public sharing setting read along.
async fn find_pipe_with_owner(db: &impl ConnectionTrait, name: &str) -> Result<Option<FoundPipe>> {
    const PUBLIC_SHARING: &str = "public_sharing";
    let query = pipes::Entity::find().filter(pipes::Column::Name.eq(name)).find_also_related(shares::Entity);
    let statement =
        with_owner_name(query).expr_as(Settings::stored("enable_public_sharing"), PUBLIC_SHARING).limit(1).build(db.get_database_backend());
    let Some(row) = db.query_one(statement).await? else {
        return Ok(None);
    };
    let (pipe, share, owner) = pipe_share_owner(&row)?;
    let stored: Option<String> = row.try_get("", PUBLIC_SHARING)?;
    Ok(Some(FoundPipe { pipe, share, owner, public_sharing: Settings::public_sharing_from(stored.as_deref()) }))
}

/// The pipe, if the caller may see its page; otherwise the not-found answer.
pub async fn pipe_to_see(db: &impl ConnectionTrait, caller: Option<&Caller>, name: &str) -> Result<(FoundPipe, PipeAccess)> {
    let found = find_pipe_with_owner(db, name).await?.ok_or_else(|| Error::pipe_not_found(name))?;
    let access = access_under(db, caller, &found.pipe, found.share.as_ref(), found.public_sharing).await?;
    if access.see { Ok((found, access)) } else { Err(Error::pipe_not_found(name)) }
}

/// The pipe, if the caller may download it. A gated pipe's visitor without a grant is told
/// to ask for access; anyone else who may not download it gets the not-found answer.
pub async fn pipe_to_download(db: &impl ConnectionTrait, caller: Option<&Caller>, name: &str) -> Result<FoundPipe> {
    let found = find_pipe_with_owner(db, name).await?.ok_or_else(|| Error::pipe_not_found(name))?;
    // A pipe open to all needs no look at the caller's grants: they could only add to that.
    let (download, see) = if open_to_all(found.share.as_ref(), found.public_sharing) {
        (true, true)
    } else {
        let access = access_under(db, caller, &found.pipe, found.share.as_ref(), found.public_sharing).await?;
        (access.download, access.see)
    };
    let pipe = &found.pipe;
    if download && pipe.gone_at.is_some() {
        Err(Error::Gone(format!("'{}' is gone from its source; it is kept here but no longer downloaded", pipe.name)))
    } else if download {
        Ok(found)
    } else if see {
        Err(Error::Forbidden(format!("'{}' is gated: downloads need a grant; ask for one with request_access", pipe.name)))
    } else {
        Err(Error::pipe_not_found(name))
    }
}

/// A read-only token lists, reads and downloads; it changes nothing.
pub fn require_write(caller: &Caller) -> Result<()> {
    if caller.read_only {
        return Err(Error::Forbidden("Permission denied: this API token is read-only".into()));
    }
    Ok(())
}

pub fn require_admin(caller: &Caller, what: &str) -> Result<()> {
    if caller.is_admin { Ok(()) } else { Err(Error::Forbidden(format!("Permission denied: only instance admins may {what}"))) }
}
