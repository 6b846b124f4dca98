use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::app::PageTitle;
use crate::components::{action_error, audit::AuditTable, loaded, when};
use crate::model::{AccessLevel, AuditEvent, GrantView, PipeDetails, ShareStatus};
use crate::server_fns::pipes::{GrantAccess, RevokeGrant, SharePipe, UnsharePipe, get_pipe};
use crate::urls::encode;

/// `/pipes/<name>`: the pipe's page, and its public share URL. Anonymous visitors see it only
/// while it has an active public share; its managers see the sharing and permissions panels.
#[component]
pub fn PipePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let share = ServerAction::<SharePipe>::new();
    let unshare = ServerAction::<UnsharePipe>::new();
    let grant = ServerAction::<GrantAccess>::new();
    let revoke = ServerAction::<RevokeGrant>::new();
    let details = Resource::new(
        move || (name(), share.version().get(), unshare.version().get(), grant.version().get(), revoke.version().get()),
        |(name, ..)| get_pipe(name),
    );
    let actions = PipeActions { share, unshare, grant, revoke };
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(details.await, |details| view! { <PipeView details actions /> }.into_any())
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct PipeActions {
    share: ServerAction<SharePipe>,
    unshare: ServerAction<UnsharePipe>,
    grant: ServerAction<GrantAccess>,
    revoke: ServerAction<RevokeGrant>,
}

#[component]
fn PipeView(details: PipeDetails, actions: PipeActions) -> impl IntoView {
    let pipe = details.summary.clone();
    let name = pipe.name.clone();
    let sharing = match pipe.share_status {
        Some(ShareStatus::Active) => format!("Shared ({})", pipe.visibility),
        Some(ShareStatus::PendingApproval) => format!("Waiting for an admin's approval ({})", pipe.visibility),
        Some(ShareStatus::Rejected) => "Share rejected".to_string(),
        Some(ShareStatus::Withdrawn) | None => "Not shared".to_string(),
    };
    let rejected = pipe.share_status == Some(ShareStatus::Rejected);
    let fact = |label: &'static str, value: Option<String>| value.map(|v| view! { <dt>{label}</dt><dd>{v}</dd> });
    view! {
        <article class="card">
            <PageTitle text=pipe.name.clone() />
            <p class="meta">{pipe.description.clone().unwrap_or_default()}</p>
            <dl class="facts">
                {fact("Owner", Some(pipe.owner.clone()))}
                {fact("Latest version", Some(pipe.version.clone()))}
                {fact("Versions", Some(details.versions.join(", ")))}
                {fact("Category", pipe.category.clone())}
                {fact("Status", pipe.status.clone())}
                {fact("Author", pipe.author.clone())}
                {fact("Sharing", Some(sharing))}
                <dt>"Downloads"</dt><dd class="downloads">{details.download_count}</dd>
            </dl>
            <p>{pipe.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}</p>
            <a class="button" href=format!("/pipes/{}/download", encode(&name)) rel="nofollow" download>"Download manifest"</a>
        </article>
        {(rejected || pipe.review_note.is_some()).then(|| view! {
            <div class="card notice" role="status">
                <h2>"Review"</h2>
                <p>{format!("The share was {}.", if rejected { "rejected" } else { "reviewed" })}</p>
                {pipe.review_note.clone().map(|note| view! { <blockquote class="review-note">{note}</blockquote> })}
            </div>
        })}
        {details.can_manage.then(|| view! { <SharingPanel details=details.clone() actions /> <PermissionsPanel name=name.clone() grants=details.grants.clone() actions /> })}
        {details.can_manage.then(|| view! { <HistoryPanel name=name.clone() events=details.history.clone() /> })}
        <section class="card">
            <h2>"Manifest"</h2>
            <pre class="manifest">{details.manifest_yaml.clone()}</pre>
        </section>
    }
}

