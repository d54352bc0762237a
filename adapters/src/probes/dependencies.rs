//! What an environment runs of its external dependencies (R-7f, R-8d): an
//! HTTP endpoint answering JSON, or a command printing JSON or
//! `name version` lines.
//!
//! The JSON is either an object of names to versions
//! (`{"payments": "2.4.1"}`), or any document from which each dependency's
//! version is picked by a JSON Pointer (`/services/payments/version`).

use std::collections::BTreeMap;
#[cfg(feature = "http")]
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::EnvName;
use shipwarden::ports::{DependencyProbe, ErrorKind, PortError};

/// Reads versions out of a JSON document: by pointer when given, else the
/// top-level object's string (or number) values.
fn versions_in(
    port: &str,
    doc: &serde_json::Value,
    pointers: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, PortError> {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let bad = |m: String| PortError::new(port, "versions", ErrorKind::Invalid, m);
    if pointers.is_empty() {
        let Some(object) = doc.as_object() else {
            return Err(bad("expected a JSON object of dependency names to versions".into()));
        };
        return Ok(object.iter().filter_map(|(k, v)| text(v).map(|v| (k.clone(), v))).collect());
    }
    let mut out = BTreeMap::new();
    for (name, pointer) in pointers {
        // A dependency that is not there is reported missing by the engine, not here.
        if let Some(v) = doc.pointer(pointer) {
            out.insert(name.clone(), text(v).ok_or_else(|| bad(format!("{pointer} is not a string or number")))?);
        }
    }
    Ok(out)
}

/// Versions from an HTTP endpoint answering JSON.
#[cfg(feature = "http")]
pub struct HttpDependencies {
    name: String,
    url: String,
    pointers: BTreeMap<String, String>,
    token: Option<secrecy::SecretString>,
    timeout: Duration,
}

#[cfg(feature = "http")]
impl std::fmt::Debug for HttpDependencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDependencies")
            .field("url", &self.url)
            .field("pointers", &self.pointers)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

#[cfg(feature = "http")]
impl HttpDependencies {
    /// Reads `url` (`{environment}` is replaced by the environment's name).
    pub fn new(url: &str) -> Self {
        Self {
            name: format!("GET {url}"),
            url: url.to_owned(),
            pointers: BTreeMap::new(),
            token: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// Picks `dependency`'s version at a JSON Pointer instead of a top-level key.
    pub fn pointer(mut self, dependency: &str, pointer: &str) -> Self {
        self.pointers.insert(dependency.to_owned(), pointer.to_owned());
        self
    }

    /// Sends `Authorization: Bearer <token>`.
    pub fn with_token(mut self, token: secrecy::SecretString) -> Self {
        self.token = Some(token);
        self
    }
}

#[cfg(feature = "http")]
#[async_trait]
impl DependencyProbe for HttpDependencies {
    fn name(&self) -> &str {
        &self.name
    }

    async fn versions(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError> {
        use secrecy::ExposeSecret;
        let port = "dependencies http";
        let client = crate::tls_client::http_client(self.timeout)
            .map_err(|e| PortError::new(port, "setup", ErrorKind::Invalid, e))?;
        let url = self.url.replace("{environment}", environment.as_str());
        let mut request = client.get(&url).header("accept", "application/json");
        if let Some(t) = &self.token {
            request = request.bearer_auth(t.expose_secret());
        }
        let response = request.send().await.map_err(|e| {
            let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
            PortError::new(port, "versions", kind, format!("GET {url}: {e}"))
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            let kind = if status >= 500 { ErrorKind::Unavailable } else { ErrorKind::Rejected };
            return Err(PortError::new(port, "versions", kind, format!("GET {url} answered {status}")));
        }
        let doc: serde_json::Value = response
            .json()
            .await
            .map_err(|e| PortError::new(port, "versions", ErrorKind::Invalid, format!("GET {url}: not JSON: {e}")))?;
        versions_in(port, &doc, &self.pointers)
    }
}

/// Versions printed by a command (argv): a JSON object, or one
/// `name version` pair per line.
#[cfg(feature = "command")]
#[derive(Debug, Clone)]
pub struct CommandDependencies {
    name: String,
    argv: Vec<String>,
}

#[cfg(feature = "command")]
impl CommandDependencies {
    /// Runs `argv` (`{environment}` is replaced by the environment's name).
    pub fn new(argv: Vec<String>) -> Self {
        Self { name: argv.join(" "), argv }
    }
}

/// Reads `name version` lines, or a JSON object.
pub fn parse_versions(port: &str, text: &str) -> Result<BTreeMap<String, String>, PortError> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') {
        let doc: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| PortError::new(port, "versions", ErrorKind::Invalid, format!("not JSON: {e}")))?;
        return versions_in(port, &doc, &BTreeMap::new());
    }
    let mut out = BTreeMap::new();
    for (i, line) in trimmed.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(name), Some(version), None) => {
                out.insert(name.to_owned(), version.to_owned());
            }
            _ => {
                return Err(PortError::new(
                    port,
                    "versions",
                    ErrorKind::Invalid,
                    format!("line {}: expected `name version`, got `{line}`", i + 1),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(feature = "command")]
#[async_trait]
impl DependencyProbe for CommandDependencies {
    fn name(&self) -> &str {
        &self.name
    }

    async fn versions(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError> {
        let port = format!("dependencies {}", self.argv.first().map_or("", String::as_str));
        let argv: Vec<String> = self.argv.iter().map(|a| a.replace("{environment}", environment.as_str())).collect();
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| PortError::new(&port, "versions", ErrorKind::Invalid, "no command configured"))?;
        let output = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            tokio::process::Command::new(program).args(args).kill_on_drop(true).output(),
        )
        .await
        .map_err(|_| PortError::new(&port, "versions", ErrorKind::Timeout, "ran longer than 60 s"))?
        .map_err(|e| {
            PortError::new(&port, "versions", ErrorKind::Rejected, format!("cannot start `{program}`: {e}"))
        })?;
        if !output.status.success() {
            let err = String::from_utf8_lossy(&output.stderr);
            return Err(PortError::new(
                &port,
                "versions",
                ErrorKind::Rejected,
                format!("`{program}` exited {}: {}", output.status.code().unwrap_or(-1), err.trim()),
            ));
        }
        parse_versions(&port, &String::from_utf8_lossy(&output.stdout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_lines_json_objects_and_pointers_r7f() {
        let lines = parse_versions("t", "# deps\npayments 2.4.1\nsearch  8.1\n").expect("lines");
        assert_eq!(lines.get("search").map(String::as_str), Some("8.1"));
        let json = parse_versions("t", r#"{"payments": "2.4.1", "pg": 16, "meta": {}}"#).expect("json");
        assert_eq!(json.len(), 2);
        let e = parse_versions("t", "payments 2.4.1 extra").expect_err("bad line");
        assert!(e.to_string().contains("line 1: expected `name version`"), "{e}");
        let doc = serde_json::json!({"services": {"payments": {"version": "2.4.1"}}});
        let pointers = BTreeMap::from([
            ("payments".to_owned(), "/services/payments/version".to_owned()),
            ("search".to_owned(), "/services/search/version".to_owned()),
        ]);
        let picked = versions_in("t", &doc, &pointers).expect("picked");
        assert_eq!(picked, BTreeMap::from([("payments".to_owned(), "2.4.1".to_owned())]));
    }
}
