//! `shipwarden.toml`: the project, its environments and targets, its people,
//! its adapters, and its policy overrides; and the [`ReleaseManager`] it
//! describes, with every adapter wired. The CLI and the bindings open
//! projects through here. Secrets are never in the file: only the names of
//! the environment variables that hold them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::artifacts::fs::FsArtifactStore;
use crate::artifacts::oci::{OciArtifactStore, OciAuth, OciOptions};
use crate::backup::file::FileBackup;
use crate::backup::postgres::PgBackup;
use crate::build::command::CommandBuilder;
use crate::migrate::{command::CommandMigrator, postgres::PgMigrator};
use crate::notes::AllNotes;
use crate::notes::confluence::ConfluenceNotes;
use crate::notes::file::FileNotes;
use crate::notes::github::GithubReleases;
use crate::notes::wiki::WikiNotes;
use crate::notify::file::FileNotifier;
use crate::notify::slack::SlackNotifier;
use crate::notify::smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
use crate::notify::webhook::WebhookNotifier;
use crate::probes::dependencies::{CommandDependencies, HttpDependencies};
use crate::probes::prometheus::PrometheusProbe;
use crate::probes::smoke::{Expect, HttpSmoke, SmokeStep};
use crate::probes::{db::DbProbe, host::HostProbe, http::HttpProbe, tcp::TcpProbe, tls::TlsProbe};
#[cfg(feature = "postgres")]
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::targets::command::CommandTarget;
use crate::targets::ssh::{SshHost, SshTarget};
use crate::ticketing::github::GithubIssues;
use crate::ticketing::jira::JiraTicketing;
use crate::ticketing::local::LocalTicketing;
use crate::vcs::git::GitRepo;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shipwarden::engine::{EngineConfig, Ports, ReleaseManager, ReleaseManagerBuilder};
use shipwarden::ports::{
    ArtifactStore, Clock, DependencyProbe, DeployTarget, EventStore, Migrator, NotesPublisher, Notifier, Probe,
    Ticketing,
};
use shipwarden::{Actor, EnvName, GateId, Policy, Problem, Role};

use shipwarden::ports::{PortError, StoreError};

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
    fn invalid(message: impl Into<String>) -> Self {
        ConfigError::Invalid(message.into())
    }
}

/// The whole file.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[project]`.
    pub project: Project,
    /// `[store]`.
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
    pub policy: toml::Table,
}

/// `[evidence]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// The environment variable holding the Ed25519 signing key (a 32-byte seed as 64 hex digits).
    pub signing_key_env: Option<String>,
    /// The public key (hex) bundles must be signed with, for `shipwarden evidence verify`.
    pub public_key: Option<String>,
}

/// `[project]`.
#[derive(Debug, Deserialize, Default)]
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

/// `[store]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `sqlite` (default) or `postgres`.
    pub kind: Option<String>,
    /// SQLite: the file (default `STATE_DIR/releases.db`).
    pub path: Option<PathBuf>,
    /// PostgreSQL: the environment variable holding the connection URL.
    pub url_env: Option<String>,
}

/// `[vcs]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct VcsConfig {
    /// The remote tags are pushed to; none keeps tags local.
    pub remote: Option<String>,
}

/// `[engine]`: how long to wait for other drivers.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// How long to wait for a release or environment another driver holds (`10m`).
    pub lease_wait: Option<String>,
    /// How long a lease lasts without renewal (`30s`): after a driver dies, others wait this long.
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
    fn check(&self, problems: &mut Vec<Problem>) {
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

/// `[notify]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// `[[notify.webhooks]]`: notices POSTed as signed JSON.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// `[[notify.smtp]]`: notices by mail.
    #[serde(default)]
    pub smtp: Vec<SmtpConfig>,
    /// `[[notify.slack]]`: notices to Slack channels.
    #[serde(default)]
    pub slack: Vec<SlackConfig>,
}

/// `[[notify.smtp]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name.
    pub host: String,
    /// Its port (587 for `starttls`, 465 for `tls`).
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (a relay on loopback only).
    pub security: Option<String>,
    /// The sender (`Releases <releases@example.com>`).
    pub from: String,
    /// The user to sign in as, if the server asks.
    pub user: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// A PEM file of extra trusted CA certificates (a private relay).
    pub ca_file: Option<PathBuf>,
    /// How long an exchange may take (`30s`).
    pub timeout: Option<String>,
    /// Recipients by audience: `teams`, `stakeholders`, `clients` (sent as Bcc), or a group's name.
    #[serde(default)]
    pub to: BTreeMap<String, Vec<String>>,
}

/// `[[notify.slack]]`: an incoming webhook (`webhook_env`) or a channel with a bot token (`channel`, `token_env`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// The environment variable holding the incoming webhook's URL (its path is a secret).
    pub webhook_env: Option<String>,
    /// The channel for `chat.postMessage` (`C0123` or `#releases`).
    pub channel: Option<String>,
    /// The environment variable holding the bot token (`xoxb-…`).
    pub token_env: Option<String>,
    /// The Web API (default `https://slack.com/api`).
    pub api: Option<String>,
    /// Send only notices for these audiences (default: all).
    pub audiences: Option<Vec<String>>,
    /// How long a POST may take (`10s`).
    pub timeout: Option<String>,
}

/// `[artifacts]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsConfig {
    /// `fs` (default: `STATE_DIR/artifacts`) or `oci`.
    pub kind: Option<String>,
    /// OCI: the registry (`ghcr.io`, `harbor.example.com`, `127.0.0.1:5000`).
    pub registry: Option<String>,
    /// OCI: the namespace repositories live under (`acme/releases`).
    pub namespace: Option<String>,
    /// OCI: plain HTTP (a registry on loopback or a private network).
    #[serde(default)]
    pub insecure_http: bool,
    /// OCI: the user to sign in as.
    pub user: Option<String>,
    /// OCI: the environment variable holding the password or token.
    pub password_env: Option<String>,
    /// OCI: the layer's media type.
    pub media_type: Option<String>,
}

