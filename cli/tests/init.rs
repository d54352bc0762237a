//! A project fresh from `shipwarden init`, with no environment variables set:
//! every command up to the first human decision works, and a secret is asked
//! for only by the step that uses it (R-2a, R-2e).

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

fn git(repo: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

/// Runs `shipwarden` in `dir` with no environment but `PATH` and `HOME`.
fn run(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("shipwarden")
        .expect("binary")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .output()
        .expect("run")
}

/// Runs and expects exit 0; returns standard output and error together.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "shipwarden {}:\n{text}", args.join(" "));
    text
}

#[test]
fn a_fresh_init_runs_to_the_first_human_decision_without_any_variable_r2a_r2e() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path();
    // A newcomer's machine knows who they are in git (the release tag is theirs).
    std::fs::write(repo.join(".gitconfig"), "[user]\n\tname = Rita\n\temail = rita@example.com\n").expect("write");
    git(repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "app\n").expect("write");
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "APP-1: first commit"]);

    ok(repo, &["init", "--project", "app"]);
    let text = std::fs::read_to_string(repo.join("shipwarden.toml")).expect("written");
    assert!(!text.contains("SHOP_"), "the template names no other project's variables");

    // The variables the file names but the environment lacks are warnings, not errors.
    let check = ok(repo, &["policy", "check"]);
    assert!(
        check
            .lines()
            .any(|l| l.starts_with("warning: environments.prod.checks[3].url_env") && l.contains("APP_DATABASE_URL")),
        "{check}"
    );
    let out = run(repo, &["policy", "check", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let warnings = json["warnings"].as_array().expect("a warnings array");
    assert!(
        warnings.iter().any(|w| w["path"] == "environments.prod.checks[3].url_env"
            && w["message"].as_str().is_some_and(|m| m.contains("APP_DATABASE_URL"))),
        "{json}"
    );

    // Reading and the first steps need none of the secrets.
    assert!(ok(repo, &["list"]).contains("no releases"));
    ok(repo, &["plan", "0.1.0", "--kind", "minor", "--as", "rita"]);
    ok(repo, &["status", "app-0.1.0"]);
    ok(repo, &["approve", "app-0.1.0", "scope", "--as", "paul"]);
    // Build, tag and staging run; it stops at the QA sign-off, the first person it needs.
    let advanced = ok(repo, &["advance", "app-0.1.0", "--as", "dana"]);
    assert!(advanced.contains("waiting in staging_deployed"), "{advanced}");
    assert!(advanced.contains("approval `qa_signoff`"), "{advanced}");
    assert!(!advanced.contains("APP_DATABASE_URL"), "{advanced}");
    ok(repo, &["audit", "app-0.1.0"]);
}
