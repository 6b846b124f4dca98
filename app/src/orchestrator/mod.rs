//! The orchestrator: every sharing rule and action of pipeshare. The JSON API, the browser
//! app and the CLI are doors onto it; they find out who is calling and show the outcome,
//! nothing more.
pub mod access;
pub mod accounts;
pub mod admin;
pub mod audit;
pub mod catalog;
pub mod db;
pub mod details;
pub mod download;
pub mod entities;
pub mod error;
pub mod input;
pub mod list;
pub mod permissions;
pub mod report;
pub mod review;
pub mod scan;
pub mod settings;
pub mod share;
pub mod sign_in;
pub mod transfer;

use sea_orm::DatabaseConnection;
use serde::Serialize;
use serde_json::Value;

pub use accounts::Caller;
pub use error::{Error, Result};
use input::Fields;
use settings::Settings;

#[derive(Clone)]
pub struct Orchestrator {
    db: DatabaseConnection,
    /// Where share URLs point, e.g. `https://pipes.example.com`.
    base_url: String,
}

fn to_json(value: impl Serialize) -> Result<Value> {
    serde_json::to_value(value).map_err(|err| Error::Internal(format!("serialising a result: {err}")))
}

impl Orchestrator {
    pub fn new(db: DatabaseConnection, base_url: impl Into<String>) -> Self {
        Orchestrator { db, base_url: base_url.into() }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The seed's `process(context, config)`: one action, chosen by `context.action`
    /// (`list_shareable` when absent), under the instance settings as tightened by `config`.
    pub async fn process(&self, caller: &Caller, context: &Value, config: &Value) -> Result<Value> {
        let context = Fields::new("context", Some(context))?;
        let settings = Settings::load(&self.db).await?.tightened_by(config)?;
        let db = &self.db;
        match context.str("action")?.unwrap_or("list_shareable") {
            "list_shareable" => to_json(list::list_shareable(db, caller, &list::PipeFilters::from_context(&context)?).await?),
            "share_pipe" => {
                let name = context.pipe_name()?;
                let options = share::ShareOptions::from_context(&context)?;
                to_json(share::share_pipe(db, caller, &settings, &self.base_url, name, options).await?)
            }
            "unshare_pipe" => to_json(share::unshare_pipe(db, caller, context.pipe_name()?).await?),
            "manage_permissions" => {
                let name = context.pipe_name()?;
                let change = permissions::PermissionChange::from_context(&context)?;
                to_json(permissions::manage_permissions(db, caller, name, change).await?)
            }
            "download_pipe" => to_json(download::download_pipe(db, Some(caller), context.pipe_name()?, context.str("version")?).await?),
            "list_pending_shares" => to_json(review::list_pending_shares(db, caller).await?),
            "review_share" => {
                let name = context.pipe_name()?;
                let decision = context.str("decision")?.ok_or_else(|| Error::bad("context.decision is required: approve or reject"))?;
                let decision = review::Decision::parse(decision)?;
                to_json(review::review_share(db, caller, name, decision, context.str("note")?).await?)
            }
            "generate_share_report" => {
                to_json(report::generate_share_report(db, caller, &report::ReportOptions::from_context(&context)?).await?)
            }
            "audit_log" => to_json(audit::audit_log(db, caller, &audit::AuditQuery::from_context(&context)?).await?),
            other => Err(Error::bad(format!("Unknown sharing action: {other}"))),
        }
    }
}

/// The current time at the precision every backend stores (microseconds), so a time reads
/// back exactly as written, on SQLite and PostgreSQL alike (and survives export and import).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{DurationRound, TimeDelta};
    let time = chrono::Utc::now();
    time.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(time)
}
