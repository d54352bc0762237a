//! `shipwarden.toml`: the project, its environments and targets, its people,
//! its adapters, and its policy overrides; and the [`ReleaseManager`] it
//! describes, with every adapter wired. The CLI and the bindings open
//! projects through here. Secrets are never in the file: only the names of
//! the environment variables that hold them.
//!
//! This module keeps the file's overall shape, its reading and the dispatch
//! to each adapter; each adapter's own configuration (its fields, checks and
//! construction) lives beside the adapter, in a `config.rs` of its folder.
//! A section with a `kind` is an internally tagged enum, one variant per
//! adapter, gated by the adapter's feature.

pub(crate) mod adapter;
mod deferred;
mod identity;
mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use shipwarden::engine::{EngineConfig, Ports, ReleaseManager, ReleaseManagerBuilder};
use shipwarden::ports::{
    ArtifactStore, Clock, EventStore, NotesPublisher, Notifier, PortError, Signer, StoreError, Ticketing,
};
use shipwarden::{Actor, EnvName, Policy, Problem, Role};

pub use self::adapter::SecretRef;
use self::adapter::{AdapterConfig, Context, duration};
pub use self::identity::IdentityConfig;
pub use self::server::{ConsoleConfig, OidcConfig, ProjectAccess, ServerConfig, SlackAppConfig, TlsFiles};
pub use crate::artifacts::config::{ArtifactsConfig, FsArtifactsConfig, OciArtifactsConfig};
pub use crate::backup::config::{BackupConfig, PgBackupConfig};
pub use crate::build::config::BuildConfig;
pub use crate::migrate::config::{CommandMigrationsConfig, MigrationsConfig, PgMigrationsConfig};
pub use crate::notes::config::{ConfluenceConfig, GithubConfig, NotesConfig, WikiConfig};
pub use crate::notify::config::{NotifyConfig, SlackConfig, SmtpConfig, WebhookConfig};
pub use crate::probes::config::{
    CommandDependenciesConfig, DatabaseProbeConfig, DependencyConfig, HostProbeConfig, HttpDependenciesConfig,
    HttpProbeConfig, ProbeConfig, PromQueryConfig, PrometheusProbeConfig, SmokeStepConfig, StepsProbeConfig,
    TcpProbeConfig, TlsProbeConfig,
};
pub use crate::store::config::{PostgresStoreConfig, SqliteStoreConfig, StoreConfig};
pub use crate::targets::config::{CommandTargetConfig, SshTargetConfig, TargetConfig};
pub use crate::ticketing::config::{GithubIssuesConfig, JiraConfig, LocalTicketingConfig, TicketingConfig};
use crate::ticketing::local::LocalTicketing;
use crate::vcs::git::GitRepo;

/// Why a configuration could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file has problems; each names its TOML path.
    #[error("{} problem(s) in the configuration: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Problems(Vec<Problem>),
    /// Bad input: an unreadable file, an unknown user, a missing environment variable.
    #[error("{0}")]
    Invalid(String),
    /// An adapter could not be set up.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The event store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConfigError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        ConfigError::Invalid(message.into())
    }
}

/// The whole file.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[project]`.
    pub project: Project,
    /// `[store]`: `kind = "sqlite"` (default) or `"postgres"`.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[vcs]`.
    #[serde(default)]
    pub vcs: VcsConfig,
    /// `[users.NAME]`.
    #[serde(default)]
    pub users: BTreeMap<String, User>,
    /// `[[escalation]]` (R-2e).
    #[serde(default)]
    pub escalation: Vec<Escalation>,
    /// `[build]`.
    pub build: Option<BuildConfig>,
    /// `[backup]`.
    pub backup: Option<BackupConfig>,
    /// `[artifacts]`: where artifacts are kept (default: `STATE_DIR/artifacts`).
    #[serde(default)]
    pub artifacts: ArtifactsConfig,
    /// `[ticketing]`: shipwarden's own tickets (default), Jira Cloud or GitHub Issues.
    #[serde(default)]
    pub ticketing: TicketingConfig,
    /// `[environments.NAME]`.
    #[serde(default)]
    pub environments: BTreeMap<String, Environment>,
    /// `[engine]`.
    #[serde(default)]
    pub engine: EngineSettings,
    /// `[notes]`: where release notes are published besides `STATE_DIR/notes`.
    #[serde(default)]
    pub notes: NotesConfig,
    /// `[notify]`: who is told besides `notices.jsonl`.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// `[evidence]`: how evidence bundles are signed and checked (R-9d).
    #[serde(default)]
    pub evidence: EvidenceConfig,
    /// `[policy]`: overrides of the default policy.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(with = "serde_json::Map<String, serde_json::Value>"))]
    pub policy: toml::Table,
    /// `[identity]`: which proofs of who acts each action needs, and where
    /// users' SSH keys are listed (issue #19).
    #[serde(default)]
    pub identity: IdentityConfig,
    /// `[server]`: how `shipwarden serve` listens and whom it trusts (issue #21).
    #[serde(default)]
    pub server: ServerConfig,
    /// `[approval_links]`: one-time approve / reject links in mailed
    /// approval requests (issue #23), read by the SMTP notifier and `serve`.
    pub approval_links: Option<ApprovalLinksConfig>,
}

