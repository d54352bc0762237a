//! Key-feature checks as HTTP steps (R-8f): each step a request (method,
//! URL, headers, body) with its expected status, JSON assertions and a
//! latency limit; a login step's answer can feed a token to later steps.
//! The policy's smoke-test deadline (R-8f) is the engine's to enforce, on the whole step; a
//! smoke test may set a shorter limit of its own (`deadline`).
//!
//! Values in URLs, headers and bodies may use `${name}`: a value captured
//! by an earlier step, or a secret given to the probe (a password or API
//! key from an environment variable). Captured values and secrets are never
//! written to logs, errors or evidence.
//!
//! JSON assertions address values with a JSON Pointer (`/items/0/status`)
//! or the common JSONPath subset (`$.items[0].status`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shipwarden::ports::{ErrorKind, Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};

/// What a JSON value must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Equal to this value.
    Equals(serde_json::Value),
    /// Present (any value but `null`).
    Exists,
}

/// One request of a smoke test.
#[derive(Debug, Clone)]
pub struct SmokeStep {
    /// Its name, used as the measurement's target (`login`, `list orders`).
    pub name: String,
    /// `GET`, `POST`, …
    pub method: String,
    /// The URL; may use `${name}`.
    pub url: String,
    /// Headers; values may use `${name}`.
    pub headers: Vec<(String, String)>,
    /// A JSON body; may use `${name}`.
    pub body: Option<String>,
    /// The status the answer must have.
    pub status: u16,
    /// Values the JSON answer must hold, by path.
    pub expect: Vec<(String, Expect)>,
    /// The longest the answer may take.
    pub max_latency: Option<Duration>,
    /// Values of the JSON answer to keep for later steps: name -> path.
    pub capture: Vec<(String, String)>,
}

impl SmokeStep {
    /// A `GET url` expecting 200.
    pub fn get(name: &str, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            method: "GET".into(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: None,
            status: 200,
            expect: Vec::new(),
            max_latency: None,
            capture: Vec::new(),
        }
    }
}

/// Turns `$.a.b[0]['c d']` into `/a/b/0/c d`; a pointer (`/a/b`) is kept.
pub fn to_pointer(path: &str) -> Result<String, String> {
    if path.is_empty() || path.starts_with('/') {
        return Ok(path.to_owned());
    }
    let Some(rest) = path.strip_prefix('$') else {
        return Err(format!("`{path}`: expected a JSON Pointer (`/a/0`) or a path like `$.a[0]`"));
    };
    let escape = |s: &str| s.replace('~', "~0").replace('/', "~1");
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    key.push(n);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(format!("`{path}`: an empty key"));
                }
                out.push('/');
                out.push_str(&escape(&key));
            }
            '[' => {
                let mut inner = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    inner.push(n);
                }
                let key = inner.trim();
                let key = key
                    .strip_prefix('\'')
                    .and_then(|k| k.strip_suffix('\''))
                    .or_else(|| key.strip_prefix('"').and_then(|k| k.strip_suffix('"')))
                    .map(str::to_owned)
                    .or_else(|| key.parse::<usize>().ok().map(|n| n.to_string()))
                    .ok_or_else(|| format!("`{path}`: `[{inner}]` is neither an index nor a quoted key"))?;
                out.push('/');
                out.push_str(&escape(&key));
            }
            _ => return Err(format!("`{path}`: unexpected `{c}`")),
        }
    }
    Ok(out)
}

