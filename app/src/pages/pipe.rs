use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::app::PageTitle;
use crate::components::{action_error, audit::AuditTable, loaded, when};
use crate::model::{
    AccessLevel, AuditEvent, EnvironmentMove, EnvironmentView, GrantView, PipeDetails, ShareStatus, VersionInfo, Visibility,
};
use crate::pages::access::{AccessPanel, PendingRequestsPanel, RequestAccessPanel};
use crate::pages::publish::PublishForm;
use crate::pages::webhooks::WebhooksPanel;
use crate::server_fns::pipes::{
    ForkPipe, GrantAccess, PromoteVersion, RenewGrant, RequestAccess, ReviewAccessRequest, RevokeGrant, SharePipe, UnsharePipe,
    YankVersion, get_pipe,
};
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
    let promote = ServerAction::<PromoteVersion>::new();
    let yank = ServerAction::<YankVersion>::new();
    let fork = ServerAction::<ForkPipe>::new();
    let request = ServerAction::<RequestAccess>::new();
    let review_request = ServerAction::<ReviewAccessRequest>::new();
    let renew = ServerAction::<RenewGrant>::new();
    let changes = move || {
        [
            share.version().get(),
            unshare.version().get(),
            grant.version().get(),
            revoke.version().get(),
            promote.version().get(),
            yank.version().get(),
            request.version().get(),
            review_request.version().get(),
            renew.version().get(),
        ]
    };
    let details = Resource::new(move || (name(), changes()), |(name, _)| get_pipe(name));
    let actions = PipeActions { share, unshare, grant, revoke, promote, yank, fork, request, review_request, renew };
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
    promote: ServerAction<PromoteVersion>,
    yank: ServerAction<YankVersion>,
    fork: ServerAction<ForkPipe>,
    request: ServerAction<RequestAccess>,
    review_request: ServerAction<ReviewAccessRequest>,
    renew: ServerAction<RenewGrant>,
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
                {view! {
                    {fact("Source", Some(match &details.source.origin {
                        Some(origin) => format!("{} ({origin})", details.source.name),
                        None => details.source.name.clone(),
                    }))}
                    {details.source.gone_at.map(|at| view! {
                        <dt>"Gone"</dt><dd><span class="badge rejected">"gone"</span>{format!(" from its source since {}", when(at))}</dd>
                    })}
                }.into_any()}
                {view! {
                    {details.forked_from.clone().map(|origin| view! {
                        <dt>"Forked from"</dt>
                        <dd><a href=format!("/pipes/{}", encode(&origin.pipe))>{origin.pipe.clone()}</a>{format!(" {}", origin.version)}</dd>
                    })}
                    {(!details.forks.is_empty()).then(|| view! {
                        <dt>"Forks"</dt>
                        <dd>{details.forks.iter().map(|fork| view! { <a href=format!("/pipes/{}", encode(fork))>{fork.clone()}</a>" " }).collect_view()}</dd>
                    })}
                }.into_any()}
                <dt>"Downloads"</dt><dd class="downloads">{details.download_count}</dd>
            </dl>
            <p>{pipe.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}</p>
            {if details.can_download {
                view! {
                    <a class="button" href=format!("/pipes/{}/download", encode(&name)) rel="nofollow" download>"Download manifest"</a>
                    {details.version_details.iter().find(|v| !v.yanked && v.sha256.is_some()).map(|v| view! {
                        " "
                        <a class="button" href=package_href(&name, &v.version) rel="nofollow" download>{format!("Download package {}", v.version)}</a>
                    })}
                }.into_any()
            } else {
                view! {
                    <p class="notice gated" role="note">
                        "This pipe is gated: anyone may read about it, and people its managers grant access download it. "
                        {(!details.can_request_access).then(|| view! { <a href="/login">"Sign in to request access."</a> })}
                    </p>
                }.into_any()
            }}
        </article>
        // Each group is erased to one view type: the page's full type is too deep to compile.
        {view! {
            <PublishedNotice />
            {details.readme_html.clone().map(|html| view! {
                <section class="card readme" aria-label="README"><div inner_html=html></div></section>
            })}
        }.into_any()}
        {view! {
            <VersionsPanel details=details.clone() actions />
            <EnvironmentsPanel details=details.clone() actions />
        }.into_any()}
        {view! {
            {details.can_request_access.then(|| view! {
                <RequestAccessPanel name=name.clone() mine=details.my_request.clone() can_download=details.can_download action=actions.request />
            })}
            {(!details.pending_requests.is_empty()).then(|| view! {
                <PendingRequestsPanel requests=details.pending_requests.clone() action=actions.review_request />
            })}
        }.into_any()}
        {view! {
            {details.can_publish.then(|| view! { <PublishForm pipe=Some(name.clone()) /> })}
            {details.can_fork.then(|| view! { <ForkPanel details=details.clone() actions /> })}
        }.into_any()}
        {(rejected || pipe.review_note.is_some()).then(|| view! {
            <div class="card notice" role="status">
                <h2>"Review"</h2>
                <p>{format!("The share was {}.", if rejected { "rejected" } else { "reviewed" })}</p>
                {pipe.review_note.clone().map(|note| view! { <blockquote class="review-note">{note}</blockquote> })}
            </div>
        })}
        {details.can_manage.then(|| view! { <SharingPanel details=details.clone() actions /> <PermissionsPanel name=name.clone() grants=details.grants.clone() actions /> }.into_any())}
        {view! {
            {details.access.clone().map(|explained| view! { <AccessPanel explained /> })}
            {details.can_manage.then(|| view! { <WebhooksPanel pipe=Some(name.clone()) /> })}
            {details.can_manage.then(|| view! { <HistoryPanel name=name.clone() events=details.history.clone() /> })}
        }.into_any()}
        {details.can_download.then(|| view! {
            <section class="card">
                <h2>"Manifest"</h2>
                <pre class="manifest">{details.manifest_yaml.clone()}</pre>
            </section>
        })}
    }
}

