//! What instance admins do from the browser: users, groups and settings. The CLI is the
//! operator's own door and calls `accounts` and `settings` directly.
pub use crate::model::{Directory, GroupInfo, UserInfo};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use super::access::require_admin;
use super::accounts::{self, Caller};
use super::entities::{group_members, user_groups, users};
use super::error::{Error, Result};
use super::settings::Settings;

pub async fn directory(db: &DatabaseConnection, caller: &Caller) -> Result<Directory> {
    require_admin(caller, "manage users and groups")?;
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

pub async fn create_user(db: &DatabaseConnection, caller: &Caller, username: &str, password: &str, is_admin: bool) -> Result<()> {
    require_admin(caller, "create users")?;
    accounts::create_user(db, username.trim(), password, is_admin).await.map(|_| ())
}

pub async fn create_group(db: &DatabaseConnection, caller: &Caller, name: &str) -> Result<()> {
    require_admin(caller, "create groups")?;
    accounts::create_group(db, name.trim()).await.map(|_| ())
}

pub async fn add_group_member(db: &DatabaseConnection, caller: &Caller, group: &str, username: &str) -> Result<()> {
    require_admin(caller, "change groups")?;
    accounts::add_group_member(db, group.trim(), username.trim()).await
}

pub async fn settings(db: &DatabaseConnection, caller: &Caller) -> Result<Settings> {
    require_admin(caller, "see settings")?;
    Settings::load(db).await
}

pub async fn update_setting(db: &DatabaseConnection, caller: &Caller, key: &str, value: &str) -> Result<Settings> {
    require_admin(caller, "change settings")?;
    Settings::set(db, Some(caller), key, value).await
}

/// Creates an account from the sign-in page, while the instance allows it.
pub async fn sign_up(db: &DatabaseConnection, username: &str, password: &str) -> Result<Caller> {
    if !Settings::load(db).await?.allow_self_signup {
        return Err(Error::Forbidden("Sign-up is closed on this instance; ask an admin for an account".into()));
    }
    let user = accounts::create_user(db, username.trim(), password, false).await?;
    Ok(Caller::from(&user))
}