/// `[approval_links]`: mailed approval requests carry each approver's own
/// signed, expiring, single-use Approve and Reject links to the console
/// (issue #23); `serve` checks and records them.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalLinksConfig {
    /// The environment variable holding the key links are signed with
    /// (HMAC-SHA256, at least 32 bytes); the same for the mailer and `serve`.
    pub secret_env: String,
    /// The console's base URL (`https://releases.example.com`): links go to
    /// `{console_url}/console/confirm?t=…`.
    pub console_url: String,
}

impl ApprovalLinksConfig {
    fn validate(&self, problems: &mut Vec<Problem>) {
        let url = self.console_url.as_str();
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        if !scheme_ok || url.contains(['?', '#', ' ']) {
            problems.push(Problem {
                path: "approval_links.console_url".into(),
                message: format!(
                    "`{url}` is not the console's base URL: give an http(s) URL without query (`https://releases.example.com`)"
                ),
            });
        }
        if self.secret_env.trim().is_empty() {
            problems.push(Problem {
                path: "approval_links.secret_env".into(),
                message: "name the environment variable holding the link key (`SHIPWARDEN_LINK_KEY`)".into(),
            });
        }
    }

    /// The key links are signed and checked with, read through `read` (a
    /// variable not set, or a key shorter than 32 bytes, is a configuration error).
    pub(crate) fn key_with(
        &self,
        read: impl FnOnce(&str, &str) -> Result<secrecy::SecretString, ConfigError>,
    ) -> Result<crate::links::LinkKey, ConfigError> {
        let secret = read(&self.secret_env, "approval_links.secret_env")?;
        crate::links::LinkKey::new(&secret)
            .map_err(|e| ConfigError::invalid(format!("approval_links.secret_env: `{}`: {e}", self.secret_env)))
    }

    /// The links' base: `{console_url}/console/confirm?t=`.
    pub fn confirm_url(&self) -> String {
        format!("{}/console/confirm?t=", self.console_url.trim_end_matches('/'))
    }
}

/// `[evidence]`.
#[derive(Debug, Clone, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// The environment variable holding the Ed25519 signing key (a 32-byte seed as 64 hex digits).
    pub signing_key_env: Option<String>,
    /// The public key (hex) bundles must be signed with, for `shipwarden evidence verify`.
    pub public_key: Option<String>,
    /// More public keys (hex) whose checkpoints `audit --verify` accepts, e.g. a retired key (R-9d).
    #[serde(default)]
    pub trusted_keys: Vec<String>,
    /// Where signed checkpoints are published besides the store (R-9d): `notes` (every checkpoint, as
    /// `<release>.heads.json` in the notes folder and the `[notes.wiki]` repository) and `ticket` (the
    /// close, as a comment on the release ticket).
    #[serde(default)]
    pub publish_heads: Vec<String>,
}

impl EvidenceConfig {
    /// The destinations of `publish_heads` this build knows, each once, in the file's order.
    pub fn head_destinations(&self) -> Vec<shipwarden::audit::HeadDestination> {
        let mut found = Vec::new();
        for d in self.publish_heads.iter().filter_map(|d| d.parse().ok()) {
            if !found.contains(&d) {
                found.push(d);
            }
        }
        found
    }

    /// Every problem of `[evidence]`, with its path.
    fn validate(&self, problems: &mut Vec<Problem>) {
        for (i, name) in self.publish_heads.iter().enumerate() {
            if name.parse::<shipwarden::audit::HeadDestination>().is_err() {
                let known: Vec<&str> = shipwarden::audit::HeadDestination::ALL.iter().map(|d| d.as_str()).collect();
                problems.push(Problem {
                    path: format!("evidence.publish_heads[{i}]"),
                    message: format!("unknown destination `{name}`; expected one of {}", known.join(", ")),
                });
            }
        }
        if !self.publish_heads.is_empty() && self.signing_key_env.is_none() {
            problems.push(Problem {
                path: "evidence.publish_heads".into(),
                message: "heads are published as signed checkpoints: set evidence.signing_key_env too".into(),
            });
        }
    }
}

