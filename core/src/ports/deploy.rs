use std::sync::Mutex;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Lookup, PortError};
pub use crate::machine::{LogLine, LogStream};
use crate::model::{ArtifactRef, EnvName, ReleaseId, Version};

type Tap = Box<dyn Fn(&LogLine) + Send + Sync>;

/// Collects a step's log lines; the engine records them with the step's
/// outcome (R-8e) and can stream them to subscribers as they come.
///
/// What the audit trail keeps is bounded whatever a command prints: each line
/// at most [`LogSink::MAX_LINE`] bytes, and of the whole log its first and
/// last [`LogSink::EXCERPT`] bytes (and at most [`LogLine::MAX_PER_STEP`]
/// lines), with a line in between that says how much was left out and the
/// SHA-256 of the whole log, which the log archive keeps whole when one is
/// configured. Memory stays the same whatever the size of the output.
#[derive(Default)]
pub struct LogSink {
    kept: Mutex<Kept>,
    tap: Option<Tap>,
}

#[derive(Default)]
struct Kept {
    head: Vec<LogLine>,
    head_bytes: usize,
    tail: std::collections::VecDeque<LogLine>,
    tail_bytes: usize,
    dropped_lines: u64,
    dropped_bytes: u64,
    lines: u64,
    bytes: u64,
    digest: Option<sha2::Sha256>,
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("LogSink").field("lines", &kept.lines).field("bytes", &kept.bytes).finish_non_exhaustive()
    }
}

/// `text` cut to at most `max` bytes on a character boundary, saying so.
pub(crate) fn capped(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &text[..end], text.len() - end)
}

impl LogSink {
    /// The most bytes of one line kept; the rest is cut and counted.
    pub const MAX_LINE: usize = 16 * 1024;
    /// The bytes kept of the start, and of the end, of a step's log.
    pub const EXCERPT: usize = 64 * 1024;

    /// A sink that also hands each line to `tap` as it is written.
    pub fn with_tap(tap: impl Fn(&LogLine) + Send + Sync + 'static) -> Self {
        Self { kept: Mutex::default(), tap: Some(Box::new(tap)) }
    }

    /// Adds a line.
    pub fn line(&self, stream: LogStream, text: impl Into<String>) {
        use sha2::Digest;
        let line = LogLine { stream, text: capped(text.into(), Self::MAX_LINE) };
        if let Some(tap) = &self.tap {
            tap(&line);
        }
        let mut k = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let size = line.text.len() + 1;
        let digest = k.digest.get_or_insert_with(sha2::Sha256::new);
        digest.update(line.stream.as_str().as_bytes());
        digest.update(b"\t");
        digest.update(line.text.as_bytes());
        digest.update(b"\n");
        k.lines += 1;
        k.bytes += size as u64;
        // The start, a line about what was left out, the end: within MAX_PER_STEP lines.
        let half = (LogLine::MAX_PER_STEP - 1) / 2;
        if k.tail.is_empty() && k.head_bytes + size <= Self::EXCERPT && k.head.len() < half {
            k.head_bytes += size;
            k.head.push(line);
            return;
        }
        k.tail_bytes += size;
        k.tail.push_back(line);
        while k.tail_bytes > Self::EXCERPT || k.tail.len() > half {
            let Some(old) = k.tail.pop_front() else { break };
            k.tail_bytes -= old.text.len() + 1;
            k.dropped_lines += 1;
            k.dropped_bytes += old.text.len() as u64 + 1;
        }
    }

    /// How many lines and bytes were written, and the SHA-256 (hex) of the
    /// whole log (each line as `stream<TAB>text<LF>`).
    pub fn written(&self) -> (u64, u64, String) {
        use sha2::Digest;
        let k = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let digest = k.digest.clone().unwrap_or_default().finalize();
        (k.lines, k.bytes, hex(&digest))
    }

    /// Takes the lines kept so far: the start, a line saying what was left
    /// out (with the whole log's digest) when anything was, and the end.
    pub fn take(&self) -> Vec<LogLine> {
        let (lines, bytes, digest) = self.written();
        let mut k = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = std::mem::take(&mut k.head);
        if k.dropped_lines > 0 {
            out.push(LogLine {
                stream: LogStream::Info,
                text: format!(
                    "… {} lines ({} bytes) left out here; the whole log: {lines} lines, {bytes} bytes, sha256:{digest}",
                    k.dropped_lines, k.dropped_bytes
                ),
            });
        }
        out.extend(std::mem::take(&mut k.tail));
        *k = Kept::default();
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What to deploy where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRequest {
    /// The release.
    pub release: ReleaseId,
    /// Its version.
    pub version: Version,
    /// The environment.
    pub environment: EnvName,
    /// The artifacts to install.
    pub artifacts: Vec<ArtifactRef>,
    /// The idempotency key of this deployment of this target.
    pub key: String,
}

/// What to roll back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    /// The release being rolled back.
    pub release: ReleaseId,
    /// The environment.
    pub environment: EnvName,
    /// The artifacts of the previous working release to reinstall (R-1d), if known.
    pub previous: Vec<ArtifactRef>,
    /// The idempotency key of this rollback of this target.
    pub key: String,
}

/// A machine, cluster or service that a release is deployed to (R-8e, R-8g).
#[async_trait]
pub trait DeployTarget: Send + Sync {
    /// The target's name, unique within its environment (`web-1`).
    fn name(&self) -> &str;

    /// Deploys, writing progress to `log`; returns a summary of what it did.
    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError>;

    /// What became of the deployment or rollback with this idempotency key.
    ///
    /// # Notes
    /// The engine asks this after a crash instead of deploying again.
    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let _ = key;
        Ok(Lookup::Unsupported)
    }

    /// True when deploying the same key twice is safe (the deploy converges,
    /// as `kubectl apply` or an Ansible play does). After a crash, the engine
    /// runs a started deploy whose outcome the target cannot tell again only
    /// for such a target; for any other the step is in doubt until a person
    /// resolves it (R-9d).
    ///
    /// # Behavior
    /// The default says no.
    fn idempotent(&self) -> bool {
        false
    }

    /// Returns the target to the previous working release.
    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError>;
}
