//! Environments: names (`dev`, `staging`, `prod`, ...) that point at one version of a pipe,
//! like npm's dist-tags.
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entities::environments;
use super::error::Result;

/// The environments of the pipe that point at `version`.
pub async fn pointing_at(db: &impl ConnectionTrait, pipe_id: i32, version: &str) -> Result<Vec<String>> {
    let rows = environments::Entity::find()
        .filter(environments::Column::PipeId.eq(pipe_id))
        .filter(environments::Column::Version.eq(version))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.name).collect())
}

/// The version an environment of the pipe points at, if it exists.
pub async fn version_in(db: &impl ConnectionTrait, pipe_id: i32, environment: &str) -> Result<Option<String>> {
    let row = environments::Entity::find()
        .filter(environments::Column::PipeId.eq(pipe_id))
        .filter(environments::Column::Name.eq(environment))
        .one(db)
        .await?;
    Ok(row.map(|row| row.version))
}
