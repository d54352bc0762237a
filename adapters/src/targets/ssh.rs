//! A deploy target reached over SSH (R-8e, R-8g), with the OpenSSH client
//! (`ssh`, `scp`) that every server team already trusts and configures.
//!
//! A deployment: each artifact is read from the artifact store (its digest
//! checked), uploaded to `<dir>/releases/<version>/<name>` unless that file
//! is already there with the same SHA-256, checked on the host with
//! `sha256sum`, then the deploy command runs in `<dir>` with the same
//! placeholders and `SHIPWARDEN_*` variables as
//! [`CommandTarget`](super::command::CommandTarget) (`{artifacts}` and
//! `SHIPWARDEN_ARTIFACT_PATHS` are the uploaded paths). Its output streams
//! into the step's log line by line. A success leaves a marker
//! `<dir>/.shipwarden/done/<key>` with the summary, which
//! [`DeployTarget::status`] reads after a crash, so a deployment is never
//! repeated. A rollback uploads the previous release's artifacts the same way
//! and runs the rollback command with `SHIPWARDEN_PREVIOUS_VERSION`.
//!
//! Security: host keys are always checked (`StrictHostKeyChecking=yes`)
//! against the configured `known_hosts` file; authentication is by key only
//! (`BatchMode=yes`, `IdentitiesOnly=yes`). The remote commands are argv
//! lists, each word single-quoted before it reaches the remote shell.
//!
//! Failures: ssh's own failures (exit 255: refused, unreachable, timed out)
//! are retryable, except a host key that does not verify and a key that is
//! refused; a remote command exiting 75 (`EX_TEMPFAIL`) is retryable; any
//! other exit is not. A timeout kills the command and is retryable.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::ports::{
    ArtifactStore, DeployRequest, DeployTarget, ErrorKind, LogSink, LogStream, Lookup, PortError, RollbackRequest,
};
use shipwarden::{ArtifactRef, Version};

use crate::process::{EXIT_RETRY, Finished, Spec, run_full, run_holding_input};

/// `script`, run in `dir` on the host so that it stops when its connection
/// does: the script runs in the background with `/dev/null` as input, while a
/// watcher reads the session's input (which ssh keeps open for as long as the
/// driver lives, and never writes); at its end (ssh killed, the driver gone,
/// the connection lost) the watcher kills the session's process group, so the
/// remote command dies with its driver as a local one does. A command that
/// detaches on purpose (`setsid`, a service manager) is not affected.
fn guarded(dir: &str, script: &str) -> String {
    format!(
        "cd {dir} || exit 1\nexec 3<&0\n( {script}\n) </dev/null &\nc=$!\n\
         ( while read -r line <&3; do :; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &\nw=$!\n\
         wait \"$c\"\ns=$?\nkill \"$w\" 2>/dev/null\nexit \"$s\""
    )
}

/// How to reach the host.
#[derive(Debug, Clone)]
pub struct SshHost {
    /// Host name or address.
    pub host: String,
    /// Port (22).
    pub port: u16,
    /// The user to sign in as.
    pub user: String,
    /// The private key file.
    pub identity: PathBuf,
    /// The `known_hosts` file the host's key is checked against.
    pub known_hosts: PathBuf,
}

/// A target on one host, deployed over SSH.
pub struct SshTarget {
    name: String,
    host: SshHost,
    dir: String,
    deploy: Vec<String>,
    rollback: Vec<String>,
    env: BTreeMap<String, String>,
    artifacts: Arc<dyn ArtifactStore>,
    timeout: Duration,
    connect_timeout: Duration,
}

impl std::fmt::Debug for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshTarget")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("dir", &self.dir)
            .field("deploy", &self.deploy)
            .field("rollback", &self.rollback)
            .finish_non_exhaustive()
    }
}

