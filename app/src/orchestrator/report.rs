//! `generate_share_report`: sharing and usage, computed from the database. A user's report
//! covers the pipes they own; an admin's covers the whole instance. Download figures come
//! from the tallies the downloads keep (`tallies`), over whole UTC days.
pub use crate::model::{
    CategoryDownloads, DayCount, ReportOptions, ShareReport, Summary, TimeRange, TrendAnalysis, UsageStats, UserCount, UserMetrics,
};
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, JoinType, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, RelationTrait, Select,
    sea_query::{Alias, Expr},
};

use super::access::unexpired;
use super::accounts::Caller;
use super::catalog::usernames;
use super::entities::download_tallies::Dimension;
use super::entities::{grants, pipes, shares};
use super::error::Result;
use super::input::Fields;
use super::tallies::{self, Ranked, Window};
use crate::model::ShareStatus;
use crate::model::{NamedCount, ReportFormat, UniqueDownloaders};

impl TimeRange {
    /// The tallies' window: whole UTC days, today and the N days before it.
    fn window(self) -> Window {
        match self {
            TimeRange::Days7 => Window::Days7,
            TimeRange::Days30 => Window::Days30,
            TimeRange::Days90 => Window::Days90,
            TimeRange::Year => Window::Days365,
            TimeRange::AllTime => Window::AllTime,
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
            report_format: options.parsed("report_format")?,
        })
    }
}

const TOP: u64 = 5;
/// Versions, environments and pipes a report ranks.
const RANKED: u64 = 10;

/// Which sections a report holds.
struct Sections {
    usage: bool,
    users: bool,
    trend: bool,
    recommendations: bool,
}

impl ReportOptions {
    /// The format decides when given; otherwise the `include_*` flags (and advice always).
    fn sections(&self) -> Sections {
        match self.report_format {
            None => Sections {
                usage: self.include_usage_stats,
                users: self.include_user_metrics,
                trend: self.include_trend_analysis,
                recommendations: true,
            },
            Some(ReportFormat::Summary) => Sections { usage: false, users: false, trend: false, recommendations: false },
            Some(ReportFormat::Detailed) => Sections { usage: true, users: false, trend: false, recommendations: false },
            Some(ReportFormat::Comprehensive) => Sections { usage: true, users: true, trend: true, recommendations: true },
        }
    }
}

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

