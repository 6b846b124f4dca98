use crate::pages::webhooks::WebhooksPanel;
use leptos::html::Form;
use leptos::prelude::*;

use crate::app::PageTitle;
use crate::components::{NameField, Outcome, PasswordField, action_error, loaded, reset_on_success};
use crate::model::{Directory, Settings};
use crate::server_fns::{
    AppError,
    account::RevokeToken,
    admin::{
        AddGroupMember, ChangeUser, CreateGroup, CreateUser, DeleteGroup, RemoveGroupMember, SetUserPassword, TransferPipes,
        UpdateSettings, all_tokens, directory, get_settings,
    },
};

/// `/admin/settings`: the instance settings, and the users and groups. Admins only; the
/// orchestrator says who is one.
#[component]
pub fn AdminSettings() -> impl IntoView {
    let update = ServerAction::<UpdateSettings>::new();
    let create_user = ServerAction::<CreateUser>::new();
    let create_group = ServerAction::<CreateGroup>::new();
    let add_member = ServerAction::<AddGroupMember>::new();
    let change_user = ServerAction::<ChangeUser>::new();
    let set_password = ServerAction::<SetUserPassword>::new();
    let transfer = ServerAction::<TransferPipes>::new();
    let remove_member = ServerAction::<RemoveGroupMember>::new();
    let delete_group = ServerAction::<DeleteGroup>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    // Loaded once: the settings form keeps what was typed, whatever the server answers.
    let settings = Resource::new(|| (), |_| get_settings());
    let actions =
        DirectoryActions { create_user, create_group, add_member, change_user, set_password, transfer, remove_member, delete_group };
    let people = Resource::new(move || actions.versions(), |_| directory());
    let tokens = Resource::new(move || (revoke.version().get(), change_user.version().get()), |_| all_tokens());
    view! {
        <PageTitle text="Settings" />
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                loaded(settings.await, |current| {
                    view! {
                        <SettingsForm current update />
                        <Users people actions />
                        <Groups people actions />
                        <AllTokens tokens revoke />
                        <WebhooksPanel pipe=None />
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
                <div class="field">
                    <label for="set-max-archive">"Largest package, in bytes"</label>
                    <input id="set-max-archive" name="max_archive_bytes" type="number" inputmode="numeric" min="1024" step="1"
                        required value=current.max_archive_bytes aria-describedby="set-max-archive-hint" />
                    <p id="set-max-archive-hint" class="hint">"All files of one published version, unpacked: 1024 to 1073741824."</p>
                </div>
                <div class="field">
                    <label for="set-max-storage">"Storage per user, in MiB"</label>
                    <input id="set-max-storage" name="max_storage_per_user_mb" type="number" inputmode="numeric" min="1" step="1"
                        required value=current.max_storage_per_user_mb aria-describedby="set-max-storage-hint" />
                    <p id="set-max-storage-hint" class="hint">"What the packages a user published may take in all."</p>
                </div>
                <div class="field">
                    <label for="set-protected">"Protected environments"</label>
                    <input id="set-protected" name="protected_environments" value=current.protected_environments.join(", ")
                        aria-describedby="set-protected-hint" />
                    <p id="set-protected-hint" class="hint">
                        "Comma-separated. Only a pipe's owner and admin grantees promote to these; with approvals on, an admin approves each promotion."
                    </p>
                </div>
                <div class="field">
                    <label for="set-request-ttl">"Days an access request waits"</label>
                    <input id="set-request-ttl" name="access_request_ttl_days" type="number" inputmode="numeric" min="1" max="365"
                        step="1" required value=current.access_request_ttl_days aria-describedby="set-request-ttl-hint" />
                    <p id="set-request-ttl-hint" class="hint">"A request nobody decides within this many days lapses: 1 to 365."</p>
                </div>
                <div class="field">
                    <label for="set-reminder">"Reminder days"</label>
                    <input id="set-reminder" name="reminder_days" type="number" inputmode="numeric" min="1" max="90" step="1"
                        required value=current.reminder_days aria-describedby="set-reminder-hint" />
                    <p id="set-reminder-hint" class="hint">"Grants and tokens ending within this many days are shown as ending soon: 1 to 90."</p>
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
    change_user: ServerAction<ChangeUser>,
    set_password: ServerAction<SetUserPassword>,
    transfer: ServerAction<TransferPipes>,
    remove_member: ServerAction<RemoveGroupMember>,
    delete_group: ServerAction<DeleteGroup>,
}

impl DirectoryActions {
    /// Changes whenever one of the actions has run: the directory is read again.
    fn versions(self) -> [usize; 8] {
        [
            self.create_user.version().get(),
            self.create_group.version().get(),
            self.add_member.version().get(),
            self.change_user.version().get(),
            self.set_password.version().get(),
            self.transfer.version().get(),
            self.remove_member.version().get(),
            self.delete_group.version().get(),
        ]
    }
}

/// One button that asks the server for `change` to `username` (see `change_user`).
#[component]
fn UserChange(action: ServerAction<ChangeUser>, username: String, change: &'static str, label: &'static str) -> impl IntoView {
    let danger = matches!(change, "disable" | "delete" | "remove_admin");
    view! {
        <ActionForm action attr:class="inline">
            <input type="hidden" name="username" value=username.clone() />
            <input type="hidden" name="change" value=change />
            <button type="submit" class=if danger { "danger small" } else { "small" } aria-label=format!("{label} {username}")>{label}</button>
        </ActionForm>
    }
}

type People = Resource<Result<Directory, AppError>>;

#[component]
fn Users(people: People, actions: DirectoryActions) -> impl IntoView {
    let create = actions.create_user;
    let DirectoryActions { change_user, set_password, transfer, .. } = actions;
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
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Admin"</th><th scope="col">"State"</th><th scope="col">"Groups"</th><th scope="col">"Access"</th></tr></thead>
                                    <tbody>
                                        {found.users.iter().map(|u| {
                                            let name = u.username.clone();
                                            view! {
                                                <tr data-user=name.clone()>
                                                    <td>{name.clone()}</td>
                                                    <td>{if u.is_admin { "yes" } else { "no" }}</td>
                                                    <td>{if u.disabled { "disabled" } else { "enabled" }}</td>
                                                    <td>{if u.groups.is_empty() { "none".to_string() } else { u.groups.join(", ") }}</td>
                                                    <td class="actions">
                                                        {if u.disabled {
                                                            view! { <UserChange action=change_user username=name.clone() change="enable" label="Enable" /> }.into_any()
                                                        } else {
                                                            view! { <UserChange action=change_user username=name.clone() change="disable" label="Disable" /> }.into_any()
                                                        }}
                                                        {if u.is_admin {
                                                            view! { <UserChange action=change_user username=name.clone() change="remove_admin" label="Remove admin" /> }.into_any()
                                                        } else {
                                                            view! { <UserChange action=change_user username=name.clone() change="make_admin" label="Make admin" /> }.into_any()
                                                        }}
                                                        <UserChange action=change_user username=name.clone() change="delete" label="Delete" />
                                                    </td>
                                                </tr>
                                            }
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
                <NameField id="new-user-name" label="User name" name="username" />
                <PasswordField id="new-user-password" label="Password (at least 8 characters)" />
                <label class="check">
                    <input type="checkbox" name="is_admin" value="true" />
                    " Instance admin"
                </label>
                <button type="submit" disabled=move || create.pending().get()>"Create user"</button>
            </ActionForm>
            <Outcome value=create.value() />
            <Outcome value=change_user.value() />
            <h3>"Set a password"</h3>
            <p class="hint">"The user's sessions end; they sign in with the new password."</p>
            <ActionForm action=set_password attr:class="grid-form">
                <NameField id="password-user" label="User name" name="username" list="known-users" />
                <PasswordField id="password-new" label="New password (at least 8 characters)" />
                <button type="submit">"Set password"</button>
            </ActionForm>
            <Outcome value=set_password.value() />
            <h3>"Hand on pipes"</h3>
            <p class="hint">"Before deleting a user who owns pipes, give them to someone else."</p>
            <ActionForm action=transfer attr:class="grid-form">
                <NameField id="transfer-from" label="From" name="from" list="known-users" />
                <NameField id="transfer-to" label="To" name="to" list="known-users" />
                <button type="submit">"Hand on"</button>
            </ActionForm>
            <Outcome value=transfer.value() />
        </section>
    }
}

#[component]
fn Groups(people: People, actions: DirectoryActions) -> impl IntoView {
    let DirectoryActions { create_group, add_member, remove_member, delete_group, .. } = actions;
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
                <NameField id="new-group-name" label="Group name" name="name" />
                <button type="submit" disabled=move || create_group.pending().get()>"Create group"</button>
            </ActionForm>
            <Outcome value=create_group.value() />
            <h3>"Add a member"</h3>
            <ActionForm action=add_member node_ref=member_form attr:class="grid-form">
                <NameField id="member-group" label="Group" name="group" list="known-groups" />
                <NameField id="member-user" label="User name" name="username" list="known-users" />
                <button type="submit" disabled=move || add_member.pending().get()>"Add member"</button>
            </ActionForm>
            <Outcome value=add_member.value() />
            <h3>"Remove a member"</h3>
            <ActionForm action=remove_member attr:class="grid-form">
                <NameField id="remove-group" label="Group" name="group" list="known-groups" />
                <NameField id="remove-user" label="User name" name="username" list="known-users" />
                <button type="submit" class="danger">"Remove member"</button>
            </ActionForm>
            <Outcome value=remove_member.value() />
            <h3>"Delete a group"</h3>
            <p class="hint">"Its memberships and the grants made to it go with it."</p>
            <ActionForm action=delete_group attr:class="grid-form">
                <NameField id="delete-group" label="Group" name="name" list="known-groups" />
                <button type="submit" class="danger">"Delete group"</button>
            </ActionForm>
            <Outcome value=delete_group.value() />
        </section>
    }
}

/// Every API token of the instance, to revoke one that should no longer work.
#[component]
fn AllTokens(tokens: Resource<Result<Vec<crate::model::TokenInfo>, AppError>>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <section class="card admin-section" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"API tokens"</h2>
            <p class="error" role="alert">{action_error(revoke.value())}</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    loaded(tokens.await, |list| if list.is_empty() {
                        view! { <p class="meta">"No tokens."</p> }.into_any()
                    } else {
                        view! { <crate::pages::tokens::TokenTable list revoke show_owner=true /> }.into_any()
                    })
                })}
            </Transition>
        </section>
    }
}
