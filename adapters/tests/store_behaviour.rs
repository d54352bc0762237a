//! One behaviour suite for the `EventStore` contract, run against every
//! store: in memory, SQLite, and a real PostgreSQL when
//! `SHIPWARDEN_TEST_POSTGRES_URL` is set (the test script always sets it and
//! sets `SHIPWARDEN_REQUIRE_POSTGRES=1`, so it is never skipped there).

use std::sync::Arc;
use std::time::Duration;

use shipwarden::audit::Envelope;
use shipwarden::machine::{Action, Command, ReleaseState, apply, decide};
use shipwarden::ports::{EventStore, ReleaseQuery, ReleaseSummary, StoreError};
use shipwarden::*;
use shipwarden_adapters::store::sqlite::SqliteStore;

fn unique(prefix: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("{prefix}{:08x}", RandomState::new().hash_one(std::time::SystemTime::now()) as u32)
}

/// Plans a release and returns its sealed envelopes and summary.
fn planned(
    project: &str,
    version: Version,
    at: jiff::Timestamp,
) -> (ReleaseId, Vec<Envelope>, ReleaseSummary, ReleaseState) {
    let id: ReleaseId = format!("{project}-{version}").parse().expect("id");
    let plan = Plan::new(id.clone(), project, version, ReleaseKind::Minor);
    let rm = Actor::new("rita", [Role::ReleaseManager]);
    let events = decide(
        &ReleaseState::default(),
        &Command::new(&rm, Action::Plan { plan, last_release: None }),
        &Policy::default(),
        at,
    )
    .expect("plan");
    let envelopes = Envelope::seal_all(id.as_str(), None, at, "rita", events);
    let state = envelopes.iter().fold(ReleaseState::default(), |s, e| apply(s, &e.event));
    let summary = ReleaseSummary::of(&state, at).expect("summary");
    (id, envelopes, summary, state)
}

fn next(state: &ReleaseState, last: &Envelope, action: Action, at: jiff::Timestamp) -> (Vec<Envelope>, ReleaseState) {
    let actor = Actor::new("rita", [Role::ReleaseManager]);
    let events = decide(state, &Command::new(&actor, action), &Policy::default(), at).expect("decided");
    let envelopes = Envelope::seal_all(&last.stream, Some(last), at, "rita", events);
    let state = envelopes.iter().fold(state.clone(), |s, e| apply(s, &e.event));
    (envelopes, state)
}

fn at() -> jiff::Timestamp {
    "2026-11-28T10:00:00Z".parse().expect("ts")
}

async fn appends_and_loads_in_order_with_a_verified_chain(store: &dyn EventStore) {
    let (id, first, summary, state) = planned(&unique("p"), Version::new(1, 0, 0), at());
    assert_eq!(store.append(&id, 0, &first, &summary).await.expect("append"), 1);
    let evidence = Action::RecordEvidence(Evidence::new(GateId::Coverage, 0.1 + 0.2, "lcov"));
    let (second, state) = next(&state, &first[0], evidence, at());
    let summary = ReleaseSummary::of(&state, at()).expect("summary");
    assert_eq!(store.append(&id, 1, &second, &summary).await.expect("append"), 2);
    let loaded = store.load(&id).await.expect("load");
    assert_eq!(loaded.len(), 2);
    assert_eq!(loaded[0], first[0]);
    assert_eq!(loaded[1], second[0], "floats and times survive storage exactly");
    assert!(shipwarden::audit::verify(&loaded).is_ok());
    assert!(store.load(&"unknown-1.0.0".parse().expect("id")).await.expect("empty").is_empty());
}

async fn a_stale_expected_version_is_a_conflict_and_writes_nothing(store: &dyn EventStore) {
    let (id, first, summary, state) = planned(&unique("c"), Version::new(1, 0, 0), at());
    store.append(&id, 0, &first, &summary).await.expect("append");
    let err = store.append(&id, 0, &first, &summary).await.expect_err("conflict");
    assert!(matches!(err, StoreError::Conflict { expected: 0, actual: 1, .. }), "{err}");
    assert!(err.is_retryable());
    let (second, state2) = next(&state, &first[0], Action::Cancel { reason: "x".into() }, at());
    let err = store.append(&id, 5, &second, &ReleaseSummary::of(&state2, at()).expect("s")).await.expect_err("stale");
    assert!(matches!(err, StoreError::Conflict { expected: 5, actual: 1, .. }), "{err}");
    assert_eq!(store.load(&id).await.expect("load").len(), 1, "nothing of a refused append is written");
    let project = state.plan.expect("plan").project;
    let listed = store.list(&ReleaseQuery { project: Some(project), ..Default::default() }).await.expect("list");
    assert_eq!(listed[0].stage, Stage::Planned, "the summary is unchanged too");
}