/// `[ticketing]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TicketingConfig {
    /// `local` (default: tickets in the SQLite store), `jira` or `github`.
    pub kind: Option<String>,
    /// Jira: the site (`https://acme.atlassian.net`); GitHub: the API (default `https://api.github.com`).
    pub url: Option<String>,
    /// Jira: the account's e-mail.
    pub email: Option<String>,
    /// The environment variable holding the API token.
    pub token_env: Option<String>,
    /// Jira: the project for release tickets and versions (`SHOP`).
    pub project: Option<String>,
    /// Jira: the issue type of release tickets (default `Task`).
    pub release_issue_type: Option<String>,
    /// GitHub: the repository's owner.
    pub owner: Option<String>,
    /// GitHub: the repository.
    pub repo: Option<String>,
}

/// `[[notify.webhooks]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (no credentials in it).
    pub url: String,
    /// The environment variable holding the HMAC secret, if the receiver checks signatures.
    pub secret_env: Option<String>,
    /// How long one POST may take (`10s`).
    pub timeout: Option<String>,
}

/// `[notes]`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NotesConfig {
    /// A Confluence Cloud space.
    pub confluence: Option<ConfluenceConfig>,
    /// A wiki git repository.
    pub wiki: Option<WikiConfig>,
    /// GitHub releases.
    pub github: Option<GithubConfig>,
}

/// `[notes.confluence]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfluenceConfig {
    /// The site's wiki URL (`https://acme.atlassian.net/wiki`).
    pub url: String,
    /// The space key (`REL`).
    pub space: String,
    /// The page new pages go under, by id.
    pub parent_id: Option<String>,
    /// The account's email.
    pub email: String,
    /// The environment variable holding its API token.
    pub token_env: String,
}

/// `[notes.wiki]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WikiConfig {
    /// The wiki's git URL (`git@github.com:acme/shop.wiki.git`) or path.
    pub remote: String,
    /// Its branch (default `master`).
    pub branch: Option<String>,
    /// The page name, with `{version}` and `{release}`.
    pub page: Option<String>,
}

/// `[notes.github]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubConfig {
    /// The repository's owner.
    pub owner: String,
    /// The repository.
    pub repo: String,
    /// The environment variable holding the token.
    pub token_env: String,
    /// The API (default `https://api.github.com`).
    pub api: Option<String>,
}

/// `[users.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The roles this person holds.
    pub roles: Vec<Role>,
    /// Their email address.
    pub email: Option<String>,
}

/// `[[escalation]]`: whom to call when a release is in trouble (R-2e).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Full name.
    pub name: String,
    /// Their role.
    pub role: Role,
    /// Email address.
    pub email: String,
    /// Phone, for the 2 AM call.
    pub phone: Option<String>,
}

/// `[build]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildConfig {
    /// The build command (argv).
    pub command: Vec<String>,
    /// Artifact name -> path the build leaves it at (relative to the repository).
    pub artifacts: BTreeMap<String, String>,
    /// How long the build may take (`30m`).
    pub timeout: Option<String>,
}

/// `[backup]`: files (`paths`) or PostgreSQL databases (`[backup.postgres]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Files to back up before a production deployment (databases, configuration).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// PostgreSQL databases backed up with `pg_dump`.
    pub postgres: Option<PgBackupConfig>,
}

/// `[backup.postgres]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PgBackupConfig {
    /// Environment name -> database URL without a password (`postgres://app@db:5432/shop`).
    pub databases: BTreeMap<String, String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// Where dumps are kept (default `STATE_DIR/backups`).
    pub dir: Option<PathBuf>,
    /// The folder of `pg_dump` and `pg_restore` (default: the `PATH`).
    pub bin_dir: Option<PathBuf>,
}

/// `[environments.NAME]`.
#[derive(Debug, Deserialize, Default)]
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

/// `[environments.NAME.settings]`: an env file whose keys are recorded (values only as hashes).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsConfig {
    /// The env file, relative to the config file (`deploy/prod.env`).
    pub file: PathBuf,
    /// Keys that are secrets besides the usual names (`STRIPE_*`); their values are never recorded.
    #[serde(default)]
    pub secret_keys: Vec<String>,
}

/// `[environments.NAME.migrations]`: the built-in PostgreSQL runner
/// (`kind = "postgres"`, `<id>.up.sql`/`<id>.down.sql` files) or any tool
/// behind commands (`kind = "command"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    /// `postgres` or `command`.
    pub kind: String,
    /// The folder of migration files, relative to the config file.
    pub dir: PathBuf,
    /// postgres: the database URL, without a password.
    pub url: Option<String>,
    /// postgres: the environment variable holding the password.
    pub password_env: Option<String>,
    /// postgres: the table recording applied migrations (`shipwarden_migrations`).
    pub table: Option<String>,
    /// command: the tool's name (`flyway`).
    pub name: Option<String>,
    /// command: the apply command (argv; `{environment}`, `{dir}`, `{key}`, `{digest}`).
    #[serde(default)]
    pub apply: Vec<String>,
    /// command: the revert command (argv).
    #[serde(default)]
    pub revert: Vec<String>,
    /// command: how long a command may run (`30m`).
    pub timeout: Option<String>,
}

/// Where an environment's dependency versions are read.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DependencyConfig {
    /// An endpoint answering JSON.
    Http {
        /// The URL (`{environment}` is replaced).
        url: String,
        /// Dependency name -> JSON Pointer of its version; without, the answer is an object of names to versions.
        #[serde(default)]
        pointers: BTreeMap<String, String>,
        /// The environment variable holding a bearer token.
        token_env: Option<String>,
    },
    /// A command printing JSON or `name version` lines.
    Command {
        /// The argv (`{environment}` is replaced).
        command: Vec<String>,
    },
}

