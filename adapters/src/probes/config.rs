//! `[[environments.NAME.checks]]`, `.smoke`, `.monitors` and `.dependencies`:
//! each probe's configuration, its checks and its construction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;
use shipwarden::ports::{DependencyProbe, Probe};
use shipwarden::{GateId, Problem};

use crate::config::ConfigError;
use crate::config::adapter::{AdapterConfig, Context, SecretRef, duration, duration_or, no_password};

/// A probe: what `kind` it is and how it is set up.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProbeConfig {
    /// CPU, memory, free disk of this host.
    #[cfg(feature = "host")]
    Host(HostProbeConfig),
    /// HTTP status and p95 latency.
    #[cfg(feature = "http")]
    Http(HttpProbeConfig),
    /// TLS handshake and certificate expiry.
    #[cfg(feature = "tls")]
    Tls(TlsProbeConfig),
    /// TCP reachability.
    Tcp(TcpProbeConfig),
    /// PromQL queries against Prometheus, each evidence for a gate.
    #[cfg(feature = "prometheus")]
    Prometheus(PrometheusProbeConfig),
    /// Key-feature checks as HTTP steps: login, then API calls with its token (R-8f).
    #[cfg(feature = "http")]
    Steps(StepsProbeConfig),
    /// A database test query.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    Database(DatabaseProbeConfig),
}

impl ProbeConfig {
    /// The one place the kinds are told apart.
    fn adapter(&self) -> &(dyn AdapterConfig<Port = dyn Probe> + Send + Sync) {
        match self {
            #[cfg(feature = "host")]
            ProbeConfig::Host(c) => c,
            #[cfg(feature = "http")]
            ProbeConfig::Http(c) => c,
            #[cfg(feature = "tls")]
            ProbeConfig::Tls(c) => c,
            ProbeConfig::Tcp(c) => c,
            #[cfg(feature = "prometheus")]
            ProbeConfig::Prometheus(c) => c,
            #[cfg(feature = "http")]
            ProbeConfig::Steps(c) => c,
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            ProbeConfig::Database(c) => c,
        }
    }
}

impl AdapterConfig for ProbeConfig {
    type Port = dyn Probe;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        self.adapter().validate(at, problems);
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        self.adapter().secrets(at, found);
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        self.adapter().build(at, cx)
    }
}

/// `kind = "host"`.
#[cfg(feature = "host")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HostProbeConfig {
    /// Measure free space on the disk holding this path (default: the file's folder).
    pub disk: Option<PathBuf>,
}

#[cfg(feature = "host")]
impl AdapterConfig for HostProbeConfig {
    type Port = dyn Probe;

    fn build(&self, _at: &str, cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        let disk = self.disk.as_ref().map_or_else(|| cx.base().to_path_buf(), |d| cx.path(d));
        Ok(Arc::new(super::host::HostProbe::new().with_disk(disk)))
    }
}

/// `kind = "http"`.
#[cfg(feature = "http")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpProbeConfig {
    /// The URL.
    pub url: String,
    /// Requests to send (10).
    pub requests: Option<u32>,
    /// Expected status (200).
    pub status: Option<u16>,
    /// The gate the p95 is for (`response_time`, `p95_latency`).
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub gate: Option<GateId>,
}

#[cfg(feature = "http")]
impl AdapterConfig for HttpProbeConfig {
    type Port = dyn Probe;

    fn build(&self, _at: &str, _cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        let mut probe = super::http::HttpProbe::new(&self.url)
            .with_requests(self.requests.unwrap_or(10))
            .expect_status(self.status.unwrap_or(200));
        if let Some(g) = &self.gate {
            probe = probe.as_gate(g.clone());
        }
        Ok(Arc::new(probe))
    }
}

/// `kind = "tls"`.
#[cfg(feature = "tls")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TlsProbeConfig {
    /// Host to connect to.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Name the certificate must be valid for (default: host).
    pub server_name: Option<String>,
    /// Trust only this PEM file.
    pub ca_file: Option<PathBuf>,
}

#[cfg(feature = "tls")]
impl AdapterConfig for TlsProbeConfig {
    type Port = dyn Probe;

    fn build(&self, _at: &str, cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        let mut probe = super::tls::TlsProbe::new(&self.host, self.port);
        if let Some(n) = &self.server_name {
            probe = probe.with_server_name(n);
        }
        if let Some(f) = &self.ca_file {
            probe = probe.with_ca_file(cx.path(f));
        }
        Ok(Arc::new(probe))
    }
}

/// `kind = "tcp"`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TcpProbeConfig {
    /// `host:port`.
    pub address: String,
}

impl AdapterConfig for TcpProbeConfig {
    type Port = dyn Probe;

