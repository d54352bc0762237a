//! Prints the figures of `benches/RESULTS.md`: each measured several times,
//! the median reported, with the ratio to its goal or its floor.
//!
//! `bench-report [lifecycle|sqlite|fanout|memory|calls|import|keys|anchor|identity|list|audit-all|all] [--smoke]`:
//! none runs the engine report (all but `import`, `keys`, `anchor`, `identity`, `list` and `audit-all`);
//! `all` runs every one.
//! `--smoke` makes each tiny (a few seconds in all), so that `scripts/test`
//! runs every benchmark and none can break unnoticed; its figures mean nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipwarden::ports::memory::MemoryStore;
use shipwarden::ports::{EventStore, ReleaseQuery};
use shipwarden::*;
use shipwarden_adapters::store::sqlite::{Durability, SqliteConfig, SqliteStore};

/// How much each benchmark does: the measured sizes, or tiny ones (`--smoke`).
struct Size {
    rounds: usize,
    releases: usize,
    appends: u32,
    targets: usize,
    delay: Duration,
    stored_releases: u32,
    status_calls: usize,
    port_calls: usize,
    import_files: &'static [(&'static str, u64)],
    import_runs: usize,
    /// Distinct ticket keys in one commit message (issue #18: once quadratic).
    commit_keys: usize,
    /// Events in the release whose chain is verified with and without checkpoints (issue #19).
    anchored_events: usize,
    /// Closed releases in the store `list` reads (issue #19).
    listed_releases: usize,
    /// Closed releases, each with its checkpoints, that `audit --verify` checks one by one (issue #19).
    audited_releases: usize,
}

const MEASURED: Size = Size {
    rounds: 5,
    releases: 100,
    appends: 300,
    targets: 1000,
    delay: Duration::from_millis(20),
    stored_releases: 10_000,
    status_calls: 10_000,
    port_calls: 100_000,
    import_files: &[("jtl", 100), ("jtl", 1000), ("lcov", 100)],
    import_runs: 3,
    commit_keys: 100_000,
    anchored_events: 10_000,
    listed_releases: 1000,
    audited_releases: 10_000,
};

const SMOKE: Size = Size {
    rounds: 1,
    releases: 2,
    appends: 5,
    targets: 20,
    delay: Duration::from_millis(1),
    stored_releases: 20,
    status_calls: 100,
    port_calls: 1000,
    import_files: &[("jtl", 1), ("lcov", 1)],
    import_runs: 1,
    commit_keys: 1000,
    anchored_events: 200,
    listed_releases: 20,
    audited_releases: 20,
};

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

async fn lifecycle(size: &Size) {
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = shipwarden_benches::memory_manager(Arc::new(MemoryStore::new()), dir.path());
    let events = shipwarden_benches::full_release(&manager, "warmup").await;
    let mut per_release = Vec::new();
    for round in 0..size.rounds {
        let started = Instant::now();
        for i in 0..size.releases {
            shipwarden_benches::full_release(&manager, &format!("r{round}x{i}")).await;
        }
        per_release.push(started.elapsed().as_secs_f64() / size.releases as f64);
    }
    let t = median(per_release);
    println!(
        "lifecycle (in-memory store): {:.0} releases/s, {:.1} µs per release, {events} events per release, {:.2} µs per event",
        1.0 / t,
        t * 1e6,
        t * 1e6 / events as f64
    );
}

