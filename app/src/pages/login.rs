use leptos::prelude::*;
use leptos::server::ServerActionError;
use leptos::server_fn::{ServerFn, error::ServerFnUrlError};
use leptos_router::hooks::use_query_map;

use crate::app::{PageTitle, SignIn};
use crate::server_fns::AppError;
use crate::server_fns::account::{Login as LoginFn, Signup, signup_open};

/// The error of an action's last run (its `value`), as text; before any run, the error a
/// form post without JavaScript to `path` came back with (the server puts it in the address).
/// The sign-in actions live above the routes, which is where Leptos looks for that error itself.
fn failure_of<T>(value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static, path: &str) -> Signal<Option<String>> {
    let posted = use_context::<ServerActionError>()
        .filter(|error| error.path() == path)
        .map(|error| ServerFnUrlError::<AppError>::decode_err(error.err()).message());
    Signal::derive(move || match value.get() {
        Some(result) => result.err().map(|e| e.message()),
        None => posted.clone(),
    })
}

#[component]
pub fn Login() -> impl IntoView {
    let SignIn { login, signup, .. } = expect_context::<SignIn>();
    let next = move || use_query_map().read().get("next").unwrap_or_default();
    let open = Resource::new(|| (), |_| signup_open());
    let failure = failure_of(login.value(), LoginFn::PATH);
    let signup_failure = failure_of(signup.value(), Signup::PATH);
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
