//! Evidence importers on real-world-shaped files (small samples written for
//! these tests, in the shapes coverage.py, JaCoCo, Maven Surefire, pytest,
//! JMeter and k6 write), golden-tested with insta; malformed files give the
//! file, the line and what was expected (R-7a, R-7c, R-7g).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use shipwarden_adapters::evidence::{coverage, junit, perf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evidence").join(name)
}

fn perf_report(results: &perf::PerfResults) -> String {
    let mut out = String::new();
    let line = |out: &mut String, name: &str, s: &perf::LatencyStats| {
        let _ = writeln!(
            out,
            "{name}: samples {} errors {} ({:.4}) p50 {} p95 {} p99 {:?} throughput {:?}",
            s.samples,
            s.errors,
            s.error_rate(),
            s.p50,
            s.p95,
            s.p99,
            s.throughput.map(|t| (t * 100.0).round() / 100.0)
        );
    };
    let _ = writeln!(out, "format {}", results.format);
    line(&mut out, "overall", &results.overall);
    for (label, s) in &results.by_label {
        line(&mut out, label, s);
    }
    out
}

#[test]
fn coverage_from_lcov_cobertura_and_jacoco_r7a() {
    let mut out = String::new();
    for name in ["lcov.info", "cobertura.xml", "cobertura-no-totals.xml", "jacoco.xml"] {
        let c = coverage::read(&fixture(name)).expect(name);
        let _ = writeln!(out, "{name}: {} {} of {} lines = {:.4}", c.format, c.covered, c.lines, c.ratio());
    }
    insta::assert_snapshot!("coverage", out);
}

#[test]
fn test_results_from_junit_xml_r7g() {
    let mut out = String::new();
    for name in ["junit-surefire.xml", "junit-pytest.xml"] {
        let r = junit::read(&fixture(name)).expect(name);
        let _ = writeln!(
            out,
            "{name}: tests {} failures {} errors {} skipped {} seconds {:.3} failing {:?}",
            r.tests, r.failures, r.errors, r.skipped, r.seconds, r.failed
        );
    }
    insta::assert_snapshot!("junit", out);
}

#[test]
fn performance_from_jmeter_csv_and_xml_and_k6_r7c() {
    let mut out = String::new();
    for name in ["results.jtl", "results-xml.jtl", "k6-summary.json", "k6-handle-summary.json"] {
        let _ = writeln!(out, "== {name}");
        out.push_str(&perf_report(&perf::read(&fixture(name)).expect(name)));
    }
    insta::assert_snapshot!("perf", out);
}

#[test]
fn malformed_files_name_the_file_the_line_and_what_was_expected_r7g() {
    type Read = fn(&Path) -> String;
    let cases: [(&str, Read); 5] = [
        ("bad-lcov.info", |p| coverage::read(p).expect_err("bad").to_string()),
        ("not-coverage.xml", |p| coverage::read(p).expect_err("bad").to_string()),
        ("bad-junit.xml", |p| junit::read(p).expect_err("bad").to_string()),
        ("bad-results.jtl", |p| perf::read(p).expect_err("bad").to_string()),
        ("missing.jtl", |p| perf::read(p).expect_err("bad").to_string()),
    ];
    let mut out = String::new();
    for (name, read) in cases {
        let message = read(&fixture(name));
        let dir = fixture("").display().to_string();
        let _ = writeln!(out, "{}", message.replace(&dir, "fixtures/"));
    }
    insta::assert_snapshot!("errors", out);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the bytes, the readers answer with a value or an error, never a panic.
    #[test]
    fn readers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), prefix in 0usize..4) {
        let heads: [&[u8]; 4] = [b"", b"<?xml version=\"1.0\"?><testsuites>", b"timeStamp,elapsed,label,success\n", b"SF:a\n"];
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let mut content = heads[prefix].to_vec();
        content.extend(bytes);
        std::fs::write(&path, content).expect("write");
        let _ = coverage::read(&path);
        let _ = junit::read(&path);
        let _ = perf::read(&path);
    }

    /// JTL percentiles agree with sorting the samples (within the histogram's 0.1 % precision).
    #[test]
    fn jtl_p95_matches_the_sorted_samples(latencies in prop::collection::vec(1u64..60_000, 1..300)) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.jtl");
        let mut text = String::from("timeStamp,elapsed,label,success\n");
        for (i, ms) in latencies.iter().enumerate() {
            text.push_str(&format!("{},{ms},GET /,true\n", 1_700_000_000_000u64 + i as u64 * 10));
        }
        std::fs::write(&path, text).expect("write");
        let results = perf::read(&path).expect("read");
        let mut sorted = latencies.clone();
        sorted.sort_unstable();
        let rank = ((0.95 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
        let expected = sorted[rank - 1] as f64;
        prop_assert!((results.overall.p95 - expected).abs() <= expected * 0.001 + 1.0, "{} vs {expected}", results.overall.p95);
        prop_assert_eq!(results.overall.samples, latencies.len() as u64);
    }
}