/// A smoke test made of HTTP steps.
pub struct HttpSmoke {
    name: String,
    steps: Vec<SmokeStep>,
    secrets: BTreeMap<String, SecretString>,
    deadline: Option<Duration>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpSmoke {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSmoke")
            .field("name", &self.name)
            .field("steps", &self.steps)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// Replaces `${name}` by captured values or secrets; an unknown name is an error.
fn fill(text: &str, values: &BTreeMap<String, SecretString>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("`${{` without `}}` in `{text}`"))?;
        let name = &after[..end];
        let value = values.get(name).ok_or_else(|| format!("`${{{name}}}` is neither captured nor a secret"))?;
        out.push_str(value.expose_secret());
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl HttpSmoke {
    /// A smoke test named `name` (its evidence source). The policy's
    /// smoke-test deadline (R-8f) is the engine's to enforce; a smoke test
    /// may add a shorter limit of its own with [`deadline`](Self::deadline).
    pub fn new(name: &str, steps: Vec<SmokeStep>) -> Self {
        Self {
            name: name.to_owned(),
            steps,
            secrets: BTreeMap::new(),
            deadline: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// A secret that steps may use as `${name}`.
    pub fn secret(mut self, name: &str, value: SecretString) -> Self {
        self.secrets.insert(name.to_owned(), value);
        self
    }

    /// How long all steps together may take, as this smoke test's own limit.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Checks every path and placeholder before anything runs.
    pub fn validate(&self) -> Result<(), String> {
        let mut known: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
        for s in &self.steps {
            for path in s.expect.iter().map(|(p, _)| p).chain(s.capture.iter().map(|(_, p)| p)) {
                to_pointer(path).map_err(|e| format!("step `{}`: {e}", s.name))?;
            }
            let texts = std::iter::once(s.url.as_str())
                .chain(s.headers.iter().map(|(_, v)| v.as_str()))
                .chain(s.body.as_deref());
            for text in texts {
                let mut rest = text;
                while let Some(start) = rest.find("${") {
                    let after = &rest[start + 2..];
                    let end = after.find('}').ok_or_else(|| format!("step `{}`: `${{` without `}}`", s.name))?;
                    if !known.contains(&&after[..end]) {
                        return Err(format!(
                            "step `{}`: `${{{}}}` is neither a secret nor captured by an earlier step",
                            s.name,
                            &after[..end]
                        ));
                    }
                    rest = &after[end + 1..];
                }
            }
            known.extend(s.capture.iter().map(|(n, _)| n.as_str()));
        }
        Ok(())
    }

    async fn run(&self) -> Result<Vec<Measurement>, PortError> {
        let port = format!("smoke {}", self.name);
        let fail = |step: &str, kind: ErrorKind, m: String| PortError::new(&port, step, kind, m);
        let client = crate::tls_client::http_client(self.timeout)
            .map_err(|e| PortError::new(&port, "setup", ErrorKind::Invalid, e))?;
        let mut values = self.secrets.clone();
        let mut measured = Vec::new();
        for s in &self.steps {
            let step = format!("step `{}`", s.name);
            let invalid = |m: String| fail(&step, ErrorKind::Invalid, m);
            let url = fill(&s.url, &values).map_err(invalid)?;
            let method = reqwest::Method::from_bytes(s.method.to_uppercase().as_bytes())
                .map_err(|_| fail(&step, ErrorKind::Invalid, format!("`{}` is not an HTTP method", s.method)))?;
            // The URL as configured: a secret filled into it stays out of messages.
            let shown = format!("{} {}", method, s.url);
            let mut request = client.request(method, &url);
            for (name, value) in &s.headers {
                request = request.header(name, fill(value, &values).map_err(invalid)?);
            }
            if let Some(body) = &s.body {
                request =
                    request.header("content-type", "application/json").body(fill(body, &values).map_err(invalid)?);
            }
            let started = Instant::now();
            let response = request.send().await.map_err(|e| {
                let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
                fail(&step, kind, format!("{shown}: {}", e.without_url()))
            })?;
            let status = response.status().as_u16();
            let body = response
                .bytes()
                .await
                .map_err(|e| fail(&step, ErrorKind::Unavailable, format!("{shown}: {}", e.without_url())))?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if status != s.status {
                let kind = if status >= 500 { ErrorKind::Unavailable } else { ErrorKind::Rejected };
                return Err(fail(&step, kind, format!("{shown} answered {status}, expected {}", s.status)));
            }
            if let Some(limit) = s.max_latency
                && ms > limit.as_secs_f64() * 1000.0
            {
                return Err(fail(
                    &step,
                    ErrorKind::Rejected,
                    format!("{shown} took {ms:.0} ms, over its limit of {} ms", limit.as_millis()),
                ));
            }
            if !s.expect.is_empty() || !s.capture.is_empty() {
                let doc: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| fail(&step, ErrorKind::Rejected, format!("{shown}: the answer is not JSON: {e}")))?;
                for (path, expect) in &s.expect {
                    let found = doc.pointer(&to_pointer(path).map_err(invalid)?).filter(|v| !v.is_null());
                    let ok = match (expect, found) {
                        (Expect::Exists, found) => found.is_some(),
                        (Expect::Equals(want), Some(got)) => want == got,
                        (Expect::Equals(_), None) => false,
                    };
                    if !ok {
                        let want = match expect {
                            Expect::Exists => "a value".to_owned(),
                            Expect::Equals(v) => v.to_string(),
                        };
                        let got = found.map_or("nothing".to_owned(), ToString::to_string);
                        let got: String = got.chars().take(120).collect();
                        return Err(fail(
                            &step,
                            ErrorKind::Rejected,
                            format!("{shown}: {path} is {got}, expected {want}"),
                        ));
                    }
                }
                for (name, path) in &s.capture {
                    let value = doc.pointer(&to_pointer(path).map_err(invalid)?).and_then(|v| match v {
                        serde_json::Value::String(s) => Some(s.clone()),
                        serde_json::Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
                    let value = value.ok_or_else(|| {
                        fail(&step, ErrorKind::Rejected, format!("{shown}: nothing to capture as `{name}` at {path}"))
                    })?;
                    values.insert(name.clone(), SecretString::from(value));
                }
            }
            let ms = (ms * 10.0).round() / 10.0;
            measured.push(Measurement {
                gate: GateId::ResponseTime,
                value: ms,
                target: Some(s.name.clone()),
                source: format!("{}: {shown} answered {status} in {ms} ms", self.name),
            });
        }
        Ok(measured)
    }
}

#[async_trait]
impl Probe for HttpSmoke {
    fn name(&self) -> &str {
        &self.name
    }

    /// Runs the steps in order; the first that fails fails the smoke test.
    /// Each step's latency is evidence for `response_time`, with the step as target.
    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        self.validate().map_err(|e| PortError::new(format!("smoke {}", self.name), "check", ErrorKind::Invalid, e))?;
        let Some(limit) = self.deadline else { return self.run().await };
        match tokio::time::timeout(limit, self.run()).await {
            Ok(result) => result,
            Err(_) => Err(PortError::new(
                format!("smoke {}", self.name),
                "check",
                ErrorKind::Timeout,
                format!("the steps did not finish within their own limit of {} s", limit.as_secs()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn json_paths_become_pointers() {
        assert_eq!(to_pointer("$.items[0].status").as_deref(), Ok("/items/0/status"));
        assert_eq!(to_pointer("$['a/b'].c").as_deref(), Ok("/a~1b/c"));
        assert_eq!(to_pointer("/already/0").as_deref(), Ok("/already/0"));
        assert!(to_pointer("items.status").is_err());
        assert!(to_pointer("$.items[x]").is_err());
    }

    #[test]
    fn placeholders_need_a_secret_or_an_earlier_capture() {
        let mut login = SmokeStep::get("login", "http://h/login");
        login.capture = vec![("token".into(), "$.token".into())];
        let mut orders = SmokeStep::get("orders", "http://h/orders");
        orders.headers = vec![("authorization".into(), "Bearer ${token}".into())];
        let ok = HttpSmoke::new("t", vec![login.clone(), orders.clone()]);
        assert_eq!(ok.validate(), Ok(()));
        let early = HttpSmoke::new("t", vec![orders, login]);
        assert!(early.validate().expect_err("order").contains("`${token}` is neither a secret nor captured"));
        let values = BTreeMap::from([("token".to_owned(), SecretString::from("s3cret"))]);
        assert_eq!(fill("Bearer ${token}", &values).as_deref(), Ok("Bearer s3cret"));
        assert!(
            format!("{:?}", HttpSmoke::new("t", vec![]).secret("pw", SecretString::from("hunter2"))).contains("pw")
        );
        assert!(
            !format!("{:?}", HttpSmoke::new("t", vec![]).secret("pw", SecretString::from("hunter2")))
                .contains("hunter2")
        );
    }

    proptest! {
        #[test]
        fn paths_never_panic(path in "\\PC{0,30}") {
            let _ = to_pointer(&path);
        }
    }
}
