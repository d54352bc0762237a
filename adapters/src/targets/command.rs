//! A deploy target that runs commands (R-8e): an argv, never a shell string,
//! with placeholders, environment variables and a timeout. Its standard
//! output and error are streamed line by line into the step's log.
//!
//! Placeholders in any argument: `{release}`, `{version}`, `{environment}`,
//! `{key}` (the idempotency key), `{artifacts}` (names, space-separated, in
//! one argument). The same values are in the environment as
//! `SHIPWARDEN_RELEASE`, `SHIPWARDEN_VERSION`, `SHIPWARDEN_ENVIRONMENT`,
//! `SHIPWARDEN_KEY`, and `SHIPWARDEN_ARTIFACTS` (JSON).
//!
//! Exit 0 is success; exit 75 (`EX_TEMPFAIL`) is a failure a retry can help;
//! any other exit, a signal, or a command that cannot start is a failure it
//! cannot. A timeout kills the command and is retryable.
//!
//! The status command answers after a crash: exit 0 means the key was done
//! (its last output line is the detail), exit 1 means it was not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::ports::{DeployRequest, DeployTarget, ErrorKind, LogSink, Lookup, PortError, RollbackRequest};
use shipwarden::{ArtifactRef, EnvName, ReleaseId};

pub use crate::process::EXIT_RETRY;

/// A target whose deploy, rollback and status are commands.
#[derive(Debug, Clone)]
pub struct CommandTarget {
    name: String,
    deploy: Vec<String>,
    rollback: Vec<String>,
    status: Option<Vec<String>>,
    env: BTreeMap<String, String>,
    workdir: Option<PathBuf>,
    timeout: Duration,
    idempotent: bool,
}

struct Values<'a> {
    release: &'a ReleaseId,
    version: String,
    environment: &'a EnvName,
    key: &'a str,
    artifacts: &'a [ArtifactRef],
}

impl CommandTarget {
    /// A target named `name` that deploys with `deploy` and rolls back with
    /// `rollback` (each an argv: program, then arguments), with a 10 minute timeout.
    pub fn new(name: impl Into<String>, deploy: Vec<String>, rollback: Vec<String>) -> Self {
        Self {
            name: name.into(),
            deploy,
            rollback,
            status: None,
            env: BTreeMap::new(),
            workdir: None,
            timeout: Duration::from_secs(600),
            idempotent: false,
        }
    }

    /// Declares the deploy command safe to run twice for one key (it
    /// converges): after a crash, a deployment whose outcome the status
    /// command cannot confirm is run again instead of being left in doubt.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// The command that reports whether a key was done (exit 0) or not (exit
    /// 1). "Not done" after a crash cannot tell a deploy that never began from
    /// one cut short, so it leaves the step in doubt (unless the target is
    /// [`idempotent`](Self::idempotent)); "done" resolves it.
    pub fn with_status(mut self, status: Vec<String>) -> Self {
        self.status = Some(status);
        self
    }

    /// An environment variable for every command.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// The folder commands run in.
    pub fn with_workdir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.workdir = Some(dir.into());
        self
    }

    /// How long a command may run before it is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn error(&self, operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(format!("deploy-target {}", self.name), operation, kind, message)
    }

    /// Runs `argv` with the values filled in; streams its output into `log`
    /// (when given) and returns its exit code and last output line.
    async fn run(
        &self,
        operation: &str,
        argv: &[String],
        values: &Values<'_>,
        log: Option<&LogSink>,
    ) -> Result<(i32, String), PortError> {
        let names: Vec<&str> = values.artifacts.iter().map(|a| a.name.as_str()).collect();
        let fill = |arg: &String| {
            arg.replace("{release}", values.release.as_str())
                .replace("{version}", &values.version)
                .replace("{environment}", values.environment.as_str())
                .replace("{key}", values.key)
                .replace("{artifacts}", &names.join(" "))
        };
        let argv: Vec<String> = argv.iter().map(fill).collect();
        let mut env: Vec<(String, String)> = self.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        env.extend([
            ("SHIPWARDEN_RELEASE".to_owned(), values.release.to_string()),
            ("SHIPWARDEN_VERSION".to_owned(), values.version.clone()),
            ("SHIPWARDEN_ENVIRONMENT".to_owned(), values.environment.to_string()),
            ("SHIPWARDEN_KEY".to_owned(), values.key.to_owned()),
            ("SHIPWARDEN_ARTIFACTS".to_owned(), serde_json::to_string(values.artifacts).unwrap_or_default()),
        ]);
        let spec = crate::process::Spec {
            port: format!("deploy-target {}", self.name),
            operation,
            argv: &argv,
            env: &env,
            workdir: self.workdir.as_deref(),
            timeout: self.timeout,
        };
        crate::process::run(&spec, log).await
    }

    fn judge(&self, operation: &str, argv: &[String], (code, last): (i32, String)) -> Result<String, PortError> {
        let program = argv.first().map_or("", String::as_str);
        match code {
            0 => Ok(if last.is_empty() { format!("{} {operation}: `{program}` succeeded", self.name) } else { last }),
            EXIT_RETRY => Err(self.error(
                operation,
                ErrorKind::Unavailable,
                format!("`{program}` exited {EXIT_RETRY}: try again"),
            )),
            -1 => Err(self.error(operation, ErrorKind::Rejected, format!("`{program}` was killed by a signal"))),
            code => Err(self.error(operation, ErrorKind::Rejected, format!("`{program}` exited {code}"))),
        }
    }
}

#[async_trait]
impl DeployTarget for CommandTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        let values = Values {
            release: &request.release,
            version: request.version.to_string(),
            environment: &request.environment,
            key: &request.key,
            artifacts: &request.artifacts,
        };
        let outcome = self.run("deploy", &self.deploy, &values, Some(log)).await?;
        self.judge("deploy", &self.deploy, outcome)
    }

    fn idempotent(&self) -> bool {
        self.idempotent
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let Some(argv) = &self.status else { return Ok(Lookup::Unsupported) };
        let (release, environment) = ("unknown-0.0.0".parse::<ReleaseId>(), "unknown".parse::<EnvName>());
        let (Ok(release), Ok(environment)) = (release, environment) else { return Ok(Lookup::Unsupported) };
        let values =
            Values { release: &release, version: String::new(), environment: &environment, key, artifacts: &[] };
        match self.run("status", argv, &values, None).await? {
            (0, last) => {
                Ok(Lookup::Done(if last.is_empty() { format!("{} reports {key} done", self.name) } else { last }))
            }
            // Not done: never begun, or cut short by a crash; the port cannot tell which.
            (1, _) => Ok(Lookup::Unsupported),
            (code, _) => Err(self.error("status", ErrorKind::Rejected, format!("the status command exited {code}"))),
        }
    }

    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let version = request.previous.first().map(|a| a.version.to_string()).unwrap_or_default();
        let values = Values {
            release: &request.release,
            version,
            environment: &request.environment,
            key: &request.key,
            artifacts: &request.previous,
        };
        let outcome = self.run("rollback", &self.rollback, &values, Some(log)).await?;
        self.judge("rollback", &self.rollback, outcome)
    }
}
