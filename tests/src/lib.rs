//! Helpers for the end-to-end tests: a deploy target that keeps an
//! append-only journal of what it did, a store wrapper that aborts the
//! process at a chosen point, and a driver that plays the people of the
//! procedure so a release can run from plan to close unattended.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::audit::Envelope;
use shipwarden::engine::{EngineConfig, EngineError, ReleaseManager, RunOutcome};
use shipwarden::machine::{Requirement, StepOutcome};
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;

static POINTS: AtomicU64 = AtomicU64::new(0);
static ABORT_AT: AtomicU64 = AtomicU64::new(0);

/// Makes the process abort at the `k`-th point (0: never). A point is a
/// committed append or a deploy target's effect.
pub fn abort_at(k: u64) {
    ABORT_AT.store(k, Ordering::SeqCst);
}

/// How many points were passed.
pub fn points() -> u64 {
    POINTS.load(Ordering::SeqCst)
}

fn point() {
    let n = POINTS.fetch_add(1, Ordering::SeqCst) + 1;
    if n == ABORT_AT.load(Ordering::SeqCst) {
        std::process::abort();
    }
}

/// A deploy target whose every effect is a line in an append-only file, so
/// a test can count deployments across processes; it answers `status` from that file.
pub struct JournalTarget {
    name: String,
    journal: PathBuf,
}

impl JournalTarget {
    /// A target named `name` writing to `journal`.
    pub fn new(name: &str, journal: &Path) -> Self {
        Self { name: name.to_owned(), journal: journal.to_path_buf() }
    }

    fn write(&self, line: &str) -> Result<(), PortError> {
        let io =
            |e: std::io::Error| PortError::temporary(format!("deploy-target {}", self.name), "journal", e.to_string());
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.journal).map_err(io)?;
        file.write_all(format!("{line}\n").as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)
    }
}

/// The journal's lines, parsed as (operation, target, key).
pub fn journal(path: &Path) -> Vec<(String, String, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut parts = l.split(' ');
            Some((parts.next()?.to_owned(), parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

#[async_trait]
impl DeployTarget for JournalTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        self.write(&format!("deploy {} {}", self.name, request.key))?;
        log.line(LogStream::Stdout, format!("{} now runs {}", self.name, request.version));
        point();
        Ok(format!("{} runs {}", self.name, request.version))
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let done = journal(&self.journal).into_iter().any(|(_, target, k)| target == self.name && k == key);
        Ok(if done { Lookup::Done(format!("{} reports {key} done", self.name)) } else { Lookup::NotFound })
    }

    async fn rollback(&self, request: &RollbackRequest, _log: &LogSink) -> Result<String, PortError> {
        self.write(&format!("rollback {} {}", self.name, request.key))?;
        point();
        Ok(format!("{} back on the previous release", self.name))
    }
}

/// An event store that passes a point after every committed append.
pub struct PointStore(pub Arc<dyn EventStore>);

#[async_trait]
impl EventStore for PointStore {
    async fn append(
        &self,
        stream: &ReleaseId,
        expected: u64,
        envelopes: &[Envelope],
        summary: &ReleaseSummary,
    ) -> Result<u64, StoreError> {
        let version = self.0.append(stream, expected, envelopes, summary).await?;
        point();
        Ok(version)
    }
    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, StoreError> {
        self.0.load(stream).await
    }
    async fn list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, StoreError> {
        self.0.list(query).await
    }
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.0.try_lease(name, holder, ttl, now).await
    }
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.0.release_lease(name, holder).await
    }
}

/// Opens a store from `sqlite:PATH` or `postgres://…`.
pub async fn open_store(url: &str) -> Result<Arc<dyn EventStore>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let config = shipwarden_adapters::store::sqlite::SqliteConfig::default()
            .durability(shipwarden_adapters::store::sqlite::Durability::Normal);
        Ok(Arc::new(shipwarden_adapters::store::sqlite::SqliteStore::open_with(path, config).await?))
    } else {
        Ok(Arc::new(shipwarden_adapters::store::postgres::PostgresStore::connect(url).await?))
    }
}

