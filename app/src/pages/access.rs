//! The people side of a pipe's page: asking for access, deciding requests, and who can reach
//! the pipe and why.
use leptos::prelude::*;

use crate::components::{action_error, when};
use crate::model::{AccessLevel, AccessPath, AccessReason, AccessRequestView, Decision, PipeAccessExplained, RequestStatus};
use crate::server_fns::pipes::{RequestAccess, ReviewAccessRequest};

fn level_options(up_to: AccessLevel) -> impl IntoView {
    AccessLevel::ALL
        .iter()
        .filter(move |level| **level <= up_to)
        .map(|level| view! { <option value=level.as_str() selected=*level == up_to>{level.as_str()}</option> })
        .collect_view()
}

/// Where the caller's own request stands.
fn request_state(request: &AccessRequestView) -> String {
    match request.status {
        RequestStatus::Pending => {
            format!("You asked for {} access on {}; waiting for the pipe's managers.", request.access_level, when(request.updated_at))
        }
        RequestStatus::Approved => format!(
            "Approved: {} access{}.",
            request.granted_level.unwrap_or(request.access_level),
            request.granted_until.map(|at| format!(" until {}", when(at))).unwrap_or_default()
        ),
        RequestStatus::Rejected => "Your request was rejected.".to_string(),
        RequestStatus::Expired => "Your request lapsed without an answer; you may ask again.".to_string(),
    }
}

