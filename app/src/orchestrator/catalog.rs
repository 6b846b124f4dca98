//! Reading pipes and their versions.
use std::{cmp::Ordering, collections::HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entities::{pipe_versions, pipes, user_groups, users};
use super::error::Result;

/// Orders versions as semver when both parse, otherwise as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (semver::Version::parse(a), semver::Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        _ => a.cmp(b),
    }
}

/// A pipe's versions, newest first.
pub async fn versions_of(db: &impl ConnectionTrait, pipe_id: i32) -> Result<Vec<pipe_versions::Model>> {
    let mut versions = pipe_versions::Entity::find().filter(pipe_versions::Column::PipeId.eq(pipe_id)).all(db).await?;
    versions.sort_by(|a, b| compare_versions(&b.version, &a.version));
    Ok(versions)
}

/// User names by id, for the given ids.
pub async fn usernames(db: &impl ConnectionTrait, ids: impl IntoIterator<Item = i32>) -> Result<HashMap<i32, String>> {
    let mut ids: Vec<i32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(users::Entity::find().filter(users::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|u| (u.id, u.username)).collect())
}

/// Group names by id, for the given ids.
pub async fn group_names(db: &impl ConnectionTrait, ids: impl IntoIterator<Item = i32>) -> Result<HashMap<i32, String>> {
    let mut ids: Vec<i32> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user_groups::Entity::find().filter(user_groups::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|g| (g.id, g.name)).collect())
}

pub fn tags(pipe: &pipes::Model) -> Vec<String> {
    pipe.tags.0.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_orders_numerically() {
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("2.0.0", "2.0.0-beta"), Ordering::Greater);
        assert_eq!(compare_versions("1.0.0", "latest"), Ordering::Greater);
        assert_eq!(compare_versions("b", "a"), Ordering::Greater);
    }
}
