use super::LogLine;
use crate::model::ReleaseId;

/// Where every step's whole log goes, line by line, as it is written (R-8e,
/// R-9d): the audit trail keeps a bounded excerpt and the digest of the whole
/// (see [`LogSink`](super::LogSink)) and points here.
///
/// Called on the thread that writes the log: an implementation buffers and
/// never blocks for long; a failure to archive is its own to report (a log
/// that cannot be kept whole must not stop a deployment).
pub trait LogArchive: Send + Sync {
    /// Appends one line of step `key` of `release`.
    fn append(&self, release: &ReleaseId, key: &str, line: &LogLine);

    /// The step has ended: flushes what is buffered and says where its whole
    /// log is kept (a path, a URL), for the record.
    fn finish(&self, release: &ReleaseId, key: &str) -> Option<String>;
}
