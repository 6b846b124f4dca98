use leptos::prelude::*;
use leptos_router::{components::Form, hooks::use_query_map};

use crate::app::PageTitle;
use crate::components::{Pager, audit::AuditTable, loaded, range_text, submit_on_change};
use crate::server_fns::admin::{AUDIT_PAGE, audit_page};
use crate::urls::query_string;

/// `/admin/audit`: every sharing change on the instance, newest first, or one pipe's
/// (`?pipe=<name>`). The whole log is for admins; a pipe's managers may read its part.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let pipe = move || query.read().get("pipe").unwrap_or_default();
    let offset = move || query.read().get("offset").and_then(|o| o.parse::<u64>().ok()).unwrap_or(0);
    let log = Resource::new(move || (pipe(), offset()), |(pipe, offset)| audit_page(pipe, offset));
    let href = move |offset: u64| {
        let href = query_string([("pipe", pipe()), ("offset", if offset > 0 { offset.to_string() } else { String::new() })]);
        format!("/admin/audit{href}")
    };
    view! {
        <PageTitle text="Audit log" />
        <Form method="GET" action="/admin/audit" attr:class="card filters" attr:role="search" on:change=submit_on_change>
            <div class="field grow">
                <label for="audit-pipe">"Pipe"</label>
                <input id="audit-pipe" name="pipe" placeholder="every pipe" prop:value=pipe />
            </div>
            <button type="submit">"Show"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                loaded(log.await, |log| {
                        let shown = log.events.len() as u64;
                        let prev = (log.offset > 0).then(|| href(log.offset.saturating_sub(AUDIT_PAGE)));
                        let next = (log.offset + shown < log.total_count).then(|| href(log.offset + shown));
                        view! {
                            <p class="meta">{range_text(log.offset, shown, log.total_count, "changes")}</p>
                            <div class="card"><AuditTable events=log.events show_pipe=true /></div>
                            <Pager prev next prev_label="← Newer" next_label="Older →" />
                        }
                        .into_any()
                })
            })}
        </Transition>
    }
}
