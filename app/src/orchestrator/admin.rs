//! The directory of users and groups that instance admins manage.
pub use crate::model::{Directory, GroupInfo, UserInfo};
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use super::access::require_admin;
use super::accounts::Caller;
use super::entities::{group_members, user_groups, users};
use super::error::Result;

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
