//! `list_shareable`: the pipes a caller may share, filtered and paged.
pub use crate::model::{ListScope, PipeFilters, PipeList, PipeSummary};
use std::collections::BTreeSet;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, JoinType, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, RelationTrait, Select, Statement,
    sea_query::{Alias, Expr, Func, LikeExpr, SimpleExpr},
};
use serde_json::{Map, Value};

use super::access::{ShareStatus, shareable_by, shared_with};
use super::accounts::Caller;
use super::catalog::tags;
use super::entities::{JsonText, pipes, shares, users};
use super::error::{Error, Result};
use super::input::{Fields, check_count, check_text, parse};
use super::settings::Settings;
use crate::model::Visibility;

/// The most pipes one answer holds: without `limit`, an ordinary catalogue still comes in one
/// answer, and a large one in pages (`next_after`).
pub const MAX_PAGE: u64 = 1000;

/// The statuses the seed names; every status found in scanned manifests is accepted too.
pub const SEED_STATUSES: [&str; 3] = ["stable", "development", "experimental"];

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
        if text("after")?.is_some() && text("before")?.is_some() {
            return Err(Error::bad("Give after or before, not both"));
        }
        let visibility = text("visibility")?.map(|v| parse(&v)).transpose()?;
        Ok(PipeFilters {
            scope: text("scope")?.map(|s| parse(&s)).transpose()?.unwrap_or_default(),
            visibility,
            shared: match filters.bool("shared")? {
                Some(b) => Some(b),
                None => context.bool("shared")?,
            },
            category: text("category")?,
            status: text("status")?,
            author: text("author")?,
            search: text("search")?,
            limit: count("limit")?,
            offset: count("offset")?,
            after: text("after")?,
            before: text("before")?,
        })
    }

    fn applied(&self) -> Map<String, Value> {
        let mut applied: Map<String, Value> =
            [("category", &self.category), ("status", &self.status), ("author", &self.author), ("search", &self.search)]
                .into_iter()
                .filter_map(|(key, value)| value.as_ref().map(|v| (key.to_string(), Value::from(v.as_str()))))
                .collect();
        if let Some(visibility) = self.visibility {
            applied.insert("visibility".into(), Value::from(visibility.as_str()));
        }
        if let Some(shared) = self.shared {
            applied.insert("shared".into(), Value::from(shared));
        }
        applied
    }
}

/// The pipes `caller` sees in a listing of `scope`; public shares count while `public_open`.
fn in_scope(caller: &Caller, scope: ListScope, now: chrono::DateTime<chrono::Utc>, public_open: bool) -> Condition {
    match scope {
        ListScope::Shareable => shareable_by(caller, now),
        ListScope::SharedWithMe => shared_with(caller, now, public_open),
    }
}

/// Whether public shares are visible now (the instance setting).
async fn public_open(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(Settings::load(db).await?.enable_public_sharing)
}

/// The distinct values of `column` among the pipes matching `condition`, sorted.
async fn values_of(db: &impl ConnectionTrait, column: pipes::Column, condition: Condition) -> Result<BTreeSet<String>> {
    let found: Vec<Option<String>> =
        pipes::Entity::find().select_only().column(column).filter(condition).distinct().into_tuple().all(db).await?;
    Ok(found.into_iter().flatten().collect())
}

/// The statuses a filter may name: the seed's, and those of the pipes `condition` matches
/// (only pipes the caller may list, so the answer tells nothing of the others).
async fn accepted_statuses(db: &impl ConnectionTrait, condition: Condition) -> Result<BTreeSet<String>> {
    let mut statuses = values_of(db, pipes::Column::Status, condition).await?;
    statuses.extend(SEED_STATUSES.iter().map(|s| s.to_string()));
    Ok(statuses)
}

/// What the browse filters offer `caller`: the categories and statuses of the pipes they may
/// list (in either scope).
pub async fn filter_choices(db: &impl ConnectionTrait, caller: &Caller) -> Result<(Vec<String>, Vec<String>)> {
    let now = crate::orchestrator::now();
    let open = public_open(db).await?;
    let listable = || {
        Condition::any().add(in_scope(caller, ListScope::Shareable, now, open)).add(in_scope(caller, ListScope::SharedWithMe, now, open))
    };
    let categories = values_of(db, pipes::Column::Category, listable()).await?;
    let statuses = accepted_statuses(db, listable()).await?;
    Ok((categories.into_iter().collect(), statuses.into_iter().collect()))
}

