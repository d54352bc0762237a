//! Running a command for a port: an argv (never a shell string), its output
//! streamed line by line into a step's log, a timeout that kills it.
//!
//! A command never outlives the process that drives it: it runs in a process
//! group of its own under a small POSIX `sh` supervisor (the argv is passed
//! as `"$@"`, never interpolated) that kills the whole group as soon as the
//! driver is gone, even when the driver was killed with SIGKILL and could not
//! clean up; a timeout, or a step dropped half-way, kills the group too. So a
//! crashed driver leaves no orphan deploying on, and the engine can treat a
//! step it finds unfinished as stopped (in doubt), never as still running.
//!
//! Output is read as bytes and decoded lossily (invalid UTF-8 becomes U+FFFD),
//! and the pipes are read to their end whatever they hold: a reader that
//! stopped early would kill the command with SIGPIPE (issue #18). A line
//! longer than [`MAX_LINE`] bytes is cut, so memory does not grow with it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use shipwarden::ports::{ErrorKind, LogSink, LogStream, PortError};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};

/// The exit code that asks for a retry (`EX_TEMPFAIL` from sysexits.h).
#[cfg_attr(not(any(feature = "command", feature = "build", feature = "ssh")), allow(dead_code))]
pub const EXIT_RETRY: i32 = 75;

/// The most bytes of one output line kept in the log (room left for the note that says so, within the
/// log's own limit); the rest is dropped and counted.
pub const MAX_LINE: usize = shipwarden::ports::LogSink::MAX_LINE - 64;

/// Reads the next line of `reader` into `line` (without its `\n` or `\r\n`), keeping at most
/// [`MAX_LINE`] bytes. Returns how many bytes were dropped, or `None` at the end of the output.
async fn next_line<R: AsyncBufRead + Unpin>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    line.clear();
    let (mut cut, mut any) = (0usize, false);
    loop {
        let buffer = reader.fill_buf().await?;
        if buffer.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let newline = buffer.iter().position(|b| *b == b'\n');
        let chunk = &buffer[..newline.unwrap_or(buffer.len())];
        let take = MAX_LINE.saturating_sub(line.len()).min(chunk.len());
        line.extend_from_slice(&chunk[..take]);
        cut += chunk.len() - take;
        let used = newline.map_or(buffer.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            if cut == 0 && line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(Some(cut));
        }
    }
}

/// A line of output as text: invalid UTF-8 replaced, a cut line marked with what was dropped.
fn decode(line: &[u8], cut: usize) -> String {
    let mut text = String::from_utf8_lossy(line).into_owned();
    if cut > 0 {
        text.push_str(&format!(" … [line cut: {cut} more bytes]"));
    }
    text
}

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
    run_with(spec, log, false).await
}

/// [`run_full`] with the command's standard input a pipe held open until it
/// ends (instead of `/dev/null`), closed when the driver dies: `ssh` passes
/// that end of input on to the remote command, which stops with it (see the
/// SSH target's guard), so a remote command dies with its driver too.
#[cfg_attr(not(feature = "ssh"), allow(dead_code))]
pub(crate) async fn run_holding_input(spec: &Spec<'_>, log: Option<&LogSink>) -> Result<Finished, PortError> {
    run_with(spec, log, true).await
}

async fn run_with(spec: &Spec<'_>, log: Option<&LogSink>, hold_input: bool) -> Result<Finished, PortError> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(spec.error(ErrorKind::Invalid, "no command configured"));
    };
    found(program, spec)
        .map_err(|e| spec.error(ErrorKind::Rejected, format!("cannot start `{program}`: {e}")).with_source(e))?;
    let mut command = tokio::process::Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(SUPERVISOR)
        .arg("shipwarden-supervisor")
        .arg(program)
        .args(args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env("SHIPWARDEN_DRIVER_PID", std::process::id().to_string())
        .stdin(if hold_input { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(dir) = spec.workdir {
        command.current_dir(dir);
    }
    let mut child = command
        .spawn()
        .map_err(|e| spec.error(ErrorKind::Rejected, format!("cannot start `{program}`: {e}")).with_source(e))?;
    // The group is the supervisor's pid; dropped before the end (a step cancelled), it is killed.
    let mut group = Group(child.id());
    // Held (never written) until the command ends; the kernel closes it if this process dies.
    let input = child.stdin.take();
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(spec.error(ErrorKind::Other, "no output pipes"));
    };
    let last = std::sync::Mutex::new(String::new());
    let last_err = std::sync::Mutex::new(String::new());
    let pump = |reader, stream| {
        let last = if stream == LogStream::Stdout { &last } else { &last_err };
        async move {
            let mut reader = BufReader::new(reader);
            let mut raw = Vec::new();
            // Read to the end of the output (never stop early: the command would get SIGPIPE).
            while let Ok(Some(cut)) = next_line(&mut reader, &mut raw).await {
                let line = decode(&raw, cut);
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
            group.kill();
            let _ = child.kill().await;
            return Err(spec
                .error(ErrorKind::Timeout, format!("`{program}` ran longer than {:?} and was killed", spec.timeout)));
        }
    };
    drop(input);
    // The command ended by itself: what it started to keep running (a service it
    // deployed, detached) stays; only a command cut short takes its group along.
    group.0 = None;
    Ok(Finished {
        code: status.code().unwrap_or(-1),
        last_out: last.into_inner().unwrap_or_else(|e| e.into_inner()),
        last_err: last_err.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// Runs `"$@"` in the background of a shell that leads its own process group
/// (its standard input the supervisor's: `/dev/null`, or the held pipe; passed
/// through fd 3, as `dash` gives a background command `/dev/null` before any
/// redirection, so `<&0` would not do),
/// watches the driver (`SHIPWARDEN_DRIVER_PID`) every 200 ms and kills the
/// whole group once the driver is gone; otherwise waits for the command and
/// exits with its status.
const SUPERVISOR: &str = r#"exec 3<&0
"$@" <&3 3<&- &
c=$!
( while kill -0 "$SHIPWARDEN_DRIVER_PID" 2>/dev/null; do sleep 0.2; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 3<&- &
w=$!
wait "$c"
s=$?
kill "$w" 2>/dev/null
exit "$s""#;

/// A command's process group, killed when it is dropped unless it was already.
struct Group(Option<u32>);

impl Group {
    /// Kills every process of the group (SIGKILL), once.
    fn kill(&mut self) {
        if let Some(pid) = self.0.take() {
            // `kill` the program: no unsafe code, and the group is gone when it returns.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Checks that `program` can be started (found on `PATH` when it has no `/`,
/// a file, executable), so that a missing program is reported as before the
/// supervisor existed: "cannot start".
fn found(program: &str, spec: &Spec<'_>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let runnable =
        |path: &Path| std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    let not_found = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
    if program.contains('/') {
        let path = match spec.workdir {
            Some(dir) if !program.starts_with('/') => dir.join(program),
            _ => Path::new(program).to_path_buf(),
        };
        if !path.exists() {
            return Err(not_found());
        }
        return if runnable(&path) {
            Ok(())
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied"))
        };
    }
    let path = spec
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| std::ffi::OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    if std::env::split_paths(&path).any(|dir| runnable(&dir.join(program))) { Ok(()) } else { Err(not_found()) }
}
