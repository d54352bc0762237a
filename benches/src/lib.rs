//! What the benchmarks measure, shared by the criterion benches and the
//! `bench-report` binary that prints the figures in `benches/RESULTS.md`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipwarden::engine::{EngineConfig, Ports, ReleaseManager, RunOutcome};
use shipwarden::machine::StepOutcome;
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;

/// A manager over an in-memory store and in-memory ports (no delays), with
/// one target per environment, for the lifecycle benchmark.
pub fn memory_manager(store: Arc<dyn EventStore>, workdir: &std::path::Path) -> ReleaseManager {
    let env = |name: &str| -> EnvName { name.parse().unwrap_or_else(|e| panic!("{e}")) };
    let mut ports = Ports {
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(workdir, vec![("app.tar.gz".into(), b"app".to_vec())]))),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(Arc::new(MemoryNotes::new())),
        notifiers: vec![Arc::new(RecordingNotifier::new())],
        ..Ports::default()
    };
    for e in ["staging", "test", "prod"] {
        ports.targets.insert(env(e), vec![Arc::new(MemoryTarget::new(format!("{e}-1")))]);
    }
    let host = [
        (GateId::Cpu, 20.0),
        (GateId::Memory, 30.0),
        (GateId::DiskFree, 60.0),
        (GateId::TlsDaysLeft, 80.0),
        (GateId::DbConnectivity, 1.0),
        (GateId::Network, 1.0),
    ];
    ports.checks.insert(env("prod"), vec![Arc::new(StaticProbe::new("host", &host))]);
    ports.smoke.insert(env("prod"), vec![Arc::new(StaticProbe::new("smoke", &[(GateId::ResponseTime, 90.0)]))]);
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH)));
    ReleaseManager::builder(store).clock(clock).ports(ports).build()
}

/// Runs one release of `project` through the whole default lifecycle, with
/// the people's parts supplied as soon as asked; returns its event count.
pub async fn full_release(manager: &ReleaseManager, project: &str) -> usize {
    let stage = shipwarden_e2e::drive(manager, project).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stage, Stage::Closed);
    let query = ReleaseQuery { project: Some(project.to_owned()), ..ReleaseQuery::default() };
    manager.list(&query).await.ok().and_then(|l| l.first().map(|s| s.events as usize)).unwrap_or_default()
}

/// The value that passes `gate` under `policy`, as the people supplying evidence would report it.
pub fn passing_value(policy: &Policy, gate: &GateId) -> f64 {
    match policy.gates.get(gate).map(|g| g.threshold) {
        Some(Threshold::AtLeast(l) | Threshold::Equals(l) | Threshold::AtMost(l)) => l,
        Some(Threshold::Below(l)) => (l - 1.0).max(0.0),
        Some(Threshold::Above(l)) => l + 1.0,
        None => 0.0,
    }
}

/// Runs release `id` until it reaches `stage`, playing the people of the
/// procedure as a user of the engine would: whatever the run waits for
/// (approvals, evidence, steps people perform) is supplied, then the run
/// goes on. Fails with what it waited for when that is none of those.
pub async fn drive_to(manager: &ReleaseManager, id: &ReleaseId, stage: &Stage) -> Result<(), String> {
    let person = |role: &Role| Actor::new(format!("{role}-person"), [role.clone()]);
    for _ in 0..100 {
        let waiting = match manager.run(id, Some(stage.clone())).await.map_err(|e| e.to_string())? {
            RunOutcome::Reached { .. } => return Ok(()),
            RunOutcome::Waiting(waiting) | RunOutcome::Failed(shipwarden::engine::Failure { waiting, .. }) => waiting,
            other => return Err(format!("{id} did not reach {stage}: {other:?}")),
        };
        for unmet in &waiting.refusal.unmet {
            let supplied = match &unmet.requirement {
                machine::Requirement::Approval { approval, roles, .. } => {
                    let role = roles.first().cloned().unwrap_or(Role::ProductOwner);
                    manager.approve(id, &person(&role), approval.clone(), role, Channel::Api, "benchmark").await
                }
                machine::Requirement::Gate { gate, environment, .. } => {
                    let mut evidence = Evidence::new(gate.clone(), passing_value(manager.policy(), gate), "benchmark");
                    evidence.environment = environment.clone();
                    manager.record_evidence(id, &person(&Role::QaLead), evidence).await
                }
                machine::Requirement::Step { step, environment, .. } => {
                    let outcome = StepOutcome::ok("reported by the benchmark");
                    manager.report_step(id, &person(&Role::QaLead), step.clone(), environment.clone(), outcome).await
                }
                other => return Err(format!("{id} waits in {} for {other}", waiting.stage)),
            };
            supplied.map_err(|e| e.to_string())?;
        }
    }
    Err(format!("{id} did not reach {stage} in 100 rounds"))
}