/// The release every driver works on.
pub fn release_id(project: &str) -> ReleaseId {
    format!("{project}-2.0.0").parse().unwrap_or_else(|_| unreachable_id())
}

fn unreachable_id() -> ReleaseId {
    ReleaseId::for_version("release", &Version::new(2, 0, 0)).unwrap_or_else(|e| panic!("{e}"))
}

/// A manager over `store` with journal targets (one per non-prod
/// environment, two in prod) and in-memory ports for the rest. The clock
/// stands on a Saturday morning, outside the blackout.
pub fn manager(store: Arc<dyn EventStore>, journal: &Path, workdir: &Path, lease_ttl: Duration) -> ReleaseManager {
    let probe = |name: &str, values: &[(GateId, f64)]| -> Arc<dyn Probe> { Arc::new(StaticProbe::new(name, values)) };
    let env = |name: &str| -> EnvName { name.parse().unwrap_or_else(|e| panic!("{e}")) };
    let mut ports = shipwarden::engine::Ports {
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(workdir, vec![("app.tar.gz".into(), b"the app".to_vec())]))),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(Arc::new(MemoryNotes::new())),
        notifiers: vec![Arc::new(RecordingNotifier::new())],
        ..Default::default()
    };
    for (e, names) in [("staging", vec!["staging-1"]), ("test", vec!["test-1"]), ("prod", vec!["prod-1", "prod-2"])] {
        let targets = names.iter().map(|n| Arc::new(JournalTarget::new(n, journal)) as Arc<dyn DeployTarget>).collect();
        ports.targets.insert(env(e), targets);
    }
    let host = [
        (GateId::Cpu, 20.0),
        (GateId::Memory, 30.0),
        (GateId::DiskFree, 60.0),
        (GateId::TlsDaysLeft, 80.0),
        (GateId::DbConnectivity, 1.0),
        (GateId::Network, 1.0),
    ];
    ports.checks.insert(env("prod"), vec![probe("host", &host)]);
    ports.smoke.insert(env("prod"), vec![probe("smoke", &[(GateId::ResponseTime, 90.0)])]);
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH)));
    let config = EngineConfig { lease_ttl, ..EngineConfig::default() };
    ReleaseManager::builder(store).clock(clock).ports(ports).config(config).build()
}

fn person(role: &Role) -> Actor {
    Actor::new(format!("{role}-person"), [role.clone()])
}

fn passing_value(policy: &Policy, gate: &GateId) -> f64 {
    match policy.gates.get(gate).map(|g| g.threshold) {
        Some(Threshold::AtLeast(l) | Threshold::Equals(l)) => l,
        Some(Threshold::AtMost(l)) => l,
        Some(Threshold::Below(l)) => (l - 1.0).max(0.0),
        Some(Threshold::Above(l)) => l + 1.0,
        None => 0.0,
    }
}

/// Plays the people of the procedure: plans the release if needed, then
/// runs it and supplies whatever it waits for (approvals, evidence, steps
/// people perform), until it is final. Refusals met while supplying are
/// another driver having done it first, and are ignored.
pub async fn drive(manager: &ReleaseManager, project: &str) -> Result<Stage, EngineError> {
    drive_version(manager, project, &Version::new(2, 0, 0)).await
}

/// [`drive`] for the release of `project` at `version`.
pub async fn drive_version(manager: &ReleaseManager, project: &str, version: &Version) -> Result<Stage, EngineError> {
    match drive_plan(manager, project, version, |_| {}, |_| false).await? {
        Driven::Stage(stage) => Ok(stage),
        Driven::Stopped(w) => Err(EngineError::Refused(w.refusal)),
    }
}

/// Where [`drive_plan`] stopped.
#[derive(Debug)]
pub enum Driven {
    /// A final stage, or rolled back.
    Stage(Stage),
    /// Waiting on a requirement the caller asked not to supply.
    Stopped(shipwarden::engine::Waiting),
}

