//! Any migration tool behind a command (Flyway, Liquibase, sqlx-cli,
//! Alembic, a script): shipwarden reads every file of the release's
//! migrations folder for the digests (R-7e), and runs the tool's apply and
//! revert commands (argv, never a shell string).
//!
//! Arguments may hold `{environment}`, `{dir}`, `{key}` and `{digest}`;
//! the commands also get `SHIPWARDEN_ENVIRONMENT`,
//! `SHIPWARDEN_MIGRATIONS_DIR`, `SHIPWARDEN_MIGRATIONS_DIGEST` and
//! `SHIPWARDEN_KEY`. Exit 0 is success, 75 (`EX_TEMPFAIL`) a retryable
//! failure, anything else a failure. The files' digests are checked again
//! before each run, so the tool runs exactly what was rehearsed.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::EnvName;
use shipwarden::ports::{ErrorKind, LogSink, MigrationSet, Migrator, PortError};

use super::{check_same, read_any_dir};
use crate::process::{EXIT_RETRY, Spec, run_full};

/// A migration tool run by commands.
#[derive(Debug, Clone)]
pub struct CommandMigrator {
    name: String,
    dir: PathBuf,
    apply: Vec<String>,
    revert: Vec<String>,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl CommandMigrator {
    /// A tool named `name` whose files are under `dir`, applied by `apply`
    /// and reverted by `revert`.
    pub fn new(name: &str, dir: impl Into<PathBuf>, apply: Vec<String>, revert: Vec<String>) -> Self {
        Self {
            name: name.to_owned(),
            dir: dir.into(),
            apply,
            revert,
            env: Vec::new(),
            timeout: Duration::from_secs(30 * 60),
        }
    }

    /// Extra environment variables for the commands (not secrets: those
    /// belong in the tool's own configuration or the environment).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// How long a command may run (default 30 minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn port(&self) -> String {
        format!("migrator {}", self.name)
    }

    async fn run(
        &self,
        operation: &str,
        argv: &[String],
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        check_same(&self.port(), operation, &read_any_dir(&self.port(), &self.dir)?, set)?;
        let (dir, digest) = (self.dir.display().to_string(), set.digest().to_string());
        let argv: Vec<String> = argv
            .iter()
            .map(|a| {
                a.replace("{environment}", environment.as_str())
                    .replace("{dir}", &dir)
                    .replace("{key}", key)
                    .replace("{digest}", &digest)
            })
            .collect();
        let mut env = self.env.clone();
        env.extend([
            ("SHIPWARDEN_ENVIRONMENT".to_owned(), environment.to_string()),
            ("SHIPWARDEN_MIGRATIONS_DIR".to_owned(), dir),
            ("SHIPWARDEN_MIGRATIONS_DIGEST".to_owned(), digest.clone()),
            ("SHIPWARDEN_KEY".to_owned(), key.to_owned()),
        ]);
        let spec = Spec { port: self.port(), operation, argv: &argv, env: &env, workdir: None, timeout: self.timeout };
        let finished = run_full(&spec, Some(log)).await?;
        match finished.code {
            0 => Ok(format!(
                "{} {operation} on {environment}: {} files (sha256:{digest}){}",
                self.name,
                set.scripts.len(),
                if finished.last_out.is_empty() { String::new() } else { format!(": {}", finished.last_out) }
            )),
            code => {
                let last = if finished.last_err.is_empty() { finished.last_out } else { finished.last_err };
                let mut e = PortError::new(
                    self.port(),
                    operation,
                    ErrorKind::Rejected,
                    format!("`{}` exited {code}: {last}", argv.first().map_or("", String::as_str)),
                );
                e.retryable = code == EXIT_RETRY;
                if e.retryable {
                    e.kind = ErrorKind::Unavailable;
                }
                Err(e)
            }
        }
    }
}

#[async_trait]
impl Migrator for CommandMigrator {
    fn name(&self) -> &str {
        &self.name
    }

    async fn scripts(&self) -> Result<MigrationSet, PortError> {
        read_any_dir(&self.port(), &self.dir)
    }

    async fn apply(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        self.run("apply", &self.apply, environment, set, key, log).await
    }

    async fn revert(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        self.run("revert", &self.revert, environment, set, key, log).await
    }
}
