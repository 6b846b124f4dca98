//! Reading the caller's JSON: every field is checked for its type, and a wrong one is a 400
//! that names the field.
use serde_json::{Map, Value};

use super::error::{Error, Result};
use crate::model::PipeName;

/// A value from its text (an enum's name, say); a text that names none is a 400.
pub fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T> {
    text.parse().map_err(Error::BadRequest)
}

/// A count (a limit, an offset) as a database can hold it: at most `i64::MAX`. Every door's
/// counts pass here, whatever type they came in as.
pub fn check_count(name: &str, value: Option<u64>) -> Result<Option<u64>> {
    match value {
        Some(n) if i64::try_from(n).is_err() => Err(Error::bad(format!("{name} must be a whole number from 0 to {}", i64::MAX))),
        other => Ok(other),
    }
}

/// The largest JSON object a caller may have stored as it came ("anything else kept" share
/// options, grant metadata).
pub const MAX_STORED_JSON_BYTES: usize = 16 * 1024;

/// Refuses a caller's free-form object that is larger than pipeshare keeps.
pub fn check_stored_size(what: &str, value: &impl serde::Serialize) -> Result<()> {
    let size = serde_json::to_string(value).map_or(usize::MAX, |text| text.len());
    if size > MAX_STORED_JSON_BYTES {
        return Err(Error::TooLarge(format!("{what} take {size} bytes; at most {MAX_STORED_JSON_BYTES} are kept")));
    }
    Ok(())
}

/// An RFC 3339 time, such as `2026-11-26T09:30:00.123456Z`.
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|_| Error::bad(format!("'{}' is not an RFC 3339 time", crate::model::shown(text))))
}

/// Text that goes into a query or a column: PostgreSQL stores no NUL character, so one is a
/// 400 here rather than a database error.
pub fn check_text(name: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(text) if text.contains('\0') => Err(Error::bad(format!("{name} must not contain NUL characters"))),
        _ => Ok(()),
    }
}

/// A JSON object from the caller, with the path used in error messages (`context`,
/// `context.sharing_options`, ...).
pub struct Fields<'a> {
    path: String,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Fields<'a> {
    /// `value` must be an object or absent (`null` counts as absent).
    pub fn new(path: &str, value: Option<&'a Value>) -> Result<Self> {
        match value {
            None | Some(Value::Null) => Ok(Fields { path: path.into(), map: None }),
            Some(Value::Object(map)) => Ok(Fields { path: path.into(), map: Some(map) }),
            Some(_) => Err(Error::bad(format!("{path} must be a JSON object"))),
        }
    }

    fn name(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        #[cfg(test)]
        fields_read::note(&self.name(key));
        self.map.and_then(|m| m.get(key)).filter(|v| !v.is_null())
    }

    pub fn object(&self, key: &str) -> Result<Fields<'a>> {
        Fields::new(&self.name(key), self.get(key))
    }

    pub fn str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Error::bad(format!("{} must be a string", self.name(key)))),
        }
    }

    /// A string naming one value of `T` (an enum's name, say).
    pub fn parsed<T: std::str::FromStr<Err = String>>(&self, key: &str) -> Result<Option<T>> {
        self.str(key)?.map(parse).transpose()
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(Error::bad(format!("{} must be true or false", self.name(key)))),
        }
    }

    /// A non-negative integer a database can hold.
    pub fn count(&self, key: &str) -> Result<Option<u64>> {
        let bad = || Error::bad(format!("{} must be a whole number from 0 to {}", self.name(key), i64::MAX));
        match self.get(key) {
            None => Ok(None),
            Some(v) => check_count(&self.name(key), Some(v.as_u64().ok_or_else(bad)?)),
        }
    }

    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        let bad = || Error::bad(format!("{} must be a list of names", self.name(key)));
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                items.iter().map(|item| item.as_str().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).ok_or_else(bad)).collect()
            }
            Some(_) => Err(bad()),
        }
    }

    /// The keys not in `known`, kept as metadata.
    pub fn rest(&self, known: &[&str]) -> Map<String, Value> {
        self.map
            .map(|m| m.iter().filter(|(k, _)| !known.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// `pipe_name`, required by every action on one pipe.
    pub fn pipe_name(&self) -> Result<PipeName> {
        match self.get("pipe_name") {
            None => Err(Error::pipe_name_required()),
            Some(Value::String(s)) if !s.trim().is_empty() => parse(s),
            Some(Value::String(_)) => Err(Error::pipe_name_required()),
            Some(_) => Err(Error::bad("context.pipe_name must be a string")),
        }
    }

    /// A list of names, each parsed (user or group names, say).
    pub fn names<T: std::str::FromStr<Err = String>>(&self, key: &str) -> Result<Vec<T>> {
        self.strings(key)?.iter().map(|name| parse(name)).collect()
    }
}

/// The fields the parser looked at, for the test that holds the API description to it.
#[cfg(test)]
pub mod fields_read {
    use std::{cell::RefCell, collections::BTreeSet};

    thread_local! {
        static READ: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    }

    pub fn note(path: &str) {
        READ.with(|read| read.borrow_mut().insert(path.to_string()));
    }

    /// The paths read since the last call (`context.sharing_options.public`, say).
    pub fn take() -> BTreeSet<String> {
        READ.with(|read| std::mem::take(&mut *read.borrow_mut()))
    }
}