/// [`drive_version`] with the plan edited by `edit`, stopping (instead of
/// supplying it as people would) at the first unmet requirement `stop` picks.
pub async fn drive_plan(
    manager: &ReleaseManager,
    project: &str,
    version: &Version,
    edit: impl FnOnce(&mut Plan),
    stop: impl Fn(&shipwarden::machine::Unmet) -> bool,
) -> Result<Driven, EngineError> {
    let id = ReleaseId::for_version(project, version)
        .map_err(|e| PortError::permanent("e2e driver", "plan", e.to_string()))?;
    let mut plan = Plan::new(id.clone(), project, version.clone(), ReleaseKind::Minor);
    plan.scope = vec!["APP-1".parse().unwrap_or(TicketKey::Issue(1))];
    edit(&mut plan);
    match manager.plan(&person(&Role::ReleaseManager), plan).await {
        Ok(_) | Err(EngineError::Refused(_)) => {}
        Err(e) => return Err(e),
    }
    for _ in 0..200 {
        let waiting = match manager.run(&id, None).await {
            Ok(RunOutcome::Final { stage }) => return Ok(Driven::Stage(stage)),
            Ok(RunOutcome::Reached { stage }) => return Ok(Driven::Stage(stage)),
            Ok(RunOutcome::RolledBack { .. }) => return Ok(Driven::Stage(Stage::RolledBack)),
            // A failed step is retried by the next run, as a caller would.
            Ok(RunOutcome::Waiting(w) | RunOutcome::Failed(shipwarden::engine::Failure { waiting: w, .. })) => w,
            // Another driver kept winning the race: nothing was lost; go again, as a caller should.
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(std::time::Duration::from_millis(fastrand::u64(5..50))).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        if waiting.refusal.unmet.iter().any(&stop) {
            return Ok(Driven::Stopped(waiting));
        }
        for unmet in &waiting.refusal.unmet {
            let result = match &unmet.requirement {
                Requirement::Approval { approval, roles, .. } => {
                    let role = roles.first().cloned().unwrap_or(Role::ProductOwner);
                    manager
                        .approve(
                            &id,
                            &person(&role),
                            approval.clone(),
                            role,
                            Channel::Api,
                            "approved by the e2e driver",
                        )
                        .await
                }
                Requirement::Gate { gate, environment, .. } => {
                    let mut evidence = Evidence::new(gate.clone(), passing_value(manager.policy(), gate), "e2e driver");
                    evidence.environment = environment.clone();
                    manager.record_evidence(&id, &person(&Role::QaLead), evidence).await
                }
                Requirement::Step { step, environment, .. } => {
                    manager
                        .report_step(
                            &id,
                            &person(&Role::QaLead),
                            step.clone(),
                            environment.clone(),
                            StepOutcome::ok("reported by the e2e driver"),
                        )
                        .await
                }
                _ => Ok(std::sync::Arc::new(ReleaseState::default())),
            };
            match result {
                Ok(_) | Err(EngineError::Refused(_)) => {}
                Err(e) if e.is_retryable() => {}
                Err(e) => return Err(e),
            }
        }
    }
    Err(EngineError::Busy(format!("release {id} did not finish in 200 rounds")))
}

/// The value of a variable that `scripts/test` sets when it starts a real
/// server. Without it the test is not run, with a note; with
/// `SHIPWARDEN_REQUIRE_SERVERS` set (scripts/test sets it), a missing
/// variable fails the test.
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

/// What a [`faulty_server`] does with the n-th request (counting from 0).
#[derive(Debug, Clone)]
pub enum Act {
    /// Answer with this status, JSON body and extra headers.
    Reply(u16, String, Vec<(String, String)>),
    /// Read the request, then say nothing for this long (a stalled server).
    Stall(Duration),
    /// Read the request, then close the connection without a reply.
    Cut,
}

/// A request a [`faulty_server`] received: method, path, headers (lowercased names), body.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST`.
    pub method: String,
    /// `/chat.postMessage`.
    pub path: String,
    /// Header names lowercased, values as sent.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

type Script = Arc<dyn Fn(usize, &Received) -> Act + Send + Sync>;

/// A local HTTP/1.1 server that fails on purpose: `script` says, for each
/// request in order, whether to answer, stall or cut the connection. Returns
/// its base URL and what it received.
pub async fn faulty_server(script: Script) -> (String, Arc<std::sync::Mutex<Vec<Received>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
    let base = format!("http://{}", listener.local_addr().unwrap_or_else(|e| panic!("addr: {e}")));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let count = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (script, record, count) = (script.clone(), record.clone(), count.clone());
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buffer = [0u8; 4096];
                let head_end = loop {
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buffer[..n]);
                    if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i;
                    }
                };
                let head = String::from_utf8_lossy(&data[..head_end]).to_string();
                let mut lines = head.lines();
                let mut first = lines.next().unwrap_or_default().split_whitespace();
                let (method, path) =
                    (first.next().unwrap_or_default().to_owned(), first.next().unwrap_or_default().to_owned());
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| {
                        l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    })
                    .collect();
                let length: usize =
                    headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                while data.len() < head_end + 4 + length {
                    let n = socket.read(&mut buffer).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    data.extend_from_slice(&buffer[..n]);
                }
                let body = String::from_utf8_lossy(&data[head_end + 4..]).to_string();
                let received = Received { method, path, headers, body };
                let n = count.fetch_add(1, Ordering::SeqCst) as usize;
                let act = script(n, &received);
                record.lock().unwrap_or_else(|e| e.into_inner()).push(received);
                match act {
                    Act::Reply(status, body, extra) => {
                        let mut response = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                            body.len()
                        );
                        for (k, v) in extra {
                            response.push_str(&format!("{k}: {v}\r\n"));
                        }
                        response.push_str("\r\n");
                        response.push_str(&body);
                        let _ = socket.write_all(response.as_bytes()).await;
                    }
                    Act::Stall(d) => tokio::time::sleep(d).await,
                    Act::Cut => drop(socket),
                }
            });
        }
    });
    (base, seen)
}