pub async fn generate_share_report(db: &DatabaseConnection, caller: &Caller, options: &ReportOptions) -> Result<ShareReport> {
    let now = crate::orchestrator::now();
    let today = now.date_naive();
    let window = options.time_range.window();
    let first_day = window.first_day(today);
    let scope = scope(caller);
    // Whose download tallies: the caller's own pipes', or the instance's.
    let owner = (!caller.is_admin).then_some(caller.user_id);
    tallies::ensure_current(db).await?;

    // The sections are independent reads: they run side by side, each on its own connection.
    let summary = async {
        let active_pipe_ids = shares_in(&scope, ShareStatus::Active).select_only().column(shares::Column::PipeId).into_query();
        let (total_shared_pipes, public_pipes, pending_approvals, active_collaborations) = tokio::try_join!(
            shares_in(&scope, ShareStatus::Active).count(db),
            shares_in(&scope, ShareStatus::Active).filter(shares::Column::IsPublic.eq(true)).count(db),
            shares_in(&scope, ShareStatus::PendingApproval).count(db),
            grants::Entity::find().filter(unexpired(now)).filter(grants::Column::PipeId.in_subquery(active_pipe_ids)).count(db),
        )?;
        Ok::<_, super::Error>(Summary {
            total_shared_pipes,
            public_pipes,
            private_pipes: total_shared_pipes - public_pipes,
            active_collaborations,
            pending_approvals,
        })
    };

    let sections = options.sections();
    let usage_stats = async {
        if !sections.usage {
            return Ok(None);
        }
        let named = |ranked: Vec<Ranked>| -> Vec<NamedCount> {
            ranked
                .into_iter()
                .map(|r| NamedCount {
                    name: match (r.pipe_name, r.key.is_empty()) {
                        (Some(pipe), true) => pipe,
                        (Some(pipe), false) => format!("{pipe}@{}", r.key),
                        (None, _) => r.key,
                    },
                    downloads: r.downloads,
                })
                .collect()
        };
        let (categories, downloads, unique_users, by_version, by_environment, by_client, last_day, last_7_days, last_30_days, top_pipes) =
            tokio::try_join!(
                tallies::ranked(db, owner, Dimension::Category, window, TOP),
                tallies::total(db, owner, window),
                tallies::unique_users(db, owner, window),
                tallies::ranked(db, owner, Dimension::Version, window, RANKED),
                tallies::ranked(db, owner, Dimension::Environment, window, RANKED),
                tallies::ranked(db, owner, Dimension::Client, window, RANKED),
                tallies::unique_users(db, owner, Window::Days1),
                tallies::unique_users(db, owner, Window::Days7),
                tallies::unique_users(db, owner, Window::Days30),
                tallies::ranked(db, owner, Dimension::Pipe, window, RANKED),
            )?;
        let category_downloads: Vec<CategoryDownloads> = categories
            .into_iter()
            .map(|r| CategoryDownloads { category: if r.key.is_empty() { "uncategorized".into() } else { r.key }, downloads: r.downloads })
            .collect();
        Ok::<_, super::Error>(Some(UsageStats {
            downloads,
            unique_users,
            popular_categories: category_downloads.iter().map(|c| c.category.clone()).collect(),
            category_downloads,
            by_version: named(by_version),
            by_environment: named(by_environment),
            by_client: named(by_client),
            unique_downloaders: UniqueDownloaders { last_day, last_7_days, last_30_days },
            top_pipes: named(top_pipes),
        }))
    };

    let trend_analysis = async {
        if !sections.trend {
            return Ok(None);
        }
        trend(db, &scope, owner, first_day, today).await.map(Some)
    };

    let user_metrics = async {
        if !sections.users {
            return Ok(None);
        }
        let by_owner = shares_in(&scope, ShareStatus::Active)
            .select_only()
            .column(pipes::Column::OwnerId)
            .column_as(Expr::col((shares::Entity, shares::Column::Id)).count(), "n")
            .group_by(pipes::Column::OwnerId)
            .order_by(Expr::col(Alias::new("n")), Order::Desc)
            .order_by(pipes::Column::OwnerId, Order::Asc)
            .limit(TOP)
            .into_tuple::<(i32, i64)>()
            .all(db);
        let (top, by_owner) = tokio::try_join!(tallies::ranked(db, owner, Dimension::User, window, TOP), async { Ok(by_owner.await?) })?;
        let user_id = |ranked: &Ranked| ranked.key.parse::<i32>().ok();
        let names = usernames(db, top.iter().filter_map(user_id).chain(by_owner.iter().map(|(id, _)| *id))).await?;
        let name = |id: Option<i32>| id.and_then(|id| names.get(&id).cloned()).unwrap_or_else(|| "anonymous".into());
        Ok::<_, super::Error>(Some(UserMetrics {
            top_downloaders: top.iter().map(|r| UserCount { user: name(user_id(r)), count: r.downloads }).collect(),
            shares_by_owner: by_owner.into_iter().map(|(id, n)| UserCount { user: name(Some(id)), count: n.max(0) as u64 }).collect(),
        }))
    };
    let (summary, usage_stats, trend_analysis, user_metrics) = tokio::try_join!(summary, usage_stats, trend_analysis, user_metrics)?;

    // Advice drawn from the same numbers.
    let recommendations =
        if sections.recommendations { advice(db, caller, &scope, options, window, now, &summary).await? } else { Vec::new() };

    let suffix: u16 = rand::thread_rng().r#gen();
    Ok(ShareReport {
        report_id: format!("share_report_{}_{suffix:04x}", now.format("%Y%m%d_%H%M%S")),
        generated_at: now,
        time_range: options.time_range,
        report_format: options.report_format,
        scope: if caller.is_admin { "instance" } else { "own_pipes" }.into(),
        summary,
        usage_stats,
        trend_analysis,
        user_metrics,
        recommendations,
    })
}

/// Advice drawn from the report's numbers.
async fn advice(
    db: &impl ConnectionTrait,
    caller: &Caller,
    scope: &Condition,
    options: &ReportOptions,
    window: Window,
    now: DateTime<Utc>,
    summary: &Summary,
) -> Result<Vec<String>> {
    let (pending_approvals, total_shared_pipes) = (summary.pending_approvals, summary.total_shared_pipes);
    let mut recommendations = Vec::new();
    if pending_approvals > 0 {
        recommendations.push(if caller.is_admin {
            format!("{pending_approvals} share(s) await approval: review them with review_share")
        } else {
            format!("{pending_approvals} of your share(s) await an admin's approval")
        });
    }
    let unused =
        shares_in(scope, ShareStatus::Active).filter(Expr::cust(format!("NOT {}", tallies::downloaded_in(window)))).count(db).await?;
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
    Ok(recommendations)
}

