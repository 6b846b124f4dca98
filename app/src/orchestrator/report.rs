//! `generate_share_report`: sharing and usage, computed from the database. A user's report
//! covers the pipes they own; an admin's covers the whole instance.
pub use crate::model::{
    CategoryDownloads, DayCount, ReportOptions, ShareReport, Summary, TimeRange, TrendAnalysis, UsageStats, UserCount, UserMetrics,
};
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::Rng;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, RelationTrait, Select,
    sea_query::{Alias, Expr},
};

use super::access::unexpired;
use super::accounts::Caller;
use super::catalog::usernames;
use super::entities::{downloads, grants, pipes, shares};
use super::error::Result;
use super::input::Fields;
use crate::model::ShareStatus;

impl TimeRange {
    fn days(self) -> Option<i64> {
        match self {
            TimeRange::Days7 => Some(7),
            TimeRange::Days30 => Some(30),
            TimeRange::Days90 => Some(90),
            TimeRange::Year => Some(365),
            TimeRange::AllTime => None,
        }
    }
}

impl ReportOptions {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let options = context.object("report_options")?;
        let defaults = ReportOptions::default();
        Ok(ReportOptions {
            time_range: options.parsed("time_range")?.unwrap_or(defaults.time_range),
            include_usage_stats: options.bool("include_usage_stats")?.unwrap_or(defaults.include_usage_stats),
            include_user_metrics: options.bool("include_user_metrics")?.unwrap_or(defaults.include_user_metrics),
            include_trend_analysis: options.bool("include_trend_analysis")?.unwrap_or(defaults.include_trend_analysis),
            report_format: options.str("report_format")?.unwrap_or(&defaults.report_format).to_string(),
        })
    }
}

const TOP: u64 = 5;

/// The pipes a report covers.
fn scope(caller: &Caller) -> Condition {
    if caller.is_admin { Condition::all() } else { Condition::all().add(pipes::Column::OwnerId.eq(caller.user_id)) }
}

fn shares_in(scope: &Condition, status: ShareStatus) -> Select<shares::Entity> {
    shares::Entity::find()
        .join(JoinType::InnerJoin, shares::Relation::Pipe.def())
        .filter(scope.clone())
        .filter(shares::Column::Status.eq(status))
}

fn downloads_in(scope: &Condition, since: Option<DateTime<Utc>>) -> Select<downloads::Entity> {
    let mut query = downloads::Entity::find().join(JoinType::InnerJoin, downloads::Relation::Pipe.def()).filter(scope.clone());
    if let Some(since) = since {
        query = query.filter(downloads::Column::DownloadedAt.gte(since));
    }
    query
}

/// Counts grouped by one column, most first, as (key, count).
async fn ranked<K>(db: &impl ConnectionTrait, query: Select<downloads::Entity>, key: impl sea_orm::ColumnTrait) -> Result<Vec<(K, u64)>>
where
    K: sea_orm::TryGetable + Send + Sync,
    (K, i64): sea_orm::TryGetableMany,
{
    let rows: Vec<(K, i64)> = query
        .select_only()
        .column(key)
        .column_as(Expr::col((downloads::Entity, downloads::Column::Id)).count(), "n")
        .group_by(key)
        .order_by(Expr::col(Alias::new("n")), Order::Desc)
        .order_by(key, Order::Asc)
        .limit(TOP)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(k, n)| (k, n.max(0) as u64)).collect())
}

