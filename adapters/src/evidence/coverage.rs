//! Line coverage (R-7a) from LCOV tracefiles, Cobertura XML (coverage.py,
//! gcovr, Istanbul's `cobertura` reporter) and JaCoCo XML.

use std::io::BufRead;
use std::path::Path;

use quick_xml::events::Event;

use super::{
    Guarded, ImportError, MAX_UNIT, add, attribute, check_depth, closed, first_byte, line_of, next_event, open,
    xml_reader,
};

/// Lines covered over lines measured, and the format they were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    /// Lines executed at least once.
    pub covered: u64,
    /// Lines measured.
    pub lines: u64,
    /// `lcov`, `cobertura` or `jacoco`.
    pub format: &'static str,
}

impl Coverage {
    /// The ratio 0..=1 (0 for a report without lines).
    pub fn ratio(&self) -> f64 {
        if self.lines == 0 { 0.0 } else { self.covered as f64 / self.lines as f64 }
    }
}

/// Reads a coverage report, its format found from the content.
///
/// # Errors
/// When the file cannot be read or is not a well-formed report; the error names the line.
pub fn read(path: &Path) -> Result<Coverage, ImportError> {
    let mut reader = open(path)?;
    match first_byte(&mut reader, path)? {
        Some(b'<') => xml(path, reader),
        Some(_) => lcov(path, reader),
        None => Err(ImportError::new(path, 1, "a coverage report (LCOV, Cobertura or JaCoCo XML), not an empty file")),
    }
}

/// LCOV, line by line: `LH`/`LF` per record, or its `DA` lines when a record has no totals.
///
/// The file must be LCOV throughout: every line a `KEY:value` record line or `end_of_record`, every
/// count line inside an `SF:` … `end_of_record` record, lines at most [`MAX_UNIT`] bytes, no NUL byte.
pub fn lcov(path: &Path, reader: impl BufRead) -> Result<Coverage, ImportError> {
    let mut reader = Guarded::new(reader, MAX_UNIT);
    let (mut covered, mut lines, mut records) = (0u64, 0u64, 0u64);
    let mut open_at: Option<u64> = None;
    let (mut lh, mut lf, mut da_hit, mut da_found) = (None, None, 0u64, 0u64);
    let mut n = 0u64;
    let mut raw = Vec::with_capacity(256);
    loop {
        raw.clear();
        reader.mark();
        let read = reader.read_until(b'\n', &mut raw).map_err(|e| {
            let expected = match reader.problem() {
                Some(problem) => problem.expected("an LCOV line"),
                None => format!("readable text ({e})"),
            };
            ImportError::new(path, n + 1, expected)
        })?;
        if read == 0 {
            break;
        }
        n += 1;
        let line = raw.trim_ascii();
        let count = |v: &[u8], what: &str| super::digits(v).ok_or_else(|| ImportError::new(path, n, what.to_owned()));
        let in_record = |what: &str| {
            if open_at.is_some() { Ok(()) } else { Err(ImportError::new(path, n, format!("`SF:` before `{what}`"))) }
        };
        if line.is_empty() {
            continue;
        } else if line.starts_with(b"SF:") {
            if let Some(at) = open_at {
                return Err(ImportError::new(path, n, format!("`end_of_record` for the record opened at line {at}")));
            }
            open_at = Some(n);
            (lh, lf, da_hit, da_found) = (None, None, 0, 0);
        } else if let Some(v) = line.strip_prefix(b"DA:") {
            in_record("DA:")?;
            let hits =
                v.split(|b| *b == b',').nth(1).ok_or_else(|| ImportError::new(path, n, "`DA:<line>,<count>`"))?;
            // Some tools write negative or fractional counts for unreachable lines: only > 0 is hit.
            let hit = match super::digits(hits) {
                Some(h) => h > 0,
                None => {
                    std::str::from_utf8(hits)
                        .ok()
                        .and_then(|h| h.trim().parse::<f64>().ok())
                        .filter(|h| h.is_finite())
                        .ok_or_else(|| ImportError::new(path, n, "a count in `DA:`"))?
                        > 0.0
                }
            };
            da_found += 1;
            if hit {
                da_hit += 1;
            }
        } else if let Some(v) = line.strip_prefix(b"LH:") {
            in_record("LH:")?;
            lh = Some(count(v, "a count in `LH:`")?);
        } else if let Some(v) = line.strip_prefix(b"LF:") {
            in_record("LF:")?;
            lf = Some(count(v, "a count in `LF:`")?);
        } else if line == b"end_of_record" {
            if open_at.take().is_none() {
                return Err(ImportError::new(path, n, "`SF:` before `end_of_record`"));
            }
            let (h, f) = (lh.unwrap_or(da_hit), lf.unwrap_or(da_found));
            if h > f {
                return Err(ImportError::new(path, n, format!("at most {f} lines hit (the record says {h})")));
            }
            covered = add(path, n, covered, h)?;
            lines = add(path, n, lines, f)?;
            records += 1;
        } else if !is_lcov_line(line) {
            return Err(ImportError::new(
                path,
                n,
                "an LCOV line (`TN:`, `SF:`, `FN:`, `DA:`, `LH:`, `LF:`, … or `end_of_record`): this is not LCOV",
            ));
        }
    }
    if let Some(at) = open_at {
        return Err(ImportError::new(path, n, format!("`end_of_record` for the record opened at line {at}")));
    }
    if records == 0 {
        return Err(ImportError::new(path, 1, "LCOV records (`SF:` … `end_of_record`)"));
    }
    Ok(Coverage { covered, lines, format: "lcov" })
}

