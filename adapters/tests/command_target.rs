//! The command deploy target against real processes (R-8e): argv with
//! placeholders, environment, streamed output, exit codes, timeouts, status.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shipwarden::ports::{DeployRequest, DeployTarget, ErrorKind, LogSink, LogStream, Lookup, RollbackRequest};
use shipwarden::{ArtifactRef, Sha256, Version};
use shipwarden_adapters::targets::command::CommandTarget;

fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.display().to_string()
}

fn request(key: &str) -> DeployRequest {
    DeployRequest {
        release: "shop-1.4.0".parse().expect("id"),
        version: Version::new(1, 4, 0),
        environment: "staging".parse().expect("env"),
        artifacts: vec![ArtifactRef::new("shop.jar", Version::new(1, 4, 0), Sha256::of(b"jar"), 3)],
        key: key.into(),
    }
}

#[tokio::test]
async fn deploy_runs_the_argv_with_placeholders_and_streams_both_outputs_r8e() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deploy = script(
        dir.path(),
        "deploy.sh",
        r#"echo "args: $1 $2 $3 [$4]"
echo "env: $SHIPWARDEN_RELEASE $SHIPWARDEN_ENVIRONMENT $SHIPWARDEN_KEY $REGION"
echo "warming caches" >&2
echo "$SHIPWARDEN_KEY" >> "$JOURNAL"
echo "deployed 1.4.0 to web-1""#,
    );
    let target = CommandTarget::new(
        "web-1",
        vec![deploy, "{release}".into(), "{version}".into(), "{environment}".into(), "{artifacts}".into()],
        vec!["true".into()],
    )
    .with_env("REGION", "eu-1")
    .with_env("JOURNAL", dir.path().join("journal").display().to_string());
    let log = LogSink::default();
    let detail = target.deploy(&request("deploy:staging:web-1#1"), &log).await.expect("deploy");
    assert_eq!(detail, "deployed 1.4.0 to web-1", "the last stdout line is the detail");
    let lines = log.take();
    let stdout: Vec<&str> = lines.iter().filter(|l| l.stream == LogStream::Stdout).map(|l| l.text.as_str()).collect();
    assert_eq!(
        stdout[0], "args: shop-1.4.0 1.4.0 staging [shop.jar]",
        "one argument per placeholder, no shell splitting"
    );
    assert_eq!(stdout[1], "env: shop-1.4.0 staging deploy:staging:web-1#1 eu-1");
    assert!(lines.iter().any(|l| l.stream == LogStream::Stderr && l.text == "warming caches"));
}

#[tokio::test]
async fn arguments_are_never_interpreted_by_a_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    let target = CommandTarget::new("web-1", vec!["echo".into(), "$(touch {key})".into()], vec!["true".into()])
        .with_workdir(dir.path());
    let log = LogSink::default();
    target.deploy(&request("pwned"), &log).await.expect("deploy");
    assert_eq!(log.take()[0].text, "$(touch pwned)");
    assert!(!dir.path().join("pwned").exists());
}

#[tokio::test]
async fn exit_codes_say_whether_a_retry_can_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fails = CommandTarget::new(
        "web-1",
        vec![script(dir.path(), "fail.sh", "echo broken >&2; exit 3")],
        vec!["true".into()],
    );
    let err = fails.deploy(&request("k"), &LogSink::default()).await.expect_err("exit 3");
    assert!(!err.retryable);
    assert!(err.to_string().contains("exited 3"), "{err}");
    let busy = CommandTarget::new("web-1", vec![script(dir.path(), "busy.sh", "exit 75")], vec!["true".into()]);
    assert!(busy.deploy(&request("k"), &LogSink::default()).await.expect_err("exit 75").retryable);
    let missing = CommandTarget::new("web-1", vec!["/no/such/program".into()], vec!["true".into()]);
    let err = missing.deploy(&request("k"), &LogSink::default()).await.expect_err("cannot start");
    assert!(err.to_string().contains("cannot start"), "{err}");
}

#[tokio::test]
async fn a_command_that_runs_too_long_is_killed_and_may_be_retried() {
    let slow = CommandTarget::new("web-1", vec!["sleep".into(), "5".into()], vec!["true".into()])
        .with_timeout(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let err = slow.deploy(&request("k"), &LogSink::default()).await.expect_err("timeout");
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.retryable);
    assert!(started.elapsed() < Duration::from_secs(3), "the command was killed");
}

