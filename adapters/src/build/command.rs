//! A builder that runs a command (an argv, never a shell string) in the
//! project's folder and publishes the files it declares. Placeholders in the
//! command and in artifact paths: `{release}`, `{version}`, `{key}`; the same
//! values are in the environment as `SHIPWARDEN_RELEASE`, `SHIPWARDEN_VERSION`
//! and `SHIPWARDEN_KEY`. Exit 0 is success, exit 75 a failure a retry can help.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::ports::{BuildRequest, Builder, BuiltArtifact, ErrorKind, LogSink, PortError};

/// Builds by running a command; each declared artifact must exist afterwards.
#[derive(Debug, Clone)]
pub struct CommandBuilder {
    command: Vec<String>,
    artifacts: Vec<(String, String)>,
    workdir: Option<PathBuf>,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl CommandBuilder {
    /// Runs `command` with a 30 minute timeout.
    pub fn new(command: Vec<String>) -> Self {
        Self { command, artifacts: Vec::new(), workdir: None, env: Vec::new(), timeout: Duration::from_secs(1800) }
    }

    /// Declares an artifact: its name, and the path (relative to the working folder) the build leaves it at.
    pub fn artifact(mut self, name: impl Into<String>, path: impl Into<String>) -> Self {
        self.artifacts.push((name.into(), path.into()));
        self
    }

    /// The folder the command runs in (the repository).
    pub fn with_workdir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.workdir = Some(dir.into());
        self
    }

    /// An environment variable for the command.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// How long the build may run.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

#[async_trait]
impl Builder for CommandBuilder {
    async fn build(&self, request: &BuildRequest, log: &LogSink) -> Result<Vec<BuiltArtifact>, PortError> {
        let version = request.version.to_string();
        let fill = |s: &String| {
            s.replace("{release}", request.release.as_str())
                .replace("{version}", &version)
                .replace("{key}", &request.key)
        };
        let argv: Vec<String> = self.command.iter().map(fill).collect();
        let mut env = self.env.clone();
        env.extend([
            ("SHIPWARDEN_RELEASE".to_owned(), request.release.to_string()),
            ("SHIPWARDEN_VERSION".to_owned(), version.clone()),
            ("SHIPWARDEN_KEY".to_owned(), request.key.clone()),
        ]);
        let spec = crate::process::Spec {
            port: "builder command".into(),
            operation: "build",
            argv: &argv,
            env: &env,
            workdir: self.workdir.as_deref(),
            timeout: self.timeout,
        };
        let program = argv.first().cloned().unwrap_or_default();
        match crate::process::run(&spec, Some(log)).await? {
            (0, _) => {}
            (crate::process::EXIT_RETRY, _) => {
                return Err(PortError::new(
                    "builder command",
                    "build",
                    ErrorKind::Unavailable,
                    format!("`{program}` exited 75: try again"),
                ));
            }
            (code, _) => {
                return Err(PortError::new(
                    "builder command",
                    "build",
                    ErrorKind::Rejected,
                    format!("`{program}` exited {code}"),
                ));
            }
        }
        let base = self.workdir.clone().unwrap_or_default();
        let mut built = Vec::new();
        for (name, path) in &self.artifacts {
            let path = base.join(fill(path));
            if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
                return Err(PortError::new(
                    "builder command",
                    "build",
                    ErrorKind::Rejected,
                    format!("the build did not leave {name} at {}", path.display()),
                ));
            }
            built.push(BuiltArtifact { name: fill(name), path });
        }
        Ok(built)
    }
}
