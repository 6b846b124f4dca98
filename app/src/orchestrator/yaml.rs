//! Manifests written as YAML, for pipe pages and manifest downloads. Writing a manifest of a
//! few kilobytes as YAML took about a fifth of a pipe page's time, and the same versions are
//! asked for again and again, so the texts of the manifests written lately are kept, found by
//! the manifest's own JSON text (keys in their order): a changed manifest is a different key,
//! so no kept text is ever stale, whichever instance changed it.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;

use super::error::{Error, Result};

/// The most kept, in bytes of YAML and of the JSON they were written from: when full,
/// everything kept is let go, and it fills again with what is asked for.
const KEPT_BYTES: usize = 16 << 20;

#[derive(Default)]
struct Kept {
    texts: HashMap<String, Arc<str>>,
    bytes: usize,
}

static KEPT: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);

/// The kept texts; a panic elsewhere while they were held leaves them whole (each change is
/// one map insert or clear).
fn kept() -> std::sync::MutexGuard<'static, Kept> {
    KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `manifest` as YAML.
pub fn manifest_yaml(manifest: &Value) -> Result<Arc<str>> {
    kept_or_written(manifest.to_string(), || Ok(manifest.clone()))
}

/// The manifest stored as the JSON text `json` (as the database holds it), as YAML: a kept
/// text is found without reading the JSON.
pub fn manifest_yaml_of_json(json: &str) -> Result<Arc<str>> {
    kept_or_written(json.to_string(), || {
        serde_json::from_str(json).map_err(|err| Error::Internal(format!("reading a stored manifest: {err}")))
    })
}

/// The text kept for the manifest whose JSON text is `key`, or the YAML of `manifest()`.
fn kept_or_written(key: String, manifest: impl FnOnce() -> Result<Value>) -> Result<Arc<str>> {
    if let Some(text) = kept().texts.get(&key) {
        return Ok(text.clone());
    }
    let text: Arc<str> =
        serde_norway::to_string(&manifest()?).map_err(|err| Error::Internal(format!("writing a manifest as YAML: {err}")))?.into();
    let mut kept = kept();
    let size = key.len() + text.len();
    if kept.bytes + size > KEPT_BYTES {
        *kept = Kept::default();
    }
    if size <= KEPT_BYTES && kept.texts.insert(key, text.clone()).is_none() {
        kept.bytes += size;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_changed_manifest_is_written_anew() {
        let first = json!({"name": "kept_yaml_test", "version": "1.0.0", "tags": ["a", "b"]});
        let text = manifest_yaml(&first).unwrap();
        assert_eq!(&*text, "name: kept_yaml_test\nversion: 1.0.0\ntags:\n- a\n- b\n");
        assert!(Arc::ptr_eq(&text, &manifest_yaml(&first).unwrap()), "asked again, the kept text is given");
        let changed = json!({"name": "kept_yaml_test", "version": "1.0.0", "tags": ["a", "c"]});
        assert_eq!(&*manifest_yaml(&changed).unwrap(), "name: kept_yaml_test\nversion: 1.0.0\ntags:\n- a\n- c\n");
        assert_eq!(&*manifest_yaml(&first).unwrap(), &*text);
        // The same keys in another order are written in that order.
        let reordered = json!({"version": "1.0.0", "name": "kept_yaml_test", "tags": ["a", "b"]});
        assert_eq!(&*manifest_yaml(&reordered).unwrap(), "version: 1.0.0\nname: kept_yaml_test\ntags:\n- a\n- b\n");
        // From the stored JSON text: the same kept text, and the same YAML when not kept.
        assert!(Arc::ptr_eq(&text, &manifest_yaml_of_json(&first.to_string()).unwrap()));
        let stored = r#"{"name":"kept_yaml_test","version":"2.0.0"}"#;
        assert_eq!(&*manifest_yaml_of_json(stored).unwrap(), "name: kept_yaml_test\nversion: 2.0.0\n");
        assert!(manifest_yaml_of_json("{not json").is_err());
    }
}