async fn sqlite(size: &Size) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("engine.db")).await.expect("open");
    let manager = shipwarden::engine::ReleaseManager::builder(Arc::new(store)).build();
    let plan = Plan::new("bench-1.0.0".parse().expect("id"), "bench", Version::new(1, 0, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
    let raw = shipwarden_benches::raw::RawSqlite::open(&dir.path().join("raw.db")).await;
    let ci = Actor::new("ci", []);
    let n = size.appends;
    let (mut engine, mut floor) = (Vec::new(), Vec::new());
    let mut seq = 0;
    for _ in 0..size.rounds {
        let started = Instant::now();
        for _ in 0..n {
            manager.record_evidence(&id, &ci, Evidence::new(GateId::Coverage, 0.91, "lcov")).await.expect("append");
        }
        engine.push(f64::from(n) / started.elapsed().as_secs_f64());
        let started = Instant::now();
        for _ in 0..n {
            raw.insert(seq).await;
            seq += 1;
        }
        floor.push(f64::from(n) / started.elapsed().as_secs_f64());
    }
    let (e, r) = (median(engine), median(floor));
    println!(
        "sqlite durable appends (WAL, synchronous=FULL): engine {e:.0}/s, raw sqlx insert {r:.0}/s, ratio {:.2} (goal >= 0.80)",
        e / r
    );
}

/// The same shape with no engine: a task per target, a semaphore of 50, a sleep of `delay` each.
async fn bare_tokio_fan_out(targets: usize, delay: Duration) -> f64 {
    let limit = Arc::new(tokio::sync::Semaphore::new(50));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..targets {
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            tokio::time::sleep(delay).await;
        });
    }
    while tasks.join_next().await.is_some() {}
    started.elapsed().as_secs_f64()
}

async fn fanout(size: &Size) {
    let (mut walls, mut floors) = (Vec::new(), Vec::new());
    for _ in 0..size.rounds {
        walls.push(shipwarden_benches::fan_out(size.targets, size.delay, 50).await.as_secs_f64());
        floors.push(bare_tokio_fan_out(size.targets, size.delay).await);
    }
    let (wall, floor) = (median(walls), median(floors));
    // Waves of 50 targets, each wave as long as one target takes.
    let ideal = size.targets.div_ceil(50) as f64 * size.delay.as_secs_f64();
    println!(
        "fan-out {} targets x {} ms at concurrency 50: {:.0} ms, {:.2} x the ideal {:.0} ms (goal <= 1.10); bare tokio tasks, same shape: {:.0} ms ({:.2} x)",
        size.targets,
        size.delay.as_millis(),
        wall * 1e3,
        wall / ideal,
        ideal * 1e3,
        floor * 1e3,
        floor / ideal
    );
}

async fn memory_setup(path: &str, releases: u32) {
    let config = SqliteConfig::default().durability(Durability::Normal);
    let store = Arc::new(SqliteStore::open_with(path, config).await.expect("open"));
    let manager = shipwarden::engine::ReleaseManager::builder(store).build();
    let rita = Actor::new("rita", [Role::ReleaseManager]);
    let ci = Actor::new("ci", []);
    for i in 0..releases {
        let plan = Plan::new(
            format!("svc{}-1.{i}.0", i % 50).parse().expect("id"),
            format!("svc{}", i % 50),
            Version::new(1, u64::from(i), 0),
            ReleaseKind::Minor,
        );
        let id = plan.release.clone();
        manager.plan(&rita, plan).await.expect("plan");
        manager.record_evidence(&id, &ci, Evidence::new(GateId::Coverage, 0.93, "lcov")).await.expect("evidence");
    }
}

async fn memory_measure(path: &str) {
    let store = SqliteStore::open(path).await.expect("open");
    let started = Instant::now();
    let all = store.list(&ReleaseQuery::default()).await.expect("list");
    let listed = started.elapsed();
    let started = Instant::now();
    let mut events = 0;
    for summary in &all {
        events += store.load(&summary.release).await.expect("load").len();
    }
    let loaded = started.elapsed();
    println!(
        "memory: {} releases ({events} events) listed in {:.0} ms and each loaded and verified in {:.1} s; peak RSS {:.1} MB",
        all.len(),
        listed.as_secs_f64() * 1e3,
        loaded.as_secs_f64(),
        shipwarden_benches::peak_rss() as f64 / 1e6
    );
}

async fn memory(size: &Size) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("releases.db");
    let me = std::env::current_exe().expect("exe");
    // Fill and measure in fresh processes, so the figure is the store's, not the setup's.
    let status = std::process::Command::new(&me)
        .arg("memory-setup")
        .arg(&path)
        .arg(size.stored_releases.to_string())
        .status()
        .expect("setup");
    assert!(status.success());
    let status = std::process::Command::new(&me).arg("memory-measure").arg(&path).status().expect("measure");
    assert!(status.success());
}