/// Shares requested and downloads made per day from `first` (`None`: the first day with
/// either) through `today`, every day listed; the database counts the days.
async fn trend(
    db: &impl ConnectionTrait,
    scope: &Condition,
    owner: Option<i32>,
    first: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<TrendAnalysis> {
    let backend = db.get_database_backend();
    let mut share_query = shares::Entity::find().join(JoinType::InnerJoin, shares::Relation::Pipe.def()).filter(scope.clone());
    if let Some(first) = first {
        share_query = share_query.filter(shares::Column::RequestedAt.gte(tallies::start_of(first)));
    }
    let share_day = Expr::cust(tallies::day_of(backend, "shares", "requested_at"));
    let share_days: Vec<(String, i64)> = share_query
        .select_only()
        .column_as(share_day.clone(), "day")
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(share_day)
        .into_tuple()
        .all(db)
        .await?;
    let share_days: Vec<(NaiveDate, u64)> = share_days
        .into_iter()
        .filter_map(|(day, n)| NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok().map(|d| (d, n.max(0) as u64)))
        .collect();
    let download_days = tallies::per_day(db, owner, first).await?;
    let first = first.unwrap_or_else(|| share_days.iter().chain(&download_days).map(|(d, _)| *d).min().unwrap_or(today));
    let mut days: BTreeMap<NaiveDate, (u64, u64)> = first.iter_days().take_while(|d| *d <= today).map(|d| (d, (0, 0))).collect();
    for (day, n) in share_days {
        if let Some(counts) = days.get_mut(&day) {
            counts.0 += n;
        }
    }
    for (day, n) in download_days {
        if let Some(counts) = days.get_mut(&day) {
            counts.1 += n;
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
    let mut named: Vec<(String, u64)> = Vec::new();
    if let Some(usage) = &report.usage_stats {
        metrics.push(("downloads", usage.downloads.to_string()));
        metrics.push(("unique_users", usage.unique_users.to_string()));
        metrics.push(("unique_downloaders_last_day", usage.unique_downloaders.last_day.to_string()));
        metrics.push(("unique_downloaders_last_7_days", usage.unique_downloaders.last_7_days.to_string()));
        metrics.push(("unique_downloaders_last_30_days", usage.unique_downloaders.last_30_days.to_string()));
        // Names are pipe names, versions, environments and fixed words: never a comma.
        for (prefix, counts) in [
            ("downloads_by_version", &usage.by_version),
            ("downloads_by_environment", &usage.by_environment),
            ("downloads_by_client", &usage.by_client),
            ("top_pipe", &usage.top_pipes),
        ] {
            named.extend(counts.iter().map(|c| (format!("{prefix}.{}", c.name), c.downloads)));
        }
    }
    let mut out = String::from("metric,value\n");
    for (metric, value) in metrics {
        out.push_str(&format!("{metric},{value}\n"));
    }
    for (metric, value) in named {
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
            report_format: Some(ReportFormat::Comprehensive),
            scope: "own_pipes".into(),
            summary: Summary { total_shared_pipes: 3, public_pipes: 2, private_pipes: 1, active_collaborations: 4, pending_approvals: 1 },
            usage_stats: Some(UsageStats {
                downloads: 9,
                unique_users: 2,
                popular_categories: vec!["security".into()],
                category_downloads: vec![CategoryDownloads { category: "security".into(), downloads: 9 }],
                by_version: vec![NamedCount { name: "scanner@1.2.0".into(), downloads: 6 }],
                by_environment: vec![NamedCount { name: "prod".into(), downloads: 4 }],
                by_client: vec![NamedCount { name: "token".into(), downloads: 7 }],
                unique_downloaders: UniqueDownloaders { last_day: 1, last_7_days: 2, last_30_days: 2 },
                top_pipes: vec![NamedCount { name: "scanner".into(), downloads: 9 }],
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
            "unique_downloaders_last_7_days,2",
            "downloads_by_version.scanner@1.2.0,6",
            "downloads_by_environment.prod,4",
            "downloads_by_client.token,7",
            "top_pipe.scanner,9",
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
