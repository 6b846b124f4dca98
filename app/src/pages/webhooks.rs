//! The Webhooks section: on a pipe's page for its managers, on the settings page for the
//! instance's admins.
use leptos::prelude::*;

use crate::components::{action_error, when};
use crate::model::{DeliveryStatus, DeliveryView, WebhookEvent, WebhookView};
use crate::server_fns::webhooks::{AddWebhook, RedeliverWebhook, RemoveWebhook, TestWebhook, list_webhooks};

/// Subscriptions of `pipe` (or, without one, the instance's), their latest deliveries, and a
/// form to add one; a new subscription's secret is shown once.
#[component]
pub fn WebhooksPanel(pipe: Option<String>) -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let remove = ServerAction::<RemoveWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let shown_pipe = pipe.clone();
    let hooks = Resource::new(
        move || (add.version().get(), remove.version().get(), test.version().get(), redeliver.version().get()),
        move |_| list_webhooks(shown_pipe.clone()),
    );
    let secret = move || {
        add.value().get().and_then(Result::ok).map(|created| {
            view! {
                <p class="success" role="status">
                    "Subscribed. Its signing secret, shown only now: " <code class="secret">{created.secret}</code>
                </p>
            }
        })
    };
    let events: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
    let hint = format!("Comma-separated, empty for every event: {}.", events.join(", "));
    let scope = if pipe.is_some() { "this pipe's events" } else { "every event of the instance" };
    view! {
        <section class="card" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="meta">{format!("A URL told of {scope}, each delivery signed with HMAC-SHA256 (X-Pipeshare-Signature).")}</p>
            <ActionForm action=add attr:class="grid-form">
                <input type="hidden" name="pipe" value=pipe.clone().unwrap_or_default() />
                <div class="field grow">
                    <label for="webhook-url">"Payload URL"</label>
                    <input id="webhook-url" name="url" type="url" required placeholder="https://hooks.example.com/pipeshare" />
                </div>
                <div class="field">
                    <label for="webhook-events">"Events"</label>
                    <input id="webhook-events" name="events" aria-describedby="webhook-events-hint" />
                </div>
                <button type="submit" disabled=move || add.pending().get()>"Add webhook"</button>
            </ActionForm>
            <p id="webhook-events-hint" class="hint">{hint}</p>
            <p class="error" role="alert">{action_error(add.value())}</p>
            {secret}
            <p class="error" role="alert">{action_error(remove.value())}</p>
            <p class="error" role="alert">{action_error(test.value())}</p>
            <p class="error" role="alert">{action_error(redeliver.value())}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    hooks.await.ok().map(|list| {
                        list.webhooks.into_iter().map(|hook| view! { <Hook hook remove test redeliver /> }).collect_view()
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Hook(
    hook: WebhookView,
    remove: ServerAction<RemoveWebhook>,
    test: ServerAction<TestWebhook>,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    let id = hook.webhook_id;
    let events = if hook.events.is_empty() {
        "every event".to_string()
    } else {
        hook.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
    };
    let row = move |d: DeliveryView| {
        let answer = match (d.last_status_code, &d.last_error) {
            (Some(code), _) => code.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => "not sent yet".to_string(),
        };
        let took = d.log.last().map(|a| format!("{} ms", a.duration_ms)).unwrap_or_default();
        let status_class = match d.status {
            DeliveryStatus::Delivered => "badge active",
            DeliveryStatus::Pending => "badge pending",
            DeliveryStatus::Failed => "badge rejected",
        };
        view! {
            <tr>
                <td>{d.event_type.as_str()}</td>
                <td><span class=status_class>{d.status.as_str()}</span></td>
                <td>{d.attempts}</td>
                <td>{answer}</td>
                <td>{took}</td>
                <td>{when(d.created_at)}</td>
                <td>
                    <ActionForm action=redeliver attr:class="inline">
                        <input type="hidden" name="delivery_id" value=d.delivery_id />
                        <button type="submit" aria-label=format!("Redeliver {}", d.delivery_id)>"Redeliver"</button>
                    </ActionForm>
                </td>
            </tr>
        }
    };
    view! {
        <div class="webhook">
            <h3><code>{hook.url.clone()}</code></h3>
            <p class="meta">{format!("{events} · by {} · since {}", hook.owner, when(hook.created_at))}</p>
            <ActionForm action=test attr:class="inline">
                <input type="hidden" name="webhook_id" value=id />
                <button type="submit">"Send a ping"</button>
            </ActionForm>
            " "
            <ActionForm action=remove attr:class="inline">
                <input type="hidden" name="webhook_id" value=id />
                <button type="submit" class="danger" aria-label=format!("Remove the webhook to {}", hook.url)>"Remove"</button>
            </ActionForm>
            {(!hook.deliveries.is_empty()).then(|| view! {
                <table class="deliveries">
                    <thead><tr>
                        <th scope="col">"Event"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th>
                        <th scope="col">"Answer"</th><th scope="col">"Took"</th><th scope="col">"Queued"</th><th></th>
                    </tr></thead>
                    <tbody>{hook.deliveries.into_iter().map(row).collect_view()}</tbody>
                </table>
            })}
        </div>
    }
}