/// The Rust side of the bindings' overhead figures: a status round trip on
/// an in-memory manager, and a deploy target's `status` call, as
/// `benches/bindings.sh` measures them from Python and Node.
async fn calls(size: &Size) {
    let manager = shipwarden::engine::ReleaseManager::builder(Arc::new(MemoryStore::new())).build();
    let rita = Actor::new("rita", [Role::ReleaseManager]);
    let plan = Plan::new("shop-1.0.0".parse().expect("id"), "shop", Version::new(1, 0, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&rita, plan).await.expect("plan");
    let target = shipwarden::ports::memory::MemoryTarget::new("web-1");
    let (mut status, mut port) = (Vec::new(), Vec::new());
    for _ in 0..size.rounds {
        let started = Instant::now();
        for _ in 0..size.status_calls {
            std::hint::black_box(manager.status(&id).await.expect("status"));
        }
        status.push(started.elapsed().as_secs_f64() / size.status_calls as f64);
        let started = Instant::now();
        for _ in 0..size.port_calls {
            std::hint::black_box(
                shipwarden::ports::DeployTarget::status(&target, "deploy:prod:web-1#1").await.expect("status"),
            );
        }
        port.push(started.elapsed().as_secs_f64() / size.port_calls as f64);
    }
    println!(
        "calls from Rust: manager.status {:.2} µs, deploy-target status (in-memory target) {:.3} µs",
        median(status) * 1e6,
        median(port) * 1e6
    );
}

/// The engine report: what `bench-report` runs without a name.
/// One commit message listing `commit_keys` distinct ticket keys (R-4a, R-4b), parsed as `plan` and `notes` do.
fn keys(size: &Size) {
    let body: String = (0..size.commit_keys).map(|i| format!("PAY-{i} ")).collect();
    let commit = shipwarden::ports::Commit {
        sha: "0123456789abcdef".into(),
        subject: "fix: many tickets".into(),
        body,
        author: "dev".into(),
        parents: 1,
    };
    let mut runs = Vec::new();
    for _ in 0..size.rounds {
        let started = Instant::now();
        let change = shipwarden::changes::parse(&commit);
        runs.push(started.elapsed().as_secs_f64());
        assert_eq!(change.tickets.len(), size.commit_keys);
    }
    let t = median(runs);
    println!("ticket keys: {} distinct keys in one commit parsed in {:.1} ms", size.commit_keys, t * 1e3);
}

/// Verifying one release of `anchored_events` events (issue #19, R-9d): the chain alone (today's
/// unsigned verification) against the chain with its signed checkpoints (Ed25519, one per stage
/// change of a real release), in memory and loaded from a SQLite store.
async fn anchor(size: &Size) {
    use shipwarden::audit::{Checkpoint, Envelope, verify, verify_anchored};
    use shipwarden::ports::Signer as _;
    use shipwarden_adapters::anchor::Ed25519Check;
    use shipwarden_adapters::bundle::Ed25519Signer;
    // A real release's events, repeated to the size wanted, sealed as the engine seals them.
    let dir = tempfile::tempdir().expect("tempdir");
    let manager = shipwarden_benches::memory_manager(Arc::new(MemoryStore::new()), dir.path());
    shipwarden_benches::full_release(&manager, "anchor").await;
    let id: ReleaseId = manager.list(&ReleaseQuery::default()).await.expect("list")[0].release.clone();
    let real = manager.history(&id).await.expect("history");
    let mut chain: Vec<Envelope> = Vec::with_capacity(size.anchored_events);
    for e in real.iter().cycle().take(size.anchored_events) {
        let sealed = Envelope::seal(id.as_str(), chain.last(), e.at, &e.actor, e.event.clone());
        chain.push(sealed);
    }
    // One checkpoint per stage change of the real release, spread over the chain, the last at its end.
    let seed = secrecy::SecretString::from("7".repeat(64));
    let signer = Ed25519Signer::from_seed_hex(&seed).expect("key");
    let stages = manager.checkpoints(&id).await.map(|c| c.len()).unwrap_or(0).max(12);
    let mut checkpoints = Vec::new();
    for k in 1..=stages {
        let e = &chain[size.anchored_events * k / stages - 1];
        let stage: Stage = "closed".parse().expect("stage");
        let at = e.at;
        let message =
            Checkpoint::statement(&e.stream, e.sequence, &e.hash, &stage, &at, "ed25519", &signer.public_key());
        let signature = signer.sign(&message).await.expect("sign");
        checkpoints.push(Checkpoint {
            stream: e.stream.clone(),
            sequence: e.sequence,
            head: e.hash.clone(),
            stage,
            at,
            algorithm: "ed25519".into(),
            public_key: signer.public_key(),
            signature,
        });
    }
    let trusted = vec![signer.public_key()];
    let rounds = size.rounds.max(3) * 4;
    let (mut plain, mut anchored) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        verify(&chain).expect("verifies");
        plain.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        verify_anchored(&chain, &checkpoints, &trusted, &Ed25519Check).expect("anchored");
        anchored.push(started.elapsed().as_secs_f64());
    }
    let (p, a) = (median(plain), median(anchored));
    println!(
        "anchor, in memory: {} events, {} checkpoints: chain alone {:.1} ms, with checkpoints {:.1} ms, ratio {:.3} (goal <= 1.2)",
        chain.len(),
        checkpoints.len(),
        p * 1e3,
        a * 1e3,
        a / p
    );
    // The same from a SQLite store, as `audit --verify` reads it: load (which verifies the chain),
    // then the checkpoints and their check (`check_checkpoints`: the chain is not hashed twice).
    let store = SqliteStore::open(dir.path().join("anchor.db")).await.expect("open");
    let state = shipwarden::machine::ReleaseState::from_events(chain.iter().map(|e| &e.event));
    let summary = shipwarden::ports::ReleaseSummary::of(&state, chain[chain.len() - 1].at).expect("summary");
    // In batches: one insert of 10,000 rows has more SQL variables than SQLite takes.
    for (i, batch) in chain.chunks(500).enumerate() {
        store.append(&id, (i * 500) as u64, batch, &summary).await.expect("append");
    }
    for c in &checkpoints {
        store.put_checkpoint(c).await.expect("checkpoint");
    }
    let (mut plain, mut anchored) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let started = Instant::now();
        let loaded = store.load(&id).await.expect("load");
        plain.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let loaded2 = store.load(&id).await.expect("load");
        let stored = store.checkpoints(&id).await.expect("checkpoints");
        shipwarden::audit::check_checkpoints(&loaded2, &stored, &trusted, &Ed25519Check).expect("anchored");
        anchored.push(started.elapsed().as_secs_f64());
        assert_eq!(loaded.len(), loaded2.len());
    }
    let (p, a) = (median(plain), median(anchored));
    println!(
        "anchor, from SQLite: load + verify {:.1} ms, load + verify + checkpoints {:.1} ms, ratio {:.3} (goal <= 1.2)",
        p * 1e3,
        a * 1e3,
        a / p
    );
}