impl AdapterConfig for EvidenceConfig {
    type Port = dyn Signer;

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.signing_key_env.iter().map(|var| SecretRef::new(at, "signing_key_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Signer>, ConfigError> {
        let var = self.signing_key_env.as_deref().unwrap_or_default();
        let key = cx.secret(var, &format!("{at}.signing_key_env"))?;
        Ok(Arc::new(crate::bundle::Ed25519Signer::from_seed_hex(&key)?))
    }
}

/// `[project]`.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// The project's name (`shop`).
    pub name: String,
    /// Prefix of shipwarden's own ticket keys (`SHOP`).
    pub ticket_prefix: Option<String>,
    /// The git repository, relative to this file.
    #[serde(default = "dot")]
    pub repository: PathBuf,
    /// Where the store, artifacts, backups, notes and notices live, relative to this file.
    #[serde(default = "state_dir")]
    pub state_dir: PathBuf,
    /// The calendar's time zone (sets `policy.calendar.time_zone`).
    pub time_zone: Option<String>,
}

fn dot() -> PathBuf {
    PathBuf::from(".")
}

fn state_dir() -> PathBuf {
    PathBuf::from(".shipwarden")
}

/// `[vcs]`.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VcsConfig {
    /// The remote tags are pushed to; none keeps tags local.
    pub remote: Option<String>,
}

/// `[engine]`: how long to wait for other drivers.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// How long to wait for a release or environment another driver holds (`10m`).
    pub lease_wait: Option<String>,
    /// How long a lease lasts without renewal (`30s`, at least 5s): after a driver dies, others wait this long.
    pub lease_ttl: Option<String>,
}

impl EngineSettings {
    /// The engine's settings: the defaults, then the file's (R-6e).
    fn engine_config(&self, problems: &mut Vec<Problem>) -> EngineConfig {
        let mut engine = EngineConfig::default();
        if let Some(wait) = duration(&self.lease_wait, "engine.lease_wait", problems) {
            engine.lease_wait = wait;
        }
        if let Some(ttl) = duration(&self.lease_ttl, "engine.lease_ttl", problems) {
            engine.lease_ttl = ttl;
        }
        engine
    }

    /// Every problem of `[engine]`, with its path: a lease shorter than
    /// [`EngineConfig::MIN_LEASE_TTL`] lapses while its holder deploys (R-6e).
    fn validate(&self, problems: &mut Vec<Problem>) {
        if let Err(found) = self.engine_config(problems).validate() {
            problems.extend(found.into_iter().map(|p| Problem {
                message: match &self.lease_ttl {
                    Some(text) if p.path == "lease_ttl" => format!(
                        "`{text}` is too short: a lease lasts at least {}s, or releases deploy to one environment at once",
                        EngineConfig::MIN_LEASE_TTL.as_secs()
                    ),
                    _ => p.message,
                },
                path: format!("engine.{}", p.path),
            }));
        }
    }
}

/// `[users.NAME]`.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The roles this person holds.
    #[cfg_attr(feature = "schema", schemars(with = "Vec<String>"))]
    pub roles: Vec<Role>,
    /// Their email address.
    pub email: Option<String>,
    /// The SSH public keys they sign approvals with (`ssh-ed25519 AAAA… comment`).
    #[serde(default)]
    pub ssh_keys: Vec<String>,
    /// Their Slack member id (`U0123ABC`, or `W…` on Enterprise Grid): a click
    /// on an Approve or Reject button by this Slack user acts as this user (issue #23).
    pub slack: Option<String>,
}

/// True when `id` looks like a Slack user id: `U` or `W`, then uppercase letters and digits.
pub fn is_slack_user_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && id.len() >= 3
        && id.len() <= 32
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// `[[escalation]]`: whom to call when a release is in trouble (R-2e).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Full name.
    pub name: String,
    /// Their role.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub role: Role,
    /// Email address.
    pub email: String,
    /// Phone, for the 2 AM call.
    pub phone: Option<String>,
}

/// `[environments.NAME]`.
#[derive(Debug, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Deploy targets.
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
    /// Pre-deployment checks (R-8a).
    #[serde(default)]
    pub checks: Vec<ProbeConfig>,
    /// Smoke tests (R-8f).
    #[serde(default)]
    pub smoke: Vec<ProbeConfig>,
    /// Probes sampled while a deployment runs and through the verification window (R-8e).
    #[serde(default)]
    pub monitors: Vec<ProbeConfig>,
    /// Where the versions of the external dependencies this environment runs are read (R-7f).
    #[serde(default)]
    pub dependencies: Vec<DependencyConfig>,
    /// The database migrations run before the targets deploy (R-7e, R-8b).
    pub migrations: Option<MigrationsConfig>,
    /// The environment's configuration settings, recorded on each deployment (R-9c).
    pub settings: Option<SettingsConfig>,
}

impl Environment {
    /// The probes of `checks`, `smoke` and `monitors`, each with its path.
    fn probes<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (String, &'a ProbeConfig)> + 'a {
        [("checks", &self.checks), ("smoke", &self.smoke), ("monitors", &self.monitors)].into_iter().flat_map(
            move |(list, probes)| {
                probes.iter().enumerate().map(move |(i, p)| (format!("environments.{name}.{list}[{i}]"), p))
            },
        )
    }
}

/// `[environments.NAME.settings]`: an env file whose keys are recorded (values only as hashes).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsConfig {
    /// The env file, relative to the config file (`deploy/prod.env`).
    pub file: PathBuf,
    /// Keys that are secrets besides the usual names (`STRIPE_*`); their values are never recorded.
    #[serde(default)]
    pub secret_keys: Vec<String>,
}