/// `prefix` followed by hex digits no other run uses (databases, projects, namespaces kept between runs).
pub fn unique(prefix: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("{prefix}{:x}", RandomState::new().hash_one(std::time::SystemTime::now()))
}

/// Runs SQL with `psql` on `url`; returns its trimmed output, failing the test on error.
pub fn psql(url: &str, sql: &str) -> String {
    let out = std::process::Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("psql: {e}"));
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A new empty database on the PostgreSQL server at `server`; returns its URL.
pub fn new_database(server: &str, prefix: &str) -> String {
    let name = unique(prefix);
    psql(server, &format!("CREATE DATABASE {name}"));
    let base = server.rsplit_once('/').map_or(server, |(base, _)| base);
    format!("{base}/{name}")
}

/// In-memory ports for a release whose production runs on `prod`: artifacts, a
/// builder writing into `dir`, backups, notes, a notifier, and one memory target
/// each for staging and test.
pub fn memory_ports(dir: &Path, prod: Vec<Arc<dyn DeployTarget>>) -> shipwarden::engine::Ports {
    let mut ports = shipwarden::engine::Ports {
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(dir, vec![("app.tar".into(), b"app".to_vec())]))),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(Arc::new(MemoryNotes::new())),
        notifiers: vec![Arc::new(RecordingNotifier::new())],
        ..Default::default()
    };
    for (env, name) in [("staging", "staging-1"), ("test", "test-1")] {
        if let Ok(env) = env.parse::<EnvName>() {
            ports.targets.insert(env, vec![Arc::new(MemoryTarget::new(name))]);
        }
    }
    if let Ok(env) = "prod".parse::<EnvName>() {
        ports.targets.insert(env, prod);
    }
    ports
}

/// A value that passes a gate whose threshold reads `threshold` as a refusal
/// describes it (`< 200 ms`, `= 0`, `≥ 1`, `= yes`): what the people of a
/// driver over the HTTP API report as evidence.
pub fn passing(threshold: &str) -> f64 {
    if threshold.contains("yes") {
        return 1.0;
    }
    let number: f64 = threshold
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.0);
    match threshold.split_whitespace().next().unwrap_or("") {
        ">" => number + 1.0,
        "<" => (number - 1.0).max(0.0),
        _ => number,
    }
}
