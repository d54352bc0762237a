//! What a step's log puts in the audit trail is bounded, whatever a command
//! prints, and names the whole log by its digest (R-8e, R-9d).

use shipwarden::ports::{LogLine, LogSink, LogStream};

#[test]
fn a_huge_log_keeps_its_start_and_end_and_the_digest_of_the_whole_r9d() {
    use sha2::Digest;
    let sink = LogSink::default();
    let mut whole = sha2::Sha256::new();
    for i in 0..200_000 {
        let text = format!("line {i} {}", "x".repeat(i % 97));
        whole.update(format!("stdout\t{text}\n").as_bytes());
        sink.line(LogStream::Stdout, text);
    }
    // One line of 10 MB is cut, not kept whole.
    sink.line(LogStream::Stderr, "y".repeat(10 << 20));
    whole.update(
        format!("stderr\t{}… [{} more bytes]\n", "y".repeat(LogSink::MAX_LINE), (10 << 20) - LogSink::MAX_LINE)
            .as_bytes(),
    );
    let (lines, _, digest) = sink.written();
    assert_eq!(lines, 200_001);
    let expected: String = whole.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, expected);
    let kept = sink.take();
    let bytes: usize = kept.iter().map(|l| l.text.len() + 1).sum();
    assert!(kept.len() <= LogLine::MAX_PER_STEP, "{} lines", kept.len());
    assert!(bytes <= 2 * LogSink::EXCERPT + 512, "{bytes} bytes kept");
    assert_eq!(kept[0].text, "line 0 ");
    assert!(kept.iter().any(|l| l.text.contains(&format!("sha256:{expected}"))));
    assert!(kept.last().is_some_and(|l| l.text.ends_with(" more bytes]")));
}

#[test]
fn a_small_log_is_kept_as_it_is_r8e() {
    let sink = LogSink::default();
    for i in 0..10 {
        sink.line(LogStream::Stdout, format!("line {i}"));
    }
    let kept = sink.take();
    assert_eq!(
        kept.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        (0..10).map(|i| format!("line {i}")).collect::<Vec<_>>()
    );
}
