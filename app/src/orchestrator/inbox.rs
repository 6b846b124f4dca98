//! One inbox: everything waiting on the signed-in user (approvals, promotions and access
//! requests to decide, their own requests, grants and tokens ending soon), and deciding several
//! of them at once, each as it was shown.
pub use crate::model::{Inbox, InboxDecisions, InboxItem, InboxKind, InboxOutcome, InboxRef};

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use serde_json::Value;

use super::access::{reaches, require_write, shareable_by};
use super::accounts::Caller;
use super::catalog::{group_names, usernames};
use super::entities::{access_requests, grants, pipes};
use super::error::{Error, Result};
use super::input::{Fields, parse, parse_time};
use super::requests::{RequestReview, RequestStatus, views, waiting_on};
use super::review::Review;
use super::{Orchestrator, now};
use crate::model::{AccessRequestView, Decision, SubjectKind};

/// The most items one bulk decision names.
pub const MAX_BULK: usize = 100;
/// The most items of one kind the inbox lists.
const MAX_PER_KIND: u64 = 500;
/// How long a decided request of one's own stays in the inbox.
const OUTCOMES_SHOWN: TimeDelta = TimeDelta::days(30);

/// `review_inbox`: the items as shown, one decision and one note for all.
#[derive(Clone, Debug, PartialEq)]
pub struct BulkDecision {
    pub items: Vec<InboxRef>,
    pub decision: Decision,
    pub note: Option<String>,
}

impl BulkDecision {
    pub fn from_context(context: &Fields) -> Result<Self> {
        let items = match context.get("items") {
            Some(Value::Array(items)) => items,
            _ => return Err(Error::bad("context.items is required: a list of {kind, id, revision} as listed")),
        };
        let items = items
            .iter()
            .map(|item| {
                let item = Fields::new("context.items", Some(item))?;
                let kind = item.parsed("kind")?.ok_or_else(|| Error::bad("Each item needs its kind"))?;
                let id = item.str("id")?.ok_or_else(|| Error::bad("Each item needs its id"))?.to_string();
                let revision = item.str("revision")?.map(String::from);
                Ok(InboxRef { kind, id, revision })
            })
            .collect::<Result<Vec<_>>>()?;
        let decision = context.str("decision")?.ok_or_else(|| Error::bad("context.decision is required: approve or reject"))?;
        Ok(BulkDecision { items, decision: parse(decision)?, note: context.str("note")?.map(String::from) })
    }
}

fn request_item(kind: InboxKind, request: AccessRequestView) -> InboxItem {
    let asked = match request.duration_days {
        Some(days) => format!("{} access for {days} days", request.access_level),
        None => format!("{} access", request.access_level),
    };
    let summary = match kind {
        InboxKind::MyRequest => format!("You asked for {asked} to {}: {}", request.pipe_name, request.status),
        _ => format!("{} asks for {asked} to {}: {}", request.requester, request.pipe_name, request.reason),
    };
    InboxItem {
        kind,
        id: request.request_id.to_string(),
        revision: Some(request.revision.to_string()),
        pipe_name: Some(request.pipe_name),
        summary,
        from: Some(request.requester),
        at: request.updated_at,
        ends_at: (request.status == RequestStatus::Pending).then_some(request.expires_at).or(request.granted_until),
        status: Some(request.status.to_string()),
        decidable: kind == InboxKind::AccessRequest,
    }
}