/// One request of a `steps` smoke test (R-8f).
#[derive(Debug, Deserialize)]
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

/// A deploy target: commands run here (`kind = "command"`, the default) or on a host over SSH (`kind = "ssh"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Its name (`web-1`).
    pub name: String,
    /// `command` (default) or `ssh`.
    pub kind: Option<String>,
    /// SSH: the host.
    pub host: Option<String>,
    /// SSH: the port (22).
    pub port: Option<u16>,
    /// SSH: the user.
    pub user: Option<String>,
    /// SSH: the private key file.
    pub identity: Option<PathBuf>,
    /// SSH: the `known_hosts` file the host key is checked against.
    pub known_hosts: Option<PathBuf>,
    /// SSH: the folder on the host releases are uploaded to and commands run in.
    pub dir: Option<String>,
    /// Deploy command (argv; placeholders `{release}`, `{version}`, `{environment}`, `{key}`, `{artifacts}`).
    pub deploy: Vec<String>,
    /// Rollback command (argv).
    pub rollback: Vec<String>,
    /// Status command (argv): exit 0 when the key was done.
    pub status: Option<Vec<String>>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How long one command may run (`10m`).
    pub timeout: Option<String>,
}

/// A probe.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProbeConfig {
    /// CPU, memory, free disk of this host.
    Host {
        /// Measure free space on the disk holding this path.
        disk: Option<PathBuf>,
    },
    /// HTTP status and p95 latency.
    Http {
        /// The URL.
        url: String,
        /// Requests to send.
        requests: Option<u32>,
        /// Expected status (200).
        status: Option<u16>,
        /// The gate the p95 is for (`response_time`, `p95_latency`).
        gate: Option<GateId>,
    },
    /// TLS handshake and certificate expiry.
    Tls {
        /// Host to connect to.
        host: String,
        /// Port.
        port: u16,
        /// Name the certificate must be valid for (default: host).
        server_name: Option<String>,
        /// Trust only this PEM file.
        ca_file: Option<PathBuf>,
    },
    /// TCP reachability.
    Tcp {
        /// `host:port`.
        address: String,
    },
    /// PromQL queries against Prometheus, each evidence for a gate.
    Prometheus {
        /// The server (`http://prometheus:9090`).
        url: String,
        /// The queries.
        queries: Vec<PromQueryConfig>,
        /// The environment variable holding a bearer token, if the server asks for one.
        token_env: Option<String>,
        /// How long a query may take (`10s`).
        timeout: Option<String>,
    },
    /// Key-feature checks as HTTP steps: login, then API calls with its token (R-8f).
    Steps {
        /// The smoke test's name.
        name: String,
        /// How long all steps may take (default: the policy's smoke-test deadline).
        deadline: Option<String>,
        /// `${name}` -> the environment variable holding a secret the steps use (a password).
        #[serde(default)]
        secrets: BTreeMap<String, String>,
        /// The steps, in order.
        steps: Vec<SmokeStepConfig>,
    },
    /// A database test query.
    Database {
        /// `sqlite:PATH` (no secrets in it).
        url: Option<String>,
        /// The environment variable holding the URL (PostgreSQL, with its password).
        url_env: Option<String>,
        /// The query (default `SELECT 1`).
        query: Option<String>,
    },
}

/// Where secrets are read from: the name of a variable to its value.
pub type SecretSource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// One PromQL query of a `prometheus` probe.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromQueryConfig {
    /// The gate it is evidence for (`response_time`, `cpu`, `error_rate`).
    pub gate: GateId,
    /// The PromQL; `{environment}` is replaced by the environment's name.
    pub query: String,
    /// Each value is multiplied by this (`1000`: seconds to ms; default 1).
    pub scale: Option<f64>,
}

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
}

fn duration(text: &Option<String>, path: &str, problems: &mut Vec<Problem>) -> Option<Duration> {
    let text = text.as_ref()?;
    match text.parse::<jiff::SignedDuration>().ok().and_then(|d| Duration::try_from(d).ok()) {
        Some(d) => Some(d),
        None => {
            problems.push(Problem {
                path: path.into(),
                message: format!("`{text}` is not a duration (`90s`, `10m`, `1h`)"),
            });
            None
        }
    }
}

/// Reads a secret from the environment variable named at `path`.
pub fn secret(var: &str, path: &str) -> Result<SecretString, ConfigError> {
    std::env::var(var)
        .map(SecretString::from)
        .map_err(|_| ConfigError::invalid(format!("{path}: environment variable `{var}` is not set")))
}