pub async fn generate_share_report(db: &impl ConnectionTrait, caller: &Caller, options: &ReportOptions) -> Result<ShareReport> {
    let now = crate::orchestrator::now();
    let since = options.time_range.days().map(|d| now - Duration::days(d));
    let scope = scope(caller);

    let total_shared_pipes = shares_in(&scope, ShareStatus::Active).count(db).await?;
    let public_pipes = shares_in(&scope, ShareStatus::Active).filter(shares::Column::IsPublic.eq(true)).count(db).await?;
    let pending_approvals = shares_in(&scope, ShareStatus::PendingApproval).count(db).await?;
    let active_pipe_ids = shares_in(&scope, ShareStatus::Active).select_only().column(shares::Column::PipeId).into_query();
    let active_collaborations =
        grants::Entity::find().filter(unexpired(now)).filter(grants::Column::PipeId.in_subquery(active_pipe_ids.clone())).count(db).await?;
    let summary = Summary {
        total_shared_pipes,
        public_pipes,
        private_pipes: total_shared_pipes - public_pipes,
        active_collaborations,
        pending_approvals,
    };

    let downloads_total = downloads_in(&scope, since).count(db).await?;
    let unique_users: Option<i64> = downloads_in(&scope, since)
        .select_only()
        .column_as(Expr::cust("COUNT(DISTINCT downloads.user_id)"), "n")
        .into_tuple()
        .one(db)
        .await?;
    let unique_users = unique_users.unwrap_or(0).max(0) as u64;

    let usage_stats = if options.include_usage_stats {
        let by_category: Vec<(Option<String>, u64)> = ranked(db, downloads_in(&scope, since), pipes::Column::Category).await?;
        let category_downloads: Vec<CategoryDownloads> = by_category
            .into_iter()
            .map(|(category, downloads)| CategoryDownloads { category: category.unwrap_or_else(|| "uncategorized".into()), downloads })
            .collect();
        Some(UsageStats {
            downloads: downloads_total,
            unique_users,
            popular_categories: category_downloads.iter().map(|c| c.category.clone()).collect(),
            category_downloads,
        })
    } else {
        None
    };

    let trend_analysis = if options.include_trend_analysis { Some(trend(db, &scope, since, now).await?) } else { None };

    let user_metrics = if options.include_user_metrics {
        let top: Vec<(Option<i32>, u64)> = ranked(db, downloads_in(&scope, since), downloads::Column::UserId).await?;
        let by_owner: Vec<(i32, i64)> = shares_in(&scope, ShareStatus::Active)
            .select_only()
            .column(pipes::Column::OwnerId)
            .column_as(Expr::col((shares::Entity, shares::Column::Id)).count(), "n")
            .group_by(pipes::Column::OwnerId)
            .order_by(Expr::col(Alias::new("n")), Order::Desc)
            .order_by(pipes::Column::OwnerId, Order::Asc)
            .limit(TOP)
            .into_tuple()
            .all(db)
            .await?;
        let names = usernames(db, top.iter().filter_map(|(id, _)| *id).chain(by_owner.iter().map(|(id, _)| *id))).await?;
        let name = |id: Option<i32>| id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "anonymous".into());
        Some(UserMetrics {
            top_downloaders: top.into_iter().map(|(id, count)| UserCount { user: name(id), count }).collect(),
            shares_by_owner: by_owner.into_iter().map(|(id, n)| UserCount { user: name(Some(id)), count: n.max(0) as u64 }).collect(),
        })
    } else {
        None
    };

    // Advice drawn from the same numbers.
    let mut recommendations = Vec::new();
    if pending_approvals > 0 {
        recommendations.push(if caller.is_admin {
            format!("{pending_approvals} share(s) await approval: review them with review_share")
        } else {
            format!("{pending_approvals} of your share(s) await an admin's approval")
        });
    }
    let downloaded_pipes = downloads_in(&scope, since).select_only().column(downloads::Column::PipeId).into_query();
    let unused = shares_in(&scope, ShareStatus::Active).filter(shares::Column::PipeId.not_in_subquery(downloaded_pipes)).count(db).await?;
    if unused > 0 {
        recommendations.push(format!(
            "{unused} shared pipe(s) had no downloads in {}: check their descriptions and tags",
            options.time_range.as_str()
        ));
    }
    let scoped_pipe_ids = pipes::Entity::find().filter(scope.clone()).select_only().column(pipes::Column::Id).into_query();
    let expired = grants::Entity::find()
        .filter(grants::Column::ExpiresAt.lte(now))
        .filter(grants::Column::PipeId.in_subquery(scoped_pipe_ids))
        .count(db)
        .await?;
    if expired > 0 {
        recommendations.push(format!("{expired} grant(s) have expired: renew or revoke them with manage_permissions"));
    }
    if total_shared_pipes == 0 && pending_approvals == 0 {
        let owned = pipes::Entity::find().filter(scope.clone()).count(db).await?;
        if owned > 0 {
            recommendations.push(format!("None of the {owned} pipe(s) in this report is shared yet: share_pipe makes one available"));
        }
    }

    let suffix: u16 = rand::thread_rng().r#gen();
    Ok(ShareReport {
        report_id: format!("share_report_{}_{suffix:04x}", now.format("%Y%m%d_%H%M%S")),
        generated_at: now,
        time_range: options.time_range,
        report_format: options.report_format.clone(),
        scope: if caller.is_admin { "instance" } else { "own_pipes" }.into(),
        summary,
        usage_stats,
        trend_analysis,
        user_metrics,
        recommendations,
    })
}

