use leptos::prelude::*;

use crate::app::PageTitle;
use crate::components::{action_error, loaded, when};
use crate::server_fns::account::{CreateToken, RevokeToken, list_tokens};

/// The signed-in user's API tokens: create (shown once), list, revoke.
#[component]
pub fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    view! {
        <PageTitle text="API tokens" />
        <div class="card">
            <p>"Scripts call " <code>"POST /api/v1/process"</code> " with " <code>"Authorization: Bearer <token>"</code> "."</p>
            <ActionForm action=create attr:class="row">
                <label for="token-label">"Label"</label>
                <input id="token-label" name="label" placeholder="ci-bot" />
                <button type="submit">"Create token"</button>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|token| view! {
                <div class="notice" role="status">
                    <p>"Your new token. Copy it now: it is not shown again."</p>
                    <code class="token">{token}</code>
                </div>
            })}
            <p class="error" role="alert">{action_error(create.value())}</p>
        </div>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(tokens.await, |list| if list.is_empty() {
                    view! { <p class="card">"No tokens yet."</p> }.into_any()
                } else {
                    view! {
                        <table class="card">
                            <thead><tr><th>"Label"</th><th>"Created"</th><th></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| view! {
                                    <tr>
                                        <td>{t.label}</td>
                                        <td>{when(t.created_at)}</td>
                                        <td>
                                            <ActionForm action=revoke attr:class="inline">
                                                <input type="hidden" name="id" value=t.id />
                                                <button type="submit" class="danger">"Revoke"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                })
            })}
        </Suspense>
    }
}
