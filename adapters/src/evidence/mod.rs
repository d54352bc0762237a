//! Evidence from the files CI already writes (R-7a, R-7c, R-7g): coverage
//! (LCOV, Cobertura XML, JaCoCo XML), test results (JUnit XML) and
//! performance results (JMeter `.jtl` as CSV or XML, k6's JSON summary).
//!
//! Every reader streams: a file is read once, in blocks, and memory stays the
//! same whatever its size (per-label latency histograms are fixed-size HDR
//! histograms). A malformed file gives an [`ImportError`] with the file, the
//! line and what was expected, never a panic.
//!
//! Hostile input is bounded (issue #18): a line, an XML element or a CSV
//! record longer than [`MAX_UNIT`] bytes, a NUL byte (a binary file, or
//! `/dev/zero`), a total that overflows and a document that does not close
//! are errors; memory never grows with the input. The format is found from the
//! content, so `--coverage report.xml` works for Cobertura and JaCoCo alike.

pub mod coverage;
pub mod gates;
pub mod junit;
pub mod perf;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The most bytes one unit of a report may take: a line (LCOV), an XML event
/// (an element with its attributes, or a text run) or a CSV record.
pub const MAX_UNIT: u64 = 16 << 20;

/// The most bytes a report read whole (k6's JSON summary) may take.
pub const MAX_DOCUMENT: u64 = 64 << 20;

/// The deepest XML nesting read: reports nest a handful of levels, a deeper one is not a report.
pub const MAX_DEPTH: usize = 256;

/// An error when an XML report nests deeper than [`MAX_DEPTH`].
pub(crate) fn check_depth(path: &Path, offset: u64, depth: usize) -> Result<(), ImportError> {
    if depth <= MAX_DEPTH {
        return Ok(());
    }
    Err(ImportError::new(path, line_of(path, offset), format!("elements nested at most {MAX_DEPTH} deep")))
}

/// Why a [`Guarded`] reader stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    /// A NUL byte: not text.
    Nul,
    /// More than the limit without a new unit.
    TooLong(u64),
}

impl Problem {
    /// What was expected instead, for an [`ImportError`].
    pub(crate) fn expected(self, unit: &str) -> String {
        match self {
            Problem::Nul => "text, not a binary file (found a NUL byte)".to_owned(),
            Problem::TooLong(limit) => format!("{unit} of at most {} KiB", limit / 1024),
        }
    }
}

/// A reader that fails once more than `limit` bytes pass without a [`Guarded::mark`]
/// (the start of a new line, event or record), or on a NUL byte; so a parser's
/// buffers stay bounded whatever the file holds.
pub(crate) struct Guarded<R> {
    inner: R,
    since_mark: u64,
    limit: u64,
    problem: Option<Problem>,
}

impl<R: BufRead> Guarded<R> {
    /// Guards `inner` with at most `limit` bytes between marks.
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self { inner, since_mark: 0, limit, problem: None }
    }

    /// A new unit starts here.
    pub(crate) fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// Why reading stopped, if it did.
    pub(crate) fn problem(&self) -> Option<Problem> {
        self.problem
    }

    fn fail(&self) -> std::io::Result<()> {
        match self.problem {
            Some(p) => Err(std::io::Error::new(std::io::ErrorKind::InvalidData, p.expected("a unit"))),
            None => Ok(()),
        }
    }
}

impl<R: BufRead> Read for Guarded<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guarded<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.fail()?;
        let room = usize::try_from(self.limit.saturating_sub(self.since_mark).saturating_add(1)).unwrap_or(usize::MAX);
        let buffer = self.inner.fill_buf()?;
        Ok(&buffer[..buffer.len().min(room)])
    }

    fn consume(&mut self, n: usize) {
        if let Ok(buffer) = self.inner.fill_buf()
            && buffer[..n.min(buffer.len())].contains(&0)
        {
            self.problem = Some(Problem::Nul);
        }
        self.inner.consume(n);
        self.since_mark = self.since_mark.saturating_add(n as u64);
        if self.problem.is_none() && self.since_mark > self.limit {
            self.problem = Some(Problem::TooLong(self.limit));
        }
    }
}

/// A sum of counts that must fit in 64 bits; an overflow is an error naming the line.
pub(crate) fn add(path: &Path, line: u64, a: u64, b: u64) -> Result<u64, ImportError> {
    a.checked_add(b).ok_or_else(|| ImportError::new(path, line, "totals that fit in 64 bits (they overflow)"))
}