/// Fills a SQLite store at `path` with `n` closed releases (projects `svc0`..`svc49`), each a copy of
/// one real release's chain (the engine's own events, resealed for its stream), with a signed
/// checkpoint at every stage change when `signer` is given, as the engine makes them.
async fn closed_releases(
    path: &std::path::Path,
    n: usize,
    signer: Option<&shipwarden_adapters::bundle::Ed25519Signer>,
) -> (SqliteStore, usize) {
    use shipwarden::audit::{Checkpoint, Envelope};
    use shipwarden::machine::{Event, ReleaseState, apply};
    use shipwarden::ports::Signer as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let template = shipwarden_benches::memory_manager(Arc::new(MemoryStore::new()), dir.path());
    shipwarden_benches::full_release(&template, "tpl").await;
    let id = template.list(&ReleaseQuery::default()).await.expect("list")[0].release.clone();
    let real = template.history(&id).await.expect("history");
    let config = SqliteConfig::default().durability(Durability::Normal);
    let store = SqliteStore::open_with(path, config).await.expect("open");
    for i in 0..n {
        let project = format!("svc{}", i % 50);
        let stream: ReleaseId = format!("{project}-1.{i}.0").parse().expect("id");
        let (mut chain, mut state, mut changes) =
            (Vec::<Envelope>::with_capacity(real.len()), ReleaseState::default(), Vec::new());
        for e in &real {
            let mut event = e.event.clone();
            let shift = jiff::SignedDuration::from_secs(60 * i as i64);
            if let Event::Planned { plan, at, .. } = &mut event {
                *at += shift;
                plan.release = stream.clone();
                plan.project = project.clone();
                plan.version = Version::new(1, i as u64, 0);
            }
            let before = state.stage.clone();
            state = apply(state, &event);
            // Each copy planned a minute after the one before, as releases are.
            let at = e.at + shift;
            chain.push(Envelope::seal(stream.as_str(), chain.last(), at, &e.actor, event));
            if state.stage != before {
                changes.push((chain.len() - 1, state.stage.clone().expect("stage")));
            }
        }
        let summary = shipwarden::ports::ReleaseSummary::of(&state, chain[chain.len() - 1].at).expect("summary");
        store.append(&stream, 0, &chain, &summary).await.expect("append");
        let Some(signer) = signer else { continue };
        for (at, stage) in changes {
            let e = &chain[at];
            let key = signer.public_key();
            let message = Checkpoint::statement(&e.stream, e.sequence, &e.hash, &stage, &e.at, "ed25519", &key);
            let signature = signer.sign(&message).await.expect("sign");
            let checkpoint = Checkpoint {
                stream: e.stream.clone(),
                sequence: e.sequence,
                head: e.hash.clone(),
                stage,
                at: e.at,
                algorithm: "ed25519".into(),
                public_key: key,
                signature,
            };
            store.put_checkpoint(&checkpoint).await.expect("checkpoint");
        }
    }
    (store, real.len())
}

