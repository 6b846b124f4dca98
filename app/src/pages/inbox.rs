use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::PageTitle;
use crate::components::{action_error, loaded, when};
use crate::model::{Decision, Inbox, InboxDecisions, InboxItem, InboxKind, InboxRef};
use crate::server_fns::inbox::{DecideInboxItem, ReviewInbox, get_inbox};
use crate::urls::encode;

fn kind_label(kind: InboxKind) -> &'static str {
    match kind {
        InboxKind::ShareApproval => "Share approvals",
        InboxKind::Promotion => "Promotions",
        InboxKind::AccessRequest => "Access requests",
        InboxKind::MyRequest => "My requests",
        InboxKind::ExpiringGrant => "Grants ending soon",
        InboxKind::ExpiringToken => "Tokens ending soon",
    }
}

/// The outcome of a decision, one line per item.
fn outcome_lines(decisions: InboxDecisions) -> impl IntoView {
    let verb = if decisions.decision == Decision::Approve { "Approved" } else { "Rejected" };
    view! {
        <ul class="outcomes">
            {decisions.outcomes.into_iter().map(|o| match o.error {
                None => view! { <li class="success">{format!("{verb} {} {}", o.kind, o.id)}</li> }.into_any(),
                Some(error) => view! { <li class="error">{format!("Not decided: {} {}: {error}", o.kind, o.id)}</li> }.into_any(),
            }).collect_view()}
        </ul>
    }
}

/// `/inbox`: everything waiting on the signed-in user. Each decidable item has its own
/// Approve and Reject (plain forms); ticked items are decided together with one note.
#[component]
pub fn InboxPage() -> impl IntoView {
    let query = use_query_map();
    let kind = move || query.read().get("kind").filter(|k| !k.is_empty());
    let one = ServerAction::<DecideInboxItem>::new();
    let bulk = ServerAction::<ReviewInbox>::new();
    let inbox = Resource::new(move || (kind(), one.version().get(), bulk.version().get()), |(kind, _, _)| get_inbox(kind));
    let selected = RwSignal::new(BTreeSet::<InboxRef>::new());
    let note = RwSignal::new(String::new());
    let dispatch = move |decision: Decision| {
        let items: Vec<InboxRef> = selected.get_untracked().into_iter().collect();
        if !items.is_empty() {
            one.value().set(None);
            bulk.dispatch(ReviewInbox { items, decision, note: note.get_untracked() });
            selected.set(BTreeSet::new());
        }
    };
    let nothing_ticked = move || selected.with(BTreeSet::is_empty) || bulk.pending().get();
    view! {
        <PageTitle text="Inbox" />
        <nav class="kinds" aria-label="Kinds">
            <a href="/inbox" aria-current=move || kind().is_none().then_some("page")>"Everything"</a>
            {InboxKind::ALL.iter().map(|k| {
                let k = *k;
                view! {
                    " · "
                    <a href=format!("/inbox?kind={}", k.as_str()) aria-current=move || (kind().as_deref() == Some(k.as_str())).then_some("page")>
                        {kind_label(k)}
                    </a>
                }
            }).collect_view()}
        </nav>
        <div class="outcome" role="status" aria-live="polite">
            {move || one.value().get().and_then(Result::ok).map(outcome_lines)}
            {move || bulk.value().get().and_then(Result::ok).map(outcome_lines)}
        </div>
        <p class="error" role="alert">{action_error(one.value())}</p>
        <p class="error" role="alert">{action_error(bulk.value())}</p>
        <section class="card bulk" aria-labelledby="bulk-title">
            <h2 id="bulk-title">"Decide several"</h2>
            <div class="bulk-controls">
                <div class="field grow">
                    <label for="inbox-note">"Note for the ticked items (optional)"</label>
                    <input id="inbox-note" type="text" bind:value=note />
                </div>
                <button type="button" disabled=nothing_ticked on:click=move |_| dispatch(Decision::Approve)>"Approve ticked"</button>
                <button type="button" class="danger" disabled=nothing_ticked on:click=move |_| dispatch(Decision::Reject)>"Reject ticked"</button>
            </div>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(inbox.await, |inbox: Inbox| {
                    if inbox.items.is_empty() {
                        view! { <div class="card empty"><p>"Nothing waits on you."</p></div> }.into_any()
                    } else {
                        view! {
                            <ul class="inbox">
                                {inbox.items.into_iter().map(|item| view! { <Item item one selected /> }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })
            })}
        </Transition>
    }
}

#[component]
fn Item(item: InboxItem, one: ServerAction<DecideInboxItem>, selected: RwSignal<BTreeSet<InboxRef>>) -> impl IntoView {
    let reference = InboxRef { kind: item.kind, id: item.id.clone(), revision: item.revision.clone() };
    let ticked = {
        let reference = reference.clone();
        move || selected.with(|s| s.contains(&reference))
    };
    let tick = {
        let reference = reference.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(reference.clone());
                } else {
                    s.remove(&reference);
                }
            });
        }
    };
    let decide = move |decision: Decision, label: &'static str, class: &'static str| {
        let reference = reference.clone();
        view! {
            <ActionForm action=one attr:class="inline">
                <input type="hidden" name="kind" value=reference.kind.as_str() />
                <input type="hidden" name="id" value=reference.id.clone() />
                <input type="hidden" name="revision" value=reference.revision.clone().unwrap_or_default() />
                <input type="hidden" name="decision" value=decision.as_str() />
                <button type="submit" class=class aria-label=format!("{label} {} {}", reference.kind, reference.id)>{label}</button>
            </ActionForm>
        }
    };
    let ends = item.ends_at.map(|at| format!(" · ends {}", when(at))).unwrap_or_default();
    view! {
        <li class="card inbox-item" data-kind=item.kind.as_str()>
            {item.decidable.then(|| view! {
                <input type="checkbox" aria-label=format!("Tick {}", item.summary) prop:checked=ticked.clone() on:change=tick.clone() />
            })}
            <span class="badge">{kind_label(item.kind)}</span>
            " "
            {match item.pipe_name.clone() {
                Some(pipe) => view! { <a href=format!("/pipes/{}", encode(&pipe))>{item.summary.clone()}</a> }.into_any(),
                None => view! { <a href="/tokens">{item.summary.clone()}</a> }.into_any(),
            }}
            <p class="meta">{format!("{}{ends}", when(item.at))}{item.status.clone().map(|s| format!(" · {s}"))}</p>
            {item.decidable.then(|| view! { {decide(Decision::Approve, "Approve", "")}" "{decide(Decision::Reject, "Reject", "danger")} })}
        </li>
    }
}
