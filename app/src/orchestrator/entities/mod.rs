//! SeaORM entities: the Rust view of the tables created in `migrations/`.
pub mod access_requests;
pub mod api_tokens;
pub mod audit_events;
pub mod download_tallies;
pub mod download_tally_state;
pub mod downloads;
pub mod environment_events;
pub mod environments;
pub mod grants;
pub mod group_members;
pub mod notifications;
pub mod packages;
pub mod pipe_versions;
pub mod pipes;
pub mod promotions;
pub mod sessions;
pub mod settings;
pub mod shares;
pub mod source_scans;
pub mod sources;
pub mod throttles;
pub mod user_groups;
pub mod users;
pub mod webhook_attempts;
pub mod webhook_deliveries;
pub mod webhooks;

pub use json_text::JsonText;

/// Bytes in an export: base64 text, not a JSON array of numbers.
pub mod base64_bytes {
    use base64::{Engine, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

mod json_text {
    use sea_orm::{
        ColIdx, DbErr, QueryResult, TryGetError, TryGetable,
        sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr},
    };
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::DeserializeOwned};

    /// A JSON value kept in a text column and read as `T`. The column is text on SQLite and
    /// PostgreSQL alike (it keeps keys in the order written, and an export carries it as the
    /// same text); a stored value that no longer reads as `T` is an error, never a silent
    /// default.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct JsonText<T>(pub T);

    fn text_of<T: Serialize>(value: &T) -> String {
        // Serialising plain data (maps with string keys, numbers, strings) cannot fail.
        serde_json::to_string(value).unwrap_or_default()
    }

    impl<T: Serialize> From<JsonText<T>> for Value {
        fn from(json: JsonText<T>) -> Value {
            Value::String(Some(Box::new(text_of(&json.0))))
        }
    }

    impl<T: DeserializeOwned> TryGetable for JsonText<T> {
        fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
            let text = String::try_get_by(res, index)?;
            serde_json::from_str(&text)
                .map(JsonText)
                .map_err(|err| TryGetError::DbErr(DbErr::Type(format!("a stored JSON value does not read as expected: {err}"))))
        }
    }

    impl<T: Serialize + DeserializeOwned> ValueType for JsonText<T> {
        fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
            match value {
                Value::String(Some(text)) => serde_json::from_str(&text).map(JsonText).map_err(|_| ValueTypeErr),
                _ => Err(ValueTypeErr),
            }
        }

        fn type_name() -> String {
            "JsonText".into()
        }

        fn array_type() -> ArrayType {
            ArrayType::String
        }

        fn column_type() -> ColumnType {
            ColumnType::Text
        }
    }

    impl<T> Nullable for JsonText<T> {
        fn null() -> Value {
            Value::String(None)
        }
    }

    /// Exports carry the column as its text, as stored.
    impl<T: Serialize> Serialize for JsonText<T> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_str(&text_of(&self.0))
        }
    }

    impl<'de, T: DeserializeOwned> Deserialize<'de> for JsonText<T> {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let text = String::deserialize(deserializer)?;
            serde_json::from_str(&text).map(JsonText).map_err(serde::de::Error::custom)
        }
    }
}
