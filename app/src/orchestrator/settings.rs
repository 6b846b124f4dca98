//! Instance settings. They live in the `settings` table and are read on every request, so a
//! change made by the CLI is obeyed at once by every running server.
pub use crate::model::Settings;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, QueryTrait, TransactionTrait,
    sea_query::{OnConflict, SimpleExpr},
};
use serde_json::Value;

use super::accounts::Caller;
use super::audit;
use super::entities::settings;
use super::error::{Error, Result};
use super::input::Fields;
use crate::model::AuditAction;

pub const MAX_PIPES_RANGE: std::ops::RangeInclusive<u32> = 1..=1000;
/// A package from 1 KiB to 1 GiB.
pub const ARCHIVE_BYTES_RANGE: std::ops::RangeInclusive<u64> = 1024..=(1 << 30);
/// Up to 1 TiB per user.
pub const STORAGE_MB_RANGE: std::ops::RangeInclusive<u32> = 1..=(1 << 20);

/// A pending access request lapses after one day to a year.
pub const REQUEST_TTL_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=365;
/// Reminders start one day to three months before an end.
pub const REMINDER_DAYS_RANGE: std::ops::RangeInclusive<u32> = 1..=90;

/// The names of the settings, in the order they are listed.
pub const KEYS: [&str; 9] = [
    "max_pipes_per_user",
    "enable_public_sharing",
    "require_approval",
    "allow_self_signup",
    "max_archive_bytes",
    "max_storage_per_user_mb",
    "protected_environments",
    "access_request_ttl_days",
    "reminder_days",
];

impl Settings {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Settings> {
        let mut settings = Settings::default();
        for row in settings::Entity::find().all(db).await? {
            settings.apply_stored(&row.key, &row.value);
        }
        Ok(settings)
    }

    /// A stored value; one that no longer parses (edited by hand) keeps the default rather
    /// than failing every request.
    fn apply_stored(&mut self, key: &str, value: &str) {
        if let Err(err) = self.apply(key, value) {
            tracing::warn!("ignoring stored setting {key}: {err}");
        }
    }

    /// The stored value of the setting `key` (NULL when not stored), as a subquery: a lookup
    /// that needs one setting reads it in its own statement.
    pub fn stored(key: &str) -> SimpleExpr {
        let value =
            settings::Entity::find().select_only().column(settings::Column::Value).filter(settings::Column::Key.eq(key)).into_query();
        SimpleExpr::SubQuery(None, Box::new(value.into_sub_query_statement()))
    }

    /// Whether public sharing is on, from the stored value of `enable_public_sharing` (`stored`),
    /// read as `load` reads it.
    pub fn public_sharing_from(stored: Option<&str>) -> bool {
        let mut settings = Settings::default();
        if let Some(value) = stored {
            settings.apply_stored("enable_public_sharing", value);
        }
        settings.enable_public_sharing
    }

    /// Validates and stores settings changed by `caller` (`None`: the operator's CLI), in one
    /// transaction. Every value is checked before anything is written; only the keys whose
    /// value changes are written, each with one audit event.
    pub async fn update(db: &DatabaseConnection, caller: Option<&Caller>, changes: &[(&str, String)]) -> Result<Settings> {
        let before = Settings::load(db).await?;
        let mut after = before.clone();
        for (key, value) in changes {
            after.apply(key, value)?;
        }
        let changed: Vec<&str> = KEYS.into_iter().filter(|key| before.get(key) != after.get(key)).collect();
        if changed.is_empty() {
            return Ok(after);
        }
        // The transaction starts with its write: on SQLite, a transaction that reads first
        // cannot always upgrade to a writer when another connection wrote meanwhile.
        let txn = db.begin().await?;
        let now = crate::orchestrator::now();
        for key in changed {
            let row = settings::ActiveModel {
                key: Set(key.to_string()),
                value: Set(after.get(key).expect("known keys have values")),
                updated_at: Set(now),
            };
            settings::Entity::insert(row)
                .on_conflict(
                    OnConflict::column(settings::Column::Key)
                        .update_columns([settings::Column::Value, settings::Column::UpdatedAt])
                        .to_owned(),
                )
                .exec(&txn)
                .await?;
            let detail = serde_json::json!({"key": key, "from": before.get(key), "to": after.get(key)});
            audit::record(&txn, caller, AuditAction::SetSetting, None, detail).await?;
        }
        txn.commit().await?;
        Ok(after)
    }

    pub fn get(&self, key: &str) -> Option<String> {
        match key {
            "max_pipes_per_user" => Some(self.max_pipes_per_user.to_string()),
            "enable_public_sharing" => Some(self.enable_public_sharing.to_string()),
            "require_approval" => Some(self.require_approval.to_string()),
            "allow_self_signup" => Some(self.allow_self_signup.to_string()),
            "max_archive_bytes" => Some(self.max_archive_bytes.to_string()),
            "max_storage_per_user_mb" => Some(self.max_storage_per_user_mb.to_string()),
            "protected_environments" => Some(self.protected_environments.join(",")),
            "access_request_ttl_days" => Some(self.access_request_ttl_days.to_string()),
            "reminder_days" => Some(self.reminder_days.to_string()),
            _ => None,
        }
    }

