//! In-memory ports, for tests and for embedding shipwarden without outside
//! systems. Each keeps what it was asked in memory so a test can assert on
//! it, and can be told to fail or to be slow.
//!
//! Two of them touch files because their contract is about files: the
//! builder writes the files it "builds" into a folder it is given, and the
//! artifact store reads the files it is asked to store.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;

use super::*;
use crate::audit::{Envelope, verify};
use crate::model::{ArtifactRef, EnvName, GateId, Plan, ReleaseId, Sha256, TicketKey, Version};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Failures to inject: the next `count` calls fail, retryably or not.
#[derive(Debug, Default)]
struct Failures {
    count: AtomicU32,
    retryable: std::sync::atomic::AtomicBool,
}

impl Failures {
    fn set(&self, count: u32, retryable: bool) {
        self.retryable.store(retryable, Ordering::SeqCst);
        self.count.store(count, Ordering::SeqCst);
    }

    fn check(&self, port: &str, operation: &str) -> Result<(), PortError> {
        let taken = self.count.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if taken {
            let retryable = self.retryable.load(Ordering::SeqCst);
            let kind = if retryable { ErrorKind::Unavailable } else { ErrorKind::Rejected };
            return Err(PortError::new(port, operation, kind, "injected failure"));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- event store

#[derive(Default)]
struct StoreInner {
    streams: HashMap<ReleaseId, Vec<Envelope>>,
    summaries: HashMap<ReleaseId, ReleaseSummary>,
    checkpoints: HashMap<ReleaseId, std::collections::BTreeMap<u64, crate::audit::Checkpoint>>,
    leases: HashMap<String, (String, Timestamp)>,
}

/// An event store in memory: the reference for the store behaviour tests.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<StoreInner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EventStore for MemoryStore {
    async fn append(
        &self,
        stream: &ReleaseId,
        expected_version: u64,
        envelopes: &[Envelope],
        summary: &ReleaseSummary,
    ) -> Result<u64, StoreError> {
        let mut inner = lock(&self.inner);
        let events = inner.streams.entry(stream.clone()).or_default();
        let actual = events.len() as u64;
        if actual != expected_version {
            return Err(StoreError::Conflict { stream: stream.clone(), expected: expected_version, actual });
        }
        events.extend_from_slice(envelopes);
        let version = events.len() as u64;
        inner.summaries.insert(stream.clone(), summary.clone());
        Ok(version)
    }

    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, StoreError> {
        let events = lock(&self.inner).streams.get(stream).cloned().unwrap_or_default();
        verify(&events).map_err(|error| StoreError::Corrupt { stream: stream.clone(), error })?;
        Ok(events)
    }

    async fn load_after(&self, stream: &ReleaseId, after: u64) -> Result<Vec<Envelope>, StoreError> {
        let inner = lock(&self.inner);
        let events = inner.streams.get(stream).map(Vec::as_slice).unwrap_or_default();
        Ok(events.iter().skip(usize::try_from(after).unwrap_or(usize::MAX)).cloned().collect())
    }

    async fn list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, StoreError> {
        let mut found: Vec<ReleaseSummary> =
            lock(&self.inner).summaries.values().filter(|s| query.matches(s)).cloned().collect();
        found.sort_by(|a, b| b.planned_at.cmp(&a.planned_at).then_with(|| a.release.cmp(&b.release)));
        if let Some(limit) = query.limit {
            found.truncate(limit as usize);
        }
        Ok(found)
    }

    async fn first_events(&self) -> Result<Vec<Envelope>, StoreError> {
        Ok(lock(&self.inner).streams.values().filter_map(|events| events.first().cloned()).collect())
    }

    async fn heads(&self) -> Result<Vec<crate::ports::StreamHead>, StoreError> {
        let inner = lock(&self.inner);
        Ok(inner
            .streams
            .iter()
            .filter_map(|(stream, events)| {
                let last = events.last()?;
                Some(crate::ports::StreamHead {
                    stream: stream.clone(),
                    sequence: last.sequence,
                    hash: last.hash.clone(),
                })
            })
            .collect())
    }

    async fn put_checkpoint(&self, checkpoint: &crate::audit::Checkpoint) -> Result<(), StoreError> {
        let stream = checkpoint.stream.parse::<ReleaseId>().map_err(|e| {
            StoreError::Backend(PortError::new(
                "event-store memory",
                "put checkpoint",
                ErrorKind::Invalid,
                e.to_string(),
            ))
        })?;
        lock(&self.inner).checkpoints.entry(stream).or_default().insert(checkpoint.sequence, checkpoint.clone());
        Ok(())
    }

    async fn checkpoints(&self, stream: &ReleaseId) -> Result<Vec<crate::audit::Checkpoint>, StoreError> {
        Ok(lock(&self.inner).checkpoints.get(stream).map(|c| c.values().cloned().collect()).unwrap_or_default())
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration, now: Timestamp) -> Result<bool, StoreError> {
        let mut inner = lock(&self.inner);
        let until = now.checked_add(ttl).unwrap_or(now);
        match inner.leases.get(name) {
            Some((other, expires)) if other != holder && *expires > now => Ok(false),
            _ => {
                inner.leases.insert(name.to_owned(), (holder.to_owned(), until));
                Ok(true)
            }
        }
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut inner = lock(&self.inner);
        if inner.leases.get(name).is_some_and(|(h, _)| h == holder) {
            inner.leases.remove(name);
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- deploy target

/// One call a [`MemoryTarget`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetCall {
    /// `deploy` or `rollback`.
    pub operation: &'static str,
    /// The idempotency key.
    pub key: String,
    /// The environment.
    pub environment: EnvName,
    /// The version deployed (none for a rollback).
    pub version: Option<Version>,
}

/// A deploy target that records its calls.
pub struct MemoryTarget {
    name: String,
    delay: Duration,
    failures: Failures,
    calls: Mutex<Vec<TargetCall>>,
    done: Mutex<HashMap<String, String>>,
}

impl MemoryTarget {
    /// A target named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            delay: Duration::ZERO,
            failures: Failures::default(),
            calls: Mutex::default(),
            done: Mutex::default(),
        }
    }

    /// Each deploy or rollback takes `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// The next `count` deploys fail.
    pub fn fail_next(&self, count: u32, retryable: bool) {
        self.failures.set(count, retryable);
    }

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<TargetCall> {
        lock(&self.calls).clone()
    }
}

#[async_trait]
impl DeployTarget for MemoryTarget {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.failures.check(&format!("deploy-target {}", self.name), "deploy")?;
        log.line(LogStream::Stdout, format!("{}: installing {} {}", self.name, request.release, request.version));
        lock(&self.calls).push(TargetCall {
            operation: "deploy",
            key: request.key.clone(),
            environment: request.environment.clone(),
            version: Some(request.version.clone()),
        });
        let detail = format!("{} runs {}", self.name, request.version);
        lock(&self.done).insert(request.key.clone(), detail.clone());
        Ok(detail)
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        Ok(lock(&self.done).get(key).cloned().map_or(Lookup::NotFound, Lookup::Done))
    }

    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        log.line(LogStream::Stdout, format!("{}: rolling back {}", self.name, request.release));
        lock(&self.calls).push(TargetCall {
            operation: "rollback",
            key: request.key.clone(),
            environment: request.environment.clone(),
            version: None,
        });
        let detail = format!("{} back on the previous release", self.name);
        lock(&self.done).insert(request.key.clone(), detail.clone());
        Ok(detail)
    }
}