/// Issue #19: `list` over stored closed releases, each derived from its verified chain. "Before" is
/// the listing as it was (the rows found by the store, each chain loaded whole and replayed); a cold
/// manager is what one CLI `list` does; a warm one (a server, a binding) reads the heads and only
/// the events appended since it last listed.
async fn listing(size: &Size) {
    use shipwarden::audit::Envelope;
    use shipwarden::machine::ReleaseState;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("list.db");
    let n = size.listed_releases;
    let (store, per_release) = closed_releases(&path, n, None).await;
    let store: Arc<dyn EventStore> = Arc::new(store);
    let before = async |query: &ReleaseQuery| {
        let mut found = Vec::new();
        for row in store.list(query).await.expect("rows") {
            let envelopes = store.load(&row.release).await.expect("load");
            let state = ReleaseState::from_events(envelopes.iter().map(|e| &e.event));
            found.extend(shipwarden::ports::ReleaseSummary::of(&state, envelopes[envelopes.len() - 1].at));
        }
        found.len()
    };
    let time = |started: Instant| started.elapsed().as_secs_f64() * 1e3;
    let all = ReleaseQuery::default();
    let one = ReleaseQuery { project: Some("svc1".into()), ..ReleaseQuery::default() };
    let (mut old, mut old_one, mut cold, mut cold_one, mut warm, mut moved) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..size.rounds.max(3) {
        let started = Instant::now();
        assert_eq!(before(&all).await, n);
        old.push(time(started));
        let started = Instant::now();
        before(&one).await;
        old_one.push(time(started));
        let manager = shipwarden::engine::ReleaseManager::builder(store.clone()).build();
        let started = Instant::now();
        assert_eq!(manager.list(&all).await.expect("list").len(), n);
        cold.push(time(started));
        let started = Instant::now();
        assert_eq!(manager.list(&all).await.expect("list").len(), n);
        warm.push(time(started));
        // Ten releases move on by one event, written by another process.
        for i in 0..10.min(n) {
            let stream: ReleaseId = format!("svc{}-1.{i}.0", i % 50).parse().expect("id");
            let chain = store.load(&stream).await.expect("load");
            let last = &chain[chain.len() - 1];
            let next = Envelope::seal(stream.as_str(), Some(last), last.at, "ci", chain[1].event.clone());
            let state = ReleaseState::from_events(chain.iter().map(|e| &e.event).chain([&next.event]));
            let summary = shipwarden::ports::ReleaseSummary::of(&state, next.at).expect("summary");
            store.append(&stream, last.sequence, &[next], &summary).await.expect("append");
        }
        let started = Instant::now();
        assert_eq!(manager.list(&all).await.expect("list").len(), n);
        moved.push(time(started));
        let fresh = shipwarden::engine::ReleaseManager::builder(store.clone()).build();
        let started = Instant::now();
        fresh.list(&one).await.expect("list");
        cold_one.push(time(started));
        let _ = round;
    }
    println!(
        "list, {n} closed releases of {per_release} events in SQLite: before (rows, each chain loaded whole) {:.0} ms; \
         now cold (one CLI run) {:.0} ms, warm {:.1} ms, warm after 10 releases moved {:.1} ms; one project of 50: \
         before {:.0} ms, now cold {:.0} ms",
        median(old),
        median(cold),
        median(warm),
        median(moved),
        median(old_one),
        median(cold_one)
    );
}

