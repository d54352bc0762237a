//! `[[environments.NAME.targets]]`: a deploy target's configuration, its
//! checks and its construction. `kind` is `command` (the default) or `ssh`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use shipwarden::Problem;
use shipwarden::ports::DeployTarget;

use crate::config::adapter::{AdapterConfig, Context, argv, duration, require};
use crate::config::{ConfigError, default_kind};

/// A deploy target: commands run here (`kind = "command"`, the default) or on a host over SSH (`kind = "ssh"`).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(remote = "Self", tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TargetConfig {
    /// Commands run on this machine.
    #[cfg(feature = "command")]
    Command(CommandTargetConfig),
    /// Commands run on a host over SSH, after the artifacts are uploaded.
    #[cfg(feature = "ssh")]
    Ssh(SshTargetConfig),
}

impl<'de> Deserialize<'de> for TargetConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        default_kind(deserializer, "command", TargetConfig::deserialize)
    }
}

/// What every kind of target tells: its name and deploy command, besides its checks and construction.
trait Target: AdapterConfig<Port = dyn DeployTarget> + Send + Sync {
    fn name(&self) -> &str;
    fn deploy(&self) -> &[String];
}

impl TargetConfig {
    /// The one place the kinds are told apart.
    fn adapter(&self) -> &dyn Target {
        match self {
            #[cfg(feature = "command")]
            TargetConfig::Command(c) => c,
            #[cfg(feature = "ssh")]
            TargetConfig::Ssh(c) => c,
        }
    }

    /// Its name (`web-1`).
    pub fn name(&self) -> &str {
        self.adapter().name()
    }

    /// The deploy command (argv).
    pub fn deploy(&self) -> &[String] {
        self.adapter().deploy()
    }
}

impl AdapterConfig for TargetConfig {
    type Port = dyn DeployTarget;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        self.adapter().validate(at, problems);
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn DeployTarget>, ConfigError> {
        self.adapter().build(at, cx)
    }
}

/// What every target checks: its commands and its timeout.
fn validate_commands(
    at: &str,
    deploy: &[String],
    rollback: &[String],
    timeout: &Option<String>,
    problems: &mut Vec<Problem>,
) {
    argv(deploy, format!("{at}.deploy"), "give the deploy command as an argv", problems);
    argv(rollback, format!("{at}.rollback"), "give the rollback command as an argv (R-8g)", problems);
    duration(timeout, &format!("{at}.timeout"), problems);
}

fn timeout(text: &Option<String>) -> Option<Duration> {
    duration(text, "", &mut Vec::new())
}

/// `kind = "command"`: commands run on this machine, in the file's folder.
#[cfg(feature = "command")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandTargetConfig {
    /// Its name (`web-1`).
    pub name: String,
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
    /// The deploy command is safe to run twice for one key: after a crash it is
    /// run again rather than left in doubt for a person (R-9d). Default false.
    #[serde(default)]
    pub idempotent: bool,
}

#[cfg(feature = "command")]
impl Target for CommandTargetConfig {
    fn name(&self) -> &str {
        &self.name
    }

    fn deploy(&self) -> &[String] {
        &self.deploy
    }
}

#[cfg(feature = "command")]
impl AdapterConfig for CommandTargetConfig {
    type Port = dyn DeployTarget;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        validate_commands(at, &self.deploy, &self.rollback, &self.timeout, problems);
    }

    fn build(&self, _at: &str, cx: &Context) -> Result<Arc<dyn DeployTarget>, ConfigError> {
        let mut target = super::command::CommandTarget::new(&self.name, self.deploy.clone(), self.rollback.clone())
            .with_workdir(cx.base())
            .idempotent(self.idempotent);
        if let Some(s) = &self.status {
            target = target.with_status(s.clone());
        }
        for (k, v) in &self.env {
            target = target.with_env(k, v);
        }
        if let Some(d) = timeout(&self.timeout) {
            target = target.with_timeout(d);
        }
        Ok(Arc::new(target))
    }
}

/// `kind = "ssh"`: a host reached with the OpenSSH client, its key checked against `known_hosts`.
#[cfg(feature = "ssh")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SshTargetConfig {
    /// Its name (`web-1`).
    pub name: String,
    /// The host.
    pub host: Option<String>,
    /// The port (22).
    pub port: Option<u16>,
    /// The user.
    pub user: Option<String>,
    /// The private key file (`~/` is the home folder).
    pub identity: Option<PathBuf>,
    /// The `known_hosts` file the host key is checked against.
    pub known_hosts: Option<PathBuf>,
    /// The folder on the host releases are uploaded to and commands run in.
    pub dir: Option<String>,
    /// Deploy command (argv), run in `dir`.
    pub deploy: Vec<String>,
    /// Rollback command (argv).
    pub rollback: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How long one command may run (`10m`).
    pub timeout: Option<String>,
}

#[cfg(feature = "ssh")]
impl Target for SshTargetConfig {
    fn name(&self) -> &str {
        &self.name
    }

    fn deploy(&self) -> &[String] {
        &self.deploy
    }
}

#[cfg(feature = "ssh")]
impl AdapterConfig for SshTargetConfig {
    type Port = dyn DeployTarget;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        validate_commands(at, &self.deploy, &self.rollback, &self.timeout, problems);
        require(
            at,
            &[
                ("host", self.host.is_some()),
                ("user", self.user.is_some()),
                ("identity", self.identity.is_some()),
                ("known_hosts", self.known_hosts.is_some()),
                ("dir", self.dir.is_some()),
            ],
            "an ssh target needs it",
            problems,
        );
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn DeployTarget>, ConfigError> {
        let missing = |field: &str| ConfigError::invalid(format!("{at}.{field}: an ssh target needs it"));
        let host = super::ssh::SshHost {
            host: self.host.clone().ok_or_else(|| missing("host"))?,
            port: self.port.unwrap_or(22),
            user: self.user.clone().ok_or_else(|| missing("user"))?,
            identity: cx.home_path(self.identity.as_deref().ok_or_else(|| missing("identity"))?),
            known_hosts: cx.home_path(self.known_hosts.as_deref().ok_or_else(|| missing("known_hosts"))?),
        };
        let dir = self.dir.clone().ok_or_else(|| missing("dir"))?;
        let mut target = super::ssh::SshTarget::new(
            &self.name,
            host,
            dir,
            self.deploy.clone(),
            self.rollback.clone(),
            cx.artifacts()?,
        );
        for (k, v) in &self.env {
            target = target.with_env(k, v);
        }
        if let Some(d) = timeout(&self.timeout) {
            target = target.with_timeout(d);
        }
        Ok(Arc::new(target))
    }
}