// ---------------------------------------------------------------- artifacts

type Stored = BTreeMap<(String, Version), (ArtifactRef, Vec<u8>)>;

/// An artifact store in memory.
#[derive(Default)]
pub struct MemoryArtifacts {
    items: Mutex<Stored>,
}

impl MemoryArtifacts {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ArtifactStore for MemoryArtifacts {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError> {
        let content = tokio::fs::read(path).await.map_err(|e| {
            PortError::new("artifact-store memory", "put", ErrorKind::NotFound, format!("{}: {e}", path.display()))
        })?;
        let artifact = ArtifactRef::new(name, version.clone(), Sha256::of(&content), content.len() as u64);
        let mut items = lock(&self.items);
        match items.get(&(name.to_owned(), version.clone())) {
            Some((existing, _)) if existing.sha256 != artifact.sha256 => Err(PortError::new(
                "artifact-store memory",
                "put",
                ErrorKind::Rejected,
                format!("{name} {version} exists with other content"),
            )),
            _ => {
                items.insert((name.to_owned(), version.clone()), (artifact.clone(), content));
                Ok(artifact)
            }
        }
    }

    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError> {
        match lock(&self.items).get(&(artifact.name.clone(), artifact.version.clone())) {
            Some((stored, content)) if stored.sha256 == artifact.sha256 => Ok(content.clone()),
            Some(_) => Err(PortError::new("artifact-store memory", "get", ErrorKind::Invalid, "digest mismatch")),
            None => Err(PortError::new(
                "artifact-store memory",
                "get",
                ErrorKind::NotFound,
                format!("{} {}", artifact.name, artifact.version),
            )),
        }
    }

    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError> {
        Ok(lock(&self.items)
            .get(&(artifact.name.clone(), artifact.version.clone()))
            .is_some_and(|(s, _)| s.sha256 == artifact.sha256))
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        Ok(lock(&self.items).keys().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect())
    }
}

// ---------------------------------------------------------------- builder

/// A builder that writes fixed files into a folder.
pub struct MemoryBuilder {
    dir: PathBuf,
    files: Vec<(String, Vec<u8>)>,
    builds: AtomicU32,
}

impl MemoryBuilder {
    /// A builder that "builds" `files` (name, content) into `dir`.
    pub fn new(dir: impl Into<PathBuf>, files: Vec<(String, Vec<u8>)>) -> Self {
        Self { dir: dir.into(), files, builds: AtomicU32::new(0) }
    }