/// Shares requested and downloads made per day over the range, every day listed.
async fn trend(db: &impl ConnectionTrait, scope: &Condition, since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<TrendAnalysis> {
    let mut share_query = shares::Entity::find().join(JoinType::InnerJoin, shares::Relation::Pipe.def()).filter(scope.clone());
    if let Some(since) = since {
        share_query = share_query.filter(shares::Column::RequestedAt.gte(since));
    }
    // Only the timestamps are read; the buckets are made here so the SQL stays portable.
    let share_times: Vec<DateTime<Utc>> = share_query.select_only().column(shares::Column::RequestedAt).into_tuple().all(db).await?;
    let download_times: Vec<DateTime<Utc>> =
        downloads_in(scope, since).select_only().column(downloads::Column::DownloadedAt).into_tuple().all(db).await?;

    let today = now.date_naive();
    let first = match since {
        Some(since) => since.date_naive(),
        None => share_times.iter().chain(&download_times).map(|t| t.date_naive()).min().unwrap_or(today),
    };
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = first.iter_days().take_while(|d| *d <= today).map(|d| (d, (0, 0))).collect();
    for time in share_times {
        if let Some(day) = days.get_mut(&time.date_naive()) {
            day.0 += 1;
        }
    }
    for time in download_times {
        if let Some(day) = days.get_mut(&time.date_naive()) {
            day.1 += 1;
        }
    }
    Ok(TrendAnalysis { daily: days.into_iter().map(|(date, (shares, downloads))| DayCount { date, shares, downloads }).collect() })
}

/// The report as CSV: a `metric,value` section with the summary and usage figures, a blank
/// line, then `date,shares,downloads` with one line per day of the trend (no lines without
/// a trend). Every value is a number, a date or a fixed word, so nothing needs quoting.
pub fn to_csv(report: &ShareReport) -> String {
    let mut metrics: Vec<(&str, String)> = vec![
        ("report_id", report.report_id.clone()),
        ("generated_at", report.generated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        ("time_range", report.time_range.as_str().into()),
        ("scope", report.scope.clone()),
        ("total_shared_pipes", report.summary.total_shared_pipes.to_string()),
        ("public_pipes", report.summary.public_pipes.to_string()),
        ("private_pipes", report.summary.private_pipes.to_string()),
        ("active_collaborations", report.summary.active_collaborations.to_string()),
        ("pending_approvals", report.summary.pending_approvals.to_string()),
    ];
    if let Some(usage) = &report.usage_stats {
        metrics.push(("downloads", usage.downloads.to_string()));
        metrics.push(("unique_users", usage.unique_users.to_string()));
    }
    let mut out = String::from("metric,value\n");
    for (metric, value) in metrics {
        out.push_str(&format!("{metric},{value}\n"));
    }
    out.push_str("\ndate,shares,downloads\n");
    for day in report.trend_analysis.iter().flat_map(|t| &t.daily) {
        out.push_str(&format!("{},{},{}\n", day.date.format("%Y-%m-%d"), day.shares, day.downloads));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(trend: Option<Vec<(u32, u64, u64)>>) -> ShareReport {
        ShareReport {
            report_id: "share_report_20260301_120000_00ab".into(),
            generated_at: DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z").unwrap().with_timezone(&Utc),
            time_range: TimeRange::Days7,
            report_format: "dashboard".into(),
            scope: "own_pipes".into(),
            summary: Summary { total_shared_pipes: 3, public_pipes: 2, private_pipes: 1, active_collaborations: 4, pending_approvals: 1 },
            usage_stats: Some(UsageStats {
                downloads: 9,
                unique_users: 2,
                popular_categories: vec!["security".into()],
                category_downloads: vec![CategoryDownloads { category: "security".into(), downloads: 9 }],
            }),
            trend_analysis: trend.map(|days| TrendAnalysis {
                daily: days
                    .into_iter()
                    .map(|(day, shares, downloads)| DayCount { date: NaiveDate::from_ymd_opt(2026, 2, day).unwrap(), shares, downloads })
                    .collect(),
            }),
            user_metrics: None,
            recommendations: vec![],
        }
    }

    #[test]
    fn csv_has_the_figures_then_one_line_per_day() {
        let csv = to_csv(&report(Some(vec![(27, 1, 0), (28, 0, 5)])));
        let (metrics, daily) = csv.split_once("\n\n").expect("a blank line between the sections");
        let metrics: Vec<&str> = metrics.lines().collect();
        assert_eq!(metrics[0], "metric,value");
        for line in [
            "generated_at,2026-03-01T12:00:00Z",
            "time_range,7_days",
            "total_shared_pipes,3",
            "public_pipes,2",
            "private_pipes,1",
            "active_collaborations,4",
            "pending_approvals,1",
            "downloads,9",
            "unique_users,2",
        ] {
            assert!(metrics.contains(&line), "missing {line} in {csv}");
        }
        assert!(metrics.iter().all(|l| l.split(',').count() == 2), "{csv}");
        assert_eq!(daily, "date,shares,downloads\n2026-02-27,1,0\n2026-02-28,0,5\n");
    }

    #[test]
    fn csv_without_a_trend_has_only_the_daily_header() {
        let mut without = report(None);
        without.usage_stats = None;
        let csv = to_csv(&without);
        assert!(csv.ends_with("\n\ndate,shares,downloads\n"), "{csv}");
        assert!(!csv.contains("downloads,"), "no usage figures without usage stats: {csv}");
    }
}
