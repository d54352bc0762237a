//! Performance results (R-7c): JMeter `.jtl` files (CSV with a header line,
//! or XML `<httpSample>`/`<sample>` elements) and k6's JSON summary
//! (`--summary-export`, or `handleSummary`'s data). Latency percentiles come
//! from HDR histograms (1 ms to 1 h, 3 significant digits), one for all
//! samples and one per label, so a file of any size is read in the same
//! memory.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use hdrhistogram::Histogram;
use quick_xml::events::Event;

use super::{
    Guarded, ImportError, MAX_DOCUMENT, MAX_UNIT, attribute, check_depth, closed, digits, first_byte, line_of,
    next_event, open, xml_reader,
};

/// The most distinct labels kept (each has its own ~40 KB histogram): a file with more is refused.
pub const MAX_LABELS: usize = 1000;

/// Latency and errors of a set of samples.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyStats {
    /// Samples.
    pub samples: u64,
    /// Samples that failed.
    pub errors: u64,
    /// Median latency, ms.
    pub p50: f64,
    /// 95th percentile, ms.
    pub p95: f64,
    /// 99th percentile, ms (k6 reports it only when asked to).
    pub p99: Option<f64>,
    /// Requests per second over the run, when the file tells the times.
    pub throughput: Option<f64>,
}

impl LatencyStats {
    /// Errors over samples, 0..=1.
    pub fn error_rate(&self) -> f64 {
        if self.samples == 0 { 0.0 } else { self.errors as f64 / self.samples as f64 }
    }
}

/// A performance run: all samples, and each label's.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfResults {
    /// Every sample.
    pub overall: LatencyStats,
    /// By request label (JMeter `label`, k6 `name` tag).
    pub by_label: BTreeMap<String, LatencyStats>,
    /// `jtl-csv`, `jtl-xml` or `k6`.
    pub format: &'static str,
}

struct Acc {
    histogram: Histogram<u64>,
    samples: u64,
    errors: u64,
    first: u64,
    last: u64,
}

impl Acc {
    fn new() -> Self {
        // 1 ms .. 1 h at 3 significant digits: about 40 KB, whatever the file's size.
        let histogram = Histogram::new_with_bounds(1, 3_600_000, 3).unwrap_or_else(|_| unreachable!("valid bounds"));
        Self { histogram, samples: 0, errors: 0, first: u64::MAX, last: 0 }
    }

    fn add(&mut self, elapsed: u64, ok: bool, start: Option<u64>) {
        self.histogram.saturating_record(elapsed.max(1));
        self.samples += 1;
        if !ok {
            self.errors += 1;
        }
        if let Some(start) = start {
            self.first = self.first.min(start);
            self.last = self.last.max(start.saturating_add(elapsed));
        }
    }

    fn stats(&self) -> LatencyStats {
        // Exact below 2048 ms; above, the low end of the value's 0.1 % bucket (so 2400 reads as 2400).
        let q = |p: f64| {
            if self.samples == 0 {
                0.0
            } else {
                self.histogram.lowest_equivalent(self.histogram.value_at_quantile(p)) as f64
            }
        };
        let span = self.last.saturating_sub(self.first);
        LatencyStats {
            samples: self.samples,
            errors: self.errors,
            p50: q(0.50),
            p95: q(0.95),
            p99: Some(q(0.99)),
            throughput: (self.first != u64::MAX && span > 0).then(|| self.samples as f64 * 1000.0 / span as f64),
        }
    }
}

struct Run {
    overall: Acc,
    labels: HashMap<Vec<u8>, Acc>,
}

impl Run {
    fn new() -> Self {
        Self { overall: Acc::new(), labels: HashMap::new() }
    }

    /// Adds a sample; `false` when it has a new label and [`MAX_LABELS`] are already kept.
    #[must_use]
    fn add(&mut self, label: &[u8], elapsed: u64, ok: bool, start: Option<u64>) -> bool {
        let full = self.labels.len() >= MAX_LABELS;
        match self.labels.get_mut(label) {
            Some(acc) => acc.add(elapsed, ok, start),
            None if full => return false,
            None => {
                let mut acc = Acc::new();
                acc.add(elapsed, ok, start);
                self.labels.insert(label.to_vec(), acc);
            }
        }
        self.overall.add(elapsed, ok, start);
        true
    }

