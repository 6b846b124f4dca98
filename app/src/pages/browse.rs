use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::app::PageTitle;
use crate::components::{Pager, loaded, range_text, submit_on_change};
use crate::model::{ListScope, PipeFilters, PipeSummary, ShareStatus, Visibility};
use crate::server_fns::pipes::{filter_choices, list_pipes};
use crate::urls::{encode, query_string};

/// Pipes shown per page.
pub const PAGE_SIZE: u64 = 25;

/// The filters a query string asks for; the URL is the whole state of the page, so a view
/// can be bookmarked.
pub fn filters_from_query(get: impl Fn(&str) -> Option<String>) -> PipeFilters {
    let text = |key: &str| get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    PipeFilters {
        scope: text("scope").and_then(|s| s.parse().ok()).unwrap_or_default(),
        category: text("category"),
        status: text("status"),
        author: text("author"),
        search: text("q"),
        visibility: text("visibility").and_then(|v| v.parse().ok()),
        shared: match text("shared").as_deref() {
            Some("yes") => Some(true),
            Some("no") => Some(false),
            _ => None,
        },
        limit: Some(PAGE_SIZE),
        offset: text("offset").and_then(|o| o.parse().ok()),
        after: text("after"),
        before: if text("after").is_some() { None } else { text("before") },
    }
}

/// Where a page starts. Pages link to each other by the names at their edges (keyset
/// paging), so a page deep in a large list costs no more than the first.
enum PageStart<'a> {
    First,
    After(&'a str),
    Before(&'a str),
}

/// The query string for these filters at another page; `offset` is that page's position,
/// for showing "26–50 of …".
fn page_href(filters: &PipeFilters, start: PageStart, offset: u64) -> String {
    let (after, before) = match start {
        PageStart::First => ("", ""),
        PageStart::After(name) => (name, ""),
        PageStart::Before(name) => ("", name),
    };
    let shared = filters.shared.map(|s| if s { "yes" } else { "no" }.to_string()).unwrap_or_default();
    let scope = if filters.scope == ListScope::default() { "" } else { filters.scope.as_str() };
    let href = query_string([
        ("scope", scope.to_string()),
        ("q", filters.search.clone().unwrap_or_default()),
        ("category", filters.category.clone().unwrap_or_default()),
        ("status", filters.status.clone().unwrap_or_default()),
        ("author", filters.author.clone().unwrap_or_default()),
        ("visibility", filters.visibility.map(|v| v.as_str().to_string()).unwrap_or_default()),
        ("shared", shared),
        ("after", after.to_string()),
        ("before", before.to_string()),
        ("offset", if offset > 0 { offset.to_string() } else { String::new() }),
    ]);
    if href.is_empty() { "/".into() } else { href }
}

#[component]
pub fn Browse() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let query = query.read();
        filters_from_query(|key| query.get(key))
    });
    let list = Resource::new(move || filters.get(), list_pipes);
    let choices = Resource::new(|| (), |_| filter_choices());
    let current = move |key: &'static str| move || query.read().get(key).unwrap_or_default();

    view! {
        <PageTitle text="Pipes" />
        <Form method="GET" action="/" attr:class="card filters" attr:role="search" on:change=submit_on_change>
            <div class="field">
                <label for="f-scope">"Show"</label>
                <select id="f-scope" name="scope" prop:value=current("scope")>
                    <option value="">"Pipes I can share"</option>
                    <option value=ListScope::SharedWithMe.as_str()>"Shared with me"</option>
                </select>
            </div>
            <div class="field grow">
                <label for="f-q">"Search"</label>
                <input id="f-q" name="q" type="search" placeholder="name or description" prop:value=current("q") />
            </div>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let (categories, statuses) = choices.await.unwrap_or_default();
                    view! {
                        <div class="field">
                            <label for="f-category">"Category"</label>
                            <select id="f-category" name="category" prop:value=current("category")>
                                <option value="">"Any"</option>
                                {categories.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="f-status">"Status"</label>
                            <select id="f-status" name="status" prop:value=current("status")>
                                <option value="">"Any"</option>
                                {statuses.into_iter().map(|s| view! { <option value=s.clone()>{s.clone()}</option> }).collect_view()}
                            </select>
                        </div>
                    }
                })}
            </Suspense>
            <div class="field">
                <label for="f-author">"Author"</label>
                <input id="f-author" name="author" prop:value=current("author") />
            </div>
            <div class="field">
                <label for="f-visibility">"Visibility"</label>
                <select id="f-visibility" name="visibility" prop:value=current("visibility")>
                    <option value="">"Any"</option>
                    <option value=Visibility::Public.as_str()>"Public"</option>
                    <option value=Visibility::Gated.as_str()>"Gated"</option>
                    <option value=Visibility::Private.as_str()>"Private"</option>
                </select>
            </div>
            <div class="field">
                <label for="f-shared">"Shared"</label>
                <select id="f-shared" name="shared" prop:value=current("shared")>
                    <option value="">"Any"</option>
                    <option value="yes">"Shared"</option>
                    <option value="no">"Not shared"</option>
                </select>
            </div>
            <button type="submit">"Apply"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading pipes…"</p> }>
            {move || Suspend::new(async move {
                // A filter the server refuses (an unknown status, say) is said as such.
                loaded(list.await, |list| {
                        let f = filters.get_untracked();
                        let offset = list.offset;
                        let shown = list.pipes.len() as u64;
                        let (first, last) = (list.pipes.first().map(|p| p.name.as_str()), list.pipes.last().map(|p| p.name.as_str()));
                        let prev = match first {
                            Some(_) if offset <= PAGE_SIZE && offset > 0 => Some(page_href(&f, PageStart::First, 0)),
                            Some(name) if offset > 0 => Some(page_href(&f, PageStart::Before(name), offset - PAGE_SIZE)),
                            _ => None,
                        };
                        let next = last
                            .filter(|_| offset + shown < list.total_count)
                            .map(|name| page_href(&f, PageStart::After(name), offset + shown));
                        view! {
                            <p class="meta" aria-live="polite">
                                {range_text(offset, shown, list.total_count, "pipes").unwrap_or_else(|| "No pipes match.".into())}
                            </p>
                            <PipeTable pipes=list.pipes />
                            <Pager prev next prev_label="← Previous" next_label="Next →" />
                        }
                        .into_any()
                })
            })}
        </Transition>
    }
}