#[component]
fn SharingPanel(details: PipeDetails, actions: PipeActions) -> impl IntoView {
    let name = details.summary.name.clone();
    let options = details.sharing_options.unwrap_or_default();
    let visibility = Visibility::of(options.public, options.gated);
    let approval = options.approval_required;
    let (fork, contribute) = (options.permissions.fork, options.permissions.contribute);
    let shared = details.summary.share_status.is_some();
    let unshare_name = name.clone();
    view! {
        <section class="card" aria-labelledby="sharing-title">
            <h2 id="sharing-title">"Sharing"</h2>
            <ActionForm action=actions.share attr:class="stack">
                <input type="hidden" name="name" value=name.clone() />
                <fieldset>
                    <legend>"Who sees it"</legend>
                    {[
                        (Visibility::Private, " Private: only people you grant access"),
                        (Visibility::Gated, " Gated: anyone sees its page; people you grant download it, and others may ask"),
                        (Visibility::Public, " Public: anyone with the link can see and download it"),
                    ].into_iter().map(|(choice, label)| view! {
                        <label class="check">
                            <input type="radio" name="visibility" value=choice.as_str() checked=choice == visibility />{label}
                        </label>
                    }).collect_view()}
                </fieldset>
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
            <p class="error" role="alert">{action_error(actions.renew.value())}</p>
            {if grants.is_empty() {
                view! { <p class="meta">"No grants yet."</p> }.into_any()
            } else {
                view! {
                    <table class="grants">
                        <thead><tr><th scope="col">"Who"</th><th scope="col">"Access"</th><th scope="col">"Expires"</th><th></th></tr></thead>
                        <tbody>
                            {grants.into_iter().map(|g| {
                                let name = name.clone();
                                let renew_name = name.clone();
                                let renewed = g.name.clone();
                                let expires = g.expires_at.map(when).unwrap_or_else(|| "never".into());
                                view! {
                                    <tr class:expired=g.expired>
                                        <td>{format!("{} {}", g.subject_type, g.name)}</td>
                                        <td>{g.access_level.as_str()}</td>
                                        <td>
                                            {expires}
                                            {g.expired.then(|| view! { " " <span class="badge rejected">"expired"</span> })}
                                            {g.ending_soon.then(|| view! { " " <span class="badge pending">"ends soon"</span> })}
                                        </td>
                                        <td>
                                            {g.expires_at.is_some().then(|| view! {
                                                <ActionForm action=actions.renew attr:class="inline">
                                                    <input type="hidden" name="name" value=renew_name.clone() />
                                                    <input type="hidden" name="subject_type" value=g.subject_type.as_str() />
                                                    <input type="hidden" name="subject" value=renewed.clone() />
                                                    <button type="submit" aria-label=format!("Renew {renewed}")>"Renew"</button>
                                                </ActionForm>
                                            })}
                                            <ActionForm action=actions.revoke attr:class="inline">
                                                <input type="hidden" name="name" value=name.clone() />
                                                <input type="hidden" name="subject_type" value=g.subject_type.as_str() />
                                                <input type="hidden" name="subject" value=g.name.clone() />
                                                <button type="submit" class="danger" aria-label=format!("Revoke {}", g.name)>"Revoke"</button>
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

fn package_href(name: &str, version: &str) -> String {
    format!("/pipes/{}/versions/{}/package.tar.gz", encode(name), encode(version))
}

/// What the publish form reported, from the address it came back to.
#[component]
fn PublishedNotice() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        query
            .read()
            .get("published")
            .map(|version| view! { <p class="card success" role="status">{format!("Version {version} published.")}</p> })
    }
}

/// Every version with its package, publisher and environments; managers may yank one.
#[component]
fn VersionsPanel(details: PipeDetails, actions: PipeActions) -> impl IntoView {
    let name = details.summary.name.clone();
    let environments = details.environments.clone();
    let in_env =
        move |version: &str| -> Vec<String> { environments.iter().filter(|e| e.version == version).map(|e| e.name.clone()).collect() };
    let manage = details.can_manage;
    let row = move |v: VersionInfo| {
        let envs = in_env(&v.version);
        let published = match &v.published_by {
            Some(by) => format!("{} by {by}", when(v.published_at)),
            None => format!("{} (scanned)", when(v.published_at)),
        };
        let size = v.size.map(|s| format!("{s} bytes")).unwrap_or_default();
        let sha = v.sha256.clone().unwrap_or_default();
        let short = sha.get(..12).unwrap_or_default().to_string();
        let files = v.files.clone();
        let (name, version) = (name.clone(), v.version.clone());
        view! {
            <tr class:expired=v.yanked>
                <td>
                    {match &v.sha256 {
                        Some(_) => view! { <a href=package_href(&name, &version) rel="nofollow" download>{version.clone()}</a> }.into_any(),
                        None => view! { <span>{version.clone()}</span> }.into_any(),
                    }}
                    {v.yanked.then(|| view! { " " <span class="badge rejected" title=v.yank_reason.clone().unwrap_or_default()>"yanked"</span> })}
                </td>
                <td>{published}</td>
                <td>{envs.join(", ")}</td>
                <td>{size}</td>
                <td><code title=sha>{short}</code></td>
                <td>
                    <details>
                        <summary>{format!("{} files", files.len())}</summary>
                        <ul class="files">{files.into_iter().map(|f| view! { <li><code>{f.path}</code>{format!(" ({} bytes)", f.size)}</li> }).collect_view()}</ul>
                    </details>
                </td>
                <td>
                    {(manage && !v.yanked).then(|| view! {
                        <ActionForm action=actions.yank attr:class="inline yank-form">
                            <input type="hidden" name="name" value=name.clone() />
                            <input type="hidden" name="version" value=version.clone() />
                            <input name="reason" placeholder="why" required aria-label=format!("Why yank {version}") />
                            <button type="submit" class="danger">"Yank"</button>
                        </ActionForm>
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card" aria-labelledby="versions-title">
            <h2 id="versions-title">"Versions"</h2>
            <p class="error" role="alert">{action_error(actions.yank.value())}</p>
            <table class="versions">
                <thead><tr>
                    <th scope="col">"Version"</th><th scope="col">"Published"</th><th scope="col">"Environments"</th>
                    <th scope="col">"Size"</th><th scope="col">"SHA-256"</th><th scope="col">"Files"</th><th></th>
                </tr></thead>
                <tbody>{details.version_details.into_iter().map(row).collect_view()}</tbody>
            </table>
        </section>
    }
}

/// Where each environment points, its moves, and (for those who may) the promote form.
#[component]
fn EnvironmentsPanel(details: PipeDetails, actions: PipeActions) -> impl IntoView {
    let name = details.summary.name.clone();
    let offered: Vec<String> = details.version_details.iter().filter(|v| !v.yanked).map(|v| v.version.clone()).collect();
    let promoted = move || {
        actions.promote.value().get().and_then(|r| r.ok()).map(|r| match r.status {
            ShareStatus::PendingApproval => format!("Promoting {} to {} waits for an admin's approval.", r.version, r.environment),
            _ => format!("{} now points at {}.", r.environment, r.version),
        })
    };
    let env_row = |e: EnvironmentView| {
        view! {
            <tr>
                <td>{e.name.clone()}{e.protected.then(|| view! { " " <span class="badge">"protected"</span> })}</td>
                <td>{e.version}</td>
                <td>{format!("{}{}", when(e.updated_at), e.updated_by.map(|by| format!(" by {by}")).unwrap_or_default())}</td>
            </tr>
        }
    };
    let move_row = |m: EnvironmentMove| {
        let what = match m.from_version {
            Some(from) => format!("{}: {from} → {}", m.environment, m.to_version),
            None => format!("{}: → {}", m.environment, m.to_version),
        };
        view! { <li>{format!("{what}, {}{}", when(m.at), m.by.map(|by| format!(" by {by}")).unwrap_or_default())}</li> }
    };
    let any = !details.environments.is_empty();
    view! {
        <section class="card" aria-labelledby="environments-title">
            <h2 id="environments-title">"Environments"</h2>
            {if any {
                view! {
                    <table class="environments">
                        <thead><tr><th scope="col">"Environment"</th><th scope="col">"Version"</th><th scope="col">"Since"</th></tr></thead>
                        <tbody>{details.environments.into_iter().map(env_row).collect_view()}</tbody>
                    </table>
                    <h3>"Moves"</h3>
                    <ul class="moves">{details.environment_history.into_iter().map(move_row).collect_view()}</ul>
                }
                .into_any()
            } else {
                view! { <p class="meta">"No environment points at a version yet."</p> }.into_any()
            }}
            {details.can_promote.then(|| view! {
                <ActionForm action=actions.promote attr:class="grid-form">
                    <input type="hidden" name="name" value=name.clone() />
                    <div class="field">
                        <label for="promote-version">"Version"</label>
                        <select id="promote-version" name="version">
                            {offered.iter().map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="promote-environment">"Environment"</label>
                        <input id="promote-environment" name="environment" list="environment-names" required placeholder="staging" />
                        <datalist id="environment-names"><option value="dev"></option><option value="staging"></option><option value="prod"></option></datalist>
                    </div>
                    <button type="submit" disabled=move || actions.promote.pending().get()>"Promote"</button>
                </ActionForm>
                <p class="error" role="alert">{action_error(actions.promote.value())}</p>
                <p class="success" role="status">{promoted}</p>
            })}
        </section>
    }
}

/// Copy a version into a new pipe of one's own.
#[component]
fn ForkPanel(details: PipeDetails, actions: PipeActions) -> impl IntoView {
    let name = details.summary.name.clone();
    let offered: Vec<String> = details.version_details.iter().filter(|v| v.sha256.is_some()).map(|v| v.version.clone()).collect();
    let forked = move || {
        actions.fork.value().get().and_then(|r| r.ok()).map(|r| {
            view! { <p class="success" role="status">"Forked as " <a href=format!("/pipes/{}", encode(&r.pipe_name))>{r.pipe_name.clone()}</a></p> }
        })
    };
    view! {
        <section class="card" aria-labelledby="fork-title">
            <h2 id="fork-title">"Fork"</h2>
            <ActionForm action=actions.fork attr:class="grid-form">
                <input type="hidden" name="name" value=name.clone() />
                <div class="field">
                    <label for="fork-version">"Version"</label>
                    <select id="fork-version" name="version">
                        {offered.iter().map(|v| view! { <option value=v.clone()>{v.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="fork-name">"New pipe name"</label>
                    <input id="fork-name" name="new_name" required placeholder=format!("{name}-fork") />
                </div>
                <button type="submit" disabled=move || actions.fork.pending().get()>"Fork"</button>
            </ActionForm>
            <p class="error" role="alert">{action_error(actions.fork.value())}</p>
            {forked}
        </section>
    }
}