    fn apply(&mut self, key: &str, value: &str) -> Result<()> {
        let value = value.trim();
        match key {
            "max_pipes_per_user" => self.max_pipes_per_user = parse_in(key, value, MAX_PIPES_RANGE)?,
            "enable_public_sharing" => self.enable_public_sharing = parse_bool(key, value)?,
            "require_approval" => self.require_approval = parse_bool(key, value)?,
            "allow_self_signup" => self.allow_self_signup = parse_bool(key, value)?,
            "max_archive_bytes" => self.max_archive_bytes = parse_in(key, value, ARCHIVE_BYTES_RANGE)?,
            "max_storage_per_user_mb" => self.max_storage_per_user_mb = parse_in(key, value, STORAGE_MB_RANGE)?,
            "protected_environments" => {
                let names: Result<Vec<String>> =
                    value.split(',').map(str::trim).filter(|n| !n.is_empty()).map(super::environments::environment_name).collect();
                let mut names = names?;
                names.sort();
                names.dedup();
                if names.len() > 20 {
                    return Err(Error::bad("protected_environments names at most 20 environments"));
                }
                self.protected_environments = names;
            }
            "access_request_ttl_days" => self.access_request_ttl_days = parse_in(key, value, REQUEST_TTL_DAYS_RANGE)?,
            "reminder_days" => self.reminder_days = parse_in(key, value, REMINDER_DAYS_RANGE)?,
            _ => return Err(Error::bad(format!("Unknown setting '{key}'; the settings are {}", KEYS.join(", ")))),
        }
        Ok(())
    }

    /// The settings for one request: the caller's `config` may only make the rules stricter
    /// (lower the limit, require approval, turn public sharing off), never looser.
    pub fn tightened_by(self, config: &Value) -> Result<Settings> {
        let config = Fields::new("config", Some(config))?;
        let mut effective = self;
        if let Some(limit) = config.get("max_pipes_per_user") {
            let limit =
                limit.as_u64().filter(|n| *n >= 1).ok_or_else(|| Error::bad("config.max_pipes_per_user must be a positive integer"))?;
            effective.max_pipes_per_user = effective.max_pipes_per_user.min(u32::try_from(limit).unwrap_or(u32::MAX));
        }
        if config.bool("enable_public_sharing")? == Some(false) {
            effective.enable_public_sharing = false;
        }
        if config.bool("require_approval")? == Some(true) {
            effective.require_approval = true;
        }
        Ok(effective)
    }
}

fn parse_in<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    key: &str,
    value: &str,
    range: std::ops::RangeInclusive<T>,
) -> Result<T> {
    value
        .parse::<T>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| Error::bad(format!("{key} must be a whole number from {} to {}, not '{value}'", range.start(), range.end())))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::bad(format!("{key} must be true or false, not '{value}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_only_tightens() {
        let instance = Settings { max_pipes_per_user: 10, enable_public_sharing: false, require_approval: true, ..Settings::default() };
        let loosened = instance
            .clone()
            .tightened_by(&json!({"max_pipes_per_user": 500, "enable_public_sharing": true, "require_approval": false}))
            .unwrap();
        assert_eq!(loosened, instance);

        let open = Settings::default();
        let tightened =
            open.tightened_by(&json!({"max_pipes_per_user": 3, "enable_public_sharing": false, "require_approval": true})).unwrap();
        assert_eq!(
            tightened,
            Settings { max_pipes_per_user: 3, enable_public_sharing: false, require_approval: true, ..Settings::default() }
        );
    }

    #[test]
    fn config_of_the_wrong_type_is_refused() {
        assert!(Settings::default().tightened_by(&json!({"max_pipes_per_user": "ten"})).is_err());
        assert!(Settings::default().tightened_by(&json!({"max_pipes_per_user": 0})).is_err());
        assert!(Settings::default().tightened_by(&json!({"require_approval": "yes"})).is_err());
        assert!(Settings::default().tightened_by(&json!([1])).is_err());
    }

    #[tokio::test]
    async fn saving_the_form_writes_and_audits_only_what_changed() {
        use crate::orchestrator::entities::audit_events;
        use sea_orm::PaginatorTrait;

        let dir = tempfile::tempdir().unwrap();
        let db = crate::orchestrator::db::connect(&format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display())).await.unwrap();
        let form = |max: &str, approval: bool| {
            [
                ("max_pipes_per_user", max.to_string()),
                ("enable_public_sharing", "true".to_string()),
                ("require_approval", approval.to_string()),
                ("allow_self_signup", "false".to_string()),
            ]
        };
        let saved = Settings::update(&db, None, &form("50", true)).await.unwrap();
        assert!(saved.require_approval);
        let events = audit_events::Entity::find().all(&db).await.unwrap();
        assert_eq!(events.len(), 1, "one key changed, one audit row: {events:?}");
        assert_eq!(events[0].action, AuditAction::SetSetting);
        assert_eq!(events[0].detail.0["key"], "require_approval");

        // Nothing changed: nothing written.
        Settings::update(&db, None, &form("50", true)).await.unwrap();
        assert_eq!(audit_events::Entity::find().count(&db).await.unwrap(), 1);

        // One bad value: nothing of the form is stored.
        assert!(Settings::update(&db, None, &form("0", false)).await.is_err());
        assert!(Settings::load(&db).await.unwrap().require_approval);
        assert_eq!(audit_events::Entity::find().count(&db).await.unwrap(), 1);
    }

    #[test]
    fn values_out_of_range_are_refused() {
        let mut s = Settings::default();
        assert!(s.apply("max_pipes_per_user", "0").is_err());
        assert!(s.apply("max_pipes_per_user", "1001").is_err());
        assert!(s.apply("require_approval", "maybe").is_err());
        assert!(s.apply("colour", "blue").is_err());
        s.apply("max_pipes_per_user", "1000").unwrap();
        assert_eq!(s.max_pipes_per_user, 1000);
    }
}