#[component]
pub fn PipeTable(pipes: Vec<PipeSummary>) -> impl IntoView {
    view! {
        <table class="card pipes">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Category"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Sharing"</th>
                </tr>
            </thead>
            <tbody>
                {pipes.into_iter().map(|p| {
                    let sharing = match p.share_status {
                        Some(ShareStatus::Active) => format!("{} · active", p.visibility),
                        Some(ShareStatus::PendingApproval) => format!("{} · awaiting approval", p.visibility),
                        Some(ShareStatus::Rejected) => "rejected".to_string(),
                        Some(ShareStatus::Withdrawn) | None => "not shared".to_string(),
                    };
                    view! {
                        <tr>
                            <td>
                                <a href=format!("/pipes/{}", encode(&p.name))>{p.name.clone()}</a>
                                {p.gone.then(|| view! { " " <span class="badge rejected" title="Its source no longer holds it">"gone"</span> })}
                            </td>
                            <td>{p.version}</td>
                            <td>{p.category.unwrap_or_default()}</td>
                            <td>{p.status.unwrap_or_default()}</td>
                            <td>{p.owner}</td>
                            <td><span class=format!("badge {}", p.share_status.map_or("none", ShareStatus::as_str))>{sharing}</span></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_string_is_the_filter_state() {
        let query = |key: &str| match key {
            "q" => Some("scan".to_string()),
            "category" => Some("security".to_string()),
            "shared" => Some("no".to_string()),
            "visibility" => Some("bogus".to_string()),
            "offset" => Some("50".to_string()),
            _ => None,
        };
        let filters = filters_from_query(query);
        assert_eq!(filters.search.as_deref(), Some("scan"));
        assert_eq!(filters.shared, Some(false));
        assert_eq!(filters.visibility, None);
        assert_eq!(filters.offset, Some(50));
        assert_eq!(page_href(&filters, PageStart::After("pipe b"), 75), "?q=scan&category=security&shared=no&after=pipe%20b&offset=75");
        assert_eq!(page_href(&filters, PageStart::Before("x"), 25), "?q=scan&category=security&shared=no&before=x&offset=25");
        assert_eq!(page_href(&PipeFilters::default(), PageStart::First, 0), "/");
    }

    #[test]
    fn a_page_starts_after_or_before_a_name() {
        let query = |pairs: &'static [(&'static str, &'static str)]| {
            filters_from_query(move |key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| v.to_string()))
        };
        let next = query(&[("after", "m"), ("offset", "25")]);
        assert_eq!((next.after.as_deref(), next.before.as_deref(), next.offset), (Some("m"), None, Some(25)));
        let prev = query(&[("before", "m")]);
        assert_eq!((prev.after, prev.before.as_deref()), (None, Some("m")));
        let both = query(&[("after", "a"), ("before", "b")]);
        assert_eq!((both.after.as_deref(), both.before), (Some("a"), None), "after wins");
    }
}
