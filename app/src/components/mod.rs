//! Pieces shared by several pages: how a page shows what it loaded, form helpers, dates,
//! paging.
pub mod audit;
pub mod chart;

use chrono::{DateTime, Utc};
use leptos::html::Form;
use leptos::prelude::*;

use crate::pages::not_found::NotFound;
use crate::server_fns::AppError;

/// What a page shows for a server answer: `content` when it loaded; otherwise why not: the
/// sign-in prompt (401), the not-found page (404) or the error's message. Every page shows
/// its data through this.
pub fn loaded<T>(result: Result<T, AppError>, content: impl FnOnce(T) -> AnyView) -> AnyView {
    match result {
        Ok(value) => content(value),
        Err(AppError::Refused { status: 401, .. }) => view! { <SignInPrompt /> }.into_any(),
        Err(AppError::Refused { status: 404, .. }) => view! { <NotFound /> }.into_any(),
        Err(error) => view! { <p class="card error" role="alert">{error.message()}</p> }.into_any(),
    }
}

/// Shown when a page needs a signed-in user.
#[component]
pub fn SignInPrompt() -> impl IntoView {
    view! {
        <div class="card">
            <p>"Please " <a href="/login">"sign in"</a> " to see this page."</p>
        </div>
    }
}

/// The error of an action's last run, as text for the page.
pub fn action_error<T>(value: impl Get<Value = Option<Result<T, AppError>>>) -> impl Fn() -> Option<String> {
    move || value.get().and_then(|r| r.err()).map(|e| e.message())
}

/// A success message of an action's last run.
pub fn action_success(value: impl Get<Value = Option<Result<String, AppError>>>) -> impl Fn() -> Option<String> {
    move || value.get().and_then(Result::ok)
}

/// Empties a form after its action succeeded; a failed one keeps what was typed.
pub fn reset_on_success<T: Send + Sync + 'static>(
    value: impl With<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
    form: NodeRef<Form>,
) {
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Ok(_))))
            && let Some(form) = form.get_untracked()
        {
            form.reset();
        }
    });
}

/// A required name field of a grid form; `list` names a `<datalist>` of suggestions.
#[component]
pub fn NameField(id: &'static str, label: &'static str, name: &'static str, #[prop(optional)] list: Option<&'static str>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name list=list autocomplete="off" required />
        </div>
    }
}

/// A new password field of a grid form (at least 8 characters, as the server requires).
#[component]
pub fn PasswordField(id: &'static str, label: &'static str) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name="password" type="password" autocomplete="new-password" minlength="8" required />
        </div>
    }
}

/// What an action that answers with a confirmation said last: its error or its success.
#[component]
pub fn Outcome(value: impl Get<Value = Option<Result<String, AppError>>> + Clone + Send + Sync + 'static) -> impl IntoView {
    view! {
        <p class="error" role="alert">{action_error(value.clone())}</p>
        <p class="success" role="status">{action_success(value)}</p>
    }
}

/// For a filter form's `on:change`: submits the form a field of it changed in, so a filter
/// applies at once with JavaScript (the router's form puts it in the address, as Apply
/// does); without JavaScript the Apply button does it.
pub fn submit_on_change(event: leptos::ev::Event) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(form) = event.current_target().and_then(|target| target.dyn_into::<leptos::web_sys::HtmlFormElement>().ok()) {
        let _ = form.request_submit();
    }
}

/// A time as every page writes it: `2026-11-26 09:30 UTC`.
pub fn when(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Links to the page before and the page after this one, where there are such pages.
#[component]
pub fn Pager(prev: Option<String>, next: Option<String>, prev_label: &'static str, next_label: &'static str) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">{prev_label}</a> })}
            {next.map(|href| view! { <a href=href rel="next">{next_label}</a> })}
        </nav>
    }
}

/// Where a page stands among all matches, e.g. "26–50 of 60 pipes"; `None` for an empty page.
pub fn range_text(offset: u64, shown: u64, total: u64, noun: &str) -> Option<String> {
    (shown > 0).then(|| format!("{}–{} of {total} {noun}", offset + 1, offset + shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_text_says_where_a_page_stands() {
        assert_eq!(range_text(25, 25, 60, "pipes").as_deref(), Some("26–50 of 60 pipes"));
        assert_eq!(range_text(0, 0, 0, "pipes"), None);
    }
}
