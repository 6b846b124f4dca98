//! What instance admins (and the operator at the terminal, `by: None`) manage: the directory
//! of users and groups, and taking access away: disabling and deleting accounts, handing
//! their pipes on, passwords, the admin role, group membership. Every change is audited.
pub use crate::model::{Directory, GroupInfo, UserInfo};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait, sea_query::Expr,
};
use serde_json::json;

use super::access::{SubjectKind, require_admin, require_write};
use super::accounts::{self, Caller, GroupName, UserName};
use super::audit;
use super::entities::{api_tokens, grants, group_members, pipes, user_groups, users};
use super::error::{Error, Result};
use crate::model::AuditAction;

pub async fn directory(db: &DatabaseConnection) -> Result<Directory> {
    let users = users::Entity::find().order_by_asc(users::Column::Username).all(db).await?;
    let groups = user_groups::Entity::find().order_by_asc(user_groups::Column::Name).all(db).await?;
    let members = group_members::Entity::find().all(db).await?;
    let user_name = |id: i32| users.iter().find(|u| u.id == id).map(|u| u.username.clone());
    let group_name = |id: i32| groups.iter().find(|g| g.id == id).map(|g| g.name.clone());
    Ok(Directory {
        users: users
            .iter()
            .map(|u| UserInfo {
                username: u.username.clone(),
                is_admin: u.is_admin,
                disabled: u.disabled_at.is_some(),
                groups: members.iter().filter(|m| m.user_id == u.id).filter_map(|m| group_name(m.group_id)).collect(),
            })
            .collect(),
        groups: groups
            .iter()
            .map(|g| GroupInfo {
                name: g.name.clone(),
                members: members.iter().filter(|m| m.group_id == g.id).filter_map(|m| user_name(m.user_id)).collect(),
            })
            .collect(),
    })
}

/// Instance admins (with a token that may write) and the operator (`None`) pass.
pub fn require_admin_or_operator(by: Option<&Caller>, what: &str) -> Result<()> {
    by.map_or(Ok(()), |caller| require_write(caller).and_then(|_| require_admin(caller, what)))
}

/// Refuses a change that would leave the instance without an enabled admin.
async fn keep_an_admin(db: &impl ConnectionTrait, losing: &users::Model) -> Result<()> {
    if !losing.is_admin || losing.disabled_at.is_some() {
        return Ok(());
    }
    let others = users::Entity::find()
        .filter(users::Column::IsAdmin.eq(true))
        .filter(users::Column::DisabledAt.is_null())
        .filter(users::Column::Id.ne(losing.id))
        .count(db)
        .await?;
    if others == 0 {
        return Err(Error::Conflict(format!("'{}' is the last instance admin; make another admin first", losing.username)));
    }
    Ok(())
}

/// Disables or re-enables an account. A disabled user's sessions and tokens stop working at
/// once; their pipes, shares and grants stay.
pub async fn set_disabled(db: &DatabaseConnection, by: Option<&Caller>, username: &UserName, disabled: bool) -> Result<()> {
    require_admin_or_operator(by, "disable users")?;
    let user = accounts::require_user(db, username).await?;
    if disabled {
        if by.is_some_and(|caller| caller.user_id == user.id) {
            return Err(Error::Conflict("You cannot disable your own account".into()));
        }
        keep_an_admin(db, &user).await?;
    }
    let txn = db.begin().await?;
    let mut active = user.into_active_model();
    active.disabled_at = Set(disabled.then(crate::orchestrator::now));
    active.update(&txn).await?;
    let action = if disabled { AuditAction::DisableUser } else { AuditAction::EnableUser };
    audit::record(&txn, by, action, None, json!({"user": username})).await?;
    txn.commit().await?;
    Ok(())
}

/// Hands every pipe of `from` to `to` (before deleting `from`, say). Returns how many.
pub async fn transfer_pipes(db: &DatabaseConnection, by: Option<&Caller>, from: &UserName, to: &UserName) -> Result<u64> {
    require_admin_or_operator(by, "transfer pipes")?;
    let (giver, taker) = (accounts::require_user(db, from).await?, accounts::require_user(db, to).await?);
    if giver.id == taker.id {
        return Err(Error::bad("Give two different users"));
    }
    let txn = db.begin().await?;
    let moved = pipes::Entity::update_many()
        .col_expr(pipes::Column::OwnerId, Expr::value(taker.id))
        .filter(pipes::Column::OwnerId.eq(giver.id))
        .exec(&txn)
        .await?
        .rows_affected;
    super::tallies::move_owner(&txn, giver.id, taker.id).await?;
    audit::record(&txn, by, AuditAction::TransferPipes, None, json!({"from": from, "to": to, "pipes": moved})).await?;
    txn.commit().await?;
    Ok(moved)
}