/// Where secrets are read from: the name of a variable to its value.
pub type SecretSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A loaded file: the config, where it is, and the policy it makes.
pub struct Loaded {
    /// The file's contents.
    pub config: Config,
    /// The folder holding the file (relative paths start here).
    pub base: PathBuf,
    /// The policy: defaults, then the file's overrides.
    pub policy: Policy,
    /// Where the secrets the file names are read from (default: the process environment).
    secrets: Option<SecretSource>,
    /// Whether adapters needing a secret are built when first used.
    defer: bool,
    /// Whether the store is opened read-only (verbs that only read: `status`, `list`, `audit`, `notes`).
    read_only: bool,
}

/// Reads a secret from the environment variable named at `path`.
pub fn secret(var: &str, path: &str) -> Result<SecretString, ConfigError> {
    std::env::var(var)
        .map(SecretString::from)
        .map_err(|_| ConfigError::invalid(format!("{path}: environment variable `{var}` is not set")))
}

/// Deserializes an internally tagged section whose `kind` may be left out
/// (then it is `kind`); `tagged` is the derived deserializer.
pub(crate) fn default_kind<'de, D, T>(
    deserializer: D,
    kind: &str,
    tagged: impl FnOnce(toml::Table) -> Result<T, toml::de::Error>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let mut table = toml::Table::deserialize(deserializer)?;
    table.entry("kind").or_insert_with(|| toml::Value::String(kind.to_owned()));
    tagged(table).map_err(|e| serde::de::Error::custom(e.message().trim()))
}

/// The line of `text` at byte `at`, for problems without a TOML path.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).unwrap_or(text).matches('\n').count() + 1
}

/// The key path of a serde path, as a reader writes it:
/// `environments.prod.targets[0].deploy`.
fn key_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// A serde message in plain words, and the key it is about when it names one
/// (a missing or unknown key is reported at that key, not at its table).
fn plain(message: &str) -> (Option<String>, String) {
    let ticked = |text: &str| text.split('`').skip(1).step_by(2).map(str::to_owned).collect::<Vec<_>>();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default().to_owned();
        return (Some(key), "is required but missing".into());
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let valid = ticked(expected);
        let hint = if valid.is_empty() { String::new() } else { format!("; the keys here are {}", valid.join(", ")) };
        return (Some(key.to_owned()), format!("is not a known key{hint}"));
    }
    if let Some((kind, expected)) = message.strip_prefix("unknown variant `").and_then(|r| r.split_once("`, expected "))
    {
        return (None, format!("unknown value \"{kind}\"; expected one of {}", ticked(expected).join(", ")));
    }
    if let Some((found, expected)) = message.strip_prefix("invalid type: ").and_then(|r| r.split_once(", expected ")) {
        return (None, format!("expected {expected}, found {found}"));
    }
    (None, message.to_owned())
}

/// A problem serde found, named with its key path (`environments.prod.targets[0].deploy`);
/// `file` names the file and line when there is no path.
fn serde_problem(e: serde_path_to_error::Error<toml::de::Error>, text: &str, file: Option<&Path>) -> Problem {
    let mut path = key_path(e.path());
    let inner = e.into_inner();
    let message = inner.message().trim().to_owned();
    let (key, mut message) = plain(&message);
    if let Some(key) = key.filter(|k| path != *k && !path.ends_with(&format!(".{k}"))) {
        path = if path.is_empty() { key } else { format!("{path}.{key}") };
    }
    if path.is_empty() {
        if let Some(file) = file {
            let line = inner.span().map(|s| format!(" (line {})", line_of(text, s.start)));
            return Problem { path: format!("{}{}", file.display(), line.unwrap_or_default()), message };
        }
        path = "(top level)".into();
    }
    if let Some(kinds) = message.strip_prefix("unknown value ").filter(|_| !path.ends_with(".kind")) {
        message = format!("unknown kind {kinds}");
        path = format!("{path}.kind");
    } else if let Some(kinds) = message.strip_prefix("unknown value ") {
        message = format!("unknown kind {kinds}");
    }
    Problem { path, message }
}

/// `value` as TOML: null means "not given" in a table; elsewhere it has no
/// TOML form and is a problem at its key path.
fn json_to_toml(value: serde_json::Value, path: &str, problems: &mut Vec<Problem>) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match value {
        J::Null => {
            problems.push(Problem { path: path.to_owned(), message: "null (None) is not a value here".into() });
            return None;
        }
        J::Bool(b) => toml::Value::Boolean(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => match n.as_f64() {
                Some(f) if n.is_f64() => toml::Value::Float(f),
                _ => {
                    problems.push(Problem { path: path.to_owned(), message: format!("{n} is too large") });
                    return None;
                }
            },
        },
        J::String(s) => toml::Value::String(s),
        J::Array(items) => toml::Value::Array(
            items
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| json_to_toml(v, &format!("{path}[{i}]"), problems))
                .collect(),
        ),
        J::Object(map) => toml::Value::Table(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .filter_map(|(k, v)| {
                    let child = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    json_to_toml(v, &child, problems).map(|v| (k, v))
                })
                .collect(),
        ),
    })
}

