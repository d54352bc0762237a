//! Evidence importers on hostile input (issue #18): overflowing totals,
//! `/dev/zero`, a sparse 1 GB file, a binary, documents cut off after their
//! totals, huge names, too many labels. Each is an error naming the file and
//! the line, returned quickly and in bounded memory, never a panic or a pass
//! (R-7a, R-7c, R-7g).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use shipwarden_adapters::evidence::{coverage, junit, perf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evidence").join(name)
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

/// Runs `read`, asserting it is quick; returns its error message.
fn quick_error<T: std::fmt::Debug, E: std::fmt::Display>(read: impl FnOnce() -> Result<T, E>) -> String {
    let started = Instant::now();
    let message = read().expect_err("an error").to_string();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}: {message}", started.elapsed());
    message
}

#[test]
fn lcov_totals_that_overflow_are_an_error_naming_the_line_r7a() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Two counts that each fit in 64 bits; their sum does not (it panicked in a debug build, wrapped in release).
    let max = 9_999_999_999_999_999_999u64;
    let text = format!("SF:a\nLH:{max}\nLF:{max}\nend_of_record\nSF:b\nLH:{max}\nLF:{max}\nend_of_record\n");
    let path = write(dir.path(), "overflow.info", text);
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("overflow.info:8:") && message.contains("overflow"), "{message}");
}

#[test]
fn the_core_lcov_reader_refuses_overflowing_totals_r7a() {
    let max = u64::MAX;
    let text = format!("SF:a\nLH:{max}\nLF:{max}\nend_of_record\nSF:b\nLH:{max}\nLF:{max}\nend_of_record\n");
    let message = shipwarden::evidence::lcov(&text).expect_err("overflow").to_string();
    assert!(message.contains("line 8") && message.contains("overflow"), "{message}");
}

#[test]
fn dev_zero_is_refused_quickly_as_coverage_perf_and_junit_r7a_r7c() {
    let zero = Path::new("/dev/zero");
    for message in
        [quick_error(|| coverage::read(zero)), quick_error(|| perf::read(zero)), quick_error(|| junit::read(zero))]
    {
        assert!(message.starts_with("/dev/zero:"), "{message}");
        assert!(message.contains("NUL") || message.contains("JUnit XML"), "{message}");
    }
}

#[test]
fn a_sparse_1_gb_file_is_refused_quickly_r7a_r7c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sparse.info");
    std::fs::File::create(&path).expect("create").set_len(1 << 30).expect("set_len");
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("sparse.info:1:") && message.contains("NUL byte"), "{message}");
    let message = quick_error(|| perf::read(&path));
    assert!(message.contains("sparse.info:1:") && message.contains("NUL byte"), "{message}");
}

#[test]
fn a_line_longer_than_the_limit_is_an_error_not_a_buffer_r7a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = b"SF:".to_vec();
    text.resize(20 << 20, b'a');
    let path = write(dir.path(), "long.info", text);
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("long.info:1:") && message.contains("at most 16384 KiB"), "{message}");
}

#[test]
fn a_binary_read_as_lcov_is_not_coverage_r7a() {
    // The test binary itself, as the issue did with the shipwarden binary: it once passed at 93-99 %.
    let binary = std::env::current_exe().expect("current exe");
    let message = quick_error(|| coverage::read(&binary));
    assert!(message.contains("NUL byte") || message.contains("not LCOV"), "{message}");
}

#[test]
fn text_that_is_not_lcov_is_an_error_naming_the_line_r7a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "notes.info", "SF:a\nLH:1\nLF:1\nend_of_record\nhello world\n");
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("notes.info:5:") && message.contains("not LCOV"), "{message}");
    let path = write(dir.path(), "loose.info", "LH:9\nLF:10\nSF:a\nend_of_record\n");
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("loose.info:1:") && message.contains("`SF:` before `LH:`"), "{message}");
}