/// Deploys one release to production on `targets` in-memory targets that
/// each take `delay`, at `concurrency`, and returns the wall time of that
/// deployment alone. The release is first driven through the procedure to
/// `deploying` (staging and test deployed, approvals and evidence given), as
/// production is deployed only from there (R-3).
pub async fn fan_out(targets: usize, delay: Duration, concurrency: u32) -> Duration {
    let env: EnvName = "prod".parse().unwrap_or_else(|e| panic!("{e}"));
    let mut policy = Policy::default();
    for e in &mut policy.environments {
        e.rollout = shipwarden::policy::Rollout { canary: 0, concurrency };
    }
    let workdir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let prod: Vec<Arc<dyn DeployTarget>> = (0..targets)
        .map(|i| Arc::new(MemoryTarget::new(format!("host-{i:04}")).with_delay(delay)) as Arc<dyn DeployTarget>)
        .collect();
    // A Saturday morning: outside the production blackout (R-6b).
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH)));
    let manager = ReleaseManager::builder(Arc::new(MemoryStore::new()))
        .policy(policy)
        .config(EngineConfig::default())
        .clock(clock)
        .ports(shipwarden_e2e::memory_ports(workdir.path(), prod))
        .build();
    let mut plan = Plan::new(
        "fan-1.0.0".parse().unwrap_or_else(|e| panic!("{e}")),
        "fan",
        Version::new(1, 0, 0),
        ReleaseKind::Minor,
    );
    plan.scope = vec!["APP-1".parse().unwrap_or_else(|e| panic!("{e}"))];
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.unwrap_or_else(|e| panic!("{e}"));
    drive_to(&manager, &id, &Stage::Deploying).await.unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let outcome = manager.deploy(&id, &env).await.unwrap_or_else(|e| panic!("{e}"));
    let took = started.elapsed();
    assert!(outcome.succeeded(), "{outcome:?}");
    took
}

/// Peak resident memory of this process so far, in bytes (Linux).
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The floor for durable appends: a plain sqlx insert loop on SQLite with
/// the same pragmas as the engine's store (WAL, `synchronous = FULL`), one
/// transaction per insert, a row of the same shape and size.
pub mod raw {
    use std::path::Path;
    use std::str::FromStr;
    use std::time::Duration;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

    /// A database with one table shaped like the engine's `events`.
    pub struct RawSqlite {
        pool: SqlitePool,
        payload: String,
    }

    impl RawSqlite {
        /// Creates the database at `path`.
        pub async fn open(path: &Path) -> Self {
            let options = SqliteConnectOptions::from_str("sqlite://")
                .unwrap_or_else(|e| panic!("{e}"))
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            sqlx::query(
                "CREATE TABLE events (stream TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, \
                 rule TEXT NOT NULL, kind TEXT NOT NULL, event TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, \
                 PRIMARY KEY (stream, seq)) WITHOUT ROWID",
            )
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            let payload = r#"{"event":"evidence_recorded","gate":"coverage","measured":{"value":0.91,"unit":"ratio"},"threshold":{"at_least":0.9},"passed":true,"source":"lcov","produced_by":"ci","at":"2026-11-28T10:00:00Z"}"#.to_owned();
            Self { pool, payload }
        }

        /// Inserts row `seq` in its own transaction.
        pub async fn insert(&self, seq: u64) {
            let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.unwrap_or_else(|e| panic!("{e}"));
            sqlx::query("INSERT INTO events (stream, seq, at, actor, rule, kind, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind("bench-1.0.0")
                .bind(seq as i64)
                .bind("2026-11-28T10:00:00Z")
                .bind("ci")
                .bind("R-7g")
                .bind("evidence_recorded")
                .bind(&self.payload)
                .bind("0".repeat(64))
                .bind("f".repeat(64))
                .execute(&mut *tx)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            tx.commit().await.unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