    /// How many builds ran.
    pub fn builds(&self) -> u32 {
        self.builds.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Builder for MemoryBuilder {
    async fn build(&self, request: &BuildRequest, log: &LogSink) -> Result<Vec<BuiltArtifact>, PortError> {
        self.builds.fetch_add(1, Ordering::SeqCst);
        let dir = self.dir.join(request.release.as_str());
        let io = |e: std::io::Error| PortError::new("builder memory", "build", ErrorKind::Other, e.to_string());
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let mut out = Vec::new();
        for (name, content) in &self.files {
            let path = dir.join(name);
            tokio::fs::write(&path, content).await.map_err(io)?;
            log.line(LogStream::Stdout, format!("built {name} ({} bytes)", content.len()));
            out.push(BuiltArtifact { name: name.clone(), path });
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------- probes

/// A probe that reports values it is given.
pub struct StaticProbe {
    name: String,
    values: Mutex<Vec<Measurement>>,
    failures: Failures,
    checks: AtomicU32,
}

impl StaticProbe {
    /// A probe reporting `values` as `(gate, value)` pairs.
    pub fn new(name: impl Into<String>, values: &[(GateId, f64)]) -> Self {
        let name = name.into();
        let values = values
            .iter()
            .map(|(gate, value)| Measurement { gate: gate.clone(), value: *value, target: None, source: name.clone() })
            .collect();
        Self { name, values: Mutex::new(values), failures: Failures::default(), checks: AtomicU32::new(0) }
    }

    /// Replaces the reported values.
    pub fn set(&self, values: Vec<Measurement>) {
        *lock(&self.values) = values;
    }

    /// The next `count` checks fail.
    pub fn fail_next(&self, count: u32, retryable: bool) {
        self.failures.set(count, retryable);
    }

    /// How many checks ran.
    pub fn checks(&self) -> u32 {
        self.checks.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Probe for StaticProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        self.checks.fetch_add(1, Ordering::SeqCst);
        self.failures.check(&format!("probe {}", self.name), "check")?;
        Ok(lock(&self.values).clone())
    }
}

// ---------------------------------------------------------------- backup

/// Backups in memory.
#[derive(Default)]
pub struct MemoryBackup {
    backups: Mutex<HashMap<String, BackupRef>>,
    restores: Mutex<Vec<String>>,
    verifies: AtomicU32,
}

impl MemoryBackup {
    /// No backups yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ids of the backups restored, in order.
    pub fn restores(&self) -> Vec<String> {
        lock(&self.restores).clone()
    }

    /// How many backups were taken.
    pub fn backups(&self) -> usize {
        lock(&self.backups).len()
    }
}

#[async_trait]
impl Backup for MemoryBackup {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError> {
        let backup = BackupRef {
            id: format!("backup-{key}"),
            environment: environment.clone(),
            sha256: Some(Sha256::of(key.as_bytes())),
            size: 0,
            at: Timestamp::UNIX_EPOCH,
        };
        lock(&self.backups).insert(key.to_owned(), backup.clone());
        Ok(backup)
    }

    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError> {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        Ok(format!("{} restores cleanly", backup.id))
    }

    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError> {
        lock(&self.restores).push(backup.id.clone());
        Ok(format!("restored {}", backup.id))
    }

    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        Ok(lock(&self.backups).get(key).cloned().map_or(Lookup::NotFound, Lookup::Done))
    }
}

// ---------------------------------------------------------------- notifier, notes

/// A notifier that keeps what it sends.
#[derive(Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<Notice>>,
    failures: Failures,
}

impl RecordingNotifier {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every notice sent.
    pub fn sent(&self) -> Vec<Notice> {
        lock(&self.sent).clone()
    }

    /// The next `count` sends fail.
    pub fn fail_next(&self, count: u32, retryable: bool) {
        self.failures.set(count, retryable);
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    fn name(&self) -> &str {
        "memory"
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        self.failures.check("notifier memory", "send")?;
        lock(&self.sent).push(notice.clone());
        Ok(())
    }
}

/// A notes publisher that keeps what it publishes.
#[derive(Default)]
pub struct MemoryNotes {
    published: Mutex<BTreeMap<ReleaseId, String>>,
    files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryNotes {
    /// Nothing published yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The notes published for a release.
    pub fn notes(&self, release: &ReleaseId) -> Option<String> {
        lock(&self.published).get(release).cloned()
    }

    /// A file attached beside the notes.
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        lock(&self.files).get(name).cloned()
    }
}

#[async_trait]
impl NotesPublisher for MemoryNotes {
    async fn publish(&self, release: &ReleaseId, _version: &Version, markdown: &str) -> Result<String, PortError> {
        lock(&self.published).insert(release.clone(), markdown.to_owned());
        Ok(format!("memory://notes/{release}"))
    }

    async fn attach(&self, release: &ReleaseId, name: &str, bytes: &[u8]) -> Result<Option<String>, PortError> {
        lock(&self.files).insert(name.to_owned(), bytes.to_vec());
        Ok(Some(format!("memory://notes/{release}/{name}")))
    }
}

// ---------------------------------------------------------------- ticketing

/// Tickets in memory.
#[derive(Default)]
pub struct MemoryTicketing {
    tickets: Mutex<BTreeMap<TicketKey, Ticket>>,
    comments: Mutex<Vec<(TicketKey, String)>>,
    reviewers: Mutex<BTreeMap<u64, u32>>,
    next: AtomicU32,
}

impl MemoryTicketing {
    /// No tickets yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a ticket.
    pub fn insert(&self, ticket: Ticket) {
        lock(&self.tickets).insert(ticket.key.clone(), ticket);
    }

    /// Every comment, in order.
    pub fn comments(&self) -> Vec<(TicketKey, String)> {
        lock(&self.comments).clone()
    }

    /// A ticket, if it exists.
    pub fn ticket(&self, key: &TicketKey) -> Option<Ticket> {
        lock(&self.tickets).get(key).cloned()
    }

    /// Records how many people approved pull request `pull` (R-4d); others are unknown.
    pub fn set_reviewers(&self, pull: u64, approvals: u32) {
        lock(&self.reviewers).insert(pull, approvals);
    }
}

fn not_found(key: &TicketKey) -> PortError {
    PortError::new("ticketing memory", "get", ErrorKind::NotFound, format!("no ticket {key}"))
}

#[async_trait]
impl Ticketing for MemoryTicketing {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        lock(&self.tickets).get(key).cloned().ok_or_else(|| not_found(key))
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        Ok(lock(&self.tickets)
            .values()
            .filter(|t| {
                scope.contains(&t.key) && t.kind.eq_ignore_ascii_case("bug") && !t.status.eq_ignore_ascii_case("done")
            })
            .filter(|t| t.severity.as_ref().is_some_and(|s| severities.iter().any(|x| x.eq_ignore_ascii_case(s))))
            .cloned()
            .collect())
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        if !lock(&self.tickets).contains_key(key) {
            return Err(not_found(key));
        }
        lock(&self.comments).push((key.clone(), body.to_owned()));
        Ok(())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        let mut tickets = lock(&self.tickets);
        let ticket = tickets.get_mut(key).ok_or_else(|| not_found(key))?;
        ticket.status = status.to_owned();
        Ok(())
    }

    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        let number = u64::from(self.next.fetch_add(1, Ordering::SeqCst)) + 1;
        let key = TicketKey::Project { project: "REL".into(), number };
        self.insert(Ticket {
            key: key.clone(),
            summary: format!("Release {} {}", plan.project, plan.version),
            status: "Open".into(),
            kind: "Release".into(),
            severity: None,
        });
        Ok(key)
    }

    async fn reviewers(&self, pull: u64) -> Result<Lookup<u32>, PortError> {
        Ok(lock(&self.reviewers).get(&pull).map_or(Lookup::Unsupported, |n| Lookup::Done(*n)))
    }
}

// ---------------------------------------------------------------- vcs

/// A repository in memory.
#[derive(Default)]
pub struct MemoryVcs {
    commits: Vec<Commit>,
    tags: Mutex<Vec<Tag>>,
    branches: Vec<String>,
}

impl MemoryVcs {
    /// A repository with `commits` (newest first) and `branches`.
    pub fn new(commits: Vec<Commit>, branches: Vec<String>) -> Self {
        Self { commits, tags: Mutex::default(), branches }
    }

    /// The tags created so far.
    pub fn created_tags(&self) -> Vec<Tag> {
        lock(&self.tags).clone()
    }

    /// Deletes a tag, as someone with push rights could.
    pub fn delete_tag(&self, name: &str) {
        lock(&self.tags).retain(|t| t.name != name);
    }
}

#[async_trait]
impl Vcs for MemoryVcs {
    async fn head(&self) -> Result<String, PortError> {
        Ok(self.commits.first().map_or_else(|| "0".repeat(40), |c| c.sha.clone()))
    }

    async fn tags(&self) -> Result<Vec<Tag>, PortError> {
        Ok(lock(&self.tags).clone())
    }

    async fn commits_since(&self, tag: Option<&str>) -> Result<Vec<Commit>, PortError> {
        let target = tag.and_then(|t| lock(&self.tags).iter().find(|x| x.name == t).map(|x| x.target.clone()));
        Ok(self.commits.iter().take_while(|c| Some(&c.sha) != target.as_ref()).cloned().collect())
    }

    async fn branch_exists(&self, name: &str) -> Result<bool, PortError> {
        Ok(self.branches.iter().any(|b| b == name))
    }

    async fn create_tag(&self, name: &str, _message: &str, target: &str) -> Result<(), PortError> {
        let mut tags = lock(&self.tags);
        match tags.iter().find(|t| t.name == name) {
            Some(t) if t.target == target => Ok(()),
            Some(t) => {
                Err(PortError::permanent("vcs memory", "create_tag", format!("tag {name} exists on {}", t.target)))
            }
            None => {
                tags.push(Tag { name: name.to_owned(), target: target.to_owned() });
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------- migrations, dependencies

/// Migrations in memory: the scripts a release carries, and which of them
/// each environment's database has applied. A script can be made to fail.
#[derive(Default)]
pub struct MemoryMigrator {
    scripts: Mutex<Vec<MigrationScript>>,
    applied: Mutex<BTreeMap<EnvName, Vec<MigrationScript>>>,
    failing_up: Mutex<Vec<String>>,
    failing_down: Mutex<Vec<String>>,
}

impl MemoryMigrator {
    /// A migrator carrying `(id, up script, down script)` migrations.
    pub fn new(scripts: &[(&str, &str, Option<&str>)]) -> Self {
        let migrator = Self::default();
        migrator.replace(scripts);
        migrator
    }

    /// Replaces the scripts the release carries, as an edit after the build would.
    pub fn replace(&self, scripts: &[(&str, &str, Option<&str>)]) {
        *lock(&self.scripts) = scripts
            .iter()
            .map(|(id, up, down)| MigrationScript {
                id: (*id).to_owned(),
                up: Sha256::of(up.as_bytes()),
                down: down.map(|d| Sha256::of(d.as_bytes())),
            })
            .collect();
    }

    /// The forward script of migration `id` fails from now on.
    pub fn fail_up(&self, id: &str) {
        lock(&self.failing_up).push(id.to_owned());
    }

    /// The rollback script of migration `id` fails from now on.
    pub fn fail_down(&self, id: &str) {
        lock(&self.failing_down).push(id.to_owned());
    }

    /// The ids applied in an environment, in order.
    pub fn applied(&self, environment: &EnvName) -> Vec<String> {
        lock(&self.applied).get(environment).map(|a| a.iter().map(|s| s.id.clone()).collect()).unwrap_or_default()
    }
}

#[async_trait]
impl Migrator for MemoryMigrator {
    fn name(&self) -> &str {
        "memory"
    }

    async fn scripts(&self) -> Result<MigrationSet, PortError> {
        Ok(MigrationSet { scripts: lock(&self.scripts).clone() })
    }

    async fn apply(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        _key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        let current = MigrationSet { scripts: lock(&self.scripts).clone() };
        if current != *set {
            let changed = current.differences(set).join("; ");
            return Err(PortError::permanent("migrator memory", "apply", format!("the scripts changed: {changed}")));
        }
        let mut applied = lock(&self.applied);
        let done = applied.entry(environment.clone()).or_default();
        let mut count = 0;
        for s in &set.scripts {
            if let Some(was) = done.iter().find(|d| d.id == s.id) {
                if was.up != s.up {
                    return Err(PortError::permanent(
                        "migrator memory",
                        "apply",
                        format!("{} was applied with sha256:{}, the release has sha256:{}", s.id, was.up, s.up),
                    ));
                }
                continue;
            }
            if lock(&self.failing_up).contains(&s.id) {
                return Err(PortError::permanent("migrator memory", "apply", format!("{} failed", s.id)));
            }
            log.line(LogStream::Info, format!("applied {}", s.id));
            done.push(s.clone());
            count += 1;
        }
        Ok(format!("applied {count} of {} migrations on {environment}", set.scripts.len()))
    }

    async fn revert(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        _key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        let mut applied = lock(&self.applied);
        let done = applied.entry(environment.clone()).or_default();
        let mut count = 0;
        for s in set.scripts.iter().rev() {
            if !done.iter().any(|d| d.id == s.id) {
                continue;
            }
            if s.down.is_none() {
                return Err(PortError::permanent(
                    "migrator memory",
                    "revert",
                    format!("{} has no rollback script", s.id),
                ));
            }
            if lock(&self.failing_down).contains(&s.id) {
                return Err(PortError::permanent("migrator memory", "revert", format!("rollback of {} failed", s.id)));
            }
            done.retain(|d| d.id != s.id);
            log.line(LogStream::Info, format!("reverted {}", s.id));
            count += 1;
        }
        Ok(format!("reverted {count} migrations on {environment}"))
    }
}

/// Dependency versions in memory, per environment.
#[derive(Default)]
pub struct MemoryDependencies {
    versions: Mutex<BTreeMap<EnvName, BTreeMap<String, String>>>,
}

impl MemoryDependencies {
    /// No environment reports anything yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what `environment` runs.
    pub fn set(&self, environment: &EnvName, versions: &[(&str, &str)]) {
        let map = versions.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
        lock(&self.versions).insert(environment.clone(), map);
    }
}

#[async_trait]
impl DependencyProbe for MemoryDependencies {
    fn name(&self) -> &str {
        "memory"
    }

    async fn versions(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError> {
        Ok(lock(&self.versions).get(environment).cloned().unwrap_or_default())
    }
}
