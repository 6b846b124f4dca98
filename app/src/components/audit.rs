//! The audit log as a table, for a pipe's page and the admins' log page.
use leptos::prelude::*;

use crate::model::{AuditAction, AuditEvent, ShareStatus};

/// Events newest first; `show_pipe` adds a column naming each event's pipe.
#[component]
pub fn AuditTable(events: Vec<AuditEvent>, show_pipe: bool) -> impl IntoView {
    if events.is_empty() {
        return view! { <p class="meta">"No sharing changes yet."</p> }.into_any();
    }
    view! {
        <table class="history">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    {show_pipe.then(|| view! { <th scope="col">"Pipe"</th> })}
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>
                {events.into_iter().map(|event| view! {
                    <tr>
                        <td>{super::when(event.at)}</td>
                        <td>{event.actor.clone()}</td>
                        {show_pipe.then(|| {
                            let pipe = event.pipe_name.clone().unwrap_or_default();
                            let href = format!("/pipes/{}", crate::urls::encode(&pipe));
                            view! { <td><a href=href>{pipe}</a></td> }
                        })}
                        <td>{describe(&event)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One audit event in words, e.g. "granted read to users alice".
fn describe(event: &AuditEvent) -> String {
    let detail = &event.detail;
    let text = |key: &str| detail[key].as_str().unwrap_or_default().to_string();
    let names =
        |key: &str| detail[key].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    let subjects = || {
        let mut parts = Vec::new();
        if !names("users").is_empty() {
            parts.push(format!("users {}", names("users")));
        }
        if !names("groups").is_empty() {
            parts.push(format!("groups {}", names("groups")));
        }
        parts.join(" and ")
    };
    let status = text("sharing_status").parse::<ShareStatus>().ok();
    match event.action {
        AuditAction::SharePipe => {
            let flag = |key: &str| detail["sharing_options"][key].as_bool().unwrap_or(false);
            let how = if flag("public") {
                "publicly"
            } else if flag("gated") {
                "gated"
            } else {
                "privately"
            };
            let waiting = if status == Some(ShareStatus::PendingApproval) { ", awaiting approval" } else { "" };
            format!("shared it {how}{waiting}")
        }
        AuditAction::UnsharePipe => "withdrew the share".into(),
        AuditAction::SetSetting => format!("set {} from {} to {}", text("key"), text("from"), text("to")),
        AuditAction::Grant => match detail["expiration"].as_str() {
            Some(until) => format!("granted {} to {} until {}", text("access_level"), subjects(), until.get(..10).unwrap_or(until)),
            None => format!("granted {} to {}", text("access_level"), subjects()),
        },
        AuditAction::Revoke => format!("revoked access of {}", subjects()),
        AuditAction::ReviewShare => {
            let verdict = if status == Some(ShareStatus::Active) { "approved" } else { "rejected" };
            match detail["note"].as_str() {
                Some(note) => format!("{verdict} the share: {note}"),
                None => format!("{verdict} the share"),
            }
        }
        AuditAction::DisableUser => format!("disabled the account of {}", text("user")),
        AuditAction::EnableUser => format!("enabled the account of {}", text("user")),
        AuditAction::DeleteUser => format!("deleted the account of {}", text("user")),
        AuditAction::TransferPipes => format!("handed {} pipe(s) of {} to {}", detail["pipes"], text("from"), text("to")),
        AuditAction::SetPassword => format!("set the password of {}", text("user")),
        AuditAction::SetAdmin if detail["admin"].as_bool() == Some(true) => format!("made {} an instance admin", text("user")),
        AuditAction::SetAdmin => format!("took the admin role from {}", text("user")),
        AuditAction::RevokeToken => format!("revoked an API token of {}", text("user")),
        AuditAction::RemoveMember => format!("removed {} from group {}", text("user"), text("group")),
        AuditAction::DeleteGroup => format!("deleted group {}", text("group")),
        AuditAction::Publish if detail["new_pipe"].as_bool() == Some(true) => format!("published it, version {}", text("version")),
        AuditAction::Publish => format!("published version {}", text("version")),
        AuditAction::Yank => format!("yanked version {}: {}", text("version"), text("reason")),
        AuditAction::Promote if text("status") == "pending_approval" => {
            format!("asked to promote version {} to {}", text("to"), text("environment"))
        }
        AuditAction::Promote => match detail["from"].as_str() {
            Some(from) => format!("moved {} from {from} to {}", text("environment"), text("to")),
            None => format!("promoted version {} to {}", text("to"), text("environment")),
        },
        AuditAction::ReviewPromotion => {
            let verdict = if text("status") == "active" { "approved" } else { "rejected" };
            format!("{verdict} promoting version {} to {}", text("version"), text("environment"))
        }
        AuditAction::Fork => format!("forked {} {} as {}", text("from_pipe"), text("from_version"), text("name")),
        AuditAction::RequestAccess => format!("asked for {} access", text("access_level")),
        AuditAction::ReviewAccessRequest if text("decision") == "approve" => match detail["granted_until"].as_str() {
            Some(until) => format!("approved an access request: {} until {}", text("granted_level"), until.get(..10).unwrap_or(until)),
            None => format!("approved an access request: {}", text("granted_level")),
        },
        AuditAction::ReviewAccessRequest => {
            format!("rejected an access request{}", detail["note"].as_str().map(|n| format!(": {n}")).unwrap_or_default())
        }
        AuditAction::AddSource => format!("added the {} source {} ({})", text("kind"), text("source"), text("location")),
        AuditAction::RemoveSource => format!("removed the source {}; its pipes are {}", text("source"), text("pipes")),
        AuditAction::SourceState => format!("source {} went from {} to {}", text("source"), text("from"), text("to")),
        AuditAction::AddWebhook => format!("subscribed {} to its events", text("url")),
        AuditAction::RemoveWebhook => format!("removed the webhook to {}", text("url")),
        AuditAction::RenewGrant => {
            let to = text("to");
            format!("renewed the grant of {} {} until {}", text("subject_type"), text("name"), to.get(..10).unwrap_or(&to))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(action: &str, detail: serde_json::Value) -> AuditEvent {
        AuditEvent {
            id: 1,
            at: chrono::Utc::now(),
            actor: "alice".into(),
            action: action.parse().unwrap(),
            pipe_name: Some("p".into()),
            detail,
        }
    }

    #[test]
    fn events_read_as_sentences() {
        let share = event("share_pipe", json!({"sharing_status": "pending_approval", "sharing_options": {"public": false}}));
        assert_eq!(describe(&share), "shared it privately, awaiting approval");
        let grant =
            event("grant", json!({"users": ["bob"], "groups": ["devs"], "access_level": "admin", "expiration": "2031-01-02T23:59:59Z"}));
        assert_eq!(describe(&grant), "granted admin to users bob and groups devs until 2031-01-02");
        assert_eq!(describe(&event("revoke", json!({"groups": ["devs"]}))), "revoked access of groups devs");
        let review = event("review_share", json!({"sharing_status": "rejected", "note": "needs docs"}));
        assert_eq!(describe(&review), "rejected the share: needs docs");
        assert_eq!(describe(&event("set_admin", json!({"user": "bob", "admin": false}))), "took the admin role from bob");
        let setting = event("set_setting", json!({"key": "require_approval", "from": "false", "to": "true"}));
        assert_eq!(describe(&setting), "set require_approval from false to true");
    }
}
