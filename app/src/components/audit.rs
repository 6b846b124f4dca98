//! The audit log as a table, for a pipe's page and the admins' log page.
use leptos::prelude::*;

use crate::model::AuditEvent;

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
                        <td>{event.at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                        <td>{event.actor.clone()}</td>
                        {show_pipe.then(|| {
                            let pipe = event.pipe_name.clone().unwrap_or_default();
                            let href = format!("/pipes/{}", super::encode(&pipe));
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
    match event.action.as_str() {
        "share_pipe" => {
            let how = if detail["sharing_options"]["public"].as_bool().unwrap_or(false) { "publicly" } else { "privately" };
            let waiting = if text("sharing_status") == "pending_approval" { ", awaiting approval" } else { "" };
            format!("shared it {how}{waiting}")
        }
        "unshare_pipe" => "withdrew the share".into(),
        "set_setting" => format!("set {} from {} to {}", text("key"), text("from"), text("to")),
        "grant" => match detail["expiration"].as_str() {
            Some(until) => format!("granted {} to {} until {}", text("access_level"), subjects(), until.get(..10).unwrap_or(until)),
            None => format!("granted {} to {}", text("access_level"), subjects()),
        },
        "revoke" => format!("revoked access of {}", subjects()),
        "review_share" => {
            let verdict = if text("sharing_status") == "active" { "approved" } else { "rejected" };
            match detail["note"].as_str() {
                Some(note) => format!("{verdict} the share: {note}"),
                None => format!("{verdict} the share"),
            }
        }
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(action: &str, detail: serde_json::Value) -> AuditEvent {
        AuditEvent { id: 1, at: chrono::Utc::now(), actor: "alice".into(), action: action.into(), pipe_name: Some("p".into()), detail }
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
        let setting = event("set_setting", json!({"key": "require_approval", "from": "false", "to": "true"}));
        assert_eq!(describe(&setting), "set require_approval from false to true");
    }
}
