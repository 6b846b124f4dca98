use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::{PageTitle, SignIn};
use crate::components::SignInPrompt;

/// `/publish`: publish a new pipe, or a new version of one, from an archive of its folder.
#[component]
pub fn PublishPage() -> impl IntoView {
    let SignIn { caller, .. } = expect_context::<SignIn>();
    view! {
        <PageTitle text="Publish a pipe" />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match caller.await {
                    Ok(Some(_)) => view! { <PublishForm pipe=None /> }.into_any(),
                    _ => view! { <SignInPrompt /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The upload form, posted to `/publish` (it works without JavaScript): for a new pipe, or
/// from a pipe's page (`pipe`) for a new version of it. A refusal comes back in the address
/// (`publish_error`) and is shown here.
#[component]
pub fn PublishForm(pipe: Option<String>) -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("publish_error");
    let (title, hint) = match &pipe {
        Some(_) => ("Publish a new version", "A .tar.gz or .zip of the version folder, its manifest naming this pipe and a new version."),
        None => (
            "New pipe",
            "A .tar.gz or .zip of a version folder: a plug.yaml, plugin.yaml, glue.yaml or pipe.yaml at its root \
             (or under <name>/<version>/) with a name and a semantic version, and the files beside it. You will own the new pipe.",
        ),
    };
    view! {
        <section class="card" aria-labelledby="publish-title">
            <h2 id="publish-title">{title}</h2>
            <form method="post" action="/publish" enctype="multipart/form-data" class="stack">
                {pipe.map(|name| view! { <input type="hidden" name="pipe" value=name /> })}
                <div class="field">
                    <label for="publish-archive">"Archive"</label>
                    <input id="publish-archive" name="archive" type="file" accept=".tar.gz,.tgz,.zip,application/gzip,application/zip" required
                        aria-describedby="publish-hint" />
                    <p id="publish-hint" class="hint">{hint}</p>
                </div>
                <p class="error" role="alert">{error}</p>
                <button type="submit">"Publish"</button>
            </form>
        </section>
    }
}