/// Issue #19: `audit --verify` of every one of many closed releases, each with its signed
/// checkpoints, as the CLI and the bindings verify one (`verify_release`: load and verify the
/// chain, check the checkpoints' signatures against it, the listing row).
async fn audit_all(size: &Size) {
    use shipwarden_adapters::bundle::Ed25519Signer;
    let dir = tempfile::tempdir().expect("tempdir");
    let n = size.audited_releases;
    let signer = Ed25519Signer::from_seed_hex(&secrecy::SecretString::from("7".repeat(64))).expect("key");
    let started = Instant::now();
    let (store, per_release) = closed_releases(&dir.path().join("audit.db"), n, Some(&signer)).await;
    let setup = started.elapsed().as_secs_f64();
    let manager = shipwarden::engine::ReleaseManager::builder(Arc::new(store)).build();
    let trusted = vec![shipwarden::ports::Signer::public_key(&signer)];
    let ids: Vec<ReleaseId> =
        manager.list(&ReleaseQuery::default()).await.expect("list").into_iter().map(|s| s.release).collect();
    assert_eq!(ids.len(), n);
    let started = Instant::now();
    let mut checkpoints = 0;
    for id in &ids {
        let (_, report) =
            shipwarden_adapters::anchor::verify_release(&manager, id, &trusted, None).await.expect("verifies");
        assert!(report.unanchored_stage_changes.is_empty() && report.stage_changes_covered_later.is_empty());
        checkpoints += report.checkpoints;
    }
    let total = started.elapsed().as_secs_f64();
    println!(
        "audit --verify over {n} closed releases ({per_release} events, {} checkpoints each, SQLite): {:.1} s in all, \
         {:.2} ms per release (setup {setup:.0} s)",
        checkpoints / n.max(1),
        total,
        total * 1e3 / n as f64
    );
}