/// A word for a POSIX shell: single-quoted, with `'` written as `'\''`.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:@+,".contains(&b)) {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A key as a file name: anything but `[A-Za-z0-9._-]` becomes `_`.
fn file_name_of(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// A remote artifact file name: the artifact's name without folders.
fn artifact_file(artifact: &ArtifactRef) -> String {
    let base = artifact.name.rsplit(['/', '\\']).next().unwrap_or(&artifact.name);
    let base = file_name_of(base);
    if base.is_empty() || base.starts_with('.') { format!("artifact{base}") } else { base }
}

/// The exit code that says a status marker is absent.
const NOT_DONE: i32 = 3;

impl SshTarget {
    /// A target named `name` on `host`, deploying into the folder `dir` with `deploy` and rolling back
    /// with `rollback` (each an argv), fetching artifacts from `artifacts`; a 10 minute timeout per command.
    pub fn new(
        name: impl Into<String>,
        host: SshHost,
        dir: impl Into<String>,
        deploy: Vec<String>,
        rollback: Vec<String>,
        artifacts: Arc<dyn ArtifactStore>,
    ) -> Self {
        Self {
            name: name.into(),
            host,
            dir: dir.into().trim_end_matches('/').to_owned(),
            deploy,
            rollback,
            env: BTreeMap::new(),
            artifacts,
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// An environment variable for every remote command.
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// How long a remote command may run before it is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long to wait for the connection.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    fn port_name(&self) -> String {
        format!("deploy-target {}", self.name)
    }

    fn error(&self, operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.port_name(), operation, kind, message)
    }

    /// The options both `ssh` and `scp` take.
    fn options(&self) -> Vec<String> {
        let mut options = vec!["-i".to_owned(), self.host.identity.display().to_string()];
        for option in [
            "BatchMode=yes".to_owned(),
            "IdentitiesOnly=yes".to_owned(),
            "StrictHostKeyChecking=yes".to_owned(),
            format!("UserKnownHostsFile={}", self.host.known_hosts.display()),
            "GlobalKnownHostsFile=/dev/null".to_owned(),
            format!("ConnectTimeout={}", self.connect_timeout.as_secs().max(1)),
            "ServerAliveInterval=15".to_owned(),
            "LogLevel=ERROR".to_owned(),
        ] {
            options.push("-o".to_owned());
            options.push(option);
        }
        options
    }

    fn destination(&self) -> String {
        format!("{}@{}", self.host.user, self.host.host)
    }

    /// Runs `script` with `sh` on the host, in `dir`.
    async fn remote(&self, operation: &str, script: &str, log: Option<&LogSink>) -> Result<Finished, PortError> {
        let mut argv = vec!["ssh".to_owned(), "-p".to_owned(), self.host.port.to_string()];
        argv.extend(self.options());
        argv.push(self.destination());
        argv.push(guarded(&shell_quote(&self.dir), script));
        let spec =
            Spec { port: self.port_name(), operation, argv: &argv, env: &[], workdir: None, timeout: self.timeout };
        // ssh's input stays open while it runs and closes when the driver dies (or ssh is killed): the guard
        // on the host then stops the remote command, so it never runs on after its driver (issue #18).
        let finished = run_holding_input(&spec, log).await?;
        if finished.code == 255 {
            return Err(self.ssh_failed(operation, &finished));
        }
        Ok(finished)
    }

    /// ssh's own failure (exit 255): retryable unless the host key or our key was refused.
    fn ssh_failed(&self, operation: &str, finished: &Finished) -> PortError {
        let text = &finished.last_err;
        let lower = text.to_ascii_lowercase();
        let kind = if lower.contains("host key verification failed")
            || lower.contains("permission denied")
            || lower.contains("no such identity")
            || lower.contains("remote host identification has changed")
        {
            ErrorKind::Rejected
        } else if lower.contains("timed out") {
            ErrorKind::Timeout
        } else {
            ErrorKind::Unavailable
        };
        let what = if text.is_empty() { "ssh failed (exit 255)".to_owned() } else { text.clone() };
        self.error(operation, kind, format!("{}:{}: {what}", self.host.host, self.host.port))
    }

    /// Uploads each artifact to `releases/<version>/` unless it is there with its digest; returns the remote paths.
    async fn upload(
        &self,
        operation: &str,
        version: &Version,
        artifacts: &[ArtifactRef],
        log: &LogSink,
    ) -> Result<Vec<String>, PortError> {
        let folder = format!("releases/{version}");
        let paths: Vec<String> = artifacts.iter().map(|a| format!("{folder}/{}", artifact_file(a))).collect();
        if artifacts.is_empty() {
            return Ok(paths);
        }
        let ok = self.present(operation, &folder, artifacts, &paths).await?;
        let scratch = tempfile::tempdir()
            .map_err(|e| self.error(operation, ErrorKind::Other, format!("no scratch folder: {e}")))?;
        for ((artifact, path), there) in artifacts.iter().zip(&paths).zip(ok) {
            if there {
                log.line(LogStream::Info, format!("{path} already on {} (sha256 checked)", self.host.host));
                continue;
            }
            let bytes = self.artifacts.get(artifact).await?;
            let local = scratch.path().join(artifact_file(artifact));
            tokio::fs::write(&local, &bytes)
                .await
                .map_err(|e| self.error(operation, ErrorKind::Other, format!("cannot stage {}: {e}", artifact.name)))?;
            let partial = format!("{}/{path}.part", self.dir);
            let mut argv = vec!["scp".to_owned(), "-q".to_owned(), "-P".to_owned(), self.host.port.to_string()];
            argv.extend(self.options());
            argv.push(local.display().to_string());
            argv.push(format!("{}:{partial}", self.destination()));
            let spec =
                Spec { port: self.port_name(), operation, argv: &argv, env: &[], workdir: None, timeout: self.timeout };
            let finished = run_full(&spec, Some(log)).await?;
            match finished.code {
                0 => {}
                255 => return Err(self.ssh_failed(operation, &finished)),
                code => {
                    return Err(self.error(
                        operation,
                        ErrorKind::Unavailable,
                        format!("upload of {} failed (scp exit {code}): {}", artifact.name, finished.last_err),
                    ));
                }
            }
            // Checked on the host, then moved in place: a reader never sees half a file.
            let script = format!(
                "printf '%s  %s\\n' {sha} {part} | sha256sum -c --quiet - && mv -f {part} {path}",
                sha = artifact.sha256,
                part = shell_quote(&format!("{path}.part")),
                path = shell_quote(path)
            );
            let moved = self.remote(operation, &script, Some(log)).await?;
            if moved.code != 0 {
                return Err(self.error(
                    operation,
                    ErrorKind::Unavailable,
                    format!("{path} arrived with another digest than sha256:{}", artifact.sha256),
                ));
            }
            log.line(
                LogStream::Info,
                format!("uploaded {} ({} bytes) to {}:{path}", artifact.name, artifact.size, self.host.host),
            );
        }
        Ok(paths)
    }

    /// For each artifact, whether its file is on the host with its digest.
    async fn present(
        &self,
        operation: &str,
        folder: &str,
        artifacts: &[ArtifactRef],
        paths: &[String],
    ) -> Result<Vec<bool>, PortError> {
        let check: String = artifacts.iter().zip(paths).map(|(a, p)| format!("{}  {}\n", a.sha256, p)).collect();
        let script = format!(
            "mkdir -p {folder} && printf %s {check} | sha256sum -c - 2>/dev/null || true",
            folder = shell_quote(folder),
            check = shell_quote(&check)
        );
        let log = LogSink::default();
        let finished = self.remote(operation, &script, Some(&log)).await?;
        if finished.code != 0 {
            return Err(self.error(
                operation,
                ErrorKind::Rejected,
                format!("cannot prepare {folder}: {}", finished.last_err),
            ));
        }
        let ok: Vec<String> = log
            .take()
            .into_iter()
            .filter(|l| l.stream == LogStream::Stdout)
            .filter_map(|l| l.text.strip_suffix(": OK").map(str::to_owned))
            .collect();
        Ok(paths.iter().map(|p| ok.contains(p)).collect())
    }

    /// The exports and the quoted command for `argv`, placeholders filled.
    fn command(&self, argv: &[String], values: &[(&str, String)], env: &[(String, String)]) -> String {
        let fill = |arg: &String| {
            values.iter().fold(arg.clone(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
        };
        let exports: String = self
            .env
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain(env.iter().cloned())
            .map(|(k, v)| format!("export {k}={}; ", shell_quote(&v)))
            .collect();
        let words: Vec<String> = argv.iter().map(|a| shell_quote(&fill(a))).collect();
        format!("{exports}{}", words.join(" "))
    }

    /// Runs a deploy or rollback command, then leaves the key's marker.
    async fn run_command(
        &self,
        operation: &str,
        argv: &[String],
        key: &str,
        values: &[(&str, String)],
        env: &[(String, String)],
        log: &LogSink,
    ) -> Result<String, PortError> {
        if argv.is_empty() {
            return Err(self.error(operation, ErrorKind::Invalid, format!("no {operation} command configured")));
        }
        let finished = self.remote(operation, &self.command(argv, values, env), Some(log)).await?;
        match finished.code {
            0 => {}
            EXIT_RETRY => {
                return Err(self.error(
                    operation,
                    ErrorKind::Unavailable,
                    format!("exit {EXIT_RETRY}: asked to retry"),
                ));
            }
            code => {
                let detail = if finished.last_err.is_empty() { finished.last_out } else { finished.last_err };
                return Err(self.error(operation, ErrorKind::Rejected, format!("exit {code}: {detail}")));
            }
        }
        let summary = if finished.last_out.is_empty() {
            format!("{operation} done on {}", self.host.host)
        } else {
            finished.last_out
        };
        let marker = format!(".shipwarden/done/{}", file_name_of(key));
        let script = format!(
            "mkdir -p .shipwarden/done && printf '%s\\n' {summary} > {marker}.part && mv -f {marker}.part {marker}",
            summary = shell_quote(&summary),
            marker = shell_quote(&marker)
        );
        let written = self.remote(operation, &script, None).await?;
        if written.code != 0 {
            return Err(self.error(
                operation,
                ErrorKind::Unavailable,
                format!("cannot record {key}: {}", written.last_err),
            ));
        }
        Ok(summary)
    }
}

#[async_trait]
impl DeployTarget for SshTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        let paths = self.upload("deploy", &request.version, &request.artifacts, log).await?;
        let values = [
            ("release", request.release.to_string()),
            ("version", request.version.to_string()),
            ("environment", request.environment.to_string()),
            ("key", request.key.clone()),
            ("artifacts", paths.join(" ")),
        ];
        let env = vec![
            ("SHIPWARDEN_RELEASE".to_owned(), request.release.to_string()),
            ("SHIPWARDEN_VERSION".to_owned(), request.version.to_string()),
            ("SHIPWARDEN_ENVIRONMENT".to_owned(), request.environment.to_string()),
            ("SHIPWARDEN_KEY".to_owned(), request.key.clone()),
            ("SHIPWARDEN_ARTIFACTS".to_owned(), serde_json::to_string(&request.artifacts).unwrap_or_default()),
            ("SHIPWARDEN_ARTIFACT_PATHS".to_owned(), paths.join(" ")),
        ];
        self.run_command("deploy", &self.deploy, &request.key, &values, &env, log).await
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let marker = shell_quote(&format!(".shipwarden/done/{}", file_name_of(key)));
        let script = format!("if [ -f {marker} ]; then cat {marker}; else exit {NOT_DONE}; fi");
        let finished = self.remote("status", &script, None).await?;
        match finished.code {
            0 => Ok(Lookup::Done(finished.last_out)),
            // No marker: never begun, or cut short by a crash (the remote command may
            // even still run); the port cannot tell, so the step is in doubt.
            NOT_DONE => Ok(Lookup::Unsupported),
            code => Err(self.error("status", ErrorKind::Unavailable, format!("exit {code}: {}", finished.last_err))),
        }
    }

    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let previous = request.previous.first().map(|a| a.version.to_string()).unwrap_or_default();
        let version = request.previous.first().map(|a| a.version.clone());
        let paths = match &version {
            Some(version) => self.upload("rollback", version, &request.previous, log).await?,
            None => Vec::new(),
        };
        let values = [
            ("release", request.release.to_string()),
            ("version", previous.clone()),
            ("environment", request.environment.to_string()),
            ("key", request.key.clone()),
            ("artifacts", paths.join(" ")),
        ];
        let env = vec![
            ("SHIPWARDEN_RELEASE".to_owned(), request.release.to_string()),
            ("SHIPWARDEN_PREVIOUS_VERSION".to_owned(), previous),
            ("SHIPWARDEN_ENVIRONMENT".to_owned(), request.environment.to_string()),
            ("SHIPWARDEN_KEY".to_owned(), request.key.clone()),
            ("SHIPWARDEN_ARTIFACTS".to_owned(), serde_json::to_string(&request.previous).unwrap_or_default()),
            ("SHIPWARDEN_ARTIFACT_PATHS".to_owned(), paths.join(" ")),
        ];
        self.run_command("rollback", &self.rollback, &request.key, &values, &env, log).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_the_remote_shell() {
        assert_eq!(shell_quote("plain-word_1.2/x"), "plain-word_1.2/x");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn keys_and_names_become_safe_file_names() {
        assert_eq!(file_name_of("deploy:prod:web-1#2"), "deploy_prod_web-1_2");
        let a = ArtifactRef::new("../../etc/passwd", Version::new(1, 0, 0), shipwarden::Sha256::of(b""), 0);
        assert_eq!(artifact_file(&a), "passwd");
        let b = ArtifactRef::new("..", Version::new(1, 0, 0), shipwarden::Sha256::of(b""), 0);
        assert_eq!(artifact_file(&b), "artifact..");
    }
}
