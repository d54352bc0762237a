//! `shipwarden demo` runs its three scenarios end to end (R-5a, R-8f, R-8g, R-9d).

use assert_cmd::Command;

#[test]
fn the_demo_runs_three_scenarios_and_leaves_its_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("demo");
    let out = Command::cargo_bin("shipwarden-demo")
        .expect("bin")
        .args(["demo", "--dir"])
        .arg(&work)
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .expect("run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    for needle in [
        "refused: advance to qa_verified by R-7b",
        "R-5a",
        "identity: trust = \"local\"",
        "rolling back",
        "production database restored",
        "1. minor release, whole lifecycle        shop-1.4.0       closed",
        "2. emergency hotfix (CTO approved)       shop-1.4.1       closed",
        "3. failed smoke test, rolled back        shop-1.5.0       rolled_back",
    ] {
        assert!(text.contains(needle), "`{needle}` missing:\n{text}");
    }
    for file in [
        "out/shop-1.4.0.audit.jsonl",
        "out/calendar.ics",
        ".shipwarden/notes/shop-1.4.0.md",
        ".shipwarden/notices.jsonl",
    ] {
        assert!(work.join(file).exists(), "{file}");
    }
    // Every app the demo started has stopped: nothing listens on its ports any more.
    let config = std::fs::read_to_string(work.join("shipwarden.toml")).expect("config");
    let port: u16 = config
        .split("address = \"127.0.0.1:")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .expect("prod port");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "the prod app still runs");
}
