//! Evidence from the files CI already writes (R-7a, R-7c, R-7g): coverage
//! (LCOV, Cobertura XML, JaCoCo XML), test results (JUnit XML) and
//! performance results (JMeter `.jtl` as CSV or XML, k6's JSON summary).
//!
//! Every reader streams: a file is read once, in blocks, and memory stays the
//! same whatever its size (per-label latency histograms are fixed-size HDR
//! histograms). A malformed file gives an [`ImportError`] with the file, the
//! line and what was expected, never a panic. The format is found from the
//! content, so `--coverage report.xml` works for Cobertura and JaCoCo alike.

pub mod coverage;
pub mod gates;
pub mod junit;
pub mod perf;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

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

/// An unsigned decimal, from ASCII bytes (surrounding blanks allowed).
pub(crate) fn digits(bytes: &[u8]) -> Option<u64> {
    let bytes = bytes.trim_ascii();
    if bytes.is_empty() || bytes.len() > 19 {
        return None;
    }
    bytes.iter().try_fold(0u64, |n, b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

/// The next XML event and the byte offset it starts at; a malformed document is an error naming its line.
pub(crate) fn next_event<'b, R: BufRead>(
    xml: &mut quick_xml::Reader<R>,
    buffer: &'b mut Vec<u8>,
    path: &Path,
) -> Result<(u64, quick_xml::events::Event<'b>), ImportError> {
    let offset = xml.buffer_position();
    let event = xml
        .read_event_into(buffer)
        .map_err(|e| ImportError::new(path, line_of(path, xml.error_position()), format!("well-formed XML ({e})")))?;
    Ok((offset, event))
}