impl Orchestrator {
    /// What waits on the caller, of one kind or every kind.
    pub async fn list_inbox(&self, caller: &Caller, kind: Option<InboxKind>) -> Result<Inbox> {
        let settings = self.settings().await?;
        let now = now();
        let soon = now + TimeDelta::days(i64::from(settings.reminder_days));
        let wanted = |k: InboxKind| kind.is_none_or(|only| only == k);
        let mut items = Vec::new();
        if caller.is_admin && wanted(InboxKind::ShareApproval) {
            for share in self.list_pending_shares(caller).await?.shares {
                let visibility = if share.public {
                    "publicly"
                } else if share.sharing_options.gated {
                    "gated"
                } else {
                    "privately"
                };
                items.push(InboxItem {
                    kind: InboxKind::ShareApproval,
                    id: share.pipe_name.clone(),
                    revision: Some(share.requested_at.to_rfc3339()),
                    summary: format!("{} asks to share {} {visibility}", share.requested_by, share.pipe_name),
                    pipe_name: Some(share.pipe_name),
                    from: Some(share.requested_by),
                    at: share.requested_at,
                    ends_at: None,
                    status: None,
                    decidable: true,
                });
            }
        }
        if caller.is_admin && wanted(InboxKind::Promotion) {
            for promotion in self.list_pending_promotions(caller).await?.promotions {
                items.push(InboxItem {
                    kind: InboxKind::Promotion,
                    id: promotion.promotion_id.to_string(),
                    revision: Some(promotion.version.clone()),
                    summary: format!(
                        "{} asks to promote {} {} to {}",
                        promotion.requested_by, promotion.pipe_name, promotion.version, promotion.environment
                    ),
                    pipe_name: Some(promotion.pipe_name),
                    from: Some(promotion.requested_by),
                    at: promotion.requested_at,
                    ends_at: None,
                    status: None,
                    decidable: true,
                });
            }
        }
        if wanted(InboxKind::AccessRequest) {
            let rows = access_requests::Entity::find()
                .filter(waiting_on(caller, now))
                .order_by_asc(access_requests::Column::UpdatedAt)
                .limit(MAX_PER_KIND)
                .all(self.db())
                .await?;
            items.extend(views(self.db(), rows).await?.into_iter().map(|r| request_item(InboxKind::AccessRequest, r)));
        }
        if wanted(InboxKind::MyRequest) {
            let recent = now - OUTCOMES_SHOWN;
            let rows = access_requests::Entity::find()
                .filter(access_requests::Column::UserId.eq(caller.user_id))
                .filter(
                    Condition::any()
                        .add(access_requests::Column::Status.eq(RequestStatus::Pending).and(access_requests::Column::ExpiresAt.gt(recent)))
                        .add(access_requests::Column::ReviewedAt.gt(recent)),
                )
                .order_by_desc(access_requests::Column::UpdatedAt)
                .limit(MAX_PER_KIND)
                .all(self.db())
                .await?;
            items.extend(views(self.db(), rows).await?.into_iter().map(|r| request_item(InboxKind::MyRequest, r)));
        }
        if wanted(InboxKind::ExpiringGrant) {
            items.extend(self.grants_ending(caller, now, soon).await?);
        }
        if wanted(InboxKind::ExpiringToken) {
            for token in self.list_tokens(Some(&Caller { is_admin: false, ..caller.clone() }), None).await? {
                let Some(ends) = token.expires_at.filter(|at| *at > now && *at <= soon) else { continue };
                items.push(InboxItem {
                    kind: InboxKind::ExpiringToken,
                    id: token.id.to_string(),
                    revision: None,
                    pipe_name: None,
                    summary: format!("Your API token '{}' ends soon", token.label),
                    from: None,
                    at: token.created_at,
                    ends_at: Some(ends),
                    status: None,
                    decidable: false,
                });
            }
        }
        let waiting = items.iter().filter(|i| i.kind != InboxKind::MyRequest).count() as u64;
        Ok(Inbox { items, waiting })
    }

