//! What every adapter's configuration shares: the [`Context`] it is built in
//! (the file's folder, the state folder, the policy, the secrets), the
//! [`AdapterConfig`] trait each one implements beside its adapter, and the
//! helpers for durations and secrets.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use shipwarden::ports::ArtifactStore;
use shipwarden::{Policy, Problem};

use super::deferred::{Deferrable, Deferred};
use super::{ConfigError, SecretSource};

/// A secret the file names: the environment variable, and where the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    /// The full TOML path (`environments.prod.checks[3].url_env`).
    pub path: String,
    /// The variable (`APP_DATABASE_URL`).
    pub var: String,
}

impl SecretRef {
    /// The secret in `var`, named at `at.field`.
    pub(crate) fn new(at: &str, field: &str, var: &str) -> Self {
        SecretRef { path: format!("{at}.{field}"), var: var.to_owned() }
    }
}

/// Where adapters are built: paths start at the file's folder; secrets come
/// from the process environment or the embedder's source.
#[derive(Clone)]
pub struct Context(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    base: PathBuf,
    state_dir: PathBuf,
    project: String,
    policy: Arc<Policy>,
    secrets: Option<SecretSource>,
    defer: bool,
    artifacts: Option<Arc<dyn ArtifactStore>>,
    people: Vec<Person>,
    links: Option<super::ApprovalLinksConfig>,
}

/// Someone in `[users]`, as adapters that reach people need them: their
/// roles and where they are reached (issue #23: approval requests by direct
/// message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The user name.
    pub name: String,
    /// Their roles.
    pub roles: Vec<shipwarden::Role>,
    /// Their email address.
    pub email: Option<String>,
    /// Their Slack member id.
    pub slack: Option<String>,
}

impl Context {
    pub(crate) fn new(
        base: PathBuf,
        state_dir: PathBuf,
        project: String,
        policy: Policy,
        secrets: Option<SecretSource>,
        defer: bool,
    ) -> Self {
        Context(Arc::new(Inner {
            base,
            state_dir,
            project,
            policy: Arc::new(policy),
            secrets,
            defer,
            artifacts: None,
            people: Vec::new(),
            links: None,
        }))
    }

    /// The same context with `change` made to a copy of its parts.
    fn with(&self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = (*self.0).clone();
        change(&mut inner);
        Context(Arc::new(inner))
    }

    /// The same context, knowing the people of `[users]`.
    pub(crate) fn with_people(self, people: Vec<Person>) -> Self {
        self.with(|i| i.people = people)
    }

    /// The same context, knowing `[approval_links]`.
    pub(crate) fn with_links(self, links: Option<super::ApprovalLinksConfig>) -> Self {
        self.with(|i| i.links = links)
    }

    /// `[approval_links]`, when set (issue #23).
    pub fn approval_links(&self) -> Option<&super::ApprovalLinksConfig> {
        self.0.links.as_ref()
    }

    /// The people of `[users]`.
    pub fn people(&self) -> &[Person] {
        &self.0.people
    }

    /// The same context, with the artifact store targets upload from.
    pub(crate) fn with_artifacts(&self, artifacts: Arc<dyn ArtifactStore>) -> Self {
        self.with(|i| i.artifacts = Some(artifacts))
    }

    /// The folder holding the file.
    pub fn base(&self) -> &Path {
        &self.0.base
    }

