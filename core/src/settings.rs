//! Environment settings (R-9c): what each deployment changed in an
//! environment's configuration — keys added, changed and removed, each value
//! kept only as a hash. Values of secret keys are never stored or shown:
//! their hash is salted with the environment and key, and only "changed"
//! is ever reported for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{EnvName, Sha256};

/// Key names that hold secrets unless a source says otherwise.
pub const SECRET_MARKERS: [&str; 8] =
    ["PASSWORD", "PASSWD", "SECRET", "TOKEN", "PRIVATE", "CREDENTIAL", "API_KEY", "ACCESS_KEY"];

/// True when a key's name says it holds a secret (`DB_PASSWORD`, `stripe_api_key`).
pub fn looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_MARKERS.iter().any(|m| upper.contains(m)) || upper.ends_with("_KEY")
}

/// One setting as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    /// SHA-256 of the value (for a secret, salted with the environment and key).
    pub hash: Sha256,
    /// Whether the value is a secret.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
}

/// An environment's settings at a deployment, without their values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Key -> its recorded form.
    pub settings: BTreeMap<String, Setting>,
}

impl Snapshot {
    /// Records `values` of `environment`; `secret` says which keys are secrets.
    pub fn of(environment: &EnvName, values: &BTreeMap<String, String>, secret: impl Fn(&str) -> bool) -> Self {
        let settings = values
            .iter()
            .map(|(k, v)| {
                let secret = secret(k);
                let hash = if secret {
                    Sha256::of(format!("shipwarden-setting\0{environment}\0{k}\0{v}").as_bytes())
                } else {
                    Sha256::of(v.as_bytes())
                };
                (k.clone(), Setting { hash, secret })
            })
            .collect();
        Self { settings }
    }

    /// What changed from `before` to `self`.
    pub fn diff(&self, before: &Snapshot) -> Diff {
        let mut d = Diff::default();
        for (k, s) in &self.settings {
            match before.settings.get(k) {
                None => d.added.push(k.clone()),
                Some(b) if b.hash != s.hash => d.changed.push(k.clone()),
                Some(_) => {}
            }
        }
        d.removed = before.settings.keys().filter(|k| !self.settings.contains_key(*k)).cloned().collect();
        d
    }
}

/// Keys added, changed and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// New keys.
    pub added: Vec<String>,
    /// Keys whose value changed.
    pub changed: Vec<String>,
    /// Keys no longer set.
    pub removed: Vec<String>,
}

impl Diff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("no settings changed");
        }
        let part = |what: &str, keys: &[String]| {
            if keys.is_empty() { None } else { Some(format!("{what} {}", keys.join(", "))) }
        };
        let parts: Vec<String> =
            [part("added", &self.added), part("changed", &self.changed), part("removed", &self.removed)]
                .into_iter()
                .flatten()
                .collect();
        f.write_str(&parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised_and_never_hashed_plainly_r9c() {
        for k in ["DB_PASSWORD", "stripe_api_key", "JWT_SECRET", "GITHUB_TOKEN", "SIGNING_KEY"] {
            assert!(looks_secret(k), "{k}");
        }
        for k in ["LOG_LEVEL", "FEATURE_CHECKOUT", "KEYBOARD_LAYOUT"] {
            assert!(!looks_secret(k), "{k}");
        }
        let env: EnvName = "prod".parse().expect("env");
        let values = BTreeMap::from([("DB_PASSWORD".to_owned(), "hunter2".to_owned()), ("LOG".into(), "info".into())]);
        let snap = Snapshot::of(&env, &values, looks_secret);
        assert_ne!(snap.settings["DB_PASSWORD"].hash, Sha256::of(b"hunter2"));
        assert_eq!(snap.settings["LOG"].hash, Sha256::of(b"info"));
        let json = serde_json::to_string(&snap).expect("json");
        assert!(!json.contains("hunter2"));
        let mut next = values.clone();
        next.insert("DB_PASSWORD".into(), "correct horse".into());
        next.remove("LOG");
        next.insert("FEATURE_X".into(), "on".into());
        let diff = Snapshot::of(&env, &next, looks_secret).diff(&snap);
        assert_eq!(diff.to_string(), "added FEATURE_X; changed DB_PASSWORD; removed LOG");
    }
}
