use std::collections::BTreeSet;

use leptos::prelude::*;
use serde_json::Value;

use crate::app::PageTitle;
use crate::components::{action_error, loaded, when};
use crate::model::{Decision, PendingPromotion, PendingShare, PendingShares, ReviewTarget, ShareOptions};
use crate::server_fns::admin::{NOT_REVIEWED, ReviewPromotion, ReviewShare, ReviewShares, list_pending, list_pending_promotions};
use crate::urls::encode;

/// `/admin/approvals`: the admins' queue of shares waiting for approval. Each row can be
/// approved or rejected on its own (plain forms, working without JavaScript); ticked rows can
/// be reviewed together with one note.
#[component]
pub fn Approvals() -> impl IntoView {
    let review = ServerAction::<ReviewShare>::new();
    let bulk = ServerAction::<ReviewShares>::new();
    let pending = Resource::new(move || (review.version().get(), bulk.version().get()), |_| list_pending());
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let note = RwSignal::new(String::new());

    // Only pipes still in the queue stay ticked.
    Effect::new(move |_| {
        if let Some(Ok(list)) = pending.get() {
            let listed: BTreeSet<String> = list.shares.into_iter().map(|s| s.pipe_name).collect();
            if selected.with_untracked(|s| !s.is_subset(&listed)) {
                selected.update(|s| s.retain(|name| listed.contains(name)));
            }
        }
    });
    // Only the latest review's outcome is shown: a row's review hides the last bulk outcome.
    Effect::new(move |_| {
        if review.input().with(Option::is_some) {
            bulk.value().set(None);
        }
    });
    // A note is meant for the shares it was written for.
    Effect::new(move |_| {
        if bulk.value().with(|v| matches!(v, Some(Ok(_)))) {
            note.set(String::new());
        }
    });

    let queue = QueueState { review, bulk, selected, note };
    view! {
        <PageTitle text="Approvals" />
        <div class="outcome" role="status" aria-live="polite">
            {move || review.value().get().and_then(Result::ok).map(|line| view! { <p class="success">{line}</p> })}
            {move || bulk.value().get().and_then(Result::ok).map(|lines| view! {
                <ul class="outcomes">
                    {lines.into_iter().map(|line| {
                        let failed = line.starts_with(NOT_REVIEWED);
                        view! { <li class=if failed { "error" } else { "success" }>{line}</li> }
                    }).collect_view()}
                </ul>
            })}
        </div>
        <p class="error" role="alert">{action_error(review.value())}</p>
        <p class="error" role="alert">{action_error(bulk.value())}</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(pending.await, |list| {
                    if list.shares.is_empty() {
                        view! {
                            <div class="card empty">
                                <p>"Nothing to review: no share is waiting for approval."</p>
                            </div>
                        }
                        .into_any()
                    } else {
                        view! { <Queue list queue /> }.into_any()
                    }
                })
            })}
        </Transition>
        <PromotionQueue />
    }
}

/// Promotions to protected environments waiting for an admin: each decided on its own, for
/// the version it asks for.
#[component]
fn PromotionQueue() -> impl IntoView {
    let review = ServerAction::<ReviewPromotion>::new();
    let pending = Resource::new(move || review.version().get(), |_| list_pending_promotions());
    let row = move |p: PendingPromotion| {
        let shown = p.clone();
        let decide = move |decision: Decision, label: &'static str, class: &'static str| {
            let p = shown.clone();
            view! {
                <ActionForm action=review attr:class="inline">
                    <input type="hidden" name="promotion_id" value=p.promotion_id />
                    <input type="hidden" name="version" value=p.version.clone() />
                    <input type="hidden" name="decision" value=decision.as_str() />
                    <button type="submit" class=class aria-label=format!("{label} {} {} to {}", p.pipe_name, p.version, p.environment)>
                        {label}
                    </button>
                </ActionForm>
            }
        };
        view! {
            <tr>
                <td><a href=format!("/pipes/{}", encode(&p.pipe_name))>{p.pipe_name.clone()}</a></td>
                <td>{p.version.clone()}</td>
                <td>{p.environment.clone()}</td>
                <td>{p.requested_by.clone()}</td>
                <td>{when(p.requested_at)}</td>
                <td>{decide(Decision::Approve, "Approve", "")}" "{decide(Decision::Reject, "Reject", "danger")}</td>
            </tr>
        }
    };
    view! {
        <h2>"Promotions"</h2>
        <p class="success" role="status">{move || review.value().get().and_then(Result::ok)}</p>
        <p class="error" role="alert">{action_error(review.value())}</p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(pending.await, move |list| {
                    if list.promotions.is_empty() {
                        view! { <div class="card empty"><p>"No promotion is waiting for approval."</p></div> }.into_any()
                    } else {
                        view! {
                            <div class="card table-card">
                                <table class="queue promotions">
                                    <caption>{format!("{} waiting, oldest first", list.total_count)}</caption>
                                    <thead><tr>
                                        <th scope="col">"Pipe"</th><th scope="col">"Version"</th><th scope="col">"Environment"</th>
                                        <th scope="col">"Requested by"</th><th scope="col">"Requested"</th><th scope="col">"Decision"</th>
                                    </tr></thead>
                                    <tbody>{list.promotions.into_iter().map(row).collect_view()}</tbody>
                                </table>
                            </div>
                        }
                        .into_any()
                    }
                })
            })}
        </Transition>
    }
}