impl Loaded {
    /// Reads and checks `path`; every problem is reported, each with its TOML path.
    pub fn read(path: &Path) -> Result<Loaded, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::invalid(format!(
                "cannot read {}: {e}\n  run `shipwarden init` to write one, or pass --config",
                path.display()
            ))
        })?;
        Self::parse(&text, path)
    }

    /// Parses the text of the file at `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let at = e.span().map(|s| {
                let line = text[..s.start.min(text.len())].lines().count().max(1);
                format!(" (line {line})")
            });
            ConfigError::Problems(vec![Problem {
                path: format!("{}{}", path.display(), at.unwrap_or_default()),
                message: e.message().trim().to_owned(),
            }])
        })?;
        let base = path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(dot);
        let mut problems = Vec::new();
        let mut overrides = config.policy.clone();
        if let Some(tz) = &config.project.time_zone {
            let calendar = overrides.entry("calendar").or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = calendar {
                t.insert("time_zone".into(), toml::Value::String(tz.clone()));
            }
        }
        let policy = match Policy::from_toml_table(overrides) {
            Ok(p) => p,
            Err(e) => {
                problems.extend(e.problems.into_iter().map(|p| Problem { path: format!("policy.{}", p.path), ..p }));
                Policy::default()
            }
        };
        if config.project.name.trim().is_empty() {
            problems.push(Problem { path: "project.name".into(), message: "name the project (`shop`)".into() });
        }
        for (name, user) in &config.users {
            for (i, role) in user.roles.iter().enumerate() {
                if !policy.roles.contains(role) {
                    problems.push(Problem {
                        path: format!("users.{name}.roles[{i}]"),
                        message: format!("unknown role `{role}`; the policy's roles are {}", join(&policy.roles)),
                    });
                }
            }
        }
        for (i, e) in config.escalation.iter().enumerate() {
            if !policy.roles.contains(&e.role) {
                problems.push(Problem {
                    path: format!("escalation[{i}].role"),
                    message: format!("unknown role `{}`", e.role),
                });
            }
        }
        for (name, env) in &config.environments {
            let known = name.parse::<EnvName>().ok().is_some_and(|n| policy.environment(&n).is_some());
            if !known {
                let names: Vec<String> = policy.environments.iter().map(|e| e.name.to_string()).collect();
                problems.push(Problem {
                    path: format!("environments.{name}"),
                    message: format!("not an environment of the policy ({})", names.join(", ")),
                });
            }
            for (i, t) in env.targets.iter().enumerate() {
                let at = format!("environments.{name}.targets[{i}]");
                if t.deploy.is_empty() {
                    problems.push(Problem {
                        path: format!("{at}.deploy"),
                        message: "give the deploy command as an argv".into(),
                    });
                }
                if t.rollback.is_empty() {
                    problems.push(Problem {
                        path: format!("{at}.rollback"),
                        message: "give the rollback command as an argv (R-8g)".into(),
                    });
                }
                duration(&t.timeout, &format!("{at}.timeout"), &mut problems);
                match t.kind.as_deref() {
                    None | Some("command") => {}
                    Some("ssh") => {
                        for (field, given) in [
                            ("host", t.host.is_some()),
                            ("user", t.user.is_some()),
                            ("identity", t.identity.is_some()),
                            ("known_hosts", t.known_hosts.is_some()),
                            ("dir", t.dir.is_some()),
                        ] {
                            if !given {
                                problems.push(Problem {
                                    path: format!("{at}.{field}"),
                                    message: "an ssh target needs it".into(),
                                });
                            }
                        }
                    }
                    Some(other) => problems.push(Problem {
                        path: format!("{at}.kind"),
                        message: format!("`{other}`: use `command` or `ssh`"),
                    }),
                }
            }
            if let Some(m) = &env.migrations {
                let at = format!("environments.{name}.migrations");
                match m.kind.as_str() {
                    "postgres" => match &m.url {
                        None => problems.push(Problem {
                            path: format!("{at}.url"),
                            message: "the postgres runner needs the database URL".into(),
                        }),
                        Some(u) if crate::pg_url::holds_password(u) => problems.push(Problem {
                            path: format!("{at}.url"),
                            message: "this URL holds a password: name the variable holding it in `password_env`".into(),
                        }),
                        Some(_) => {}
                    },
                    "command" => {
                        for (field, argv) in [("apply", &m.apply), ("revert", &m.revert)] {
                            if argv.is_empty() {
                                problems.push(Problem {
                                    path: format!("{at}.{field}"),
                                    message: "give the command as an argv".into(),
                                });
                            }
                        }
                    }
                    other => problems.push(Problem {
                        path: format!("{at}.kind"),
                        message: format!("`{other}`: use `postgres` or `command`"),
                    }),
                }
                duration(&m.timeout, &format!("{at}.timeout"), &mut problems);
            }
            for (list, probes) in [("checks", &env.checks), ("smoke", &env.smoke), ("monitors", &env.monitors)] {
                for (i, p) in probes.iter().enumerate() {
                    if let ProbeConfig::Steps { steps, deadline, .. } = p {
                        let at = format!("environments.{name}.{list}[{i}]");
                        duration(deadline, &format!("{at}.deadline"), &mut problems);
                        for (j, step) in steps.iter().enumerate() {
                            duration(&step.max_latency, &format!("{at}.steps[{j}].max_latency"), &mut problems);
                            for path in step.expect.keys().chain(&step.exists).chain(step.capture.values()) {
                                if let Err(e) = crate::probes::smoke::to_pointer(path) {
                                    problems.push(Problem { path: format!("{at}.steps[{j}]"), message: e });
                                }
                            }
                        }
                    }
                    if let ProbeConfig::Database { url, url_env, .. } = p
                        && url.is_some() == url_env.is_some()
                    {
                        problems.push(Problem {
                            path: format!("environments.{name}.{list}[{i}]"),
                            message: "give exactly one of `url` (sqlite) or `url_env` (a variable holding the URL)"
                                .into(),
                        });
                    }
                    if let ProbeConfig::Database { url: Some(u), .. } = p
                        && u.contains('@')
                    {
                        problems.push(Problem {
                            path: format!("environments.{name}.{list}[{i}].url"),
                            message:
                                "this URL holds credentials: put it in an environment variable and name it in `url_env`"
                                    .into(),
                        });
                    }
                }
            }
        }
        config.engine.check(&mut problems);
        for (i, w) in config.notify.webhooks.iter().enumerate() {
            duration(&w.timeout, &format!("notify.webhooks[{i}].timeout"), &mut problems);
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                problems.push(Problem {
                    path: format!("notify.webhooks[{i}].url"),
                    message: format!("`{}` is not an http(s) URL", w.url),
                });
            }
        }
        for (i, m) in config.notify.smtp.iter().enumerate() {
            duration(&m.timeout, &format!("notify.smtp[{i}].timeout"), &mut problems);
            if !matches!(m.security.as_deref(), None | Some("starttls" | "tls" | "none")) {
                problems.push(Problem {
                    path: format!("notify.smtp[{i}].security"),
                    message: "use `starttls`, `tls` or `none`".into(),
                });
            }
            if m.to.is_empty() {
                problems.push(Problem {
                    path: format!("notify.smtp[{i}].to"),
                    message: "name the recipients by audience (`teams = [\"eng@example.com\"]`)".into(),
                });
            }
        }
        for (i, c) in config.notify.slack.iter().enumerate() {
            duration(&c.timeout, &format!("notify.slack[{i}].timeout"), &mut problems);
            let api = c.channel.is_some() || c.token_env.is_some();
            if c.webhook_env.is_some() == api || (api && (c.channel.is_none() || c.token_env.is_none())) {
                problems.push(Problem {
                    path: format!("notify.slack[{i}]"),
                    message: "give `webhook_env`, or `channel` and `token_env`".into(),
                });
            }
        }
        match config.artifacts.kind.as_deref() {
            None | Some("fs") => {}
            Some("oci") if config.artifacts.registry.is_some() => {}
            Some("oci") => problems.push(Problem {
                path: "artifacts.registry".into(),
                message: "name the OCI registry (`ghcr.io`)".into(),
            }),
            Some(other) => problems
                .push(Problem { path: "artifacts.kind".into(), message: format!("`{other}`: use `fs` or `oci`") }),
        }
        let t = &config.ticketing;
        let needs: &[(&str, bool)] = match t.kind.as_deref() {
            None | Some("local") => &[],
            Some("jira") => &[
                ("url", t.url.is_some()),
                ("email", t.email.is_some()),
                ("token_env", t.token_env.is_some()),
                ("project", t.project.is_some()),
            ],
            Some("github") => {
                &[("owner", t.owner.is_some()), ("repo", t.repo.is_some()), ("token_env", t.token_env.is_some())]
            }
            Some(other) => {
                problems.push(Problem {
                    path: "ticketing.kind".into(),
                    message: format!("`{other}`: use `local`, `jira` or `github`"),
                });
                &[]
            }
        };
        for (field, given) in needs {
            if !given {
                problems.push(Problem {
                    path: format!("ticketing.{field}"),
                    message: "this ticketing system needs it".into(),
                });
            }
        }
        if let Some(b) = &config.backup {
            if b.paths.is_empty() == b.postgres.is_none() {
                problems.push(Problem {
                    path: "backup".into(),
                    message: "give either `paths` (files) or `[backup.postgres]`".into(),
                });
            }
            for (env, url) in b.postgres.iter().flat_map(|p| &p.databases) {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                if rest
                    .split(['/', '?'])
                    .next()
                    .unwrap_or_default()
                    .rsplit_once('@')
                    .is_some_and(|(u, _)| u.contains(':'))
                {
                    problems.push(Problem {
                        path: format!("backup.postgres.databases.{env}"),
                        message: "this URL holds a password: name the variable that holds it in `password_env`".into(),
                    });
                }
            }
        }
        if let Some(b) = &config.build {
            if b.command.is_empty() {
                problems.push(Problem {
                    path: "build.command".into(),
                    message: "give the build command as an argv".into(),
                });
            }
            duration(&b.timeout, "build.timeout", &mut problems);
        }
        match config.store.kind.as_deref() {
            None | Some("sqlite") => {}
            Some("postgres") if config.store.url_env.is_some() => {}
            Some("postgres") => problems.push(Problem {
                path: "store.url_env".into(),
                message: "name the environment variable that holds the PostgreSQL URL".into(),
            }),
            Some(other) => problems
                .push(Problem { path: "store.kind".into(), message: format!("`{other}`: use `sqlite` or `postgres`") }),
        }
        if problems.is_empty() {
            Ok(Loaded { config, base, policy, secrets: None })
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

    /// The secret in the variable `var`, named at `path` of the file.
    pub fn secret(&self, var: &str, path: &str) -> Result<SecretString, ConfigError> {
        match &self.secrets {
            None => secret(var, path),
            Some(source) => source(var)
                .map(SecretString::from)
                .ok_or_else(|| ConfigError::invalid(format!("{path}: secret `{var}` is not set"))),
        }
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
        if self.config.store.kind.as_deref() == Some("postgres") {
            let var = self.config.store.url_env.clone().unwrap_or_default();
            let url = self.secret(&var, "store.url_env")?;
            #[cfg(feature = "postgres")]
            {
                let store = PostgresStore::connect(url.expose_secret()).await?;
                return Ok((Arc::new(store), None));
            }
            #[cfg(not(feature = "postgres"))]
            {
                drop(url);
                return Err(ConfigError::invalid(
                    "store.kind: this build has no PostgreSQL store (feature `postgres`)",
                ));
            }
        }
        let path =
            self.config.store.path.as_ref().map_or_else(|| self.state_dir().join("releases.db"), |p| self.path(p));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ConfigError::invalid(format!("{}: {e}", parent.display())))?;
        }
        let store = SqliteStore::open(&path).await?;
        let prefix = self.config.project.ticket_prefix.clone().unwrap_or_else(|| self.config.project.name.clone());
        let tickets = LocalTicketing::new(store.pool().clone()).with_prefix(prefix);
        Ok((Arc::new(store), Some(tickets)))
    }

    fn probe(&self, p: &ProbeConfig) -> Result<Arc<dyn Probe>, ConfigError> {
        Ok(match p {
            ProbeConfig::Host { disk } => {
                Arc::new(HostProbe::new().with_disk(disk.as_ref().map_or_else(|| self.base.clone(), |d| self.path(d))))
            }
            ProbeConfig::Http { url, requests, status, gate } => {
                let mut probe =
                    HttpProbe::new(url).with_requests(requests.unwrap_or(10)).expect_status(status.unwrap_or(200));
                if let Some(g) = gate {
                    probe = probe.as_gate(g.clone());
                }
                Arc::new(probe)
            }
            ProbeConfig::Tls { host, port, server_name, ca_file } => {
                let mut probe = TlsProbe::new(host, *port);
                if let Some(n) = server_name {
                    probe = probe.with_server_name(n);
                }
                if let Some(f) = ca_file {
                    probe = probe.with_ca_file(self.path(f));
                }
                Arc::new(probe)
            }
            ProbeConfig::Tcp { address } => Arc::new(TcpProbe::new(address)),
            ProbeConfig::Prometheus { url, queries, token_env, timeout } => {
                let timeout = duration(timeout, "timeout", &mut Vec::new()).unwrap_or(Duration::from_secs(10));
                let mut probe = PrometheusProbe::new(url, timeout)?;
                for q in queries {
                    probe = probe.query(q.gate.clone(), &q.query, q.scale.unwrap_or(1.0));
                }
                if let Some(var) = token_env {
                    probe = probe.with_token(self.secret(var, "token_env")?);
                }
                Arc::new(probe)
            }
            ProbeConfig::Steps { name, deadline, secrets, steps } => {
                let mut list = Vec::new();
                for s in steps {
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
                        max_latency: duration(&s.max_latency, "max_latency", &mut Vec::new()),
                        capture: s.capture.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    });
                }
                let within = duration(deadline, "deadline", &mut Vec::new())
                    .unwrap_or_else(|| self.policy.deadlines.smoke_tests.unsigned_abs());
                let mut smoke = HttpSmoke::new(name, list).deadline(within);
                for (placeholder, var) in secrets {
                    smoke = smoke.secret(placeholder, self.secret(var, &format!("{name}.secrets.{placeholder}"))?);
                }
                smoke.validate().map_err(|e| ConfigError::invalid(format!("smoke test `{name}`: {e}")))?;
                Arc::new(smoke)
            }
            ProbeConfig::Database { url, url_env, query } => {
                let url = match (url, url_env) {
                    (Some(u), _) => match u.strip_prefix("sqlite:") {
                        Some(file) => format!("sqlite:{}", self.path(Path::new(file)).display()),
                        None => u.clone(),
                    },
                    (None, Some(var)) => self.secret(var, "url_env")?.expose_secret().to_owned(),
                    (None, None) => return Err(ConfigError::invalid("a database probe needs `url` or `url_env`")),
                };
                let mut probe = DbProbe::new("database", url);
                if let Some(q) = query {
                    probe = probe.with_query(q);
                }
                Arc::new(probe)
            }
        })
    }

    /// Where notes go: the state folder, and the configured wiki and GitHub.
    pub fn publishers(&self) -> Result<Arc<dyn NotesPublisher>, ConfigError> {
        let state = self.state_dir();
        let mut all: Vec<Arc<dyn NotesPublisher>> = vec![Arc::new(FileNotes::new(state.join("notes")))];
        if let Some(w) = &self.config.notes.wiki {
            let remote = if Path::new(&w.remote).exists() {
                self.path(Path::new(&w.remote)).display().to_string()
            } else {
                w.remote.clone()
            };
            let mut wiki = WikiNotes::new(remote, state.join("wiki"));
            if let Some(b) = &w.branch {
                wiki = wiki.with_branch(b);
            }
            if let Some(p) = &w.page {
                wiki = wiki.with_page(p);
            }
            all.push(Arc::new(wiki));
        }
        if let Some(g) = &self.config.notes.github {
            let token = self.secret(&g.token_env, "notes.github.token_env")?;
            let api = g.api.clone().unwrap_or_else(|| "https://api.github.com".into());
            let github =
                GithubReleases::new(api, &g.owner, &g.repo, token)?.with_tag_prefix(self.policy.vcs.tag_prefix.clone());
            all.push(Arc::new(github));
        }
        if let Some(c) = &self.config.notes.confluence {
            let token = self.secret(&c.token_env, "notes.confluence.token_env")?;
            let mut confluence =
                ConfluenceNotes::new(&c.url, &c.space, &c.email, token, self.config.project.name.clone())?;
            if let Some(parent) = &c.parent_id {
                confluence = confluence.with_parent(parent);
            }
            all.push(Arc::new(confluence));
        }
        Ok(if all.len() == 1 { all.remove(0) } else { Arc::new(AllNotes(all)) })
    }

    /// The artifact store: a folder in the state folder, or an OCI registry.
    pub fn artifacts(&self) -> Result<Arc<dyn ArtifactStore>, ConfigError> {
        let a = &self.config.artifacts;
        if a.kind.as_deref() != Some("oci") {
            return Ok(Arc::new(FsArtifactStore::new(self.state_dir().join("artifacts"))));
        }
        let auth = match (&a.user, &a.password_env) {
            (Some(user), Some(var)) => {
                OciAuth::Basic { user: user.clone(), password: self.secret(var, "artifacts.password_env")? }
            }
            (None, None) => OciAuth::Anonymous,
            _ => return Err(ConfigError::invalid("artifacts: give both `user` and `password_env`, or neither")),
        };
        let mut options = OciOptions { insecure_http: a.insecure_http, ..OciOptions::default() };
        if let Some(media_type) = &a.media_type {
            options.layer_media_type = media_type.clone();
        }
        let registry = a.registry.clone().unwrap_or_default();
        let namespace = a.namespace.clone().unwrap_or_else(|| self.config.project.name.clone());
        Ok(Arc::new(OciArtifactStore::new(registry, namespace, auth, options)?))
    }

    /// The configured remote ticketing system (Jira, GitHub), if any.
    pub fn ticketing(&self) -> Result<Option<Arc<dyn Ticketing>>, ConfigError> {
        let t = &self.config.ticketing;
        let token = || self.secret(t.token_env.as_deref().unwrap_or_default(), "ticketing.token_env");
        Ok(match t.kind.as_deref() {
            Some("jira") => {
                let mut jira = JiraTicketing::new(
                    t.url.clone().unwrap_or_default(),
                    t.email.clone().unwrap_or_default(),
                    token()?,
                    t.project.clone().unwrap_or_default(),
                )?;
                if let Some(kind) = &t.release_issue_type {
                    jira = jira.with_release_issue_type(kind);
                }
                Some(Arc::new(jira))
            }
            Some("github") => Some(Arc::new(GithubIssues::new(
                t.url.clone().unwrap_or_else(|| "https://api.github.com".into()),
                t.owner.clone().unwrap_or_default(),
                t.repo.clone().unwrap_or_default(),
                token()?,
            )?)),
            _ => None,
        })
    }

    fn smtp(&self, i: usize, m: &SmtpConfig) -> Result<SmtpNotifier, ConfigError> {
        let path = format!("notify.smtp[{i}]");
        let security = match m.security.as_deref() {
            Some("tls") => SmtpSecurity::Tls,
            Some("none") => SmtpSecurity::None,
            _ => SmtpSecurity::StartTls,
        };
        let credentials = match (&m.user, &m.password_env) {
            (Some(user), Some(var)) => Some((user.clone(), self.secret(var, &format!("{path}.password_env"))?)),
            (None, None) => None,
            _ => return Err(ConfigError::invalid(format!("{path}: give both `user` and `password_env`, or neither"))),
        };
        let extra_roots_pem = match &m.ca_file {
            Some(file) => vec![std::fs::read(self.path(file)).map_err(|e| {
                ConfigError::invalid(format!("{path}.ca_file: cannot read {}: {e}", self.path(file).display()))
            })?],
            None => Vec::new(),
        };
        let settings = SmtpSettings {
            host: m.host.clone(),
            port: m.port.unwrap_or(if security == SmtpSecurity::Tls { 465 } else { 587 }),
            security,
            credentials,
            extra_roots_pem,
            timeout: duration(&m.timeout, &format!("{path}.timeout"), &mut Vec::new())
                .unwrap_or(Duration::from_secs(30)),
        };
        let mut notifier = SmtpNotifier::new(&m.from, settings)?;
        for (audience, addresses) in &m.to {
            notifier = notifier.with_recipients(audience, addresses)?;
        }
        Ok(notifier)
    }

    fn ssh_target(
        &self,
        t: &TargetConfig,
        artifacts: Arc<dyn ArtifactStore>,
    ) -> Result<Arc<dyn DeployTarget>, ConfigError> {
        let missing = |field: &str| ConfigError::invalid(format!("target {}: an ssh target needs `{field}`", t.name));
        let host = SshHost {
            host: t.host.clone().ok_or_else(|| missing("host"))?,
            port: t.port.unwrap_or(22),
            user: t.user.clone().ok_or_else(|| missing("user"))?,
            identity: self.home_path(t.identity.as_deref().ok_or_else(|| missing("identity"))?),
            known_hosts: self.home_path(t.known_hosts.as_deref().ok_or_else(|| missing("known_hosts"))?),
        };
        let dir = t.dir.clone().ok_or_else(|| missing("dir"))?;
        let mut target = SshTarget::new(&t.name, host, dir, t.deploy.clone(), t.rollback.clone(), artifacts);
        for (k, v) in &t.env {
            target = target.with_env(k, v);
        }
        if let Some(d) = duration(&t.timeout, "timeout", &mut Vec::new()) {
            target = target.with_timeout(d);
        }
        Ok(Arc::new(target))
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
        let (store, tickets) = self.store().await?;
        let state = self.state_dir();
        let repo = self.path(&self.config.project.repository);
        let mut git = GitRepo::new(&repo);
        if let Some(remote) = &self.config.vcs.remote {
            git = git.with_remote(remote);
        }
        let artifacts = self.artifacts()?;
        let mut ports = Ports {
            vcs: repo.join(".git").exists().then(|| Arc::new(git) as _),
            ticketing: match self.ticketing()? {
                Some(remote) => Some(remote),
                None => tickets.clone().map(|t| Arc::new(t) as _),
            },
            artifacts: Some(artifacts.clone()),
            notes: Some(self.publishers()?),
            notifiers: vec![Arc::new(FileNotifier::new(state.join("notices.jsonl"))) as Arc<dyn Notifier>],
            ..Ports::default()
        };
        for (i, w) in self.config.notify.webhooks.iter().enumerate() {
            let path = format!("notify.webhooks[{i}]");
            let secret =
                w.secret_env.as_deref().map(|var| self.secret(var, &format!("{path}.secret_env"))).transpose()?;
            let timeout =
                duration(&w.timeout, &format!("{path}.timeout"), &mut Vec::new()).unwrap_or(Duration::from_secs(10));
            ports.notifiers.push(Arc::new(WebhookNotifier::new(&w.url, secret, timeout)?));
        }
        for (i, m) in self.config.notify.smtp.iter().enumerate() {
            ports.notifiers.push(Arc::new(self.smtp(i, m)?));
        }
        for (i, c) in self.config.notify.slack.iter().enumerate() {
            let path = format!("notify.slack[{i}]");
            let timeout =
                duration(&c.timeout, &format!("{path}.timeout"), &mut Vec::new()).unwrap_or(Duration::from_secs(10));
            let mut slack = match (&c.webhook_env, &c.channel, &c.token_env) {
                (Some(var), _, _) => {
                    SlackNotifier::webhook(self.secret(var, &format!("{path}.webhook_env"))?, timeout)?
                }
                (None, Some(channel), Some(var)) => {
                    let api = c.api.clone().unwrap_or_else(|| "https://slack.com/api".into());
                    SlackNotifier::api(api, self.secret(var, &format!("{path}.token_env"))?, channel, timeout)?
                }
                _ => {
                    return Err(ConfigError::invalid(format!(
                        "{path}: give `webhook_env`, or `channel` and `token_env`"
                    )));
                }
            };
            if let Some(audiences) = &c.audiences {
                slack = slack.for_audiences(audiences.clone());
            }
            ports.notifiers.push(Arc::new(slack));
        }
        if let Some(b) = &self.config.build {
            let mut builder = CommandBuilder::new(b.command.clone()).with_workdir(&repo);
            for (name, path) in &b.artifacts {
                builder = builder.artifact(name, path);
            }
            if let Some(t) = duration(&b.timeout, "build.timeout", &mut Vec::new()) {
                builder = builder.with_timeout(t);
            }
            ports.builder = Some(Arc::new(builder));
        }
        if let Some(b) = &self.config.backup {
            if let Some(pg) = &b.postgres {
                let dir = pg.dir.as_ref().map_or_else(|| state.join("backups"), |d| self.path(d));
                let mut backup = PgBackup::new(dir);
                for (env, url) in &pg.databases {
                    let env: EnvName =
                        env.parse().map_err(|e: shipwarden::ParseError| ConfigError::invalid(e.to_string()))?;
                    backup = backup.with_database(env, url)?;
                }
                if let Some(var) = &pg.password_env {
                    backup = backup.with_password(self.secret(var, "backup.postgres.password_env")?);
                }
                if let Some(bin) = &pg.bin_dir {
                    backup = backup.with_bin_dir(self.path(bin));
                }
                ports.backup = Some(Arc::new(backup));
            } else {
                let sources = b.paths.iter().map(|p| self.path(p)).collect();
                ports.backup =
                    Some(Arc::new(FileBackup::new(sources, state.join("backups"), state.join("restore-test"))));
            }
        }
        for (name, env) in &self.config.environments {
            let env_name: EnvName =
                name.parse().map_err(|e: shipwarden::ParseError| ConfigError::invalid(e.to_string()))?;
            for t in &env.targets {
                if t.kind.as_deref() == Some("ssh") {
                    ports.targets.entry(env_name.clone()).or_default().push(self.ssh_target(t, artifacts.clone())?);
                    continue;
                }
                let mut target =
                    CommandTarget::new(&t.name, t.deploy.clone(), t.rollback.clone()).with_workdir(&self.base);
                if let Some(s) = &t.status {
                    target = target.with_status(s.clone());
                }
                for (k, v) in &t.env {
                    target = target.with_env(k, v);
                }
                if let Some(d) = duration(&t.timeout, "timeout", &mut Vec::new()) {
                    target = target.with_timeout(d);
                }
                ports.targets.entry(env_name.clone()).or_default().push(Arc::new(target) as Arc<dyn DeployTarget>);
            }
            for p in &env.checks {
                ports.checks.entry(env_name.clone()).or_default().push(self.probe(p)?);
            }
            for p in &env.smoke {
                ports.smoke.entry(env_name.clone()).or_default().push(self.probe(p)?);
            }
            for p in &env.monitors {
                ports.monitors.entry(env_name.clone()).or_default().push(self.probe(p)?);
            }
            for d in &env.dependencies {
                let probe: Arc<dyn DependencyProbe> = match d {
                    DependencyConfig::Http { url, pointers, token_env } => {
                        let mut p = HttpDependencies::new(url);
                        for (dep, pointer) in pointers {
                            p = p.pointer(dep, pointer);
                        }
                        if let Some(var) = token_env {
                            p = p.with_token(self.secret(var, &format!("environments.{name}.dependencies.token_env"))?);
                        }
                        Arc::new(p)
                    }
                    DependencyConfig::Command { command } => Arc::new(CommandDependencies::new(command.clone())),
                };
                ports.dependencies.entry(env_name.clone()).or_default().push(probe);
            }
            if let Some(c) = &env.settings {
                let source =
                    crate::settings::EnvFileSettings::new(self.path(&c.file)).secret_keys(c.secret_keys.clone());
                ports.settings.insert(env_name.clone(), Arc::new(source));
            }
            if let Some(m) = &env.migrations {
                let dir = self.path(&m.dir);
                let migrator: Arc<dyn Migrator> = if m.kind == "postgres" {
                    let url =
                        m.url.as_deref().ok_or_else(|| ConfigError::invalid("the postgres runner needs `url`"))?;
                    let password = m
                        .password_env
                        .as_deref()
                        .map(|var| self.secret(var, &format!("environments.{name}.migrations.password_env")))
                        .transpose()?;
                    let mut runner = PgMigrator::new(url, password, dir)?;
                    if let Some(t) = &m.table {
                        runner = runner.table(t)?;
                    }
                    Arc::new(runner)
                } else {
                    let mut tool = CommandMigrator::new(
                        m.name.as_deref().unwrap_or("migrations"),
                        dir,
                        m.apply.clone(),
                        m.revert.clone(),
                    );
                    if let Some(t) = duration(&m.timeout, "timeout", &mut Vec::new()) {
                        tool = tool.timeout(t);
                    }
                    Arc::new(tool)
                };
                ports.migrators.insert(env_name.clone(), migrator);
            }
        }
        if let Some(var) = &self.config.evidence.signing_key_env {
            let key = self.secret(var, "evidence.signing_key_env")?;
            ports.signer = Some(Arc::new(crate::bundle::Ed25519Signer::from_seed_hex(&key)?));
        }
        let engine = self.config.engine.engine_config(&mut Vec::new());
        let mut builder = ReleaseManager::builder(store).policy(self.policy.clone()).ports(ports).config(engine);
        if let Some(clock) = clock {
            builder = builder.clock(clock);
        }
        Ok((builder, tickets))
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
