//! Running a command for a port: an argv (never a shell string), its output
//! streamed line by line into a step's log, a timeout that kills it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use shipwarden::ports::{ErrorKind, LogSink, LogStream, PortError};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The exit code that asks for a retry (`EX_TEMPFAIL` from sysexits.h).
#[cfg_attr(not(any(feature = "command", feature = "build", feature = "ssh")), allow(dead_code))]
pub const EXIT_RETRY: i32 = 75;

/// What to run.
pub(crate) struct Spec<'a> {
    /// The port, for errors (`deploy-target web-1`).
    pub port: String,
    /// The operation, for errors (`deploy`).
    pub operation: &'a str,
    /// Program, then arguments.
    pub argv: &'a [String],
    /// Extra environment variables.
    pub env: &'a [(String, String)],
    /// The folder it runs in.
    pub workdir: Option<&'a Path>,
    /// How long it may run.
    pub timeout: Duration,
}

impl Spec<'_> {
    fn error(&self, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.port.clone(), self.operation, kind, message)
    }
}

/// How a command ended.
#[cfg_attr(not(feature = "ssh"), allow(dead_code))]
pub(crate) struct Finished {
    /// The exit code, -1 for a signal.
    pub code: i32,
    /// The last line of standard output.
    pub last_out: String,
    /// The last line of standard error.
    pub last_err: String,
}

/// Runs the command; streams its output into `log` (when given) and returns
/// its exit code (-1 for a signal) and last line of standard output.
#[cfg_attr(not(any(feature = "command", feature = "build")), allow(dead_code))]
pub(crate) async fn run(spec: &Spec<'_>, log: Option<&LogSink>) -> Result<(i32, String), PortError> {
    let finished = run_full(spec, log).await?;
    Ok((finished.code, finished.last_out))
}

/// [`run`], with the last line of standard error as well.
pub(crate) async fn run_full(spec: &Spec<'_>, log: Option<&LogSink>) -> Result<Finished, PortError> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(spec.error(ErrorKind::Invalid, "no command configured"));
    };
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = spec.workdir {
        command.current_dir(dir);
    }
    let mut child = command
        .spawn()
        .map_err(|e| spec.error(ErrorKind::Rejected, format!("cannot start `{program}`: {e}")).with_source(e))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(spec.error(ErrorKind::Other, "no output pipes"));
    };
    let last = std::sync::Mutex::new(String::new());
    let last_err = std::sync::Mutex::new(String::new());
    let pump = |reader, stream| {
        let last = if stream == LogStream::Stdout { &last } else { &last_err };
        async move {
            let mut lines = BufReader::new(reader).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(log) = log {
                    log.line(stream, line.clone());
                }
                if !line.trim().is_empty() {
                    *last.lock().unwrap_or_else(|e| e.into_inner()) = line;
                }
            }
        }
    };
    let finished = async {
        tokio::join!(
            pump(Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>, LogStream::Stdout),
            pump(Box::new(stderr), LogStream::Stderr)
        );
        child.wait().await
    };
    let status = match tokio::time::timeout(spec.timeout, finished).await {
        Ok(status) => status.map_err(|e| spec.error(ErrorKind::Other, e.to_string()))?,
        Err(_) => {
            let _ = child.kill().await;
            return Err(spec
                .error(ErrorKind::Timeout, format!("`{program}` ran longer than {:?} and was killed", spec.timeout)));
        }
    };
    Ok(Finished {
        code: status.code().unwrap_or(-1),
        last_out: last.into_inner().unwrap_or_else(|e| e.into_inner()),
        last_err: last_err.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}
