use leptos::prelude::*;

use crate::app::PageTitle;

/// The page for any address that has no page, or that the visitor may not see.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <div class="card">
            <PageTitle text="Not found" />
            <p>"There is no page here, or it is not shared with you."</p>
            <p><a href="/">"Back to the pipes"</a></p>
        </div>
    }
}
