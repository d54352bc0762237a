//! CI's report files turned into gate evidence (R-7a, R-7c, R-7g): one value
//! per gate the file measures, and, for each request label the policy gives
//! a p95 threshold of its own, that label's p95. The CLI, the bindings and a
//! server read reports the same way through [`from_reports`].

use std::path::PathBuf;

use shipwarden::machine::Evidence;
use shipwarden::{GateId, Policy};

use super::{ImportError, coverage, junit, perf};

/// The report files to read; each is optional.
#[derive(Debug, Clone, Default)]
pub struct Reports {
    /// A coverage report (LCOV, Cobertura or JaCoCo): gate `coverage`.
    pub coverage: Option<PathBuf>,
    /// A JUnit XML report: gate `test_failures`.
    pub junit: Option<PathBuf>,
    /// A performance result (JMeter `.jtl`, k6 summary): gates `p95_latency`
    /// (overall and per labelled target) and `error_rate`.
    pub perf: Option<PathBuf>,
}

fn round(v: f64, places: i32) -> f64 {
    (v * 10f64.powi(places)).round() / 10f64.powi(places)
}

/// The evidence in `reports`, each value with a source that says what it was read from.
///
/// # Errors
/// A file that is not its format, names the file and line; a request label
/// the policy sets a threshold for but the performance file lacks is an error too.
pub fn from_reports(reports: &Reports, policy: &Policy) -> Result<Vec<Evidence>, ImportError> {
    let mut out = Vec::new();
    if let Some(file) = &reports.coverage {
        let c = coverage::read(file)?;
        let source = format!("{} {}: {} of {} lines", c.format, file.display(), c.covered, c.lines);
        out.push(Evidence::new(GateId::Coverage, round(c.ratio(), 4), source));
    }
    if let Some(file) = &reports.junit {
        let r = junit::read(file)?;
        let mut source = format!(
            "junit {}: {} tests, {} failures, {} errors, {} skipped",
            file.display(),
            r.tests,
            r.failures,
            r.errors,
            r.skipped
        );
        if !r.failed.is_empty() {
            source.push_str(&format!("; failing: {}", r.failed.join(", ")));
        }
        out.push(Evidence::new(GateId::TestFailures, r.failing() as f64, source).with_items(r.failed.clone()));
    }
    if let Some(file) = &reports.perf {
        let r = perf::read(file)?;
        let o = &r.overall;
        let worst: Vec<String> = {
            let mut labels: Vec<(&String, &perf::LatencyStats)> = r.by_label.iter().collect();
            labels.sort_by(|x, y| y.1.p95.total_cmp(&x.1.p95));
            labels.iter().take(5).map(|(l, s)| format!("{l} p95 {} ms", round(s.p95, 1))).collect()
        };
        let mut source = format!(
            "{} {}: {} samples, p50 {} ms, p95 {} ms{}, {} errors",
            r.format,
            file.display(),
            o.samples,
            round(o.p50, 1),
            round(o.p95, 1),
            o.p99.map_or(String::new(), |p| format!(", p99 {} ms", round(p, 1))),
            o.errors
        );
        if let Some(t) = o.throughput {
            source.push_str(&format!(", {} req/s", round(t, 1)));
        }
        if !worst.is_empty() {
            source.push_str(&format!("; slowest labels: {}", worst.join(", ")));
        }
        out.push(Evidence::new(GateId::P95Latency, round(o.p95, 1), source.clone()));
        out.push(Evidence::new(GateId::ErrorRate, round(o.error_rate(), 6), source));
        let labelled = policy.gates.get(&GateId::P95Latency).map(|g| g.targets.keys().collect::<Vec<_>>());
        for label in labelled.unwrap_or_default() {
            let Some(s) = r.by_label.get(label) else {
                return Err(ImportError::new(
                    file,
                    0,
                    format!("samples for request label `{label}`: the policy sets a p95 threshold for it (R-7c)"),
                ));
            };
            let source = format!(
                "{} {}: label {label}: {} samples, p95 {} ms, {} errors",
                r.format,
                file.display(),
                s.samples,
                round(s.p95, 1),
                s.errors
            );
            out.push(Evidence::new(GateId::P95Latency, round(s.p95, 1), source).on_target(label.clone()));
        }
    }
    Ok(out)
}