impl Loaded {
    /// Reads and checks `path`; every problem is reported, each with its TOML path.
    pub fn read(path: &Path) -> Result<Loaded, ConfigError> {
        let text = crate::files::read_text(path, crate::files::CONFIG_LIMIT)
            .map_err(|e| ConfigError::invalid(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text, path)
    }

    /// Parses the text of the file at `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
        let syntax = |e: toml::de::Error| {
            let at = e.span().map(|s| format!(" (line {})", line_of(text, s.start)));
            ConfigError::Problems(vec![Problem {
                path: format!("{}{}", path.display(), at.unwrap_or_default()),
                message: e.message().trim().to_owned(),
            }])
        };
        let deserializer = toml::Deserializer::parse(text).map_err(syntax)?;
        let config: Config = serde_path_to_error::deserialize(deserializer)
            .map_err(|e| ConfigError::Problems(vec![serde_problem(e, text, Some(path))]))?;
        let base = path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(dot);
        Self::checked(config, base)
    }

    /// A configuration built in code (a Python dict, a JavaScript object, a
    /// platform's own settings) in the shape of `shipwarden.toml`; relative
    /// paths in it are relative to `base`. A null (`None`) in a table means
    /// the key is not given. Problems name their key path
    /// (`environments.prod.targets[0].deploy`), never a file.
    pub fn from_value(value: serde_json::Value, base: &Path) -> Result<Loaded, ConfigError> {
        if !value.is_object() {
            return Err(ConfigError::Problems(vec![Problem {
                path: "(top level)".into(),
                message: "expected a table of sections (project, environments, …)".into(),
            }]));
        }
        let mut problems = Vec::new();
        let value = json_to_toml(value, "", &mut problems);
        if !problems.is_empty() {
            return Err(ConfigError::Problems(problems));
        }
        let value = value.unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
        let config: Config = serde_path_to_error::deserialize(value)
            .map_err(|e| ConfigError::Problems(vec![serde_problem(e, "", None)]))?;
        Self::checked(config, base.to_path_buf())
    }

    /// Checks a deserialized file against the policy it makes.
    fn checked(config: Config, base: PathBuf) -> Result<Loaded, ConfigError> {
        let mut problems = Vec::new();
        let mut overrides = config.policy.clone();
        if let Some(tz) = &config.project.time_zone {
            let calendar = overrides.entry("calendar").or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = calendar {
                t.insert("time_zone".into(), toml::Value::String(tz.clone()));
            }
        }
        identity::merge_into_policy(&config.identity, &config.store, &mut overrides);
        let policy = match Policy::from_toml_table(overrides) {
            Ok(p) => p,
            Err(e) => {
                problems.extend(e.problems.into_iter().map(|p| Problem { path: format!("policy.{}", p.path), ..p }));
                Policy::default()
            }
        };
        config.validate(&policy, &mut problems);
        if problems.is_empty() {
            Ok(Loaded { config, base, policy, secrets: None, defer: false, read_only: false })
        } else {
            Err(ConfigError::Problems(problems))
        }
    }

    /// Reads the secrets the file names from `source` instead of the process
    /// environment (a vault client, a platform's secret store, a test).
    pub fn with_secrets(mut self, source: SecretSource) -> Self {
        self.secrets = Some(source);
        self
    }

    /// Reads each secret only when the adapter that needs it is first used
    /// (R-2a): a command that does not use it runs without it, and a step
    /// that does fails, not retryable, naming the variable and its path.
    /// Without this, [`Loaded::manager`] reads every secret up front.
    pub fn defer_secrets(mut self) -> Self {
        self.defer = true;
        self
    }

    /// Opens the store read-only (issue #18): for verbs that only read, so they work on a store the
    /// user may not write (a read-only state folder, a copy) and can never change it. A SQLite store
    /// is opened without migrations; one whose schema is older than this build needs is an error
    /// saying so. A store that does not exist yet is created as before.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Whether the configured store exists yet (a SQLite file not created yet
    /// does not): a command that may be refused checks first, so that a refused
    /// first command leaves no store behind.
    pub fn store_exists(&self) -> bool {
        self.config.store.exists(&self.context())
    }

    /// Where the manager's adapters are built.
    fn context(&self) -> Context {
        self.context_with(self.defer)
    }

