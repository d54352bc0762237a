//! Steps' whole logs as files, one per step (R-8e, R-9d): the audit trail
//! keeps a bounded excerpt and the digest of the whole, and points here.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use shipwarden::ReleaseId;
use shipwarden::ports::{LogArchive, LogLine};

/// Writes each step's log to `<dir>/<release>/<key>.log`, a line per log
/// line (`stream<TAB>text`), buffered and flushed when the step ends.
pub struct FileLogArchive {
    dir: PathBuf,
    open: Mutex<HashMap<(String, String), std::io::BufWriter<std::fs::File>>>,
}

impl FileLogArchive {
    /// An archive under `dir` (created as needed).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), open: Mutex::default() }
    }

    /// Where step `key` of `release` is kept: the key's `/` and `\` become `_`.
    pub fn path(&self, release: &ReleaseId, key: &str) -> PathBuf {
        let file: String = key.chars().map(|c| if c == '/' || c == '\\' { '_' } else { c }).collect();
        self.dir.join(release.as_str()).join(format!("{file}.log"))
    }

    fn open(path: &Path) -> std::io::Result<std::io::BufWriter<std::fs::File>> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(std::io::BufWriter::new(file))
    }
}

impl LogArchive for FileLogArchive {
    fn append(&self, release: &ReleaseId, key: &str, line: &LogLine) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let id = (release.to_string(), key.to_owned());
        if !open.contains_key(&id) {
            match Self::open(&self.path(release, key)) {
                Ok(w) => {
                    open.insert(id.clone(), w);
                }
                Err(e) => {
                    tracing::warn!(release = %release, key, error = %e, "the step's whole log cannot be kept");
                    return;
                }
            }
        }
        if let Some(w) = open.get_mut(&id)
            && let Err(e) = writeln!(w, "{}\t{}", line.stream.as_str(), line.text)
        {
            tracing::warn!(release = %release, key, error = %e, "the step's whole log cannot be kept");
        }
    }

    fn finish(&self, release: &ReleaseId, key: &str) -> Option<String> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut w = open.remove(&(release.to_string(), key.to_owned()))?;
        w.flush().ok()?;
        Some(self.path(release, key).display().to_string())
    }
}
