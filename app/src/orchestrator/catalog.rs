//! Reading pipes and their versions.
use std::{cmp::Ordering, collections::HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QueryResult, QuerySelect, Select, SelectTwo,
};

use super::entities::{packages, pipe_versions, pipes, shares, user_groups, users};
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

/// A version among a pipe's versions: its name and whether it is yanked, without its manifests.
#[derive(Clone, Debug)]
pub struct VersionName {
    pub version: String,
    pub yanked: bool,
}

/// `query` (versions) also reading each version's package's size and files (never its bytes)
/// as `package_size` and `package_files`: NULL when the package is not stored.
pub fn with_package_summary(query: Select<pipe_versions::Entity>) -> Select<pipe_versions::Entity> {
    let package =
        pipe_versions::Entity::belongs_to(packages::Entity).from(pipe_versions::Column::PackageSha256).to(packages::Column::Sha256).into();
    query
        .join(JoinType::LeftJoin, package)
        .column_as(packages::Column::Size, "package_size")
        .column_as(packages::Column::Files, "package_files")
}

/// The column that `with_owner_name` reads an owner's name into.
const OWNER_NAME: &str = "owner_name";

/// `query` (pipes with their shares) also reading each pipe's owner's name, in the same
/// statement; `pipe_share_owner` reads its rows.
pub fn with_owner_name(query: SelectTwo<pipes::Entity, shares::Entity>) -> SelectTwo<pipes::Entity, shares::Entity> {
    let owner = pipes::Entity::belongs_to(users::Entity).from(pipes::Column::OwnerId).to(users::Column::Id).into();
    query.join(JoinType::LeftJoin, owner).column_as(users::Column::Username, OWNER_NAME)
}

/// A row of a `with_owner_name` query: the pipe, its share, and its owner's name (empty if the
/// owner is gone, as `usernames` leaves it).
pub fn pipe_share_owner(row: &QueryResult) -> Result<(pipes::Model, Option<shares::Model>, String)> {
    // `find_also_related` prefixes the pipe's columns with `A_` and the share's with `B_`.
    let pipe = pipes::Model::from_query_result(row, "A_")?;
    let share = shares::Model::from_query_result_optional(row, "B_")?;
    let owner: Option<String> = row.try_get("", OWNER_NAME)?;
    Ok((pipe, share, owner.unwrap_or_default()))
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
