use leptos::html::Form;
use leptos::prelude::*;

use crate::app::PageTitle;
use crate::components::{action_error, action_success, loaded, reset_on_success};
use crate::model::{Directory, Settings};
use crate::server_fns::{
    AppError,
    admin::{AddGroupMember, CreateGroup, CreateUser, UpdateSettings, directory, get_settings},
};

/// `/admin/settings`: the instance settings, and the users and groups. Admins only; the
/// orchestrator says who is one.
#[component]
pub fn AdminSettings() -> impl IntoView {
    let update = ServerAction::<UpdateSettings>::new();
    let create_user = ServerAction::<CreateUser>::new();
    let create_group = ServerAction::<CreateGroup>::new();
    let add_member = ServerAction::<AddGroupMember>::new();
    // Loaded once: the settings form keeps what was typed, whatever the server answers.
    let settings = Resource::new(|| (), |_| get_settings());
    let people =
        Resource::new(move || (create_user.version().get(), create_group.version().get(), add_member.version().get()), |_| directory());
    let actions = DirectoryActions { create_user, create_group, add_member };
    view! {
        <PageTitle text="Settings" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(settings.await, |current| {
                    view! {
                        <SettingsForm current update />
                        <Users people actions />
                        <Groups people actions />
                    }
                    .into_any()
                })
            })}
        </Suspense>
    }
}

#[component]
fn SettingsForm(current: Settings, update: ServerAction<UpdateSettings>) -> impl IntoView {
    let saved = move || update.value().with(|v| matches!(v, Some(Ok(_)))).then_some("Settings saved.");
    view! {
        <section class="card admin-section" aria-labelledby="settings-title">
            <h2 id="settings-title">"Instance settings"</h2>
            // `novalidate`: the orchestrator checks the values and its message is shown here.
            <ActionForm action=update attr:class="stack" attr:novalidate=true>
                <div class="field">
                    <label for="set-max-pipes">"Most pipes one user may share"</label>
                    <input
                        id="set-max-pipes"
                        name="max_pipes_per_user"
                        type="number"
                        inputmode="numeric"
                        min="1"
                        max="1000"
                        step="1"
                        required
                        value=current.max_pipes_per_user
                        aria-describedby="set-max-pipes-hint"
                    />
                    <p id="set-max-pipes-hint" class="hint">"A whole number from 1 to 1000."</p>
                </div>
                <label class="check">
                    <input type="checkbox" name="enable_public_sharing" value="true" checked=current.enable_public_sharing />
                    " Allow public shares (anyone with the link)"
                </label>
                <label class="check">
                    <input type="checkbox" name="require_approval" value="true" checked=current.require_approval />
                    " Every share needs an admin's approval"
                </label>
                <label class="check">
                    <input type="checkbox" name="allow_self_signup" value="true" checked=current.allow_self_signup />
                    " Anyone may create an account from the sign-in page"
                </label>
                <p class="error" role="alert">{action_error(update.value())}</p>
                <p class="success" role="status">{saved}</p>
                <button type="submit" disabled=move || update.pending().get()>
                    {move || if update.pending().get() { "Saving…" } else { "Save settings" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[derive(Clone, Copy)]
struct DirectoryActions {
    create_user: ServerAction<CreateUser>,
    create_group: ServerAction<CreateGroup>,
    add_member: ServerAction<AddGroupMember>,
}

type People = Resource<Result<Directory, AppError>>;

#[component]
fn Users(people: People, actions: DirectoryActions) -> impl IntoView {
    let create = actions.create_user;
    let form = NodeRef::<Form>::new();
    reset_on_success(create.value(), form);
    view! {
        <section class="card admin-section" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(people.await, |found| view! {
                            <div class="table-scroll">
                                <table class="directory">
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Admin"</th><th scope="col">"Groups"</th></tr></thead>
                                    <tbody>
                                        {found.users.iter().map(|u| view! {
                                            <tr data-user=u.username.clone()>
                                                <td>{u.username.clone()}</td>
                                                <td>{if u.is_admin { "yes" } else { "no" }}</td>
                                                <td>{if u.groups.is_empty() { "none".to_string() } else { u.groups.join(", ") }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <datalist id="known-users">
                                {found.users.into_iter().map(|u| view! { <option value=u.username></option> }).collect_view()}
                            </datalist>
                        }
                        .into_any())
                })}
            </Transition>
            <h3>"Create a user"</h3>
            <ActionForm action=create node_ref=form attr:class="grid-form">
                <div class="field">
                    <label for="new-user-name">"User name"</label>
                    <input id="new-user-name" name="username" autocomplete="off" required />
                </div>
                <div class="field">
                    <label for="new-user-password">"Password (at least 8 characters)"</label>
                    <input id="new-user-password" name="password" type="password" autocomplete="new-password" minlength="8" required />
                </div>
                <label class="check">
                    <input type="checkbox" name="is_admin" value="true" />
                    " Instance admin"
                </label>
                <button type="submit" disabled=move || create.pending().get()>"Create user"</button>
            </ActionForm>
            <p class="error" role="alert">{action_error(create.value())}</p>
            <p class="success" role="status">{action_success(create.value())}</p>
        </section>
    }
}

#[component]
fn Groups(people: People, actions: DirectoryActions) -> impl IntoView {
    let DirectoryActions { create_group, add_member, .. } = actions;
    let group_form = NodeRef::<Form>::new();
    let member_form = NodeRef::<Form>::new();
    reset_on_success(create_group.value(), group_form);
    reset_on_success(add_member.value(), member_form);
    view! {
        <section class="card admin-section" aria-labelledby="groups-title">
            <h2 id="groups-title">"Groups"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(people.await, |found| if found.groups.is_empty() {
                        view! { <p class="meta">"No groups yet."</p> }.into_any()
                    } else {
                        view! {
                            <div class="table-scroll">
                                <table class="directory">
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Members"</th></tr></thead>
                                    <tbody>
                                        {found.groups.iter().map(|g| view! {
                                            <tr data-group=g.name.clone()>
                                                <td>{g.name.clone()}</td>
                                                <td>{if g.members.is_empty() { "none".to_string() } else { g.members.join(", ") }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <datalist id="known-groups">
                                {found.groups.into_iter().map(|g| view! { <option value=g.name></option> }).collect_view()}
                            </datalist>
                        }
                        .into_any()
                    })
                })}
            </Transition>
            <h3>"Create a group"</h3>
            <ActionForm action=create_group node_ref=group_form attr:class="grid-form">
                <div class="field">
                    <label for="new-group-name">"Group name"</label>
                    <input id="new-group-name" name="name" autocomplete="off" required />
                </div>
                <button type="submit" disabled=move || create_group.pending().get()>"Create group"</button>
            </ActionForm>
            <p class="error" role="alert">{action_error(create_group.value())}</p>
            <p class="success" role="status">{action_success(create_group.value())}</p>
            <h3>"Add a member"</h3>
            <ActionForm action=add_member node_ref=member_form attr:class="grid-form">
                <div class="field">
                    <label for="member-group">"Group"</label>
                    <input id="member-group" name="group" list="known-groups" autocomplete="off" required />
                </div>
                <div class="field">
                    <label for="member-user">"User name"</label>
                    <input id="member-user" name="username" list="known-users" autocomplete="off" required />
                </div>
                <button type="submit" disabled=move || add_member.pending().get()>"Add member"</button>
            </ActionForm>
            <p class="error" role="alert">{action_error(add_member.value())}</p>
            <p class="success" role="status">{action_success(add_member.value())}</p>
        </section>
    }
}
