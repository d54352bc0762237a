//! Test results from JUnit XML (R-7g): Maven Surefire, Gradle, pytest
//! `--junitxml`, Jest's `jest-junit`, `cargo nextest`, Go's `go-junit-report`.
//! Both `<testsuites>` and a bare `<testsuite>` root; each `<testcase>` is
//! counted with what it holds (`<failure>`, `<error>`, `<skipped>`).

use std::io::BufRead;
use std::path::Path;

use quick_xml::events::Event;

use super::{ImportError, attribute, check_depth, closed, first_byte, line_of, next_event, open, xml_reader};

/// What a test run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestResults {
    /// Test cases run.
    pub tests: u64,
    /// Cases with a `<failure>`.
    pub failures: u64,
    /// Cases with an `<error>`.
    pub errors: u64,
    /// Cases `<skipped>`.
    pub skipped: u64,
    /// The seconds the cases took, summed.
    pub seconds: f64,
    /// The first failing cases (`classname.name`, each cut to 1 KiB), at most 100; when more failed,
    /// a last entry says `and N more`.
    pub failed: Vec<String>,
}

impl TestResults {
    /// Failures and errors together: the count a gate judges.
    pub fn failing(&self) -> u64 {
        self.failures + self.errors
    }
}

/// At most this many failing case names are kept.
const NAMES: usize = 100;

/// The longest case name kept, in bytes (a longer one is cut, marked with `…`).
const NAME_BYTES: usize = 1024;

/// `name`, cut to [`NAME_BYTES`] at a character boundary.
fn short_name(mut name: String) -> String {
    if name.len() > NAME_BYTES {
        let mut end = NAME_BYTES;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
        name.push('…');
    }
    name
}

/// Reads a JUnit XML report.
///
/// # Errors
/// When the file cannot be read, is not well-formed XML, or its root is not `<testsuites>`/`<testsuite>`.
pub fn read(path: &Path) -> Result<TestResults, ImportError> {
    let mut reader = open(path)?;
    if first_byte(&mut reader, path)? != Some(b'<') {
        return Err(ImportError::new(path, 1, "a JUnit XML report (`<testsuites>` or `<testsuite>`)"));
    }
    parse(path, reader)
}

fn parse(path: &Path, reader: impl BufRead) -> Result<TestResults, ImportError> {
    let mut xml = xml_reader(reader);
    let mut buffer = Vec::new();
    let mut results = TestResults::default();
    let mut more_failed = 0u64;
    let mut depth = 0usize;
    // The open test case: its name, and what it holds so far.
    let mut case: Option<(String, bool, bool, bool)> = None;
    let mut case_depth = 0usize;
    let mut saw_root = false;
    loop {
        let (offset, event) = next_event(&mut xml, &mut buffer, path)?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().into_inner().as_bytes();
                if depth == 0 {
                    if !matches!(name, b"testsuites" | b"testsuite") {
                        return Err(ImportError::new(
                            path,
                            line_of(path, offset),
                            format!("`<testsuites>` or `<testsuite>`, not `<{}>`", String::from_utf8_lossy(name)),
                        ));
                    }
                    saw_root = true;
                }
                match name {
                    b"testcase" => {
                        let class = attribute(e, b"classname").unwrap_or_default();
                        let title = attribute(e, b"name").unwrap_or_default();
                        if let Some(time) = attribute(e, b"time").filter(|t| !t.trim().is_empty()) {
                            results.seconds += time
                                .trim()
                                .replace(',', "")
                                .parse::<f64>()
                                .ok()
                                .filter(|s| s.is_finite() && *s >= 0.0)
                                .ok_or_else(|| {
                                    ImportError::new(path, line_of(path, offset), "a number of seconds in `time`")
                                })?;
                        }
                        let full = short_name(if class.is_empty() { title } else { format!("{class}.{title}") });
                        if empty {
                            results.tests += 1;
                        } else {
                            case = Some((full, false, false, false));
                            case_depth = depth;
                        }
                    }
                    b"failure" | b"error" | b"skipped" => {
                        if let Some((_, failure, error, skipped)) = case.as_mut() {
                            match name {
                                b"failure" => *failure = true,
                                b"error" => *error = true,
                                _ => *skipped = true,
                            }
                        }
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                    check_depth(path, offset, depth)?;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if depth == case_depth
                    && let Some((name, failure, error, skipped)) = case.take()
                {
                    results.tests += 1;
                    if failure {
                        results.failures += 1;
                    } else if error {
                        results.errors += 1;
                    } else if skipped {
                        results.skipped += 1;
                    }
                    if failure || error {
                        if results.failed.len() < NAMES {
                            results.failed.push(name);
                        } else {
                            more_failed += 1;
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(ImportError::new(path, 1, "`<testsuites>` or `<testsuite>`"));
    }
    closed(&xml, depth, path)?;
    if more_failed > 0 {
        results.failed.push(format!("and {more_failed} more"));
    }
    Ok(results)
}
