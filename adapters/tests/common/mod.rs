//! Helpers shared by the adapter tests; each test binary uses part of them.
#![allow(dead_code)]

pub mod http;

use std::path::Path;
use std::process::Command;

/// Runs `git -C dir args…` as a fixed identity; returns its trimmed output, failing the test on error.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The value of a variable that `scripts/test` sets when it starts a real server
/// (`SHIPWARDEN_TEST_OCI_REGISTRY`, …). Without it the test is not run, with a
/// note; but when `SHIPWARDEN_REQUIRE_SERVERS` is set (scripts/test sets it), a
/// missing variable fails the test: nothing is skipped there.
pub fn server_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) if std::env::var_os("SHIPWARDEN_REQUIRE_SERVERS").is_some() => {
            panic!("{name} is required (scripts/test starts the server and sets it)")
        }
        Err(_) => {
            eprintln!("NOTE: not run: set {name} (scripts/test starts the server and sets it)");
            None
        }
    }
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("{prefix}{:x}", RandomState::new().hash_one(std::time::SystemTime::now()))
}

/// Runs SQL with `psql` on `url`; returns its trimmed output, failing the test on error.
pub fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .expect("psql");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new empty database on the PostgreSQL server at `server`; returns its URL.
pub fn new_database(server: &str, prefix: &str) -> String {
    let name = unique(prefix);
    psql(server, &format!("CREATE DATABASE {name}"));
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{name}")
}