#[component]
fn SharingPanel(details: PipeDetails, actions: PipeActions) -> impl IntoView {
    let name = details.summary.name.clone();
    let options = details.sharing_options.unwrap_or_default();
    let (public, approval) = (options.public, options.approval_required);
    let (fork, contribute) = (options.permissions.fork, options.permissions.contribute);
    let shared = details.summary.share_status.is_some();
    let unshare_name = name.clone();
    view! {
        <section class="card" aria-labelledby="sharing-title">
            <h2 id="sharing-title">"Sharing"</h2>
            <ActionForm action=actions.share attr:class="stack">
                <input type="hidden" name="name" value=name.clone() />
                <label class="check"><input type="checkbox" name="public" value="true" checked=public />" Public: anyone with the link can see and download it"</label>
                <label class="check"><input type="checkbox" name="approval_required" value="true" checked=approval />" Ask an admin to approve"</label>
                <fieldset>
                    <legend>"Others may"</legend>
                    <label class="check"><input type="checkbox" name="read" value="true" checked=true disabled=true />" read"</label>
                    <label class="check"><input type="checkbox" name="fork" value="true" checked=fork />" fork"</label>
                    <label class="check"><input type="checkbox" name="contribute" value="true" checked=contribute />" contribute"</label>
                </fieldset>
                <p class="error" role="alert">{action_error(actions.share.value())}</p>
                <button type="submit" disabled=move || actions.share.pending().get()>
                    {move || if actions.share.pending().get() { "Saving…" } else if shared { "Update share" } else { "Share" }}
                </button>
            </ActionForm>
            {shared.then(|| view! {
                <ActionForm action=actions.unshare attr:class="inline">
                    <input type="hidden" name="name" value=unshare_name.clone() />
                    <button type="submit" class="danger">"Unshare"</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn PermissionsPanel(name: String, grants: Vec<GrantView>, actions: PipeActions) -> impl IntoView {
    let grant_name = name.clone();
    view! {
        <section class="card" aria-labelledby="permissions-title">
            <h2 id="permissions-title">"Permissions"</h2>
            <ActionForm action=actions.grant attr:class="grid-form">
                <input type="hidden" name="name" value=grant_name />
                <div class="field">
                    <label for="grant-users">"Users"</label>
                    <input id="grant-users" name="users" placeholder="alice, bob" />
                </div>
                <div class="field">
                    <label for="grant-groups">"Groups"</label>
                    <input id="grant-groups" name="groups" placeholder="developers" />
                </div>
                <div class="field">
                    <label for="grant-level">"Access"</label>
                    <select id="grant-level" name="access_level">
                        {AccessLevel::ALL.iter().map(|level| view! { <option value=level.as_str()>{level.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="grant-expiration">"Expires (optional)"</label>
                    <input id="grant-expiration" name="expiration" type="date" />
                </div>
                <button type="submit" disabled=move || actions.grant.pending().get()>"Grant"</button>
            </ActionForm>
            <p class="error" role="alert">{action_error(actions.grant.value())}</p>
            {if grants.is_empty() {
                view! { <p class="meta">"No grants yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grants">
                        <thead><tr><th scope="col">"Who"</th><th scope="col">"Access"</th><th scope="col">"Expires"</th><th></th></tr></thead>
                        <tbody>
                            {grants.into_iter().map(|g| {
                                let name = name.clone();
                                let expires = g.expires_at.map(when).unwrap_or_else(|| "never".into());
                                view! {
                                    <tr class:expired=g.expired>
                                        <td>{format!("{} {}", g.subject_type, g.name)}</td>
                                        <td>{g.access_level.as_str()}</td>
                                        <td>{expires}{g.expired.then(|| view! { " " <span class="badge rejected">"expired"</span> })}</td>
                                        <td>
                                            <ActionForm action=actions.revoke attr:class="inline">
                                                <input type="hidden" name="name" value=name.clone() />
                                                <input type="hidden" name="subject_type" value=g.subject_type.as_str() />
                                                <input type="hidden" name="subject" value=g.name.clone() />
                                                <button type="submit" class="danger" attr:aria-label=format!("Revoke {}", g.name)>"Revoke"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// The pipe's latest sharing changes, from the audit log.
#[component]
fn HistoryPanel(name: String, events: Vec<AuditEvent>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <AuditTable events show_pipe=false />
            <p><a href=format!("/admin/audit?pipe={}", encode(&name))>"Every change to this pipe"</a></p>
        </section>
    }
}
