//! `list_shareable`: the pipes a caller may share, filtered and paged.
use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Func, LikeExpr},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::access::{ShareStatus, shareable_by};
use super::accounts::Caller;
use super::catalog::{tags, usernames};
use super::entities::{pipes, shares};
use super::error::{Error, Result};
use super::input::Fields;

/// The statuses the seed names; every status found in scanned manifests is accepted too.
pub const SEED_STATUSES: [&str; 3] = ["stable", "development", "experimental"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PipeFilters {
    pub category: Option<String>,
    pub status: Option<String>,
    pub author: Option<String>,
    /// Free text, matched against name and description.
    pub search: Option<String>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl PipeFilters {
    /// From `pipe_filters`, with `search`, `limit` and `offset` also accepted on the context.
    pub fn from_context(context: &Fields) -> Result<Self> {
        let filters = context.object("pipe_filters")?;
        let text = |key: &str| -> Result<Option<String>> {
            let value = match filters.str(key)? {
                Some(v) => Some(v),
                None => context.str(key)?,
            };
            Ok(value.map(str::trim).filter(|v| !v.is_empty()).map(String::from))
        };
        let count = |key: &str| -> Result<Option<u64>> {
            match filters.count(key)? {
                Some(n) => Ok(Some(n)),
                None => context.count(key),
            }
        };
        Ok(PipeFilters {
            category: text("category")?,
            status: text("status")?,
            author: text("author")?,
            search: text("search")?,
            limit: count("limit")?,
            offset: count("offset")?,
        })
    }

    fn applied(&self) -> Map<String, Value> {
        [("category", &self.category), ("status", &self.status), ("author", &self.author), ("search", &self.search)]
            .into_iter()
            .filter_map(|(key, value)| value.as_ref().map(|v| (key.to_string(), Value::from(v.as_str()))))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeSummary {
    pub name: String,
    pub version: String,
    pub category: Option<String>,
    pub author: Option<String>,
    pub status: Option<String>,
    /// True only while the pipe has an active share.
    pub sharing_enabled: bool,
    pub owner: String,
    /// `public` or `private`: what the share asks for; an unshared pipe is private.
    pub visibility: String,
    /// `active`, `pending_approval`, `rejected`, or none when the pipe is not shared.
    pub share_status: Option<String>,
    pub share_id: Option<String>,
    /// The admin's note when a share was reviewed.
    pub review_note: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipeList {
    pub pipes: Vec<PipeSummary>,
    /// Every match, not only this page.
    pub total_count: u64,
    pub filters_applied: Map<String, Value>,
    pub limit: Option<u64>,
    pub offset: u64,
}

/// The statuses a filter may name.
pub async fn accepted_statuses(db: &impl ConnectionTrait) -> Result<BTreeSet<String>> {
    let found: Vec<Option<String>> =
        pipes::Entity::find().select_only().column(pipes::Column::Status).distinct().into_tuple().all(db).await?;
    Ok(SEED_STATUSES.iter().map(|s| s.to_string()).chain(found.into_iter().flatten()).collect())
}

/// `%` and `_` in the caller's text match themselves.
fn like_pattern(text: &str) -> LikeExpr {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

pub async fn list_shareable(db: &impl ConnectionTrait, caller: &Caller, filters: &PipeFilters) -> Result<PipeList> {
    let mut query = pipes::Entity::find().filter(shareable_by(caller, Utc::now()));
    if let Some(category) = &filters.category {
        query = query.filter(pipes::Column::Category.eq(category.to_lowercase()));
    }
    if let Some(status) = &filters.status {
        let status = status.to_lowercase();
        let accepted = accepted_statuses(db).await?;
        if !accepted.contains(&status) {
            let list: Vec<&str> = accepted.iter().map(String::as_str).collect();
            return Err(Error::bad(format!("Unknown status '{status}'; accepted statuses: {}", list.join(", "))));
        }
        query = query.filter(pipes::Column::Status.eq(status));
    }
    if let Some(author) = &filters.author {
        query = query.filter(pipes::Column::Author.eq(author.as_str()));
    }
    if let Some(search) = &filters.search {
        let lower = |col: pipes::Column| Expr::expr(Func::lower(Expr::col((pipes::Entity, col))));
        query = query.filter(
            Condition::any()
                .add(lower(pipes::Column::Name).like(like_pattern(search)))
                .add(lower(pipes::Column::Description).like(like_pattern(search))),
        );
    }
    let total_count = query.clone().count(db).await?;
    let offset = filters.offset.unwrap_or(0);
    // SQL has no OFFSET without LIMIT on every backend: "no limit" becomes the largest one.
    let limit = filters.limit.or((offset > 0).then_some(i64::MAX as u64));
    let rows = query
        .order_by_asc(pipes::Column::Name)
        .offset((offset > 0).then_some(offset))
        .limit(limit)
        .find_also_related(shares::Entity)
        .all(db)
        .await?;
    let owners = usernames(db, rows.iter().map(|(p, _)| p.owner_id)).await?;
    let pipes = rows.into_iter().map(|(pipe, share)| summarize(&pipe, share.as_ref(), &owners)).collect();
    Ok(PipeList { pipes, total_count, filters_applied: filters.applied(), limit: filters.limit, offset })
}

pub fn summarize(pipe: &pipes::Model, share: Option<&shares::Model>, owners: &std::collections::HashMap<i32, String>) -> PipeSummary {
    PipeSummary {
        name: pipe.name.clone(),
        version: pipe.latest_version.clone(),
        category: pipe.category.clone(),
        author: pipe.author.clone(),
        status: pipe.status.clone(),
        sharing_enabled: share.is_some_and(|s| ShareStatus::of(s) == Some(ShareStatus::Active)),
        owner: owners.get(&pipe.owner_id).cloned().unwrap_or_default(),
        visibility: if share.is_some_and(|s| s.is_public) { "public" } else { "private" }.into(),
        share_status: share.map(|s| s.status.clone()),
        share_id: share.map(|s| s.share_id.clone()),
        review_note: share.and_then(|s| s.review_note.clone()),
        description: pipe.description.clone(),
        tags: tags(pipe),
    }
}