    fn build(&self, _at: &str, _cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        Ok(Arc::new(super::tcp::TcpProbe::new(&self.address)))
    }
}

/// `kind = "prometheus"`.
#[cfg(feature = "prometheus")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PrometheusProbeConfig {
    /// The server (`http://prometheus:9090`).
    pub url: String,
    /// The queries.
    pub queries: Vec<PromQueryConfig>,
    /// The environment variable holding a bearer token, if the server asks for one.
    pub token_env: Option<String>,
    /// How long a query may take (`10s`).
    pub timeout: Option<String>,
}

/// One PromQL query of a `prometheus` probe.
#[cfg(feature = "prometheus")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PromQueryConfig {
    /// The gate it is evidence for (`response_time`, `cpu`, `error_rate`).
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub gate: GateId,
    /// The PromQL; `{environment}` is replaced by the environment's name.
    pub query: String,
    /// Each value is multiplied by this (`1000`: seconds to ms; default 1).
    pub scale: Option<f64>,
}

#[cfg(feature = "prometheus")]
impl AdapterConfig for PrometheusProbeConfig {
    type Port = dyn Probe;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        duration(&self.timeout, &format!("{at}.timeout"), problems);
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.token_env.iter().map(|var| SecretRef::new(at, "token_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        let timeout = duration_or(&self.timeout, Duration::from_secs(10));
        let mut probe = super::prometheus::PrometheusProbe::new(&self.url, timeout)?;
        for q in &self.queries {
            probe = probe.query(q.gate.clone(), &q.query, q.scale.unwrap_or(1.0));
        }
        if let Some(var) = &self.token_env {
            probe = probe.with_token(cx.secret(var, &format!("{at}.token_env"))?);
        }
        Ok(Arc::new(probe))
    }
}

/// `kind = "steps"`: HTTP requests in order; a login's token feeds later steps (R-8f).
#[cfg(feature = "http")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StepsProbeConfig {
    /// The smoke test's name.
    pub name: String,
    /// How long all steps may take (default: the policy's smoke-test deadline).
    pub deadline: Option<String>,
    /// `${name}` -> the environment variable holding a secret the steps use (a password).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// The steps, in order.
    pub steps: Vec<SmokeStepConfig>,
}

/// One request of a `steps` smoke test (R-8f).
#[cfg(feature = "http")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SmokeStepConfig {
    /// Its name.
    pub name: String,
    /// The method (`GET`).
    pub method: Option<String>,
    /// The URL; may use `${name}`.
    pub url: String,
    /// Headers; values may use `${name}`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (a table, or a string); strings in it may use `${name}`.
    pub body: Option<serde_json::Value>,
    /// The expected status (200).
    pub status: Option<u16>,
    /// Path -> the value the JSON answer must hold there.
    #[serde(default)]
    pub expect: BTreeMap<String, serde_json::Value>,
    /// Paths the JSON answer must hold a value at.
    #[serde(default)]
    pub exists: Vec<String>,
    /// The longest the answer may take (`500ms`, `2s`).
    pub max_latency: Option<String>,
    /// Name -> path of a value to keep for later steps (a login token).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

#[cfg(feature = "http")]
impl AdapterConfig for StepsProbeConfig {
    type Port = dyn Probe;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        duration(&self.deadline, &format!("{at}.deadline"), problems);
        for (j, step) in self.steps.iter().enumerate() {
            duration(&step.max_latency, &format!("{at}.steps[{j}].max_latency"), problems);
            for path in step.expect.keys().chain(&step.exists).chain(step.capture.values()) {
                if let Err(e) = super::smoke::to_pointer(path) {
                    problems.push(Problem { path: format!("{at}.steps[{j}]"), message: e });
                }
            }
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(
            self.secrets
                .iter()
                .map(|(placeholder, var)| SecretRef { path: format!("{at}.secrets.{placeholder}"), var: var.clone() }),
        );
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        use super::smoke::{Expect, HttpSmoke, SmokeStep};
        let mut list = Vec::new();
        for s in &self.steps {
            let body = s.body.as_ref().map(|b| match b {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            });
            let mut expect: Vec<(String, Expect)> =
                s.expect.iter().map(|(p, v)| (p.clone(), Expect::Equals(v.clone()))).collect();
            expect.extend(s.exists.iter().map(|p| (p.clone(), Expect::Exists)));
            list.push(SmokeStep {
                name: s.name.clone(),
                method: s.method.clone().unwrap_or_else(|| "GET".into()),
                url: s.url.clone(),
                headers: s.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                body,
                status: s.status.unwrap_or(200),
                expect,
                max_latency: duration(&s.max_latency, "", &mut Vec::new()),
                capture: s.capture.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            });
        }
        // The policy's smoke-test deadline (R-8f) is the engine's; `deadline` here is this test's own limit.
        let mut smoke = HttpSmoke::new(&self.name, list);
        if let Some(limit) = duration(&self.deadline, "", &mut Vec::new()) {
            smoke = smoke.deadline(limit);
        }
        for (placeholder, var) in &self.secrets {
            smoke = smoke.secret(placeholder, cx.secret(var, &format!("{at}.secrets.{placeholder}"))?);
        }
        smoke.validate().map_err(|e| ConfigError::invalid(format!("{at}: smoke test `{}`: {e}", self.name)))?;
        Ok(Arc::new(smoke))
    }
}

