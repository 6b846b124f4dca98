use leptos::prelude::*;

use crate::app::PageTitle;
use crate::components::{action_error, loaded, when};
use crate::model::{SourceState, SourceView};
use crate::server_fns::sources::{AddSource, RemoveSource, ScanSource, list_sources};

/// `/admin/sources`: where pipes come from, their health and latest scan; add a folder or
/// another pipeshare as a source, scan one now, remove one (its pipes stay as local pipes).
#[component]
pub fn SourcesPage() -> impl IntoView {
    let add = ServerAction::<AddSource>::new();
    let scan = ServerAction::<ScanSource>::new();
    let remove = ServerAction::<RemoveSource>::new();
    let sources = Resource::new(move || (add.version().get(), scan.version().get(), remove.version().get()), |_| list_sources());
    view! {
        <PageTitle text="Sources" />
        <section class="card" aria-labelledby="add-source-title">
            <h2 id="add-source-title">"Add a source"</h2>
            <ActionForm action=add attr:class="grid-form">
                <div class="field">
                    <label for="source-name">"Name"</label>
                    <input id="source-name" name="name" required placeholder="team-tree" />
                </div>
                <div class="field">
                    <label for="source-kind">"Kind"</label>
                    <select id="source-kind" name="kind">
                        <option value="folder" selected>"Folder on the server"</option>
                        <option value="pipeshare">"Another pipeshare"</option>
                    </select>
                </div>
                <div class="field grow">
                    <label for="source-location">"Location (a folder's absolute path, or the instance's address)"</label>
                    <input id="source-location" name="location" required placeholder="/srv/plugpipe or https://hub.example.org" />
                </div>
                <div class="field">
                    <label for="source-token">"Token for the instance (optional)"</label>
                    <input id="source-token" name="token" type="password" autocomplete="off" />
                </div>
                <div class="field">
                    <label for="source-owner">"Owner of its pipes"</label>
                    <input id="source-owner" name="owner" required />
                </div>
                <div class="field">
                    <label for="source-interval">"Rescan every"</label>
                    <input id="source-interval" name="interval" value="15m" required />
                </div>
                <label class="check"><input type="checkbox" name="force" value="true" />" Add even if unreadable now"</label>
                <button type="submit" disabled=move || add.pending().get()>"Add source"</button>
            </ActionForm>
            <p class="error" role="alert">{action_error(add.value())}</p>
        </section>
        <p class="error" role="alert">{action_error(scan.value())}</p>
        <p class="error" role="alert">{action_error(remove.value())}</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(sources.await, |list| {
                    if list.sources.is_empty() {
                        view! { <div class="card empty"><p>"No source yet: pipes come from uploads and the operator's scans."</p></div> }.into_any()
                    } else {
                        list.sources.into_iter().map(|source| view! { <Source source scan remove /> }).collect_view().into_any()
                    }
                })
            })}
        </Transition>
    }
}

#[component]
fn Source(source: SourceView, scan: ServerAction<ScanSource>, remove: ServerAction<RemoveSource>) -> impl IntoView {
    let badge = match source.state {
        SourceState::Healthy => "badge active",
        SourceState::Degraded | SourceState::Unknown => "badge pending",
        SourceState::Offline => "badge rejected",
    };
    let last = source.reports.first().cloned().map(|r| {
        let counts = format!(
            "{} added, {} updated, {} unchanged, {} gone, {} invalid, {} conflicts",
            r.added, r.updated, r.unchanged, r.gone, r.invalid, r.conflicts
        );
        let issues: Vec<String> = r
            .details
            .invalid
            .iter()
            .chain(&r.details.conflicts)
            .map(|i| format!("{}: {}", i.path, i.reason))
            .chain(r.details.gone.iter().map(|name| format!("{name}: gone")))
            .chain(r.details.error.clone())
            .collect();
        view! {
            <p class="meta last-report">{format!("Last scan {}: {counts}", when(r.finished_at))}</p>
            <ul class="issues">{issues.into_iter().map(|i| view! { <li>{i}</li> }).collect_view()}</ul>
        }
    });
    let (name, scan_label, remove_label) = (source.name.clone(), format!("Scan {} now", source.name), format!("Remove {}", source.name));
    let removed = name.clone();
    view! {
        <section class="card source" aria-label=format!("Source {}", source.name)>
            <h2>{source.name.clone()} " " <span class=badge>{source.state.as_str()}</span></h2>
            <p class="meta">
                {format!("{} at {} · {} pipes · owned by {} · every {}", source.kind, source.location, source.pipes, source.owner, source.interval)}
            </p>
            {source.last_error.clone().map(|e| view! { <p class="error">{format!("Last error: {e}")}</p> })}
            {last}
            <ActionForm action=scan attr:class="inline">
                <input type="hidden" name="name" value=name />
                <button type="submit" aria-label=scan_label>"Scan now"</button>
            </ActionForm>
            " "
            <ActionForm action=remove attr:class="inline">
                <input type="hidden" name="name" value=removed />
                <button type="submit" class="danger" aria-label=remove_label>"Remove (keep its pipes)"</button>
            </ActionForm>
        </section>
    }
}
