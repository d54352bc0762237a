//! Environment settings from env files (R-9c): `KEY=value` lines (`export`
//! allowed, single or double quotes, `#` comments), one file per
//! environment (`deploy/{environment}.env`). Only keys and hashes leave this
//! module; values of secret keys never do.

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;
use shipwarden::EnvName;
use shipwarden::ports::{ErrorKind, PortError, SettingsSource};

/// Settings read from an env file.
#[derive(Debug, Clone)]
pub struct EnvFileSettings {
    name: String,
    path: String,
    secret_patterns: Vec<String>,
}

/// `*` matches any run of characters; case-insensitive.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_uppercase(), text.to_ascii_uppercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let mut rest = t.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else { return false };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else { return false };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// Parses env-file text; errors name the line.
pub fn parse_env(origin: &str, text: &str) -> Result<BTreeMap<String, String>, PortError> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let bad = |what: &str| {
            PortError::new("settings file", "read", ErrorKind::Invalid, format!("{origin}:{}: {what}", i + 1))
        };
        let (key, value) = line.split_once('=').ok_or_else(|| bad("expected KEY=value"))?;
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') {
            return Err(bad("expected a key of letters, digits, `_`, `.` or `-` before `=`"));
        }
        let value = value.trim();
        let value = match value.chars().next() {
            Some(q @ ('"' | '\'')) => value
                .strip_prefix(q)
                .and_then(|v| v.strip_suffix(q))
                .ok_or_else(|| bad("a quoted value must end with its quote"))?
                .to_owned(),
            _ => value.split(" #").next().unwrap_or_default().trim_end().to_owned(),
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

impl EnvFileSettings {
    /// Reads `path` (`{environment}` is replaced by the environment's name).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into().display().to_string();
        Self { name: path.clone(), path, secret_patterns: Vec::new() }
    }

    /// Keys matching these patterns (`STRIPE_*`) are secrets too, besides the usual names.
    pub fn secret_keys(mut self, patterns: Vec<String>) -> Self {
        self.secret_patterns = patterns;
        self
    }
}

#[async_trait]
impl SettingsSource for EnvFileSettings {
    fn name(&self) -> &str {
        &self.name
    }

    async fn settings(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError> {
        let path = self.path.replace("{environment}", environment.as_str());
        let text = tokio::fs::read_to_string(&path)
            .await
            .map_err(|e| PortError::new("settings file", "read", ErrorKind::NotFound, format!("{path}: {e}")))?;
        parse_env(&path, &text)
    }

    fn is_secret(&self, key: &str) -> bool {
        shipwarden::settings::looks_secret(key) || self.secret_patterns.iter().any(|p| glob(p, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files_read_as_shells_and_docker_write_them_r9c() {
        let text = "# prod\nexport DB_URL=postgres://app@db/shop\nLOG_LEVEL=info # noisy\nGREETING=\"hello # world\"\nEMPTY=\n";
        let values = parse_env("prod.env", text).expect("parses");
        assert_eq!(values["DB_URL"], "postgres://app@db/shop");
        assert_eq!(values["LOG_LEVEL"], "info");
        assert_eq!(values["GREETING"], "hello # world");
        assert_eq!(values["EMPTY"], "");
        let e = parse_env("prod.env", "A=1\nnot a setting\n").expect_err("bad");
        assert!(e.message.contains("prod.env:2: expected KEY=value"), "{e}");
        let source = EnvFileSettings::new("x").secret_keys(vec!["STRIPE_*".into(), "*_DSN".into()]);
        assert!(
            source.is_secret("stripe_publishable") && source.is_secret("SENTRY_DSN") && source.is_secret("DB_PASSWORD")
        );
        assert!(!source.is_secret("LOG_LEVEL"));
    }
}