#[tokio::test]
async fn status_and_rollback_are_commands_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal");
    let deploy = script(dir.path(), "deploy.sh", r#"echo "$SHIPWARDEN_KEY" >> "$JOURNAL""#);
    let status =
        script(dir.path(), "status.sh", r#"grep -qx "$1" "$JOURNAL" 2>/dev/null && echo "$1 is live" || exit 1"#);
    let rollback = script(dir.path(), "rollback.sh", r#"echo "back to $SHIPWARDEN_VERSION""#);
    let target = CommandTarget::new("web-1", vec![deploy], vec![rollback])
        .with_status(vec![status, "{key}".into()])
        .with_env("JOURNAL", journal.display().to_string());
    assert_eq!(
        target.status("deploy#1").await.expect("status"),
        Lookup::Unsupported,
        "not done: the port cannot tell never-begun from cut short"
    );
    target.deploy(&request("deploy#1"), &LogSink::default()).await.expect("deploy");
    assert_eq!(target.status("deploy#1").await.expect("status"), Lookup::Done("deploy#1 is live".into()));
    let previous = vec![ArtifactRef::new("shop.jar", Version::new(1, 3, 9), Sha256::of(b"old"), 3)];
    let back = RollbackRequest {
        release: "shop-1.4.0".parse().expect("id"),
        environment: "staging".parse().expect("env"),
        previous,
        key: "rb#1".into(),
    };
    assert_eq!(target.rollback(&back, &LogSink::default()).await.expect("rollback"), "back to 1.3.9");
    let no_status = CommandTarget::new("web-2", vec!["true".into()], vec!["true".into()]);
    assert_eq!(no_status.status("x").await.expect("status"), Lookup::Unsupported);
}

/// Records, as a driver that then died would have, the start of deployment 1 of `web-1` to `staging`.
async fn started_by_a_driver_that_died(
    manager: &shipwarden::engine::ReleaseManager,
    id: &shipwarden::ReleaseId,
    staging: &shipwarden::EnvName,
) {
    let engine = shipwarden::Actor::new("shipwarden", [shipwarden::Role::DeploymentEngineer]);
    for (t, key) in [(None, "deploy:staging#1"), (Some("web-1"), "deploy:staging:web-1#1")] {
        let action = shipwarden::Action::StartStep {
            step: shipwarden::StepKind::Deploy,
            environment: Some(staging.clone()),
            target: t.map(Into::into),
            key: key.into(),
            held: Vec::new(),
        };
        manager.execute(id, &engine, action).await.expect("start");
    }
}

#[tokio::test]
async fn the_engine_deploys_through_commands_and_resumes_by_asking_status() {
    use shipwarden::engine::ReleaseManager;
    use shipwarden::*;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal");
    let deploy =
        script(dir.path(), "deploy.sh", r#"echo "$SHIPWARDEN_KEY" >> "$JOURNAL"; echo "$SHIPWARDEN_VERSION is live""#);
    let status = script(dir.path(), "status.sh", r#"grep -qx "$1" "$JOURNAL" 2>/dev/null || exit 1"#);
    let target = CommandTarget::new("web-1", vec![deploy], vec!["true".into()])
        .with_status(vec![status, "{key}".into()])
        .with_env("JOURNAL", journal.display().to_string());
    let staging: EnvName = "staging".parse().expect("env");
    let store = Arc::new(shipwarden::ports::memory::MemoryStore::new());
    let manager = ReleaseManager::builder(store.clone()).target(staging.clone(), Arc::new(target.clone())).build();
    let plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
    // A process recorded the start, ran the command, and died before recording the outcome.
    started_by_a_driver_that_died(&manager, &id, &staging).await;
    // The key a port sees: the release, then the step's key.
    target.deploy(&request("shop-1.4.0:deploy:staging:web-1#1"), &LogSink::default()).await.expect("deploy");
    let resumed = ReleaseManager::builder(store).target(staging.clone(), Arc::new(target)).build();
    assert!(resumed.deploy(&id, &staging).await.expect("deploy").succeeded());
    assert_eq!(std::fs::read_to_string(&journal).expect("journal").lines().count(), 1, "asked, not run again");
}

#[tokio::test]
async fn output_that_is_not_utf8_is_read_to_the_end_and_nothing_is_killed_r8e() {
    // Issue #18: the reader stopped at the first invalid line and closed the pipe; the script died of SIGPIPE.
    let script = r#"printf '\377\n'; head -c 300000 /dev/zero | tr '\0' a; echo; echo done; exit 0"#;
    let target = CommandTarget::new("web-1", vec!["sh".into(), "-c".into(), script.into()], vec!["true".into()]);
    let log = LogSink::default();
    let detail = target.deploy(&request("deploy:staging:web-1#1"), &log).await.expect("the deploy succeeds");
    assert_eq!(detail, "done", "the script ran to its end");
    let lines = log.take();
    assert_eq!(lines[0].text, "\u{FFFD}", "invalid UTF-8 is replaced, not fatal");
    let long = &lines[1].text;
    assert!(
        long.starts_with("aaaa") && long.ends_with(&format!("[line cut: {} more bytes]", 300_000 - (16 * 1024 - 64)))
    );
    assert!(long.len() < 16 * 1024 + 64, "a line is capped at 16 KiB: {}", long.len());
}

#[tokio::test]
async fn a_10_mb_line_without_a_newline_is_capped_r8e() {
    let script = r#"head -c 10000000 /dev/zero | tr '\0' b; exit 0"#;
    let target = CommandTarget::new("web-1", vec!["sh".into(), "-c".into(), script.into()], vec!["true".into()]);
    let log = LogSink::default();
    target.deploy(&request("deploy:staging:web-1#1"), &log).await.expect("the deploy succeeds");
    let lines = log.take();
    assert_eq!(lines.len(), 1);
    assert!(lines[0].text.len() < 16 * 1024 + 64, "kept {} bytes", lines[0].text.len());
    assert!(lines[0].text.ends_with(&format!("[line cut: {} more bytes]", 10_000_000 - (16 * 1024 - 64))));
}

#[tokio::test]
async fn a_deploy_cut_short_by_a_crash_is_in_doubt_never_run_again_r9d() {
    use shipwarden::engine::ReleaseManager;
    use shipwarden::*;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = dir.path().join("journal");
    let deploy = script(dir.path(), "deploy.sh", r#"echo "START $SHIPWARDEN_KEY" >> "$JOURNAL""#);
    let status = script(dir.path(), "status.sh", r#"exit 1"#);
    let target = CommandTarget::new("web-1", vec![deploy.clone()], vec!["true".into()])
        .with_status(vec![status, "{key}".into()])
        .with_env("JOURNAL", journal.display().to_string());
    let staging: EnvName = "staging".parse().expect("env");
    let store = Arc::new(shipwarden::ports::memory::MemoryStore::new());
    let manager = ReleaseManager::builder(store.clone()).target(staging.clone(), Arc::new(target.clone())).build();
    let plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
    // A driver recorded the start and died while the deploy ran: the status says "not done".
    started_by_a_driver_that_died(&manager, &id, &staging).await;
    let resumed = ReleaseManager::builder(store.clone()).target(staging.clone(), Arc::new(target.clone())).build();
    let refusal = resumed.deploy(&id, &staging).await.expect_err("in doubt").refusal().cloned().expect("a refusal");
    assert!(refusal.to_string().contains("step `deploy:staging:web-1#1` is in doubt"), "{refusal}");
    assert!(!journal.exists(), "the deploy was not run again");
    // Asked again, it stays in doubt, recorded once.
    resumed.deploy(&id, &staging).await.expect_err("still in doubt");
    let history = resumed.history(&id).await.expect("history");
    assert_eq!(history.iter().filter(|e| e.event.name() == "step_in_doubt").count(), 1);
    // A person checks the host and resolves it; the deployment then finishes without a second run.
    let dana = Actor::new("dana", [Role::DeploymentEngineer]);
    let resolve = Action::ResolveStep {
        key: "deploy:staging:web-1#1".into(),
        done: true,
        reason: "v1.4.0 is live on web-1".into(),
    };
    resumed.execute(&id, &dana, resolve).await.expect("resolved");
    assert!(resumed.deploy(&id, &staging).await.expect("deploy").succeeded());
    assert!(!journal.exists(), "resolving does not deploy again");
    // A target that declares its deploy idempotent is run again instead.
    let again = CommandTarget::new("web-1", vec![deploy], vec!["true".into()])
        .with_env("JOURNAL", journal.display().to_string())
        .idempotent(true);
    let plan = Plan::new("shop-1.5.0".parse().expect("id"), "shop", Version::new(1, 5, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
    started_by_a_driver_that_died(&manager, &id, &staging).await;
    let resumed = ReleaseManager::builder(store).target(staging.clone(), Arc::new(again)).build();
    assert!(resumed.deploy(&id, &staging).await.expect("deploy").succeeded());
    assert_eq!(std::fs::read_to_string(&journal).expect("journal").lines().count(), 1, "run again once");
}