/// For a signed-in visitor who lacks access: the request form, and their request's state.
#[component]
pub fn RequestAccessPanel(
    name: String,
    mine: Option<AccessRequestView>,
    can_download: bool,
    action: ServerAction<RequestAccess>,
) -> impl IntoView {
    let sent = move || action.value().get().and_then(|r| r.ok()).map(|r| request_state(&r));
    let asked = if can_download { AccessLevel::ReadWrite } else { AccessLevel::Read };
    view! {
        <section class="card" aria-labelledby="request-title">
            <h2 id="request-title">"Request access"</h2>
            {mine.map(|request| view! {
                <p class="meta request-state" role="status">{request_state(&request)}</p>
                {request.review_note.clone().map(|note| view! { <blockquote class="review-note">{note}</blockquote> })}
            })}
            <ActionForm action attr:class="stack">
                <input type="hidden" name="name" value=name />
                <div class="field">
                    <label for="request-level">"Access"</label>
                    <select id="request-level" name="access_level">
                        {AccessLevel::ALL.iter().map(|level| view! { <option value=level.as_str() selected=*level == asked>{level.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="request-reason">"Why do you need it?"</label>
                    <textarea id="request-reason" name="reason" required maxlength="2000" rows="3"></textarea>
                </div>
                <div class="field">
                    <label for="request-days">"For how many days (empty: for good)"</label>
                    <input id="request-days" name="duration_days" type="number" inputmode="numeric" min="1" max="3650" step="1" />
                </div>
                <p class="error" role="alert">{action_error(action.value())}</p>
                <button type="submit" disabled=move || action.pending().get()>"Send request"</button>
            </ActionForm>
            <p class="success" role="status">{sent}</p>
        </section>
    }
}

/// Requests waiting on the pipe's managers, each decided as it was shown.
#[component]
pub fn PendingRequestsPanel(requests: Vec<AccessRequestView>, action: ServerAction<ReviewAccessRequest>) -> impl IntoView {
    let row = move |r: AccessRequestView| {
        let id = r.request_id.to_string();
        let revision = r.revision.to_string();
        let level_id = format!("review-level-{id}");
        let until_id = format!("review-until-{id}");
        let note_id = format!("review-note-{id}");
        let asked = match r.duration_days {
            Some(days) => format!("{} for {days} days", r.access_level),
            None => format!("{} for good", r.access_level),
        };
        view! {
            <li class="request">
                <p><strong>{r.requester.clone()}</strong>{format!(" asks for {asked} ({})", when(r.updated_at))}</p>
                <blockquote>{r.reason.clone()}</blockquote>
                <ActionForm action attr:class="grid-form">
                    <input type="hidden" name="request_id" value=id.clone() />
                    <input type="hidden" name="revision" value=revision />
                    <div class="field">
                        <label for=level_id.clone()>"Grant"</label>
                        <select id=level_id name="access_level">{level_options(r.access_level)}</select>
                    </div>
                    <div class="field">
                        <label for=until_id.clone()>"Until (optional)"</label>
                        <input id=until_id name="expiration" type="date" />
                    </div>
                    <div class="field">
                        <label for=note_id.clone()>"Note"</label>
                        <input id=note_id name="note" maxlength="1000" />
                    </div>
                    <button type="submit" name="decision" value=Decision::Approve.as_str()
                        aria-label=format!("Approve {}", r.requester)>"Approve"</button>
                    <button type="submit" name="decision" value=Decision::Reject.as_str() class="danger"
                        aria-label=format!("Reject {}", r.requester)>"Reject"</button>
                </ActionForm>
            </li>
        }
    };
    view! {
        <section class="card" aria-labelledby="requests-title">
            <h2 id="requests-title">"Access requests"</h2>
            <p class="error" role="alert">{action_error(action.value())}</p>
            <ul class="requests">{requests.into_iter().map(row).collect_view()}</ul>
        </section>
    }
}

fn path_text(path: &AccessPath) -> String {
    let level = path.access_level.map(|l| l.to_string()).unwrap_or_else(|| "page only".into());
    let mut text = match path.reason {
        AccessReason::Owner => "owner".to_string(),
        AccessReason::InstanceAdmin => "instance admin".to_string(),
        AccessReason::PublicShare => "public share".to_string(),
        AccessReason::GatedShare => "gated share".to_string(),
        AccessReason::DirectGrant => format!("{level} grant"),
        AccessReason::GroupGrant => format!("{level} grant through group {}", path.group.clone().unwrap_or_default()),
    };
    if let Some(by) = &path.granted_by {
        text.push_str(&format!(" by {by}"));
    }
    if let Some(at) = path.granted_at {
        text.push_str(&format!(" on {}", when(at)));
    }
    if let Some(until) = path.expires_at {
        text.push_str(&format!(", until {}", when(until)));
    }
    if !path.in_force {
        text.push_str(" (counts once the pipe is shared)");
    }
    text
}

/// Who can reach the pipe, and why.
#[component]
pub fn AccessPanel(explained: PipeAccessExplained) -> impl IntoView {
    let everyone = explained.everyone.as_ref().map(|path| match path.reason {
        AccessReason::PublicShare => "Everyone, signed in or not, may see and download it (public share).",
        _ => "Everyone, signed in or not, sees its page; downloads need a grant (gated share).",
    });
    view! {
        <section class="card" aria-labelledby="access-title">
            <h2 id="access-title">"Who can reach it"</h2>
            {everyone.map(|text| view! { <p class="meta">{text}</p> })}
            <table class="access">
                <thead><tr><th scope="col">"User"</th><th scope="col">"Access"</th><th scope="col">"Why"</th></tr></thead>
                <tbody>
                    {explained.users.into_iter().map(|u| view! {
                        <tr>
                            <td>{u.user}</td>
                            <td>{u.access_level.map(|l| l.to_string()).unwrap_or_else(|| "none yet".into())}</td>
                            <td>{u.paths.iter().map(path_text).collect::<Vec<_>>().join("; ")}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            {(!explained.expired.is_empty()).then(|| view! {
                <h3>"Ended grants"</h3>
                <ul class="expired-grants">
                    {explained.expired.into_iter().map(|g| view! {
                        <li>{format!("{} {}: {} until {}", g.subject_type, g.name, g.access_level, g.expires_at.map(when).unwrap_or_default())}</li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}