/// Issue #19: what a signed approval adds to `approve`: signing the statement
/// with a key file (in-process) or through ssh-agent's protocol (a real
/// `ssh-agent` started here), verifying it (signature, key listed, fields);
/// beside them, the peer way: one `ssh-keygen -Y sign` process.
fn identity(size: &Size) {
    use shipwarden_adapters::identity::{AllowedSigners, sign_with_agent_at, sign_with_key_file, verify_statement};
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "paul@bench", "-f"])
        .arg(&key)
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "ssh-keygen is needed for this benchmark");
    let public = std::fs::read_to_string(dir.path().join("id_ed25519.pub")).expect("pub");
    let mut signers = AllowedSigners::new();
    signers.add("paul", &public, "bench").expect("key");
    let statement = Statement {
        action: shipwarden::IdentityAction::Approve,
        project: "shop".into(),
        release: "shop-1.2.0".into(),
        approval: "scope".into(),
        role: "product_owner".into(),
        user: "paul".into(),
        head: "0".repeat(64),
        at: "2026-12-02T10:00:00Z".into(),
        channel: "cli".into(),
        comment: "scope as discussed".into(),
    };
    let text = statement.text();
    let runs = size.rounds * 40;
    let (mut sign, mut verify, mut process) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let armored = sign_with_key_file(&key, &text).expect("sign");
        sign.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        verify_statement(&text, &armored, &signers, &statement).expect("verify");
        verify.push(started.elapsed().as_secs_f64());
    }
    std::fs::write(dir.path().join("statement"), &text).expect("write");
    for _ in 0..size.rounds * 4 {
        let _ = std::fs::remove_file(dir.path().join("statement.sig"));
        let started = Instant::now();
        let signed = std::process::Command::new("ssh-keygen")
            .args(["-q", "-Y", "sign", "-n", "shipwarden", "-f"])
            .arg(&key)
            .arg(dir.path().join("statement"))
            .status()
            .is_ok_and(|s| s.success());
        process.push(started.elapsed().as_secs_f64());
        assert!(signed, "ssh-keygen -Y sign");
    }
    let socket = dir.path().join("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent is needed for this benchmark");
    for _ in 0..100 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg("-q")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &socket)
        .status()
        .is_ok_and(|s| s.success());
    assert!(added, "ssh-add");
    let public_key = signers.keys_of("paul").next().expect("paul's key").clone();
    let mut via_agent = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let armored = sign_with_agent_at(&socket, &public_key, &text).expect("sign through the agent");
        via_agent.push(started.elapsed().as_secs_f64());
        verify_statement(&text, &armored, &signers, &statement).expect("the agent's signature verifies");
    }
    let _ = agent.kill();
    let _ = agent.wait();
    let (sign, verify, process, via_agent) = (median(sign), median(verify), median(process), median(via_agent));
    println!(
        "signed approval (ed25519): sign with a key file {:.0} µs, through ssh-agent {:.0} µs, verify {:.0} µs: {:.2} ms (key file) / {:.2} ms (agent) added to approve (goal < 5 ms); `ssh-keygen -Y sign` (the peer way) {:.1} ms: {:.0}x the agent protocol",
        sign * 1e6,
        via_agent * 1e6,
        verify * 1e6,
        (sign + verify) * 1e3,
        (via_agent + verify) * 1e3,
        process * 1e3,
        process / via_agent
    );
}

async fn engine_report(size: &Size) {
    lifecycle(size).await;
    sqlite(size).await;
    fanout(size).await;
    memory(size).await;
    calls(size).await;
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    args.retain(|a| a != "--smoke");
    let size = if smoke { &SMOKE } else { &MEASURED };
    if smoke {
        println!("smoke size: every benchmark runs, tiny; these figures mean nothing");
    }
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["lifecycle"] => lifecycle(size).await,
        ["sqlite"] => sqlite(size).await,
        ["fanout"] => fanout(size).await,
        ["memory"] => memory(size).await,
        ["calls"] => calls(size).await,
        ["memory-setup", path, n] => memory_setup(path, n.parse().expect("count")).await,
        ["memory-measure", path] => memory_measure(path).await,
        ["import"] => import(size),
        ["import-measure", kind, path] => import_measure(kind, path),
        ["keys"] => keys(size),
        ["anchor"] => anchor(size).await,
        ["identity"] => identity(size),
        ["list"] => listing(size).await,
        ["audit-all"] => audit_all(size).await,
        [] => engine_report(size).await,
        ["all"] => {
            engine_report(size).await;
            import(size);
            keys(size);
            anchor(size).await;
            identity(size);
            listing(size).await;
            audit_all(size).await;
        }
        _ => {
            eprintln!(
                "usage: bench-report [lifecycle|sqlite|fanout|memory|calls|import|keys|anchor|identity|list|audit-all|all] [--smoke]"
            );
            std::process::exit(2);
        }
    }
}