async fn concurrent_appends_at_one_version_have_exactly_one_winner(store: Arc<dyn EventStore>) {
    let (id, first, summary, state) = planned(&unique("r"), Version::new(1, 0, 0), at());
    store.append(&id, 0, &first, &summary).await.expect("append");
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, id, first, state) = (store.clone(), id.clone(), first.clone(), state.clone());
        tasks.push(tokio::spawn(async move {
            let evidence = Action::RecordEvidence(Evidence::new(GateId::Coverage, f64::from(i) / 10.0, "x"));
            let (envs, s) = next(&state, &first[0], evidence, at());
            store.append(&id, 1, &envs, &ReleaseSummary::of(&s, at()).expect("s")).await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        match t.await.expect("join") {
            Ok(2) => wins += 1,
            Err(StoreError::Conflict { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(store.load(&id).await.expect("load").len(), 2);
}

async fn lists_by_project_stage_environment_and_date(store: &dyn EventStore) {
    let project = unique("l");
    let day = |d: u32| -> jiff::Timestamp { format!("2026-11-{d:02}T10:00:00Z").parse().expect("ts") };
    for (i, d) in [(1u64, 10), (2, 12), (3, 14)] {
        let (id, envs, mut summary, _) = planned(&project, Version::new(1, i, 0), day(d));
        if i == 2 {
            summary.environments = vec!["prod".parse().expect("env")];
            summary.stage = Stage::Released;
        }
        store.append(&id, 0, &envs, &summary).await.expect("append");
    }
    let q = |f: &dyn Fn(&mut ReleaseQuery)| {
        let mut q = ReleaseQuery { project: Some(project.clone()), ..Default::default() };
        f(&mut q);
        q
    };
    let versions = |list: Vec<ReleaseSummary>| list.into_iter().map(|s| s.version.to_string()).collect::<Vec<_>>();
    assert_eq!(versions(store.list(&q(&|_| {})).await.expect("all")), ["1.3.0", "1.2.0", "1.1.0"], "newest first");
    assert_eq!(versions(store.list(&q(&|q| q.stage = Some(Stage::Released))).await.expect("stage")), ["1.2.0"]);
    let prod = q(&|q| q.environment = Some("prod".parse().expect("env")));
    assert_eq!(versions(store.list(&prod).await.expect("env")), ["1.2.0"]);
    let since = q(&|q| q.planned_after = Some("2026-11-12T00:00:00Z".parse().expect("ts")));
    assert_eq!(versions(store.list(&since).await.expect("date")), ["1.3.0", "1.2.0"]);
    assert_eq!(versions(store.list(&q(&|q| q.limit = Some(1))).await.expect("limit")), ["1.3.0"]);
}

async fn leases_are_exclusive_renewable_and_expire(store: &dyn EventStore) {
    let name = unique("env:");
    let now = at();
    let ttl = Duration::from_secs(30);
    assert!(store.try_lease(&name, "a", ttl, now).await.expect("take"));
    assert!(!store.try_lease(&name, "b", ttl, now).await.expect("held"));
    assert!(store.try_lease(&name, "a", ttl, now).await.expect("renew"));
    let later = now.checked_add(Duration::from_secs(31)).expect("ts");
    assert!(store.try_lease(&name, "b", ttl, later).await.expect("expired, taken over"));
    store.release_lease(&name, "a").await.expect("not a's any more: no effect");
    assert!(!store.try_lease(&name, "a", ttl, later).await.expect("b holds it"));
    store.release_lease(&name, "b").await.expect("release");
    assert!(store.try_lease(&name, "a", ttl, later).await.expect("free again"));
}

/// Stores that keep leases in tables say who holds one and since when (R-6e).
async fn leases_say_who_holds_them_and_since_when_r6e(store: &dyn EventStore) {
    let name = unique("release:");
    let now = at();
    let ttl = Duration::from_secs(30);
    assert_eq!(store.lease(&name).await.expect("nobody"), None);
    assert!(store.try_lease(&name, "a", ttl, now).await.expect("take"));
    let later = now.checked_add(Duration::from_secs(10)).expect("ts");
    assert!(store.try_lease(&name, "a", ttl, later).await.expect("renew"));
    let held = store.lease(&name).await.expect("read").expect("held");
    assert_eq!((held.holder.as_str(), held.since), ("a", Some(now)), "a renewal keeps `since`");
    assert_eq!(held.expires_at, later.checked_add(ttl).expect("ts"));
    let expired = later.checked_add(Duration::from_secs(31)).expect("ts");
    assert!(store.try_lease(&name, "b", ttl, expired).await.expect("taken over"));
    let held = store.lease(&name).await.expect("read").expect("held");
    assert_eq!((held.holder.as_str(), held.since), ("b", Some(expired)));
}

async fn keeps_checkpoints_by_stream_and_sequence_r9d(store: &dyn EventStore) {
    let (id, first, summary, _) = planned(&unique("k"), Version::new(1, 0, 0), at());
    store.append(&id, 0, &first, &summary).await.expect("append");
    assert!(store.checkpoints(&id).await.expect("none yet").is_empty());
    let head = &first[0];
    let checkpoint = |signature: &str| shipwarden::audit::Checkpoint {
        stream: id.to_string(),
        sequence: head.sequence,
        head: head.hash.clone(),
        stage: summary.stage.clone(),
        at: "2026-11-28T10:00:00.123456789Z".parse().expect("ts"),
        algorithm: "ed25519".into(),
        public_key: "ab".repeat(32),
        signature: signature.into(),
    };
    store.put_checkpoint(&checkpoint("01")).await.expect("put");
    store.put_checkpoint(&checkpoint("02")).await.expect("a second at one sequence replaces the first");
    let stored = store.checkpoints(&id).await.expect("read");
    assert_eq!(stored, vec![checkpoint("02")], "every field survives storage exactly, the time to the nanosecond");
    assert_eq!(stored[0].message(), checkpoint("02").message());
    let other: ReleaseId = format!("{}-9.9.9", unique("o")).parse().expect("id");
    assert!(store.checkpoints(&other).await.expect("other stream").is_empty());
}

/// Every stream with events is found with its head, also once its listing row is gone (R-9d).
async fn finds_every_stream_from_its_events_r9d(store: &dyn EventStore) {
    let (id, first, summary, state) = planned(&unique("h"), Version::new(1, 0, 0), at());
    store.append(&id, 0, &first, &summary).await.expect("append");
    let evidence = Action::RecordEvidence(Evidence::new(GateId::Coverage, 0.9, "lcov"));
    let (second, state) = next(&state, &first[0], evidence, at());
    let summary = ReleaseSummary::of(&state, at()).expect("summary");
    store.append(&id, 1, &second, &summary).await.expect("append");
    let heads = store.heads().await.expect("heads");
    let head = heads.iter().find(|h| h.stream == id).expect("the stream is found");
    assert_eq!((head.sequence, &head.hash), (2, &second[0].hash));
    assert!(heads.iter().all(|h| h.sequence > 0));
    // The first event of each stream is its plan, exactly as appended.
    let firsts = store.first_events().await.expect("first events");
    assert_eq!(firsts.iter().find(|e| e.stream == id.as_str()), Some(&first[0]));
    assert!(firsts.iter().all(|e| e.sequence == 1));
}

async fn suite(store: Arc<dyn EventStore>) {
    finds_every_stream_from_its_events_r9d(store.as_ref()).await;
    keeps_checkpoints_by_stream_and_sequence_r9d(store.as_ref()).await;
    appends_and_loads_in_order_with_a_verified_chain(store.as_ref()).await;
    a_stale_expected_version_is_a_conflict_and_writes_nothing(store.as_ref()).await;
    concurrent_appends_at_one_version_have_exactly_one_winner(store.clone()).await;
    lists_by_project_stage_environment_and_date(store.as_ref()).await;
    leases_are_exclusive_renewable_and_expire(store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store_behaves() {
    suite(Arc::new(shipwarden::ports::memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_behaves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path().join("releases.db")).await.expect("open"));
    leases_say_who_holds_them_and_since_when_r6e(store.as_ref()).await;
    suite(store).await;
}

#[tokio::test]
async fn sqlite_finds_an_edited_row_when_loading_r9d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("releases.db")).await.expect("open");
    let (id, envs, summary, _) = planned("tamper", Version::new(1, 0, 0), at());
    store.append(&id, 0, &envs, &summary).await.expect("append");
    sqlx::query("UPDATE events SET actor = 'mallory'").execute(store.pool()).await.expect("tamper");
    let err = store.load(&id).await.expect_err("corrupt");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("event 1 was edited"), "{err}");
}

#[tokio::test]
async fn sqlite_reopens_an_existing_file_and_keeps_its_releases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("releases.db");
    let (id, envs, summary, _) = planned("reopen", Version::new(1, 0, 0), at());
    SqliteStore::open(&path).await.expect("open").append(&id, 0, &envs, &summary).await.expect("append");
    let again = SqliteStore::open(&path).await.expect("reopen runs no migration twice");
    assert_eq!(again.load(&id).await.expect("load").len(), 1);
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_behaves() {
    let Some(url) = postgres_url() else { return };
    let store = shipwarden_adapters::store::postgres::PostgresStore::connect(&url).await.expect("connect");
    leases_say_who_holds_them_and_since_when_r6e(&store).await;
    suite(Arc::new(store)).await;
}

#[cfg(feature = "postgres")]
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
