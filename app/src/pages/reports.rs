use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::app::PageTitle;
use crate::components::{chart::TrendChart, loaded, submit_on_change, when};
use crate::model::{NamedCount, ShareReport, TimeRange};
use crate::server_fns::reports::share_report;
use crate::urls::encode;

/// The range shown when the URL names none.
pub const DEFAULT_RANGE: TimeRange = TimeRange::Days30;

/// The time range the `range` query value asks for, as sent to the server (which checks it).
pub fn range_from_query(value: Option<String>) -> String {
    value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_RANGE.as_str().to_string())
}

/// Where the report over `range` is downloaded as `format` (`csv` or `json`).
pub fn export_href(format: &str, range: &str) -> String {
    format!("/reports/export?format={}&time_range={}", encode(format), encode(range))
}

/// `/reports?range=<time range>`: sharing and usage over a time range, for the caller's pipes
/// (everyone's for an admin). The URL holds the range, so a view can be bookmarked.
#[component]
pub fn Reports() -> impl IntoView {
    let query = use_query_map();
    let range = Memo::new(move |_| range_from_query(query.read().get("range")));
    let report = Resource::new(move || range.get(), share_report);
    let (pending, set_pending) = signal(false);

    view! {
        <PageTitle text="Reports" />
        <Form method="GET" action="/reports" attr:class="card report-range" attr:id="report-range" on:change=submit_on_change>
            <div class="field">
                <label for="report-range-select">"Time range"</label>
                <select id="report-range-select" name="range" prop:value=move || range.get()>
                    {TimeRange::ALL.iter().copied().map(|r| view! {
                        <option value=r.as_str() selected=move || range.get() == r.as_str()>{r.label()}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="submit">"Show report"</button>
            <span class="loading" role="status" aria-live="polite">{move || pending.get().then_some("Updating…")}</span>
        </Form>
        <Transition fallback=|| view! { <p class="loading report-loading">"Loading report…"</p> } set_pending>
            {move || Suspend::new(async move {
                loaded(report.await, |report| view! { <Dashboard report /> }.into_any())
            })}
        </Transition>
    }
}

/// One figure of the dashboard; `class` names the element holding the number.
#[component]
fn Stat(label: &'static str, class: &'static str, value: Option<u64>) -> impl IntoView {
    view! {
        <div class="card stat">
            <h2 class="stat-label">{label}</h2>
            <p class=format!("stat-value {class}")>{value.map(|v| v.to_string()).unwrap_or_else(|| "–".into())}</p>
        </div>
    }
}

/// A share of a whole, in percent, for bar widths.
fn percent(part: u64, whole: u64) -> u64 {
    (part * 100 + whole / 2).checked_div(whole).unwrap_or(0)
}

/// Downloads of each thing, most first, as bars.
#[component]
fn Ranked(title: &'static str, id: &'static str, items: Vec<NamedCount>) -> impl IntoView {
    let top = items.iter().map(|c| c.downloads).max().unwrap_or(0);
    let heading = format!("{id}-title");
    let labelled_by = heading.clone();
    view! {
        <section class="card" id=id aria-labelledby=labelled_by>
            <h2 id=heading>{title}</h2>
            {if items.is_empty() {
                view! { <p class="meta">"No downloads in this range."</p> }.into_any()
            } else {
                view! {
                    <ol class="ranked">
                        {items.into_iter().map(|c| view! {
                            <li style=format!("--bar: {}%", percent(c.downloads, top))>
                                <span class="name">{c.name}</span>
                                <span class="count">{c.downloads}</span>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Dashboard(report: ShareReport) -> impl IntoView {
    let range = report.time_range;
    let summary = report.summary.clone();
    let usage = report.usage_stats.clone();
    let scope = if report.scope == "instance" { "Whole instance" } else { "Your pipes" };
    let generated = when(report.generated_at);
    let public_percent = percent(summary.public_pipes, summary.total_shared_pipes);
    let categories: Vec<NamedCount> =
        usage.iter().flat_map(|u| &u.category_downloads).map(|c| NamedCount { name: c.category.clone(), downloads: c.downloads }).collect();
    let downloaders: Vec<NamedCount> = report
        .user_metrics
        .iter()
        .flat_map(|m| &m.top_downloaders)
        .map(|u| NamedCount { name: u.user.clone(), downloads: u.count })
        .collect();
    let daily = report.trend_analysis.as_ref().map(|t| t.daily.clone()).unwrap_or_default();
    let recommendations = report.recommendations.clone();

    view! {
        <p class="meta report-meta" id="report-meta">
            {scope} " · " <span class="report-range-label">{range.label()}</span> " · generated " {generated}
        </p>
        <section class="report-cards" id="report-summary" aria-label="Summary">
            <Stat label="Shared pipes" class="shared-total" value=Some(summary.total_shared_pipes) />
            <div class="card stat">
                <h2 class="stat-label">"Public / private"</h2>
                <p class="stat-value split">
                    <span class="public-count">{summary.public_pipes}</span>
                    <span class="sep" aria-hidden="true">" / "</span>
                    <span class="visually-hidden">" public, "</span>
                    <span class="private-count">{summary.private_pipes}</span>
                    <span class="visually-hidden">" private"</span>
                </p>
                <div class="split-bar" role="img" aria-label=format!("{public_percent}% of shared pipes are public")>
                    <span style=format!("width: {public_percent}%")></span>
                </div>
            </div>
            <Stat label="Active collaborations" class="collaborations-total" value=Some(summary.active_collaborations) />
            <Stat label="Pending approvals" class="pending-total" value=Some(summary.pending_approvals) />
            <Stat label="Downloads" class="downloads-total" value=usage.as_ref().map(|u| u.downloads) />
            <Stat label="Unique users" class="unique-users" value=usage.as_ref().map(|u| u.unique_users) />
        </section>
        <section class="card report-trend" id="report-trend" aria-labelledby="report-trend-title">
            <h2 id="report-trend-title">"Activity per day"</h2>
            <TrendChart daily />
        </section>
        <div class="report-columns">
            <Ranked title="Popular categories" id="report-categories" items=categories />
            <Ranked title="Top downloaders" id="report-downloaders" items=downloaders />
        </div>
        {usage.clone().map(|u| view! {
            <div class="report-columns">
                <Ranked title="Top pipes" id="report-pipes" items=u.top_pipes />
                <Ranked title="Versions" id="report-versions" items=u.by_version />
                <Ranked title="Environments" id="report-environments" items=u.by_environment />
                <Ranked title="Who downloads" id="report-clients" items=u.by_client />
            </div>
            <p class="meta" id="report-unique">
                {format!(
                    "Signed-in downloaders: {} in the last day, {} in 7 days, {} in 30 days.",
                    u.unique_downloaders.last_day, u.unique_downloaders.last_7_days, u.unique_downloaders.last_30_days
                )}
            </p>
        }.into_any())}
        <section class="card" id="report-recommendations" aria-labelledby="report-recommendations-title">
            <h2 id="report-recommendations-title">"Recommendations"</h2>
            {if recommendations.is_empty() {
                view! { <p class="meta">"Nothing needs your attention."</p> }.into_any()
            } else {
                view! {
                    <ul class="recommendations">
                        {recommendations.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section class="card report-export" id="report-export" aria-labelledby="report-export-title">
            <h2 id="report-export-title">"Export"</h2>
            <p class="meta">{format!("The report over {}, as a file.", range.label().to_lowercase())}</p>
            <p class="export-links">
                <a class="button export-csv" href=export_href("csv", range.as_str()) rel="external nofollow" download>"Download CSV"</a>
                <a class="button export-json" href=export_href("json", range.as_str()) rel="external nofollow" download>"Download JSON"</a>
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_comes_from_the_query_string() {
        assert_eq!(range_from_query(None), "30_days");
        assert_eq!(range_from_query(Some(" ".into())), "30_days");
        assert_eq!(range_from_query(Some("7_days".into())), "7_days");
        assert_eq!(export_href("csv", "1_year"), "/reports/export?format=csv&time_range=1_year");
        assert_eq!(export_href("json", "a b"), "/reports/export?format=json&time_range=a%20b");
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(5, 0), 0);
    }
}