#[test]
fn cobertura_and_jacoco_cut_off_after_their_totals_are_errors_r7a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cobertura = std::fs::read_to_string(fixture("cobertura.xml")).expect("fixture");
    let cut = &cobertura[..cobertura.find("<packages>").expect("packages")];
    let path = write(dir.path(), "cut-cobertura.xml", cut);
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("cut-cobertura.xml:") && message.contains("cut off"), "{message}");

    let jacoco = std::fs::read_to_string(fixture("jacoco.xml")).expect("fixture");
    let end = jacoco.rfind("<counter type=\"LINE\"").expect("counter");
    let cut = &jacoco[..end + jacoco[end..].find("/>").expect("end") + 2];
    let path = write(dir.path(), "cut-jacoco.xml", cut);
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("cut-jacoco.xml:") && message.contains("cut off"), "{message}");
}

#[test]
fn jacoco_counters_that_overflow_are_an_error_r7a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let max = u64::MAX;
    let text = format!("<report name=\"x\"><counter type=\"LINE\" missed=\"{max}\" covered=\"{max}\"/></report>");
    let path = write(dir.path(), "jacoco.xml", text);
    let message = quick_error(|| coverage::read(&path));
    assert!(message.contains("jacoco.xml:1:") && message.contains("overflow"), "{message}");
}

#[test]
fn a_10_mb_test_name_is_cut_and_failing_names_are_capped_r7g() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut xml = String::from("<testsuite>");
    xml.push_str(&format!("<testcase classname=\"c\" name=\"{}\"><failure/></testcase>", "n".repeat(10 << 20)));
    for i in 0..150 {
        xml.push_str(&format!("<testcase classname=\"c\" name=\"t{i}\"><failure/></testcase>"));
    }
    xml.push_str("</testsuite>");
    let path = write(dir.path(), "junit.xml", xml);
    let results = junit::read(&path).expect("read");
    assert_eq!((results.tests, results.failures), (151, 151));
    assert!(results.failed[0].len() <= 1024 + 3, "a name is kept to 1 KiB: {}", results.failed[0].len());
    assert_eq!(results.failed.len(), 101);
    assert_eq!(results.failed[100], "and 51 more");
}

#[test]
fn a_junit_report_cut_off_is_an_error_r7g() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "cut.xml", "<testsuites><testsuite><testcase name=\"a\"/>");
    let message = quick_error(|| junit::read(&path));
    assert!(message.contains("cut.xml:1:") && message.contains("cut off"), "{message}");
}

#[test]
fn jtl_xml_cut_off_and_jtl_csv_with_endless_labels_are_errors_r7c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "cut.jtl", "<testResults>\n<httpSample t=\"5\" lb=\"a\" s=\"true\"/>\n");
    let message = quick_error(|| perf::read(&path));
    assert!(message.contains("cut.jtl:") && message.contains("cut off"), "{message}");

    let mut csv = String::from("timeStamp,elapsed,label,success\n");
    for i in 0..1500 {
        csv.push_str(&format!("{},5,GET /{i},true\n", 1_700_000_000_000u64 + i));
    }
    let path = write(dir.path(), "labels.jtl", csv);
    let message = quick_error(|| perf::read(&path));
    assert!(message.contains("labels.jtl:1002:") && message.contains("at most 1000 distinct labels"), "{message}");
}

#[test]
fn jtl_timestamps_near_the_limit_do_not_overflow_r7c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "late.jtl", format!("timeStamp,elapsed,label,success\n{},5000,a,true\n", u64::MAX));
    let results = perf::read(&path).expect("read");
    assert_eq!(results.overall.samples, 1);
}

#[test]
fn k6_latencies_must_be_measurements_r7c() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = r#"{"metrics":{"http_req_duration":{"med":-1,"p(95)":-1e308},"http_reqs":{"count":10}}}"#;
    let path = write(dir.path(), "k6.json", text);
    let message = quick_error(|| perf::read(&path));
    assert!(message.contains("k6.json:1:") && message.contains("http_req_duration"), "{message}");
    let text = r#"{"metrics":{"http_req_duration":{"med":1,"p(95)":2},"http_req_failed":{"rate":7}}}"#;
    let path = write(dir.path(), "k6-rate.json", text);
    let message = quick_error(|| perf::read(&path));
    assert!(message.contains("within 0..=1"), "{message}");
}
