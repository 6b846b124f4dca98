use leptos::prelude::*;

use crate::app::PageTitle;
use crate::components::{Outcome, action_error, loaded, when};
use crate::model::{TokenInfo, TokenScope};
use crate::server_fns::account::{ChangePassword, CreateToken, RevokeToken, SetMyEmail, list_tokens};

/// The signed-in user's API tokens (create, shown once; list; revoke) and password.
#[component]
pub fn Tokens() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let change_password = ServerAction::<ChangePassword>::new();
    let set_email = ServerAction::<SetMyEmail>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    view! {
        <PageTitle text="API tokens" />
        <div class="card">
            <p>"Scripts call " <code>"POST /api/v1/process"</code> " with " <code>"Authorization: Bearer <token>"</code> "."</p>
            <ActionForm action=create attr:class="grid-form">
                <div class="field">
                    <label for="token-label">"Label"</label>
                    <input id="token-label" name="label" placeholder="ci-bot" maxlength="100" />
                </div>
                <div class="field">
                    <label for="token-expires">"Expires"</label>
                    <select id="token-expires" name="expires">
                        <option value="">"Never (until revoked)"</option>
                        <option value="7d">"In 7 days"</option>
                        <option value="30d">"In 30 days"</option>
                        <option value="90d">"In 90 days"</option>
                        <option value="365d">"In a year"</option>
                    </select>
                </div>
                <label class="check">
                    <input type="checkbox" name="read_only" value="true" />
                    " Read-only: may list and download, never change anything"
                </label>
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
        <p class="error" role="alert">{action_error(revoke.value())}</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(tokens.await, |list| if list.is_empty() {
                    view! { <p class="card">"No tokens yet."</p> }.into_any()
                } else {
                    view! { <div class="card"><TokenTable list revoke show_owner=false /></div> }.into_any()
                })
            })}
        </Suspense>
        <section class="card narrow" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            <ActionForm action=change_password attr:class="stack">
                <label for="password-current">"Current password"</label>
                <input id="password-current" name="current" type="password" autocomplete="current-password" required />
                <label for="password-new">"New password (at least 8 characters)"</label>
                <input id="password-new" name="password" type="password" autocomplete="new-password" minlength="8" required />
                <p class="hint">"Your other sessions are signed out."</p>
                <button type="submit">"Change password"</button>
            </ActionForm>
            <Outcome value=change_password.value() />
        </section>
        <section class="card narrow" aria-labelledby="email-title">
            <h2 id="email-title">"Notification email"</h2>
            <ActionForm action=set_email attr:class="stack">
                <label for="email-address">"Email address (empty: none)"</label>
                <input id="email-address" name="email" type="email" autocomplete="email" />
                <p class="hint">"Access requests, their outcomes, and grants and tokens ending soon, at most once a day each."</p>
                <button type="submit">"Save"</button>
            </ActionForm>
            <Outcome value=set_email.value() />
        </section>
    }
}

/// Tokens with what they may do, when they end and were last used, and a Revoke button.
#[component]
pub fn TokenTable(list: Vec<TokenInfo>, revoke: ServerAction<RevokeToken>, show_owner: bool) -> impl IntoView {
    view! {
        <div class="table-scroll">
            <table class="tokens">
                <thead>
                    <tr>
                        {show_owner.then(|| view! { <th scope="col">"User"</th> })}
                        <th scope="col">"Label"</th>
                        <th scope="col">"May"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Last used"</th>
                        <th></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|t| {
                        let expired = t.expired;
                        view! {
                            <tr class:expired=expired>
                                {show_owner.then(|| view! { <td>{t.owner.clone()}</td> })}
                                <td>{t.label.clone()}</td>
                                <td>{match t.scope { TokenScope::Full => "everything", TokenScope::ReadOnly => "read only" }}</td>
                                <td>{when(t.created_at)}</td>
                                <td>
                                    {t.expires_at.map(when).unwrap_or_else(|| "never".into())}
                                    {expired.then(|| view! { " " <span class="badge rejected">"expired"</span> })}
                                </td>
                                <td>{t.last_used_at.map(when).unwrap_or_else(|| "never".into())}</td>
                                <td>
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=t.id />
                                        <button type="submit" class="danger" aria-label=format!("Revoke {}", t.label)>"Revoke"</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