    fn finish(self, format: &'static str) -> PerfResults {
        PerfResults {
            overall: self.overall.stats(),
            by_label: self.labels.iter().map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), v.stats())).collect(),
            format,
        }
    }
}

/// Reads a JMeter `.jtl` (CSV or XML) or a k6 JSON summary, its format found from the content.
///
/// # Errors
/// When the file cannot be read, or a line is not what its format needs; the error names the line.
pub fn read(path: &Path) -> Result<PerfResults, ImportError> {
    let mut reader = open(path)?;
    match first_byte(&mut reader, path)? {
        Some(b'<') => jtl_xml(path, reader),
        Some(b'{') => k6(path, reader),
        Some(_) => jtl_csv(path, reader),
        None => {
            Err(ImportError::new(path, 1, "performance results (a JMeter .jtl or a k6 summary), not an empty file"))
        }
    }
}

/// JMeter CSV: the header names the columns (`timeStamp,elapsed,label,responseCode,…,success,…`).
pub fn jtl_csv(path: &Path, reader: impl BufRead) -> Result<PerfResults, ImportError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(Guarded::new(reader, MAX_UNIT));
    let header = match csv.byte_headers() {
        Ok(header) => header.clone(),
        Err(e) => {
            let expected = match csv.get_ref().problem() {
                Some(problem) => problem.expected("a CSV header line"),
                None => format!("a JMeter CSV header line ({e})"),
            };
            return Err(ImportError::new(path, 1, expected));
        }
    };
    let column = |name: &[u8]| header.iter().position(|h| h.trim_ascii() == name);
    let (Some(elapsed), Some(label)) = (column(b"elapsed"), column(b"label")) else {
        return Err(ImportError::new(
            path,
            1,
            "a header line naming `elapsed` and `label` (JMeter: jmeter.save.saveservice.print_field_names=true)",
        ));
    };
    let (success, stamp) = (column(b"success"), column(b"timeStamp"));
    let mut run = Run::new();
    let mut record = csv::ByteRecord::new();
    loop {
        csv.get_mut().mark();
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or_else(|| csv.position().line(), |p| p.line());
                let expected = match csv.get_ref().problem() {
                    Some(problem) => problem.expected("a CSV record"),
                    None => format!("a CSV record ({e})"),
                };
                return Err(ImportError::new(path, line, expected));
            }
        }
        let line = || record.position().map_or(0, |p| p.line());
        let ms = record
            .get(elapsed)
            .and_then(digits)
            .ok_or_else(|| ImportError::new(path, line(), "a whole number of ms in `elapsed`"))?;
        let ok = match success.and_then(|i| record.get(i)).map(<[u8]>::trim_ascii) {
            None | Some(b"true") => true,
            Some(b"false") => false,
            Some(_) => return Err(ImportError::new(path, line(), "`true` or `false` in `success`")),
        };
        let start = stamp.and_then(|i| record.get(i)).and_then(digits);
        if !run.add(record.get(label).unwrap_or_default(), ms, ok, start) {
            return Err(ImportError::new(path, line(), format!("at most {MAX_LABELS} distinct labels")));
        }
    }
    if run.overall.samples == 0 {
        return Err(ImportError::new(path, 2, "at least one sample after the header"));
    }
    Ok(run.finish("jtl-csv"))
}

