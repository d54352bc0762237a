//! Crash and concurrency, for real: a release driven by separate processes
//! against one durable store, killed (`std::process::abort`) at every point
//! in turn and resumed; and several processes or tasks driving one release
//! at once, on SQLite and on PostgreSQL.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use shipwarden::machine::ReleaseState;
use shipwarden::{Event, Stage};

fn driver(store: &str, dir: &Path, project: &str, abort_at: Option<u64>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_release-driver"));
    cmd.arg(store).arg(dir.join("journal")).arg(dir.join("work")).arg(project);
    if let Some(k) = abort_at {
        cmd.arg(k.to_string());
    }
    cmd.output().expect("the driver runs")
}

/// `stage=… points=… events=…` from a successful driver.
fn report(out: &Output) -> (String, u64, u64) {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "driver failed: {}\n{}", text, String::from_utf8_lossy(&out.stderr));
    let field = |name: &str| -> String {
        text.split_whitespace().find_map(|w| w.strip_prefix(&format!("{name}="))).unwrap_or_default().to_owned()
    };
    (field("stage"), field("points").parse().unwrap_or(0), field("events").parse().unwrap_or(0))
}

/// (target, deployment key) → how many times the journal records it.
fn deployments(dir: &Path) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for (op, target, key) in shipwarden_e2e::journal(&dir.join("journal")) {
        if op == "deploy" {
            *counts.entry((target, key)).or_insert(0) += 1;
        }
    }
    counts
}

async fn load_state(store: &str, project: &str) -> (ReleaseState, usize) {
    let store = shipwarden_e2e::open_store(store).await.expect("open");
    let envelopes = store.load(&shipwarden_e2e::release_id(project)).await.expect("the chain verifies");
    assert!(shipwarden::audit::verify(&envelopes).is_ok());
    (ReleaseState::from_events(envelopes.iter().map(|e| &e.event)), envelopes.len())
}

fn every_transition_once(state: &ReleaseState) {
    let mut seen = BTreeSet::new();
    for s in &state.path {
        assert!(seen.insert(s.clone()), "stage {s} entered twice: {:?}", state.path);
    }
}

#[test]
fn a_release_killed_at_every_point_resumes_without_losing_or_repeating_anything() {
    let base = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite:{}", base.path().join("releases.db").display());
    let (stage, points, events) = report(&driver(&store, base.path(), "app", None));
    assert_eq!(stage, "closed");
    let expected = deployments(base.path());
    assert_eq!(expected.len(), 4, "staging, test and two prod targets: {expected:?}");
    assert!(points > 40, "a full release passes many points: {points}");

    let next = AtomicU64::new(1);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k > points {
                        break;
                    }
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = format!("sqlite:{}", dir.path().join("releases.db").display());
                    let crashed = driver(&store, dir.path(), "app", Some(k));
                    let problem = if crashed.status.success() {
                        Some(format!("k={k}: the driver did not abort"))
                    } else {
                        let resumed = driver(&store, dir.path(), "app", None);
                        let (stage, _, count) = report(&resumed);
                        let deployed = deployments(dir.path());
                        if stage != "closed" || count != events {
                            Some(format!(
                                "k={k}: resumed to {stage} with {count} events, expected closed with {events}"
                            ))
                        } else if deployed != expected {
                            Some(format!("k={k}: deployments {deployed:?}, expected each of {expected:?} once"))
                        } else {
                            None
                        }
                    };
                    if let Some(p) = problem {
                        failures.lock().expect("lock").push(p);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(failures.is_empty(), "{} of {points} crash points went wrong:\n{}", failures.len(), failures.join("\n"));
}

fn processes_drive_one_release(store: &str, dir: &Path, project: &str) {
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_release-driver"));
            cmd.arg(store).arg(dir.join("journal")).arg(dir.join("work")).arg(project);
            cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(report(&out).0, "closed");
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (state, _) = rt.block_on(load_state(store, project));
    assert_eq!(state.stage, Some(Stage::Closed));
    every_transition_once(&state);
    for (key, count) in deployments(dir) {
        assert_eq!(count, 1, "{key:?} deployed {count} times");
    }
    assert_eq!(deployments(dir).len(), 4);
}

#[test]
fn four_processes_drive_one_release_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!("sqlite:{}", dir.path().join("releases.db").display());
    processes_drive_one_release(&store, dir.path(), "app");
}

fn postgres_url() -> Option<String> {
    match std::env::var("SHIPWARDEN_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("SHIPWARDEN_REQUIRE_POSTGRES").is_some() => {
            panic!("SHIPWARDEN_TEST_POSTGRES_URL is required")
        }
        Err(_) => {
            eprintln!("NOTE: PostgreSQL tests not run: set SHIPWARDEN_TEST_POSTGRES_URL (scripts/test does)");
            None
        }
    }
}

#[test]
fn four_processes_drive_one_release_on_postgres() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // A project of its own, so a database kept between runs starts this release afresh.
    processes_drive_one_release(&url, dir.path(), &shipwarden_e2e::unique("procs"));
}

async fn tasks_drive_one_release(store: Arc<dyn shipwarden::ports::EventStore>, dir: &Path, project: &str) {
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            // Each task has its own manager, as separate services would.
            let manager =
                shipwarden_e2e::manager(store.clone(), &dir.join("journal"), &dir.join("work"), Duration::from_secs(5));
            let project = project.to_owned();
            tokio::spawn(async move { shipwarden_e2e::drive(&manager, &project).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join").expect("drive"), Stage::Closed);
    }
    let envelopes = store.load(&shipwarden_e2e::release_id(project)).await.expect("load");
    let state = ReleaseState::from_events(envelopes.iter().map(|e| &e.event));
    every_transition_once(&state);
    let advances = envelopes.iter().filter(|e| matches!(e.event, Event::Advanced { .. })).count();
    assert_eq!(advances, state.path.len() - 2, "one advance per stage after planned, close aside");
    for (key, count) in deployments(dir) {
        assert_eq!(count, 1, "{key:?} deployed {count} times");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_tasks_drive_one_release_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = shipwarden_e2e::open_store(&format!("sqlite:{}", dir.path().join("releases.db").display()))
        .await
        .expect("open");
    tasks_drive_one_release(store, dir.path(), "app").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn six_tasks_drive_one_release_on_postgres() {
    let Some(url) = postgres_url() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = shipwarden_e2e::open_store(&url).await.expect("connect");
    tasks_drive_one_release(store, dir.path(), &shipwarden_e2e::unique("tasks")).await;
}
