//! The page shell, the router and the frame around every page.
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Route, Router, Routes},
    path,
};

use crate::model::Caller;
use crate::pages::{
    api::ApiPage, approvals::Approvals, audit::AuditLogPage, browse::Browse, inbox::InboxPage, login::Login, not_found::NotFound,
    pipe::PipePage, publish::PublishPage, reports::Reports, settings::AdminSettings, sources::SourcesPage, tokens::Tokens,
};
use crate::server_fns::{
    AppError,
    account::{Login as LoginFn, Logout, Signup, whoami},
    inbox::inbox_count,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Who is signed in, shared by every page; asked again after signing in, up or out.
#[derive(Clone, Copy)]
pub struct SignIn {
    pub caller: Resource<Result<Option<Caller>, AppError>>,
    pub login: ServerAction<LoginFn>,
    pub signup: ServerAction<Signup>,
    pub logout: ServerAction<Logout>,
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let (login, signup, logout) = (ServerAction::<LoginFn>::new(), ServerAction::<Signup>::new(), ServerAction::<Logout>::new());
    let caller = Resource::new(move || (login.version().get(), signup.version().get(), logout.version().get()), |_| whoami());
    provide_context(SignIn { caller, login, signup, logout });
    view! {
        <Stylesheet id="pipeshare" href="/pkg/pipeshare.css" />
        <Title formatter=|page: String| format!("{page} · pipeshare") />
        <Router>
            <Header />
            <main>
                // Async: each page is sent once its data is ready, complete, so it reads the
                // same with JavaScript off.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Browse ssr=SsrMode::Async />
                    <Route path=path!("/login") view=Login ssr=SsrMode::Async />
                    <Route path=path!("/pipes/:name") view=PipePage ssr=SsrMode::Async />
                    <Route path=path!("/admin/approvals") view=Approvals ssr=SsrMode::Async />
                    <Route path=path!("/admin/settings") view=AdminSettings ssr=SsrMode::Async />
                    <Route path=path!("/admin/audit") view=AuditLogPage ssr=SsrMode::Async />
                    <Route path=path!("/reports") view=Reports ssr=SsrMode::Async />
                    <Route path=path!("/tokens") view=Tokens ssr=SsrMode::Async />
                    <Route path=path!("/api") view=ApiPage ssr=SsrMode::Async />
                    <Route path=path!("/publish") view=PublishPage ssr=SsrMode::Async />
                    <Route path=path!("/inbox") view=InboxPage ssr=SsrMode::Async />
                    <Route path=path!("/admin/sources") view=SourcesPage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let SignIn { caller, logout, .. } = expect_context::<SignIn>();
    // How many inbox items wait, asked again on each page.
    let location = leptos_router::hooks::use_location();
    let waiting = Resource::new(move || location.pathname.get(), |_| inbox_count());
    view! {
        <header class="site">
            <nav aria-label="Main">
                <A href="/" attr:class="brand">"pipeshare"</A>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match caller.await {
                            Ok(Some(caller)) => {
                                let waiting = waiting.await.unwrap_or(0);
                                view! {
                                <A href="/">"Browse"</A>
                                <A href="/reports">"Reports"</A>
                                <A href="/publish">"Publish"</A>
                                <A href="/inbox">
                                    "Inbox"
                                    {(waiting > 0).then(|| view! {
                                        " " <span class="count" aria-label=format!("{waiting} waiting")>{waiting}</span>
                                    })}
                                </A>
                                <Show when=move || caller.is_admin>
                                    <A href="/admin/approvals">"Approvals"</A>
                                    <A href="/admin/settings">"Settings"</A>
                                    <A href="/admin/audit">"Audit log"</A>
                                    <A href="/admin/sources">"Sources"</A>
                                </Show>
                                <span class="spacer"></span>
                                <A href="/api">"API"</A>
                                <A href="/tokens">"API tokens"</A>
                                <span class="who">{caller.username.clone()}</span>
                                <ActionForm action=logout attr:class="inline">
                                    <button type="submit" class="link">"Sign out"</button>
                                </ActionForm>
                            }
                            .into_any()
                            }
                            _ => view! {
                                <span class="spacer"></span>
                                <A href="/api">"API"</A>
                                <A href="/login">"Sign in"</A>
                            }
                            .into_any(),
                        }
                    })}
                </Suspense>
            </nav>
        </header>
    }
}

/// A page's title, for the browser tab and the page.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    view! {
        <Title text=text.clone() />
        <h1>{text}</h1>
    }
}