/// Writes a JMeter CSV of about `mb` MB: 20 labels, latencies 5..2,000 ms, 1 % errors.
fn write_jtl(path: &std::path::Path, mb: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    writeln!(out, "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect").expect("write");
    let (mut written, target, mut i) = (0u64, mb * 1_000_000, 0u64);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    while written < target {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let elapsed = 5 + (x % 1000) * (x >> 60) / 8;
        let ok = !x.is_multiple_of(100);
        let line = format!(
            "{},{elapsed},GET /api/items/{},{},{},Users 1-{},text,{ok},,5120,120,50,50,https://shop.example/api/items,{},0,12\n",
            1_732_600_000_000u64 + i * 3,
            x % 20,
            if ok { 200 } else { 500 },
            if ok { "OK" } else { "Internal Server Error" },
            i % 50,
            elapsed.saturating_sub(3)
        );
        out.write_all(line.as_bytes()).expect("write");
        written += line.len() as u64;
        i += 1;
    }
    out.flush().expect("flush");
}

/// Writes an LCOV tracefile of about `mb` MB: records of 200 `DA` lines.
fn write_lcov(path: &std::path::Path, mb: u64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    let (mut written, target, mut file) = (0u64, mb * 1_000_000, 0u64);
    while written < target {
        let mut record = format!("TN:\nSF:/src/shop/src/module_{file}.rs\n");
        for line in 1..=200u64 {
            record.push_str(&format!("DA:{line},{}\n", (line * 7 + file) % 5));
        }
        record.push_str("end_of_record\n");
        out.write_all(record.as_bytes()).expect("write");
        written += record.len() as u64;
        file += 1;
    }
    out.flush().expect("flush");
}

/// Importer throughput and peak memory (issue #9): JTL 100 MB and 1 GB, LCOV 100 MB, each read by a fresh
/// process so its peak RSS is the reader's own.
fn import(size: &Size) {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = size.import_files;
    println!("## importers (bench-report import)");
    println!("| file | size | read | throughput | peak RSS |");
    println!("|---|---|---|---|---|");
    for &(kind, mb) in files {
        let path = dir.path().join(format!("{kind}-{mb}"));
        if kind == "jtl" {
            write_jtl(&path, mb)
        } else {
            write_lcov(&path, mb)
        }
        let bytes = std::fs::metadata(&path).expect("size").len();
        // Warm the page cache once, then measured runs (three) in fresh processes: the median.
        let me = std::env::current_exe().expect("exe");
        let run = || {
            let out = std::process::Command::new(&me)
                .args(["import-measure", kind, &path.display().to_string()])
                .output()
                .expect("run");
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            let mut parts = text.split_whitespace();
            let secs: f64 = parts.next().and_then(|s| s.parse().ok()).expect("seconds");
            let rss: u64 = parts.next().and_then(|s| s.parse().ok()).expect("rss");
            (secs, rss)
        };
        let _ = run();
        let mut runs: Vec<(f64, u64)> = (0..size.import_runs).map(|_| run()).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (secs, rss) = runs[runs.len() / 2];
        println!(
            "| {kind} | {:.0} MB | {secs:.2} s | **{:.0} MB/s** | {:.1} MB |",
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / secs,
            rss as f64 / 1e6
        );
        std::fs::remove_file(&path).expect("remove");
    }
}

/// One measured read: prints seconds and peak RSS in bytes.
fn import_measure(kind: &str, path: &str) {
    let path = std::path::Path::new(path);
    let start = std::time::Instant::now();
    match kind {
        "jtl" => {
            let r = shipwarden_adapters::evidence::perf::read(path).expect("read");
            assert!(r.overall.samples > 0);
        }
        _ => {
            let c = shipwarden_adapters::evidence::coverage::read(path).expect("read");
            assert!(c.lines > 0);
        }
    }
    println!("{} {}", start.elapsed().as_secs_f64(), shipwarden_benches::peak_rss());
}