/// `%` and `_` in the caller's text match themselves.
fn like_pattern(text: &str) -> LikeExpr {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The pipes whose name, description or tags hold `text`, in any case.
///
/// On SQLite a text of three characters or more is looked up in the trigram index
/// `pipes_search` (the triggers of migration 15 keep it in step), and the listing walks its
/// matches, looking each pipe up: `CROSS JOIN` makes SQLite keep that order. Handing the
/// matches to `id IN (...)` instead built a list of them first: at 100k pipes the walk takes
/// 14 to 32% less time for the count and 4 to 19% for the page, from one match to all.
///
/// On PostgreSQL the trigram index of `search_key` (migration 19: the three fields
/// lower-cased, each character not a letter or digit written as `q`) finds the few pipes
/// whose key holds the text written the same way, and the fields decide.
fn searched(backend: DbBackend, text: &str) -> Select<pipes::Entity> {
    let mut query = pipes::Entity::find();
    if backend == DbBackend::Sqlite && text.chars().count() >= 3 {
        // One phrase: the text as it is, quotes doubled, no search operators.
        let phrase = format!("\"{}\"", text.replace('"', "\"\""));
        let index = Alias::new("pipes_search");
        let looked_up = Expr::col((pipes::Entity, pipes::Column::Id)).equals((index.clone(), Alias::new("rowid")));
        QueryTrait::query(&mut query)
            .from_clear()
            .from(index)
            .cross_join(pipes::Entity, looked_up)
            .and_where(Expr::cust_with_values("pipes_search MATCH ?", [phrase]));
        return query;
    }
    let lower = |col: pipes::Column| Expr::expr(Func::lower(Expr::col((pipes::Entity, col))));
    let in_fields = [pipes::Column::Name, pipes::Column::Description, pipes::Column::Tags]
        .into_iter()
        .fold(Condition::any(), |any, col| any.add(lower(col).like(like_pattern(text))));
    if backend == DbBackend::Postgres {
        // The key is written by the same SQL as the column (no wildcards remain in it).
        let key = Expr::cust_with_values(
            "\"pipes\".\"search_key\" LIKE '%' || regexp_replace(lower($1), '[^[:alnum:]]', 'q', 'g') || '%'",
            [text],
        );
        return query.filter(key).filter(in_fields);
    }
    query.filter(in_fields)
}

/// The pipes a listing matches, before paging; every filter is checked first.
async fn matching(db: &impl ConnectionTrait, caller: &Caller, filters: &PipeFilters) -> Result<Select<pipes::Entity>> {
    check_count("offset", filters.offset)?;
    if filters.limit.is_some_and(|limit| limit > MAX_PAGE) {
        return Err(Error::bad(format!("limit must be at most {MAX_PAGE}; read further pages with after (the answer's next_after)")));
    }
    for (name, value) in [
        ("category", &filters.category),
        ("status", &filters.status),
        ("author", &filters.author),
        ("search", &filters.search),
        ("after", &filters.after),
        ("before", &filters.before),
    ] {
        check_text(name, value.as_deref())?;
    }
    let now = crate::orchestrator::now();
    let open = filters.scope == ListScope::Shareable || public_open(db).await?;
    let scope = || in_scope(caller, filters.scope, now, open);
    // A search chooses where the listing starts reading (see `searched`); the filters follow.
    let mut query = match &filters.search {
        Some(search) => searched(db.get_database_backend(), search),
        None => pipes::Entity::find(),
    }
    .filter(scope());
    let share_ids =
        |condition: SimpleExpr| shares::Entity::find().select_only().column(shares::Column::PipeId).filter(condition).into_query();
    let open_share = || shares::Column::IsPublic.eq(true).or(shares::Column::Gated.eq(true));
    match filters.visibility {
        Some(Visibility::Public) => query = query.filter(pipes::Column::Id.in_subquery(share_ids(shares::Column::IsPublic.eq(true)))),
        Some(Visibility::Gated) => query = query.filter(pipes::Column::Id.in_subquery(share_ids(shares::Column::Gated.eq(true)))),
        Some(Visibility::Private) => query = query.filter(pipes::Column::Id.not_in_subquery(share_ids(open_share()))),
        None => {}
    }
    let active = || share_ids(shares::Column::Status.eq(ShareStatus::Active));
    match filters.shared {
        Some(true) => query = query.filter(pipes::Column::Id.in_subquery(active())),
        Some(false) => query = query.filter(pipes::Column::Id.not_in_subquery(active())),
        None => {}
    }
    if let Some(category) = &filters.category {
        query = query.filter(pipes::Column::Category.eq(category.to_lowercase()));
    }
    if let Some(status) = &filters.status {
        let status = status.to_lowercase();
        // The seed's statuses need no lookup; another is checked against those stored.
        if !SEED_STATUSES.contains(&status.as_str()) {
            let accepted = accepted_statuses(db, scope()).await?;
            if !accepted.contains(&status) {
                let list: Vec<&str> = accepted.iter().map(String::as_str).collect();
                return Err(Error::bad(format!("Unknown status '{status}'; accepted statuses: {}", list.join(", "))));
            }
        }
        query = query.filter(pipes::Column::Status.eq(status));
    }
    if let Some(author) = &filters.author {
        query = query.filter(pipes::Column::Author.eq(author.as_str()));
    }
    Ok(query)
}

/// `query` counting its matches, in one `SELECT COUNT(*)` (the paginator's count reads the
/// query, every column named, as a subquery).
fn counted(query: Select<pipes::Entity>) -> Select<pipes::Entity> {
    query.select_only().column_as(Expr::cust("COUNT(*)"), "matches")
}

/// How the database runs a listing's count and first page (`EXPLAIN QUERY PLAN` on SQLite,
/// `EXPLAIN` on PostgreSQL), one line per step; the benchmark prints them.
pub async fn query_plans(db: &impl ConnectionTrait, caller: &Caller, filters: &PipeFilters) -> Result<Vec<String>> {
    let backend = db.get_database_backend();
    let query = matching(db, caller, filters).await?;
    let page = listed(query.clone().order_by(pipes::Column::Name, Order::Asc).limit(filters.limit.unwrap_or(MAX_PAGE) + 1)).build(backend);
    let (explain, detail) = if backend == DbBackend::Sqlite { ("EXPLAIN QUERY PLAN", 3) } else { ("EXPLAIN", 0) };
    let mut lines = Vec::new();
    for (label, statement) in [("count", counted(query).build(backend)), ("page", page)] {
        let explained = Statement { sql: format!("{explain} {}", statement.sql), ..statement };
        for row in db.query_all(explained).await? {
            lines.push(format!("{label}: {}", row.try_get_by_index::<String>(detail)?));
        }
    }
    Ok(lines)
}

pub async fn list_shareable(db: &impl ConnectionTrait, caller: &Caller, filters: &PipeFilters) -> Result<PipeList> {
    let query = matching(db, caller, filters).await?;
    let total_count = counted(query.clone()).into_tuple::<i64>().one(db).await?.unwrap_or(0).max(0) as u64;
    let offset = filters.offset.unwrap_or(0);
    // Keyset paging (after / before a name) or OFFSET; `before` reads backwards from the name.
    let (page, backwards, skip) = match (&filters.after, &filters.before) {
        (Some(after), _) => (query.clone().filter(pipes::Column::Name.gt(after.as_str())), false, None),
        (None, Some(before)) => (query.clone().filter(pipes::Column::Name.lt(before.as_str())), true, None),
        (None, None) => (query.clone(), false, (offset > 0).then_some(offset)),
    };
    let limit = filters.limit.unwrap_or(MAX_PAGE);
    let order = if backwards { Order::Desc } else { Order::Asc };
    // One row more than the page tells whether another page follows.
    let page = page.order_by(pipes::Column::Name, order).offset(skip).limit(limit + 1);
    let mut rows = listed(page).into_model::<ListedPipe>().all(db).await?;
    let mut more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    if backwards {
        rows.reverse();
        // Reading backwards, what follows the page is what comes after its last name.
        more = match rows.last() {
            Some(last) => query.filter(pipes::Column::Name.gt(last.name.as_str())).limit(1).count(db).await? > 0,
            None => false,
        };
    }
    let next_after = rows.last().filter(|_| more).map(|pipe| pipe.name.clone());
    // Everything in the shareable scope is the caller's to manage; what is shared with them
    // is not, and its review note is not theirs to read.
    let manages = filters.scope == ListScope::Shareable;
    let pipes = rows.into_iter().map(|row| row.summary(manages)).collect();
    Ok(PipeList { pipes, total_count, filters_applied: filters.applied(), limit: filters.limit, offset, next_after, registry_status: None })
}

/// A pipe as a listing reads it: only what its summary shows, with its share's fields and its
/// owner's name, in one statement (a listing's page of 50 read every column of both tables,
/// dates and the share's options parsed, and showed none of them).
#[derive(FromQueryResult)]
struct ListedPipe {
    name: String,
    latest_version: String,
    category: Option<String>,
    author: Option<String>,
    status: Option<String>,
    description: Option<String>,
    tags: JsonText<Vec<String>>,
    gone: bool,
    share_status: Option<ShareStatus>,
    share_id: Option<String>,
    is_public: Option<bool>,
    gated: Option<bool>,
    review_note: Option<String>,
    /// `None` when the owner is gone (shown empty).
    owner_name: Option<String>,
}

/// `query` (pipes) reading the columns of [`ListedPipe`].
fn listed(query: Select<pipes::Entity>) -> Select<pipes::Entity> {
    use pipes::Column as P;
    use shares::Column as S;
    let owner = pipes::Entity::belongs_to(users::Entity).from(P::OwnerId).to(users::Column::Id).into();
    query
        .select_only()
        .columns([P::Name, P::LatestVersion, P::Category, P::Author, P::Status, P::Description, P::Tags])
        .expr_as(Expr::col((pipes::Entity, P::GoneAt)).is_not_null(), "gone")
        .join(JoinType::LeftJoin, pipes::Relation::Share.def())
        .column_as(S::Status, "share_status")
        .columns([S::ShareId, S::IsPublic, S::Gated, S::ReviewNote])
        .join(JoinType::LeftJoin, owner)
        .column_as(users::Column::Username, "owner_name")
}

impl ListedPipe {
    /// The pipe's summary; the admin's review note only for those who manage it.
    fn summary(self, manages: bool) -> PipeSummary {
        let active = self.share_status == Some(ShareStatus::Active);
        let visibility = match self.share_id {
            Some(_) => Visibility::of(self.is_public.unwrap_or(false), self.gated.unwrap_or(false)),
            None => Visibility::Private,
        };
        PipeSummary {
            name: self.name,
            version: self.latest_version,
            category: self.category,
            author: self.author,
            status: self.status,
            sharing_enabled: active,
            owner: self.owner_name.unwrap_or_default(),
            visibility,
            share_status: self.share_status,
            share_id: self.share_id,
            review_note: self.review_note.filter(|_| manages),
            description: self.description,
            tags: self.tags.0,
            gone: self.gone,
        }
    }
}

/// A pipe as a listing shows it, owned by `owner` (a name); the admin's review note only for
/// those who manage it.
pub fn summarize(pipe: &pipes::Model, share: Option<&shares::Model>, owner: String, manages: bool) -> PipeSummary {
    ListedPipe {
        name: pipe.name.clone(),
        latest_version: pipe.latest_version.clone(),
        category: pipe.category.clone(),
        author: pipe.author.clone(),
        status: pipe.status.clone(),
        description: pipe.description.clone(),
        tags: JsonText(tags(pipe)),
        gone: pipe.gone_at.is_some(),
        share_status: share.map(|s| s.status),
        share_id: share.map(|s| s.share_id.clone()),
        is_public: share.map(|s| s.is_public),
        gated: share.map(|s| s.gated),
        review_note: share.and_then(|s| s.review_note.clone()),
        owner_name: Some(owner),
    }
    .summary(manages)
}