/// `kind = "database"`: a test query, over `url` (SQLite) or the URL in the variable `url_env`.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DatabaseProbeConfig {
    /// `sqlite:PATH` (no secrets in it).
    pub url: Option<String>,
    /// The environment variable holding the URL (PostgreSQL, with its password).
    pub url_env: Option<String>,
    /// The query (default `SELECT 1`).
    pub query: Option<String>,
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl AdapterConfig for DatabaseProbeConfig {
    type Port = dyn Probe;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        if self.url.is_some() == self.url_env.is_some() {
            problems.push(Problem {
                path: at.to_owned(),
                message: "give exactly one of `url` (sqlite) or `url_env` (a variable holding the URL)".into(),
            });
        }
        if let Some(u) = &self.url {
            no_password(u, format!("{at}.url"), "url_env", problems);
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.url_env.iter().map(|var| SecretRef::new(at, "url_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Probe>, ConfigError> {
        let url = match (&self.url, &self.url_env) {
            (Some(u), _) => match u.strip_prefix("sqlite:") {
                Some(file) => format!("sqlite:{}", cx.path(Path::new(file)).display()),
                None => u.clone(),
            },
            (None, Some(var)) => cx.secret(var, &format!("{at}.url_env"))?.expose_secret().to_owned(),
            (None, None) => {
                return Err(ConfigError::invalid(format!("{at}: a database probe needs `url` or `url_env`")));
            }
        };
        let mut probe = super::db::DbProbe::new("database", url);
        if let Some(q) = &self.query {
            probe = probe.with_query(q);
        }
        Ok(Arc::new(probe))
    }
}

/// Where an environment's dependency versions are read (R-7f).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum DependencyConfig {
    /// An endpoint answering JSON.
    #[cfg(feature = "http")]
    Http(HttpDependenciesConfig),
    /// A command printing JSON or `name version` lines.
    #[cfg(feature = "command")]
    Command(CommandDependenciesConfig),
}

impl DependencyConfig {
    /// The one place the kinds are told apart.
    fn adapter(&self) -> &(dyn AdapterConfig<Port = dyn DependencyProbe> + Send + Sync) {
        match self {
            #[cfg(feature = "http")]
            DependencyConfig::Http(c) => c,
            #[cfg(feature = "command")]
            DependencyConfig::Command(c) => c,
        }
    }
}

impl AdapterConfig for DependencyConfig {
    type Port = dyn DependencyProbe;

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        self.adapter().secrets(at, found);
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn DependencyProbe>, ConfigError> {
        self.adapter().build(at, cx)
    }
}

/// `kind = "http"`: an endpoint answering JSON.
#[cfg(feature = "http")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct HttpDependenciesConfig {
    /// The URL (`{environment}` is replaced).
    pub url: String,
    /// Dependency name -> JSON Pointer of its version; without, the answer is an object of names to versions.
    #[serde(default)]
    pub pointers: BTreeMap<String, String>,
    /// The environment variable holding a bearer token.
    pub token_env: Option<String>,
}

#[cfg(feature = "http")]
impl AdapterConfig for HttpDependenciesConfig {
    type Port = dyn DependencyProbe;

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.token_env.iter().map(|var| SecretRef::new(at, "token_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn DependencyProbe>, ConfigError> {
        let mut p = super::dependencies::HttpDependencies::new(&self.url);
        for (dep, pointer) in &self.pointers {
            p = p.pointer(dep, pointer);
        }
        if let Some(var) = &self.token_env {
            p = p.with_token(cx.secret(var, &format!("{at}.token_env"))?);
        }
        Ok(Arc::new(p))
    }
}

/// `kind = "command"`: a command printing JSON or `name version` lines.
#[cfg(feature = "command")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandDependenciesConfig {
    /// The argv (`{environment}` is replaced).
    pub command: Vec<String>,
}

#[cfg(feature = "command")]
impl AdapterConfig for CommandDependenciesConfig {
    type Port = dyn DependencyProbe;

    fn build(&self, _at: &str, _cx: &Context) -> Result<Arc<dyn DependencyProbe>, ConfigError> {
        Ok(Arc::new(super::dependencies::CommandDependencies::new(self.command.clone())))
    }
}
