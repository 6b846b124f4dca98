use leptos::prelude::*;

use crate::app::PageTitle;
use crate::components::loaded;
use crate::model::{ApiAction, ApiRoute};
use crate::server_fns::api::api_reference;

/// `/api`: the JSON API for people, from the same description machines read at
/// `/api/v1/openapi.json`.
#[component]
pub fn ApiPage() -> impl IntoView {
    let reference = Resource::new(|| (), |()| api_reference());
    view! {
        <PageTitle text="API" />
        <section class="card">
            <p>
                "Scripts call "<code>"POST /api/v1/process"</code>" with "
                <code>"Authorization: Bearer <token>"</code>" (create one under API tokens) and a JSON body "
                <code>"{\"context\": {\"action\": ..., ...}, \"config\": {}}"</code>
                ". Every answer is "<code>"{success, message, result}"</code>" or, with the error's status, "
                <code>"{success: false, message, error}"</code>"."
            </p>
            <p>
                "The machine-readable description (OpenAPI 3.1), to generate a client from: "
                <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a>"."
            </p>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading the API description…"</p> }>
            {move || Suspend::new(async move {
                loaded(reference.await, |reference| {
                    view! {
                        <h2>"Actions"</h2>
                        <nav class="card" aria-label="Actions">
                            <ul class="inline-list">
                                {reference.actions.iter().map(|action| {
                                    let href = format!("#action-{}", action.name);
                                    view! { <li><a href=href><code>{action.name.clone()}</code></a></li> }
                                }).collect_view()}
                            </ul>
                        </nav>
                        {reference.actions.into_iter().map(|action| view! { <ActionCard action /> }).collect_view()}
                        <h2>"Routes"</h2>
                        <RouteTable routes=reference.routes />
                    }
                    .into_any()
                })
            })}
        </Transition>
    }
}

#[component]
fn ActionCard(action: ApiAction) -> impl IntoView {
    let id = format!("action-{}", action.name);
    view! {
        <section class="card api-action" id=id>
            <h3><code>{action.name.clone()}</code></h3>
            <p>{action.summary}</p>
            {if action.fields.is_empty() {
                view! { <p class="meta">"No fields besides " <code>"action"</code> "."</p> }.into_any()
            } else {
                view! {
                    <table>
                        <thead><tr><th>"Field"</th><th>"Type"</th><th>"Required"</th><th>"Meaning"</th></tr></thead>
                        <tbody>
                            {action.fields.into_iter().map(|field| view! {
                                <tr>
                                    <td><code>{field.name}</code></td>
                                    <td>{field.kind}</td>
                                    <td>{if field.required { "yes" } else { "" }}</td>
                                    <td>{field.description}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
            <p class="meta">"Result: " <code>{action.result}</code></p>
        </section>
    }
}

#[component]
fn RouteTable(routes: Vec<ApiRoute>) -> impl IntoView {
    view! {
        <div class="card">
            <table>
                <thead><tr><th>"Method"</th><th>"Path"</th><th>"What it does"</th><th>"Statuses"</th></tr></thead>
                <tbody>
                    {routes.into_iter().map(|route| view! {
                        <tr>
                            <td><code>{route.method}</code></td>
                            <td><code>{route.path}</code></td>
                            <td>{route.summary}</td>
                            <td>{route.statuses.join(" ")}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
