//! Faults end to end: outside systems that fail a few times, stall, or cut
//! the connection. The engine retries what can be retried (with backoff,
//! every attempt recorded), then rolls back and tells the teams; and the
//! Slack token never shows up in the audit trail, an error, a log line or
//! `Debug` output (R-8e, R-8f, R-8g, R-9a).
//!
//! prod-1 is deployed by a command that asks for a retry (exit 75) twice,
//! then succeeds; the smoke test's health endpoint answers 500, so the
//! release is rolled back; the rollback notice goes to a Slack channel whose
//! API answers 503, then stalls past the client's timeout, then cuts the
//! connection, and only then accepts it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::SecretString;
use shipwarden::engine::ReleaseManager;
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;
use shipwarden_adapters::notify::slack::SlackNotifier;
use shipwarden_adapters::probes::http::HttpProbe;
use shipwarden_adapters::targets::command::CommandTarget;
use shipwarden_e2e::{Act, drive_version, faulty_server};

const TOKEN: &str = "xoxb-4242-faults-test-secret-token";

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_engine_retries_failing_systems_then_rolls_back_and_notifies_without_leaking_the_token_r8g() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Slack: 503, a stall longer than the client waits, a cut connection, then `ok`.
    let ok = r#"{"ok":true,"channel":"C0123","ts":"1700000000.000100"}"#;
    let (slack_api, slack_seen) = faulty_server(Arc::new(move |n, _| match n {
        0 => Act::Reply(503, r#"{"ok":false,"error":"service_unavailable"}"#.into(), vec![]),
        1 => Act::Stall(Duration::from_secs(3)),
        2 => Act::Cut,
        _ => Act::Reply(200, ok.into(), vec![]),
    }))
    .await;
    // The new version's health check fails.
    let (health, _) = faulty_server(Arc::new(|_, _| Act::Reply(500, r#"{"status":"down"}"#.into(), vec![]))).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("prod-1");
    std::fs::create_dir_all(&work).expect("dir");
    // Exit 75 (EX_TEMPFAIL: retry) on the first two runs, then deploy.
    let deploy = "n=$(cat tries 2>/dev/null || echo 0); echo $((n+1)) > tries; \
                  if [ $n -lt 2 ]; then echo 'lock held by another deploy' >&2; exit 75; fi; echo deployed $SHIPWARDEN_VERSION";
    let prod_1 = CommandTarget::new(
        "prod-1",
        vec!["sh".into(), "-c".into(), deploy.into()],
        vec!["sh".into(), "-c".into(), "echo back on the previous release > rolled-back; cat rolled-back".into()],
    )
    .with_workdir(&work);
    let slack = Arc::new(
        SlackNotifier::api(&slack_api, SecretString::from(TOKEN.to_owned()), "C0123", Duration::from_secs(1))
            .expect("slack"),
    );
    let env = |name: &str| -> EnvName { name.parse().expect("env") };
    let mut ports = shipwarden::engine::Ports {
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(
            dir.path().join("build"),
            vec![("app.tar".into(), b"app".to_vec())],
        ))),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(Arc::new(MemoryNotes::new())),
        notifiers: vec![slack.clone()],
        ..Default::default()
    };
    ports.targets.insert(env("staging"), vec![Arc::new(MemoryTarget::new("staging-1"))]);
    ports.targets.insert(env("test"), vec![Arc::new(MemoryTarget::new("test-1"))]);
    ports.targets.insert(env("prod"), vec![Arc::new(prod_1)]);
    ports.smoke.insert(env("prod"), vec![Arc::new(HttpProbe::new(format!("{health}/health")).with_requests(1))]);
    let mut policy = Policy::default();
    policy.retry.attempts = 4;
    policy.retry.initial_backoff = jiff::SignedDuration::from_millis(10);
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().expect("time")));
    let store = Arc::new(MemoryStore::new());
    let manager = ReleaseManager::builder(store).clock(clock).policy(policy).ports(ports).build();

    let version = Version::new(3, 1, 0);
    let stage = drive_version(&manager, "shop", &version).await.expect("drive");
    assert_eq!(stage, Stage::RolledBack);

    let id = ReleaseId::for_version("shop", &version).expect("id");
    let state = manager.state(&id).await.expect("state");
    // The deployment was retried: two retryable failures, then success, each attempt recorded.
    let attempts: Vec<(&str, bool)> = state
        .steps
        .iter()
        .filter(|s| s.target.as_deref() == Some("prod-1") && s.step == StepKind::Deploy)
        .map(|s| (s.key.as_str(), matches!(s.outcome, Some(machine::StepOutcome::Succeeded { .. }))))
        .collect();
    assert_eq!(
        attempts,
        [("deploy:prod:prod-1#1", false), ("deploy:prod:prod-1#1/2", false), ("deploy:prod:prod-1#1/3", true)]
    );
    // Then rolled back (R-8g).
    assert_eq!(
        std::fs::read_to_string(work.join("rolled-back")).expect("rolled back"),
        "back on the previous release\n"
    );
    // The rollback notice: 503, timeout, cut connection, delivered on the fourth attempt.
    let notices: Vec<&machine::StepRecord> = state.steps.iter().filter(|s| s.step == StepKind::Notify).collect();
    let errors: Vec<String> = notices
        .iter()
        .filter_map(|s| match &s.outcome {
            Some(machine::StepOutcome::Failed { error, .. }) => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("Slack answered 503: service_unavailable"), "{errors:?}");
    assert!(errors[1].contains("timeout"), "{errors:?}");
    assert!(errors.iter().all(|e| e.starts_with("slack C0123 send") && e.contains("(retryable)")), "{errors:?}");
    let seen = slack_seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4);
    let delivered: serde_json::Value = serde_json::from_str(&seen[3].body).expect("json");
    assert_eq!(delivered["text"], "Rollback on prod");
    assert!(
        seen.iter().all(|r| r.headers.iter().any(|(k, v)| k == "authorization" && v == &format!("Bearer {TOKEN}")))
    );

    // The token went only into the Authorization header: never into the record, a log line, an error or Debug.
    let history = serde_json::to_string(&manager.history(&id).await.expect("history")).expect("json");
    let logs = String::from_utf8_lossy(&logs.0.lock().expect("lock")).to_string();
    assert!(logs.contains("step attempt failed"), "the failures were logged");
    for (what, text) in
        [("audit trail", history), ("logs", logs), ("errors", errors.join("\n")), ("Debug", format!("{slack:?}"))]
    {
        assert!(!text.contains(TOKEN) && !text.contains("4242-faults"), "the token is in the {what}");
    }
}