/// JMeter XML: `<testResults>` of `<httpSample t= lb= s= ts=>` and `<sample>` (sub-samples are not counted twice).
fn jtl_xml(path: &Path, reader: impl BufRead) -> Result<PerfResults, ImportError> {
    let mut xml = xml_reader(reader);
    let mut buffer = Vec::new();
    let mut run = Run::new();
    let mut depth = 0usize;
    loop {
        let (offset, event) = next_event(&mut xml, &mut buffer, path)?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = e.local_name().into_inner().as_bytes();
                if depth == 0 && name != b"testResults" {
                    return Err(ImportError::new(path, line_of(path, offset), "`<testResults>`"));
                }
                // Top-level samples only: a transaction's children are in its time already.
                if depth == 1 && matches!(name, b"httpSample" | b"sample") {
                    let bad = |what: &str| ImportError::new(path, line_of(path, offset), what.to_owned());
                    let ms = attribute(e, b"t")
                        .and_then(|t| digits(t.as_bytes()))
                        .ok_or_else(|| bad("a whole number of ms in `t`"))?;
                    let ok = match attribute(e, b"s").as_deref() {
                        None | Some("true") => true,
                        Some("false") => false,
                        Some(_) => return Err(bad("`true` or `false` in `s`")),
                    };
                    let start = attribute(e, b"ts").and_then(|t| digits(t.as_bytes()));
                    if !run.add(attribute(e, b"lb").unwrap_or_default().as_bytes(), ms, ok, start) {
                        return Err(bad(&format!("at most {MAX_LABELS} distinct labels")));
                    }
                }
                if !empty {
                    depth += 1;
                    check_depth(path, offset, depth)?;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => break,
            _ => {}
        }
    }
    closed(&xml, depth, path)?;
    if run.overall.samples == 0 {
        return Err(ImportError::new(path, 1, "`<httpSample>` or `<sample>` elements in `<testResults>`"));
    }
    Ok(run.finish("jtl-xml"))
}

/// k6's summary: `metrics.http_req_duration` (`med`, `p(95)`, `p(99)`), `http_reqs` (`count`, `rate`),
/// `http_req_failed` (`rate` or `value`); sub-metrics `http_req_duration{name:…}` are labels.
fn k6(path: &Path, reader: impl BufRead) -> Result<PerfResults, ImportError> {
    let mut reader = Guarded::new(reader, MAX_DOCUMENT);
    let summary: serde_json::Value = serde_json::from_reader(&mut reader).map_err(|e| {
        let expected = match reader.problem() {
            Some(problem) => problem.expected("a k6 summary"),
            None => format!("k6 summary JSON ({e})"),
        };
        ImportError::new(path, e.line() as u64, expected)
    })?;
    let Some(metrics) = summary["metrics"].as_object() else {
        return Err(ImportError::new(path, 1, "a k6 summary with `metrics` (k6 run --summary-export)"));
    };
    // `--summary-export` puts the values on the metric; `handleSummary` data under `values`.
    let values = |m: &serde_json::Value| if m["values"].is_object() { m["values"].clone() } else { m.clone() };
    // Latencies are finite and not negative: anything else is not a measurement.
    let ms = |v: &serde_json::Value| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0);
    let duration = |key: &str| -> Option<(f64, f64, Option<f64>)> {
        let v = values(metrics.get(key)?);
        Some((ms(&v["med"])?, ms(&v["p(95)"])?, ms(&v["p(99)"])))
    };
    let Some((p50, p95, p99)) = duration("http_req_duration") else {
        return Err(ImportError::new(path, 1, "`http_req_duration` with `med` and `p(95)` in the k6 summary"));
    };
    let requests = metrics.get("http_reqs").map(values);
    let samples = requests.as_ref().and_then(|r| r["count"].as_f64()).unwrap_or(0.0) as u64;
    let throughput = requests.as_ref().and_then(|r| r["rate"].as_f64());
    let failed = metrics.get("http_req_failed").map(values);
    let rate = failed.as_ref().and_then(|f| f["rate"].as_f64().or_else(|| f["value"].as_f64())).unwrap_or(0.0);
    if !(0.0..=1.0).contains(&rate) {
        return Err(ImportError::new(path, 1, "`http_req_failed` with a `rate` within 0..=1"));
    }
    let overall = LatencyStats { samples, errors: (rate * samples as f64).round() as u64, p50, p95, p99, throughput };
    let mut by_label = BTreeMap::new();
    for key in metrics.keys() {
        let Some(tags) = key.strip_prefix("http_req_duration{").and_then(|k| k.strip_suffix('}')) else { continue };
        let label = tags.split_once(':').map_or(tags, |(_, v)| v).to_owned();
        if let Some((p50, p95, p99)) = duration(key) {
            by_label.insert(label, LatencyStats { samples: 0, errors: 0, p50, p95, p99, throughput: None });
        }
    }
    Ok(PerfResults { overall, by_label, format: "k6" })
}
