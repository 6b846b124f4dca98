use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::{PageTitle, Session};
use crate::server_fns::{account::signup_open, error_text};

#[component]
pub fn Login() -> impl IntoView {
    let Session { login, signup, .. } = expect_context::<Session>();
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let open = Resource::new(|| (), |_| signup_open());
    let failure = move || login.value().get().and_then(|r| r.err()).map(|e| error_text(&e));
    let signup_failure = move || signup.value().get().and_then(|r| r.err()).map(|e| error_text(&e));
    view! {
        <div class="card narrow">
            <PageTitle text="Sign in" />
            <ActionForm action=login>
                <input type="hidden" name="next" prop:value=next />
                <label for="login-username">"User name"</label>
                <input id="login-username" name="username" autocomplete="username" required />
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" required />
                <p class="error" role="alert">{failure}</p>
                <button type="submit" disabled=move || login.pending().get()>
                    {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </div>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                open.await.unwrap_or(false).then(|| view! {
                    <div class="card narrow">
                        <h2>"New here?"</h2>
                        <ActionForm action=signup>
                            <label for="signup-username">"User name"</label>
                            <input id="signup-username" name="username" autocomplete="username" required />
                            <label for="signup-password">"Password (at least 8 characters)"</label>
                            <input id="signup-password" name="password" type="password" autocomplete="new-password" minlength="8" required />
                            <p class="error" role="alert">{signup_failure}</p>
                            <button type="submit">"Create account"</button>
                        </ActionForm>
                    </div>
                })
            })}
        </Suspense>
    }
}