    /// Where adapters are built; `defer`: those needing a secret are built when first used.
    fn context_with(&self, defer: bool) -> Context {
        let people = self
            .config
            .users
            .iter()
            .map(|(name, u)| adapter::Person {
                name: name.clone(),
                roles: u.roles.clone(),
                email: u.email.clone(),
                slack: u.slack.clone(),
            })
            .collect();
        Context::new(
            self.base.clone(),
            self.state_dir(),
            self.config.project.name.clone(),
            self.policy.clone(),
            self.secrets.clone(),
            defer,
        )
        .with_people(people)
        .with_links(self.config.approval_links.clone())
    }

    /// The secret in the variable `var`, named at `path` of the file.
    pub fn secret(&self, var: &str, path: &str) -> Result<SecretString, ConfigError> {
        adapter::read_secret(&self.secrets, var, path)
    }

    /// The key of `[approval_links]`, when the section is there (issue #23).
    ///
    /// # Errors
    /// The variable is not set, or holds fewer than 32 bytes.
    pub fn approval_link_key(&self) -> Result<Option<crate::links::LinkKey>, ConfigError> {
        let Some(links) = &self.config.approval_links else { return Ok(None) };
        links.key_with(|var, path| self.secret(var, path)).map(Some)
    }

    /// Every secret the file names, with its path.
    pub fn secret_refs(&self) -> Vec<SecretRef> {
        self.config.secret_refs()
    }

    /// What `shipwarden policy check` warns of: each secret the file names
    /// whose variable is not set. Only the steps that use it need it.
    pub fn warnings(&self) -> Vec<Problem> {
        let what = if self.secrets.is_some() { "secret" } else { "environment variable" };
        self.secret_refs()
            .into_iter()
            .filter(|s| !adapter::has_secret(&self.secrets, &s.var))
            .map(|s| Problem {
                path: s.path,
                message: format!("{what} `{}` is not set; the steps that use it fail until it is", s.var),
            })
            .collect()
    }