/// A record line LCOV tools write: an uppercase key (`TN`, `FNDA`, `BRDA`, `VER`, …), a colon, its value.
fn is_lcov_line(line: &[u8]) -> bool {
    match line.iter().position(|b| *b == b':') {
        Some(colon) => colon > 0 && colon <= 8 && line[..colon].iter().all(u8::is_ascii_uppercase),
        None => false,
    }
}

fn number(path: &Path, offset: u64, what: &str, text: Option<String>) -> Result<Option<u64>, ImportError> {
    text.map(|t| t.trim().parse::<u64>().map_err(|_| ImportError::new(path, line_of(path, offset), what.to_owned())))
        .transpose()
}

/// Cobertura (`<coverage lines-covered lines-valid>`, or its `<class><lines><line hits>` when the totals are
/// missing) or JaCoCo (the `<counter type="LINE">` that is a direct child of `<report>`).
///
/// The document is read to its end: one cut off after its totals is an error, not a pass.
fn xml(path: &Path, reader: impl BufRead) -> Result<Coverage, ImportError> {
    let mut xml = xml_reader(reader);
    let mut buffer = Vec::new();
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut root: Option<&'static str> = None;
    let (mut counted_hit, mut counted) = (0u64, 0u64);
    // The totals the root (Cobertura) or the report's LINE counter (JaCoCo) gives.
    let mut totals: Option<(u64, u64)> = None;
    loop {
        let (offset, event) = next_event(&mut xml, &mut buffer, path)?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.local_name().into_inner().as_bytes().to_vec();
                let empty = matches!(event, Event::Empty(_));
                match (root, stack.len(), name.as_slice()) {
                    (None, 0, b"coverage") => {
                        root = Some("cobertura");
                        let covered =
                            number(path, offset, "a count in `lines-covered`", attribute(e, b"lines-covered"))?;
                        let valid = number(path, offset, "a count in `lines-valid`", attribute(e, b"lines-valid"))?;
                        if let (Some(covered), Some(lines)) = (covered, valid) {
                            if covered > lines {
                                return Err(ImportError::new(
                                    path,
                                    line_of(path, offset),
                                    "lines-covered <= lines-valid",
                                ));
                            }
                            totals = Some((covered, lines));
                        }
                    }
                    (None, 0, b"report") => root = Some("jacoco"),
                    (None, 0, other) => {
                        return Err(ImportError::new(
                            path,
                            line_of(path, offset),
                            format!(
                                "`<coverage>` (Cobertura) or `<report>` (JaCoCo), not `<{}>`",
                                String::from_utf8_lossy(other)
                            ),
                        ));
                    }
                    (Some("jacoco"), 1, b"counter") if attribute(e, b"type").as_deref() == Some("LINE") => {
                        let missed = number(path, offset, "a count in `missed`", attribute(e, b"missed"))?.unwrap_or(0);
                        let covered =
                            number(path, offset, "a count in `covered`", attribute(e, b"covered"))?.unwrap_or(0);
                        totals = Some((covered, add(path, line_of(path, offset), covered, missed)?));
                    }
                    (Some("cobertura"), _, b"line")
                        if stack.len() >= 2
                            && stack[stack.len() - 1] == b"lines"
                            && stack[stack.len() - 2] == b"class" =>
                    {
                        let hits = attribute(e, b"hits").unwrap_or_default();
                        let hits: f64 = hits
                            .trim()
                            .parse()
                            .ok()
                            .filter(|h: &f64| h.is_finite())
                            .ok_or_else(|| ImportError::new(path, line_of(path, offset), "a count in `hits`"))?;
                        counted += 1;
                        if hits > 0.0 {
                            counted_hit += 1;
                        }
                    }
                    _ => {}
                }
                if !empty {
                    stack.push(name);
                    check_depth(path, offset, stack.len())?;
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if root.is_some() {
        closed(&xml, stack.len(), path)?;
    }
    match (root, totals) {
        (Some(format), Some((covered, lines))) => Ok(Coverage { covered, lines, format }),
        (Some("cobertura"), None) => Ok(Coverage { covered: counted_hit, lines: counted, format: "cobertura" }),
        (Some(_), None) => Err(ImportError::new(
            path,
            line_of(path, xml.buffer_position()),
            "a `<counter type=\"LINE\">` in `<report>`",
        )),
        (None, _) => Err(ImportError::new(path, 1, "`<coverage>` (Cobertura) or `<report>` (JaCoCo)")),
    }
}