/// Deletes an account with its tokens, memberships and grants; refused while it owns pipes
/// (transfer them first) and for the last admin.
pub async fn delete_user(db: &DatabaseConnection, by: Option<&Caller>, username: &UserName) -> Result<()> {
    require_admin_or_operator(by, "delete users")?;
    let user = accounts::require_user(db, username).await?;
    if by.is_some_and(|caller| caller.user_id == user.id) {
        return Err(Error::Conflict("You cannot delete your own account".into()));
    }
    keep_an_admin(db, &user).await?;
    let owned = pipes::Entity::find().filter(pipes::Column::OwnerId.eq(user.id)).count(db).await?;
    if owned > 0 {
        return Err(Error::Conflict(format!(
            "'{username}' owns {owned} pipe(s); hand them on first (pipeshare user transfer-pipes {username} NEW_OWNER)"
        )));
    }
    let txn = db.begin().await?;
    grants::Entity::delete_many()
        .filter(grants::Column::SubjectKind.eq(SubjectKind::User))
        .filter(grants::Column::SubjectId.eq(user.id))
        .exec(&txn)
        .await?;
    api_tokens::Entity::delete_many().filter(api_tokens::Column::UserId.eq(user.id)).exec(&txn).await?;
    group_members::Entity::delete_many().filter(group_members::Column::UserId.eq(user.id)).exec(&txn).await?;
    users::Entity::delete_by_id(user.id).exec(&txn).await?;
    audit::record(&txn, by, AuditAction::DeleteUser, None, json!({"user": username})).await?;
    txn.commit().await?;
    Ok(())
}

/// Sets a user's password (an admin for anyone, a user for themselves) and ends every
/// session of theirs; `keep_session` is the caller's own, which the door renews.
pub async fn set_password(db: &DatabaseConnection, by: Option<&Caller>, username: &UserName, password: &str) -> Result<i32> {
    if let Some(caller) = by {
        require_write(caller)?;
        if caller.username != username.as_str() {
            require_admin(caller, "set other users' passwords")?;
        }
    }
    accounts::check_password(password)?;
    let user = accounts::require_user(db, username).await?;
    let hash = accounts::hash_password(password.to_string()).await?;
    let epoch = user.session_epoch.saturating_add(1);
    let txn = db.begin().await?;
    let mut active = user.into_active_model();
    active.password_hash = Set(hash);
    active.session_epoch = Set(epoch);
    active.update(&txn).await?;
    audit::record(&txn, by, AuditAction::SetPassword, None, json!({"user": username})).await?;
    txn.commit().await?;
    Ok(epoch)
}

/// Makes a user an instance admin or takes the role away (never from the last admin).
pub async fn set_admin(db: &DatabaseConnection, by: Option<&Caller>, username: &UserName, admin: bool) -> Result<()> {
    require_admin_or_operator(by, "change who is an admin")?;
    let user = accounts::require_user(db, username).await?;
    if !admin {
        keep_an_admin(db, &user).await?;
    }
    let txn = db.begin().await?;
    let mut active = user.into_active_model();
    active.is_admin = Set(admin);
    active.update(&txn).await?;
    audit::record(&txn, by, AuditAction::SetAdmin, None, json!({"user": username, "admin": admin})).await?;
    txn.commit().await?;
    Ok(())
}

pub async fn remove_group_member(db: &DatabaseConnection, by: Option<&Caller>, group: &GroupName, username: &UserName) -> Result<()> {
    require_admin_or_operator(by, "change groups")?;
    let (found, user) = (accounts::require_group(db, group).await?, accounts::require_user(db, username).await?);
    let txn = db.begin().await?;
    let removed = group_members::Entity::delete_by_id((found.id, user.id)).exec(&txn).await?;
    if removed.rows_affected == 0 {
        return Err(Error::NotFound(format!("User '{username}' is not in group '{group}'")));
    }
    audit::record(&txn, by, AuditAction::RemoveMember, None, json!({"group": group, "user": username})).await?;
    txn.commit().await?;
    Ok(())
}

/// Deletes a group, its memberships and the grants made to it.
pub async fn delete_group(db: &DatabaseConnection, by: Option<&Caller>, group: &GroupName) -> Result<()> {
    require_admin_or_operator(by, "delete groups")?;
    let found = accounts::require_group(db, group).await?;
    let txn = db.begin().await?;
    grants::Entity::delete_many()
        .filter(grants::Column::SubjectKind.eq(SubjectKind::Group))
        .filter(grants::Column::SubjectId.eq(found.id))
        .exec(&txn)
        .await?;
    group_members::Entity::delete_many().filter(group_members::Column::GroupId.eq(found.id)).exec(&txn).await?;
    user_groups::Entity::delete_by_id(found.id).exec(&txn).await?;
    audit::record(&txn, by, AuditAction::DeleteGroup, None, json!({"group": group})).await?;
    txn.commit().await?;
    Ok(())
}