    /// A path from the file, relative to its folder.
    pub fn path(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.0.base.join(p) }
    }

    /// [`Context::path`], with a leading `~/` read as the home folder (key files).
    pub fn home_path(&self, p: &Path) -> PathBuf {
        match (p.strip_prefix("~"), std::env::var_os("HOME")) {
            (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
            _ => self.path(p),
        }
    }

    /// The state folder.
    pub fn state_dir(&self) -> &Path {
        &self.0.state_dir
    }

    /// The project's name.
    pub fn project(&self) -> &str {
        &self.0.project
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.0.policy
    }

    /// The artifact store, once built.
    pub(crate) fn artifacts(&self) -> Result<Arc<dyn ArtifactStore>, ConfigError> {
        self.0.artifacts.clone().ok_or_else(|| ConfigError::invalid("the artifact store is built before the targets"))
    }

    /// The secret in the variable `var`, named at `path` of the file.
    pub fn secret(&self, var: &str, path: &str) -> Result<SecretString, ConfigError> {
        read_secret(&self.0.secrets, var, path)
    }

    /// Builds `config`'s port; when secrets are read as they are used and
    /// it needs one, it is built the first time it is used instead.
    pub(crate) fn port<C>(&self, config: &C, at: &str) -> Result<Arc<C::Port>, ConfigError>
    where
        C: AdapterConfig + Clone + Send + Sync + 'static,
        C::Port: Deferrable,
    {
        let mut secrets = Vec::new();
        config.secrets(at, &mut secrets);
        if !self.0.defer || secrets.is_empty() {
            return config.build(at, self);
        }
        let (config, cx, path) = (config.clone(), self.clone(), at.to_owned());
        Ok(C::Port::deferred(Deferred::new(at, move || config.build(&path, &cx))))
    }
}

/// The secret in the variable `var` of `source` (default: the process
/// environment), named at `path` of the file when it is missing.
pub(crate) fn read_secret(source: &Option<SecretSource>, var: &str, path: &str) -> Result<SecretString, ConfigError> {
    match source {
        None => super::secret(var, path),
        Some(source) => source(var)
            .map(SecretString::from)
            .ok_or_else(|| ConfigError::invalid(format!("{path}: secret `{var}` is not set"))),
    }
}

/// True when `source` (default: the process environment) holds the variable `var`.
pub(crate) fn has_secret(source: &Option<SecretSource>, var: &str) -> bool {
    match source {
        None => std::env::var_os(var).is_some(),
        Some(source) => source(var).is_some(),
    }
}

/// One adapter's configuration, kept beside the adapter: its checks, the
/// secrets it names, and how it is built.
pub(crate) trait AdapterConfig {
    /// The port the adapter fills.
    type Port: ?Sized;

    /// Every problem, each named with its path under `at`.
    fn validate(&self, _at: &str, _problems: &mut Vec<Problem>) {}

    /// The secrets it names, with their paths under `at`.
    fn secrets(&self, _at: &str, _found: &mut Vec<SecretRef>) {}

    /// The adapter; `at` is where the file configures it.
    fn build(&self, at: &str, cx: &Context) -> Result<Arc<Self::Port>, ConfigError>;
}

/// Reads `text` as a duration (`90s`, `10m`), or records a problem at `path`.
pub(crate) fn duration(text: &Option<String>, path: &str, problems: &mut Vec<Problem>) -> Option<Duration> {
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

/// A duration already checked by [`duration`], or `default`.
pub(crate) fn duration_or(text: &Option<String>, default: Duration) -> Duration {
    duration(text, "", &mut Vec::new()).unwrap_or(default)
}

/// Records `message` at `at.field` for each field not given.
pub(crate) fn require(at: &str, fields: &[(&str, bool)], message: &str, problems: &mut Vec<Problem>) {
    for (field, given) in fields {
        if !given {
            problems.push(Problem { path: format!("{at}.{field}"), message: message.into() });
        }
    }
}

/// Records a problem at `path` when `argv` is empty.
pub(crate) fn argv(argv: &[String], path: String, message: &str, problems: &mut Vec<Problem>) {
    if argv.is_empty() {
        problems.push(Problem { path, message: message.into() });
    }
}

/// The one check that a URL from the file holds no password: records a
/// problem at `path` naming `instead`, the field to name the variable in
/// (the URL itself is never repeated).
pub(crate) fn no_password(url: &str, path: String, instead: &str, problems: &mut Vec<Problem>) {
    if crate::pg_url::holds_password(url) {
        problems.push(Problem {
            path,
            message: format!(
                "this URL holds a password: keep it out of the file, in the variable named by `{instead}`"
            ),
        });
    }
}