    /// A path from the file, relative to its folder.
    pub fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base.join(p) }
    }

    /// [`Loaded::path`], with a leading `~/` read as the home folder (key files).
    pub fn home_path(&self, p: &Path) -> PathBuf {
        match (p.strip_prefix("~"), std::env::var_os("HOME")) {
            (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => self.path(p),
        }
    }

    /// The state folder.
    pub fn state_dir(&self) -> PathBuf {
        self.path(&self.config.project.state_dir)
    }

    /// The person running a command, with their roles.
    pub fn actor(&self, user: &str) -> Result<Actor, ConfigError> {
        let person = self.config.users.get(user).ok_or_else(|| {
            let known: Vec<&str> = self.config.users.keys().map(String::as_str).collect();
            ConfigError::invalid(format!(
                "`{user}` is not in [users] of shipwarden.toml (known: {}); pass --as NAME or set SHIPWARDEN_USER",
                if known.is_empty() { "nobody".to_owned() } else { known.join(", ") }
            ))
        })?;
        Ok(Actor::new(user, person.roles.iter().cloned()))
    }

    /// Opens the event store.
    pub async fn store(&self) -> Result<(Arc<dyn EventStore>, Option<LocalTicketing>), ConfigError> {
        self.config.store.open("store", &self.context(), self.ticket_prefix(), self.read_only).await
    }

    /// The prefix of shipwarden's own ticket keys: `project.ticket_prefix`, or the project's name.
    fn ticket_prefix(&self) -> String {
        self.config.project.ticket_prefix.clone().unwrap_or_else(|| self.config.project.name.clone())
    }

    /// Where notes go: the state folder, and the configured wiki, GitHub and
    /// Confluence; built now, with their secrets (the caller is about to publish).
    pub fn publishers(&self) -> Result<Arc<dyn NotesPublisher>, ConfigError> {
        self.config.notes.build(&self.context_with(false))
    }

    /// The artifact store: a folder in the state folder, or an OCI registry; built now, with its secret.
    pub fn artifacts(&self) -> Result<Arc<dyn ArtifactStore>, ConfigError> {
        self.context_with(false).port(&self.config.artifacts, "artifacts")
    }

    /// The configured remote ticketing system (Jira, GitHub), if any; built now, with its secret.
    pub fn ticketing(&self) -> Result<Option<Arc<dyn Ticketing>>, ConfigError> {
        self.config.ticketing.remote("ticketing", &self.context_with(false))
    }

    /// The release manager with every configured adapter.
    pub async fn manager(
        &self,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<(ReleaseManager, Option<LocalTicketing>), ConfigError> {
        let (builder, tickets) = self.builder(clock).await?;
        Ok((builder.build(), tickets))
    }

    /// A builder with every configured adapter, for callers that add ports of their own (the bindings).
    pub async fn builder(
        &self,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<(ReleaseManagerBuilder, Option<LocalTicketing>), ConfigError> {
        let cx = self.context();
        let config = &self.config;
        let (store, tickets) = config.store.open("store", &cx, self.ticket_prefix(), self.read_only).await?;
        let repo = self.path(&config.project.repository);
        let mut git = GitRepo::new(&repo);
        if let Some(remote) = &config.vcs.remote {
            git = git.with_remote(remote);
        }
        let artifacts = cx.port(&config.artifacts, "artifacts")?;
        let cx = cx.with_artifacts(artifacts.clone());
        let mut notifiers =
            vec![Arc::new(crate::notify::file::FileNotifier::new(cx.state_dir().join("notices.jsonl")))
                as Arc<dyn Notifier>];
        notifiers.extend(config.notify.build(&cx)?);
        let mut ports = Ports {
            vcs: repo.join(".git").exists().then(|| Arc::new(git) as _),
            ticketing: match config.ticketing.remote("ticketing", &cx)? {
                Some(remote) => Some(remote),
                None => tickets.clone().map(|t| Arc::new(t) as _),
            },
            artifacts: Some(artifacts),
            notes: Some(config.notes.build(&cx)?),
            notifiers,
            builder: config.build.as_ref().map(|b| b.build(&repo)),
            // Every step's whole log beside the store; the audit trail keeps an excerpt (R-9d).
            logs: Some(Arc::new(crate::logs::FileLogArchive::new(cx.state_dir().join("logs")))),
            ..Ports::default()
        };
        if let Some(b) = &config.backup {
            ports.backup = Some(cx.port(b, "backup")?);
        }
        for (name, env) in &config.environments {
            let env_name: EnvName = name
                .parse()
                .map_err(|e: shipwarden::ParseError| ConfigError::invalid(format!("environments.{name}: {e}")))?;
            for (i, t) in env.targets.iter().enumerate() {
                let target = t.build(&format!("environments.{name}.targets[{i}]"), &cx)?;
                ports.targets.entry(env_name.clone()).or_default().push(target);
            }
            for (list, probes, into) in [
                ("checks", &env.checks, &mut ports.checks),
                ("smoke", &env.smoke, &mut ports.smoke),
                ("monitors", &env.monitors, &mut ports.monitors),
            ] {
                for (i, p) in probes.iter().enumerate() {
                    let probe = cx.port(p, &format!("environments.{name}.{list}[{i}]"))?;
                    into.entry(env_name.clone()).or_default().push(probe);
                }
            }
            for (i, d) in env.dependencies.iter().enumerate() {
                let probe = cx.port(d, &format!("environments.{name}.dependencies[{i}]"))?;
                ports.dependencies.entry(env_name.clone()).or_default().push(probe);
            }
            if let Some(c) = &env.settings {
                let source = crate::settings::EnvFileSettings::new(cx.path(&c.file)).secret_keys(c.secret_keys.clone());
                ports.settings.insert(env_name.clone(), Arc::new(source));
            }
            if let Some(m) = &env.migrations {
                ports.migrators.insert(env_name.clone(), cx.port(m, &format!("environments.{name}.migrations"))?);
            }
        }
        if config.evidence.signing_key_env.is_some() {
            ports.signer = Some(cx.port(&config.evidence, "evidence")?);
        }
        let mut engine = config.engine.engine_config(&mut Vec::new());
        engine.publish_heads = config.evidence.head_destinations();
        let escalation = config
            .escalation
            .iter()
            .map(|e| shipwarden::EscalationContact {
                name: e.name.clone(),
                email: e.email.clone(),
                role: e.role.clone(),
                phone: e.phone.clone(),
            })
            .collect();
        let mut builder = ReleaseManager::builder(store)
            .policy(self.policy.clone())
            .ports(ports)
            .config(engine)
            .escalation(escalation);
        if let Some(clock) = clock {
            builder = builder.clock(clock);
        }
        Ok((builder, tickets))
    }
}

impl Config {
    /// Every problem beyond what serde checks, each with its TOML path.
    fn validate(&self, policy: &Policy, problems: &mut Vec<Problem>) {
        identity::validate_keys(self, problems);
        self.server.validate(problems);
        if let Some(links) = &self.approval_links {
            links.validate(problems);
        }
        if self.project.name.trim().is_empty() {
            problems.push(Problem { path: "project.name".into(), message: "name the project (`shop`)".into() });
        } else if let Err(e) =
            shipwarden::ReleaseId::for_version(&self.project.name, &shipwarden::Version::new(1, 0, 0))
        {
            // The name starts every release id (`shop-1.4.0`): one that cannot would only fail at `plan` (issue #18).
            problems.push(Problem {
                path: "project.name".into(),
                message: format!(
                    "`{}` cannot start a release id `<name>-<version>`: {}",
                    self.project.name, e.expected
                ),
            });
        }
        for (name, user) in &self.users {
            for (i, role) in user.roles.iter().enumerate() {
                if !policy.roles.contains(role) {
                    problems.push(Problem {
                        path: format!("users.{name}.roles[{i}]"),
                        message: format!("unknown role `{role}`; the policy's roles are {}", join(&policy.roles)),
                    });
                }
            }
        }
        let mut slack_ids: BTreeMap<&str, &str> = BTreeMap::new();
        for (name, user) in &self.users {
            let Some(id) = user.slack.as_deref() else { continue };
            if !is_slack_user_id(id) {
                problems.push(Problem {
                    path: format!("users.{name}.slack"),
                    message: format!(
                        "`{id}` is not a Slack user id (`U0123ABC`: U or W, then uppercase letters and digits)"
                    ),
                });
            } else if let Some(other) = slack_ids.insert(id, name) {
                problems.push(Problem {
                    path: format!("users.{name}.slack"),
                    message: format!(
                        "`{id}` is already the Slack id of users.{other}: one Slack user is one shipwarden user"
                    ),
                });
            }
        }
        for (i, e) in self.escalation.iter().enumerate() {
            if !policy.roles.contains(&e.role) {
                problems.push(Problem {
                    path: format!("escalation[{i}].role"),
                    message: format!("unknown role `{}`", e.role),
                });
            }
        }
        for (name, env) in &self.environments {
            let known = name.parse::<EnvName>().ok().is_some_and(|n| policy.environment(&n).is_some());
            if !known {
                let names: Vec<String> = policy.environments.iter().map(|e| e.name.to_string()).collect();
                problems.push(Problem {
                    path: format!("environments.{name}"),
                    message: format!("not an environment of the policy ({})", names.join(", ")),
                });
            }
            for (i, t) in env.targets.iter().enumerate() {
                t.validate(&format!("environments.{name}.targets[{i}]"), problems);
            }
            if let Some(m) = &env.migrations {
                m.validate(&format!("environments.{name}.migrations"), problems);
            }
            for (at, p) in env.probes(name) {
                p.validate(&at, problems);
            }
            for (i, d) in env.dependencies.iter().enumerate() {
                d.validate(&format!("environments.{name}.dependencies[{i}]"), problems);
            }
        }
        self.engine.validate(problems);
        self.evidence.validate(problems);
        for (at, n) in self.notify.each() {
            n.validate(&at, problems);
        }
        self.artifacts.validate("artifacts", problems);
        self.ticketing.validate("ticketing", problems);
        if let Some(b) = &self.backup {
            b.validate("backup", problems);
        }
        if let Some(b) = &self.build {
            b.validate("build", problems);
        }
        self.store.validate("store", problems);
    }

    /// Every secret the file names, with its path.
    fn secret_refs(&self) -> Vec<SecretRef> {
        let mut found = Vec::new();
        self.store.secrets("store", &mut found);
        self.artifacts.secrets("artifacts", &mut found);
        self.ticketing.secrets("ticketing", &mut found);
        self.notes.secrets(&mut found);
        for (at, n) in self.notify.each() {
            n.secrets(&at, &mut found);
        }
        if let Some(b) = &self.backup {
            b.secrets("backup", &mut found);
        }
        for (name, env) in &self.environments {
            for (at, p) in env.probes(name) {
                p.secrets(&at, &mut found);
            }
            for (i, d) in env.dependencies.iter().enumerate() {
                d.secrets(&format!("environments.{name}.dependencies[{i}]"), &mut found);
            }
            if let Some(m) = &env.migrations {
                m.secrets(&format!("environments.{name}.migrations"), &mut found);
            }
        }
        self.evidence.secrets("evidence", &mut found);
        self.server.secrets(&mut found);
        if let Some(links) = &self.approval_links {
            found.push(SecretRef::new("approval_links", "secret_env", &links.secret_env));
        }
        found
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// The commented file `shipwarden init` writes.
pub fn template(project: &str) -> String {
    let prefix: String = project.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase();
    include_str!("init.toml").replace("{project}", project).replace("{PREFIX}", &prefix)
}

/// The JSON Schema (draft 2020-12) of `shipwarden.toml`, and of the dict or
/// object the bindings accept in its place. Editors that read JSON Schema for
/// TOML (taplo, Even Better TOML) use it to complete and check the file.
#[cfg(feature = "schema")]
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Config).to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert("title".into(), "shipwarden.toml".into());
    }
    // Sections whose `kind` may be left out: their default kind does not require it.
    for (section, kind) in [
        ("TargetConfig", "command"),
        ("StoreConfig", "sqlite"),
        ("ArtifactsConfig", "fs"),
        ("TicketingConfig", "local"),
    ] {
        let variants = schema.pointer_mut(&format!("/$defs/{section}/oneOf")).and_then(serde_json::Value::as_array_mut);
        for variant in variants.into_iter().flatten() {
            if variant.pointer("/properties/kind/const").and_then(serde_json::Value::as_str) == Some(kind)
                && let Some(required) = variant.get_mut("required").and_then(serde_json::Value::as_array_mut)
            {
                required.retain(|r| r != "kind");
            }
        }
    }
    schema
}