    /// Grants ending between `now` and `soon`: the caller's own (directly or through a group),
    /// and those on pipes they own or hold `admin` on.
    async fn grants_ending(&self, caller: &Caller, now: DateTime<Utc>, soon: DateTime<Utc>) -> Result<Vec<InboxItem>> {
        // Instance admins are reminded of the pipes they manage as people, not of every grant.
        let as_person = Caller { is_admin: false, ..caller.clone() };
        let managed = pipes::Entity::find().select_only().column(pipes::Column::Id).filter(shareable_by(&as_person, now)).into_query();
        let rows: Vec<(grants::Model, Option<pipes::Model>)> = grants::Entity::find()
            .filter(grants::Column::ExpiresAt.gt(now))
            .filter(grants::Column::ExpiresAt.lte(soon))
            .filter(Condition::any().add(reaches(caller.user_id)).add(grants::Column::PipeId.in_subquery(managed)))
            .find_also_related(pipes::Entity)
            .order_by_asc(grants::Column::ExpiresAt)
            .limit(MAX_PER_KIND)
            .all(self.db())
            .await?;
        let users =
            usernames(self.db(), rows.iter().filter(|(g, _)| g.subject_kind == SubjectKind::User).map(|(g, _)| g.subject_id)).await?;
        let group_ids: Vec<i32> = rows.iter().filter(|(g, _)| g.subject_kind == SubjectKind::Group).map(|(g, _)| g.subject_id).collect();
        let groups = group_names(self.db(), group_ids.iter().copied()).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(grant, pipe)| {
                let pipe = pipe?;
                let holder = match grant.subject_kind {
                    SubjectKind::User if grant.subject_id == caller.user_id => "Your".to_string(),
                    SubjectKind::User => format!("{}'s", users.get(&grant.subject_id).cloned().unwrap_or_default()),
                    SubjectKind::Group => format!("Group {}'s", groups.get(&grant.subject_id).cloned().unwrap_or_default()),
                };
                let name = match grant.subject_kind {
                    SubjectKind::User => users.get(&grant.subject_id).cloned().unwrap_or_default(),
                    SubjectKind::Group => groups.get(&grant.subject_id).cloned().unwrap_or_default(),
                };
                Some(InboxItem {
                    kind: InboxKind::ExpiringGrant,
                    id: format!("{}:{}:{name}", pipe.name, grant.subject_kind),
                    revision: None,
                    summary: format!("{holder} {} access to {} ends soon", grant.access_level, pipe.name),
                    pipe_name: Some(pipe.name),
                    from: None,
                    at: grant.created_at,
                    ends_at: grant.expires_at,
                    status: None,
                    decidable: false,
                })
            })
            .collect())
    }

    /// Decides several inbox items with one decision and one note; each item is decided as it
    /// was shown (its revision), by the same rules as one at a time, and reports its outcome.
    pub async fn review_inbox(&self, caller: &Caller, bulk: &BulkDecision) -> Result<InboxDecisions> {
        require_write(caller)?;
        if bulk.items.is_empty() || bulk.items.len() > MAX_BULK {
            return Err(Error::bad(format!("A bulk decision names 1 to {MAX_BULK} items")));
        }
        let mut outcomes = Vec::with_capacity(bulk.items.len());
        for item in &bulk.items {
            let decided = self.decide(caller, item, bulk.decision, bulk.note.as_deref()).await;
            outcomes.push(InboxOutcome {
                kind: item.kind,
                id: item.id.clone(),
                decided: decided.is_ok(),
                error: decided.err().map(|err| err.public_message()),
            });
        }
        Ok(InboxDecisions { decision: bulk.decision, outcomes })
    }

    async fn decide(&self, caller: &Caller, item: &InboxRef, decision: Decision, note: Option<&str>) -> Result<()> {
        if !item.kind.decidable() {
            return Err(Error::bad(format!("{} items are not decided here", item.kind)));
        }
        let revision = item.revision.as_deref().ok_or_else(|| Error::bad("Each item needs the revision it was shown with"))?;
        let number = |text: &str| text.parse::<i32>().map_err(|_| Error::NotFound(format!("No {} {text}", item.kind)));
        match item.kind {
            InboxKind::ShareApproval => {
                let review = Review { decision, note: note.map(String::from), requested_at: Some(parse_time(revision)?) };
                self.review_share(caller, &parse(&item.id)?, &review).await.map(drop)
            }
            InboxKind::Promotion => self.review_promotion(caller, number(&item.id)?, decision, note, Some(revision)).await.map(drop),
            _ => {
                let review = RequestReview {
                    request_id: number(&item.id)?,
                    decision,
                    note: note.map(String::from),
                    access_level: None,
                    expiration: None,
                    revision: Some(revision.parse().map_err(|_| Error::bad("An access request's revision is a number"))?),
                };
                self.review_access_request(caller, &review).await.map(drop)
            }
        }
    }
}