#[derive(Clone, Copy)]
struct QueueState {
    review: ServerAction<ReviewShare>,
    bulk: ServerAction<ReviewShares>,
    selected: RwSignal<BTreeSet<String>>,
    note: RwSignal<String>,
}

#[component]
fn Queue(list: PendingShares, queue: QueueState) -> impl IntoView {
    let QueueState { review, bulk, selected, note } = queue;
    let names: Vec<String> = list.shares.iter().map(|s| s.pipe_name.clone()).collect();
    let count = names.len();
    let all_ticked = {
        let names = names.clone();
        move || selected.with(|s| names.iter().all(|n| s.contains(n)))
    };
    let tick_all = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            if on {
                s.extend(names.iter().cloned());
            } else {
                s.clear();
            }
        });
    };
    let nothing_ticked = move || selected.with(BTreeSet::is_empty) || bulk.pending().get();
    // Each ticked request as it is shown here: a request changed since is not decided.
    let shown: Vec<ReviewTarget> =
        list.shares.iter().map(|s| ReviewTarget { pipe_name: s.pipe_name.clone(), requested_at: s.requested_at }).collect();
    let shown = StoredValue::new(shown);
    let dispatch = move |decision: Decision| {
        let ticked = selected.get_untracked();
        let targets: Vec<ReviewTarget> = shown.with_value(|all| all.iter().filter(|t| ticked.contains(&t.pipe_name)).cloned().collect());
        if targets.is_empty() {
            return;
        }
        review.value().set(None);
        bulk.dispatch(ReviewShares { targets, decision, note: note.get_untracked() });
    };
    view! {
        <section class="card bulk" aria-labelledby="bulk-title">
            <h2 id="bulk-title">"Review several"</h2>
            <p class="meta">
                {move || match selected.with(BTreeSet::len) {
                    0 => "Tick the shares below to review them together.".to_string(),
                    1 => "1 share selected.".to_string(),
                    n => format!("{n} shares selected."),
                }}
            </p>
            <div class="bulk-controls">
                <div class="field grow">
                    <label for="bulk-note">"Note for the selected shares (optional)"</label>
                    <input id="bulk-note" type="text" bind:value=note />
                </div>
                <button type="button" disabled=nothing_ticked on:click=move |_| dispatch(Decision::Approve)>
                    "Approve selected"
                </button>
                <button type="button" class="danger" disabled=nothing_ticked on:click=move |_| dispatch(Decision::Reject)>
                    "Reject selected"
                </button>
            </div>
        </section>
        <div class="card table-card">
            <table class="queue">
                <caption>{format!("{count} waiting for approval, oldest first")}</caption>
                <thead>
                    <tr>
                        <th scope="col" class="pick">
                            <input type="checkbox" aria-label="Select every share" prop:checked=all_ticked on:change=tick_all />
                        </th>
                        <th scope="col">"Pipe"</th>
                        <th scope="col">"Owner"</th>
                        <th scope="col">"Requested by"</th>
                        <th scope="col">"Requested"</th>
                        <th scope="col">"Visibility"</th>
                        <th scope="col">"Options"</th>
                        <th scope="col">"Decision"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.shares.into_iter().enumerate().map(|(i, share)| view! { <Row index=i share review selected /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(index: usize, share: PendingShare, review: ServerAction<ReviewShare>, selected: RwSignal<BTreeSet<String>>) -> impl IntoView {
    let name = share.pipe_name.clone();
    let ticked = {
        let name = name.clone();
        move || selected.with(|s| s.contains(&name))
    };
    let tick = {
        let name = name.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            selected.update(|s| {
                if on {
                    s.insert(name.clone());
                } else {
                    s.remove(&name);
                }
            });
        }
    };
    let note_id = format!("reject-note-{index}");
    let requested = when(share.requested_at);
    // The request as shown, sent with the decision (microseconds: the precision stored).
    let approve_seen = share.requested_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let reject_seen = approve_seen.clone();
    let options = options_text(&share.sharing_options);
    let (approve_name, reject_name) = (name.clone(), name.clone());
    view! {
        <tr data-pipe=name.clone()>
            <td class="pick">
                <input type="checkbox" aria-label=format!("Select {name}") prop:checked=ticked on:change=tick />
            </td>
            <td data-label="Pipe">
                <a href=format!("/pipes/{}", encode(&name))>{name.clone()}</a>
            </td>
            <td data-label="Owner">{share.owner.clone()}</td>
            <td data-label="Requested by">{share.requested_by.clone()}</td>
            <td data-label="Requested">
                <time datetime=share.requested_at.to_rfc3339()>{requested}</time>
            </td>
            <td data-label="Visibility">
                {if share.public {
                    view! { <span class="badge public">"public"</span> }
                } else {
                    view! { <span class="badge private">"private"</span> }
                }}
            </td>
            <td data-label="Options" class="options">
                {if options.is_empty() {
                    view! { <span class="meta">"none"</span> }.into_any()
                } else {
                    view! { <ul>{options.into_iter().map(|o| view! { <li>{o}</li> }).collect_view()}</ul> }.into_any()
                }}
            </td>
            <td data-label="Decision" class="decide">
                <ActionForm action=review attr:class="inline">
                    <input type="hidden" name="name" value=approve_name.clone() />
                    <input type="hidden" name="requested_at" value=approve_seen.clone() />
                    <input type="hidden" name="decision" value=Decision::Approve.as_str() />
                    <button type="submit" aria-label=format!("Approve {approve_name}")>"Approve"</button>
                </ActionForm>
                <ActionForm action=review attr:class="reject-form">
                    <input type="hidden" name="name" value=reject_name.clone() />
                    <input type="hidden" name="requested_at" value=reject_seen.clone() />
                    <input type="hidden" name="decision" value=Decision::Reject.as_str() />
                    <label for=note_id.clone()>"Reason (optional)"</label>
                    <input id=note_id type="text" name="note" />
                    <button type="submit" class="danger" aria-label=format!("Reject {reject_name}")>"Reject"</button>
                </ActionForm>
            </td>
        </tr>
    }
}

/// The share's options as short lines: what others may do, whether approval was asked for,
/// and any other option as it came.
fn options_text(options: &ShareOptions) -> Vec<String> {
    let mut lines = Vec::new();
    let permissions = &options.permissions;
    let allowed: Vec<&str> = [("read", permissions.read), ("fork", permissions.fork), ("contribute", permissions.contribute)]
        .into_iter()
        .filter_map(|(what, allowed)| allowed.then_some(what))
        .collect();
    if !allowed.is_empty() {
        lines.push(format!("others may {}", allowed.join(", ")));
    }
    if options.approval_required {
        lines.push("approval asked for".to_string());
    }
    for (key, value) in &options.metadata {
        let value = match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        lines.push(format!("{key}: {value}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_read_as_lines() {
        let options = json!({"public": true, "approval_required": true, "permissions": {"read": true, "fork": true, "contribute": false}, "team": "data"});
        assert_eq!(
            options_text(&serde_json::from_value(options).unwrap()),
            vec!["others may read, fork", "approval asked for", "team: data"]
        );
        let nothing =
            json!({"public": false, "approval_required": false, "permissions": {"read": false, "fork": false, "contribute": false}});
        assert!(options_text(&serde_json::from_value(nothing).unwrap()).is_empty());
    }
}