/// A file that could not be read as evidence: where, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: expected {expected}", file.display())]
pub struct ImportError {
    /// The file.
    pub file: PathBuf,
    /// The line (1-based; 0 when the file could not be opened).
    pub line: u64,
    /// What was expected there.
    pub expected: String,
}

impl ImportError {
    pub(crate) fn new(file: &Path, line: u64, expected: impl Into<String>) -> Self {
        Self { file: file.to_path_buf(), line, expected: expected.into() }
    }
}

/// Opens `path` for buffered reading (1 MiB blocks).
pub(crate) fn open(path: &Path) -> Result<BufReader<std::fs::File>, ImportError> {
    let file = std::fs::File::open(path).map_err(|e| ImportError::new(path, 0, format!("a readable file ({e})")))?;
    Ok(BufReader::with_capacity(1 << 20, file))
}

/// The first non-blank byte of the file, to tell formats apart (`<` XML, `{` JSON, else text).
pub(crate) fn first_byte(reader: &mut impl BufRead, path: &Path) -> Result<Option<u8>, ImportError> {
    loop {
        let buffer = reader.fill_buf().map_err(|e| ImportError::new(path, 1, format!("readable text ({e})")))?;
        if buffer.is_empty() {
            return Ok(None);
        }
        let skip =
            buffer.iter().take_while(|b| b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF).count();
        if skip < buffer.len() {
            let b = buffer[skip];
            reader.consume(skip);
            return Ok(Some(b));
        }
        let n = buffer.len();
        reader.consume(n);
    }
}

/// The line of byte `offset` in `path` (read again, only when reporting an error).
pub(crate) fn line_of(path: &Path, offset: u64) -> u64 {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else { return 0 };
    let mut lines = 1;
    let mut buffer = vec![0u8; 1 << 16];
    let mut left = offset;
    let mut reader = BufReader::new(file);
    while left > 0 {
        let want = usize::try_from(left.min(buffer.len() as u64)).unwrap_or(buffer.len());
        let Ok(n) = reader.read(&mut buffer[..want]) else { break };
        if n == 0 {
            break;
        }
        lines += buffer[..n].iter().filter(|b| **b == b'\n').count() as u64;
        left -= n as u64;
    }
    lines
}

/// The value of attribute `name` of an XML element, as text.
pub(crate) fn attribute(element: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    element.attributes().flatten().find(|a| a.key.0.as_bytes() == name).map(|a| {
        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_or_else(|_| a.value.clone().into_owned(), std::borrow::Cow::into_owned)
    })
}

/// An unsigned decimal that fits in 64 bits, from ASCII bytes (surrounding blanks allowed).
pub(crate) fn digits(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.trim_ascii();
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// An XML reader over a guarded file: each event at most [`MAX_UNIT`] bytes, no NUL bytes.
pub(crate) fn xml_reader<R: BufRead>(reader: R) -> quick_xml::Reader<Guarded<R>> {
    quick_xml::Reader::from_reader(Guarded::new(reader, MAX_UNIT))
}

/// The next XML event and the byte offset it starts at; a malformed document is an error naming its line,
/// and so is the end of a document whose elements are not all closed.
pub(crate) fn next_event<'b, R: BufRead>(
    xml: &mut quick_xml::Reader<Guarded<R>>,
    buffer: &'b mut Vec<u8>,
    path: &Path,
) -> Result<(u64, quick_xml::events::Event<'b>), ImportError> {
    xml.get_mut().mark();
    buffer.clear();
    let offset = xml.buffer_position();
    let event = xml.read_event_into(buffer).map_err(|e| match xml.get_ref().problem() {
        Some(problem) => ImportError::new(path, line_of(path, offset), problem.expected("an XML element or text")),
        None => ImportError::new(path, line_of(path, xml.error_position()), format!("well-formed XML ({e})")),
    })?;
    Ok((offset, event))
}

/// The end of an XML report: every element opened was closed (`depth` 0), else the file was cut off.
pub(crate) fn closed<R>(xml: &quick_xml::Reader<R>, depth: usize, path: &Path) -> Result<(), ImportError> {
    if depth == 0 {
        return Ok(());
    }
    Err(ImportError::new(
        path,
        line_of(path, xml.buffer_position()),
        format!("the closing tags of the report ({depth} elements still open: the file is cut off)"),
    ))
}
