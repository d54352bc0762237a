//! The automatic work of the procedure, done by the server (issue #21): each
//! replica drives releases to their next human decision
//! ([`ReleaseManager::run`](shipwarden::engine::ReleaseManager::run)) and
//! performs due duties ([`run_due`](shipwarden::engine::ReleaseManager::run_due)).
//!
//! N replicas on one PostgreSQL share the work through the store's leases:
//! the engine holds `release:<id>` while it drives a release, so two replicas
//! never run a step twice; a replica skips a release whose lease another
//! holds, and one that died lets its lease expire (`[engine] lease_ttl`),
//! after which another resumes the release by its recorded steps (a step
//! started and not finished is re-asked by its idempotency key, R-9d).
//!
//! On shutdown (SIGTERM) a replica starts nothing new and lets running
//! drives finish within a grace period; what is still running then is
//! dropped like a crash and handed over through the lease.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use shipwarden::ReleaseId;
use shipwarden::engine::RunOutcome;
use shipwarden::ports::ReleaseQuery;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::state::{AppState, Project};

/// How the background work runs.
#[derive(Debug, Clone)]
pub struct Background {
    /// Time between passes over the releases.
    pub every: Duration,
    /// How often a release that waits for people or time is asked again
    /// although nothing was appended to it (a window opening, a deadline).
    pub recheck: Duration,
    /// Releases driven at once by this replica.
    pub concurrency: usize,
    /// How long running drives may take to finish on shutdown.
    pub grace: Duration,
}

impl Default for Background {
    fn default() -> Self {
        Background {
            every: Duration::from_secs(1),
            recheck: Duration::from_secs(30),
            concurrency: 4,
            grace: Duration::from_secs(30),
        }
    }
}

/// What this replica last saw of a release it asked.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The release's last event when it was asked.
    updated_at: Timestamp,
    /// When it was asked.
    asked: Instant,
    /// It stopped on a failure: asked again only when people act on it.
    failed: bool,
}

/// The outcome of one drive, for the log and the next pass.
struct Driven {
    project: String,
    release: ReleaseId,
    outcome: Result<RunOutcome, shipwarden::engine::EngineError>,
    updated_at: Timestamp,
}

impl Background {
    /// Runs passes until `stop` turns true, then waits up to
    /// [`grace`](Self::grace) for the drives in flight.
    pub async fn run(self, state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
        let mut seen: BTreeMap<(String, ReleaseId), Seen> = BTreeMap::new();
        let mut running: JoinSet<Driven> = JoinSet::new();
        let mut in_flight: BTreeSet<ReleaseId> = BTreeSet::new();
        loop {
            if *stop.borrow() {
                break;
            }
            for project in state.projects.values() {
                self.pass(project, &mut seen, &mut running, &mut in_flight).await;
                duties(project).await;
            }
            let tick = tokio::time::sleep(self.every);
            tokio::pin!(tick);
            loop {
                tokio::select! {
                    () = &mut tick => break,
                    changed = stop.changed() => {
                        if changed.is_err() || *stop.borrow() {
                            break;
                        }
                    }
                    Some(done) = running.join_next(), if !running.is_empty() => {
                        if let Ok(d) = done {
                            in_flight.remove(&d.release);
                            record(&mut seen, d);
                        }
                    }
                }
            }
        }
        if !running.is_empty() {
            tracing::info!(running = running.len(), "shutting down: letting running drives finish");
            let finish = async {
                while let Some(done) = running.join_next().await {
                    if let Ok(d) = done {
                        record(&mut seen, d);
                    }
                }
            };
            if tokio::time::timeout(self.grace, finish).await.is_err() {
                tracing::warn!(
                    "drives still running after the grace period: stopped; their leases lapse and another replica resumes them"
                );
                running.abort_all();
            }
        }
    }

    /// One pass over `project`'s releases: starts a drive for each that may
    /// have automatic work, up to the concurrency.
    async fn pass(
        &self,
        project: &Project,
        seen: &mut BTreeMap<(String, ReleaseId), Seen>,
        running: &mut JoinSet<Driven>,
        in_flight: &mut BTreeSet<ReleaseId>,
    ) {
        let query = ReleaseQuery { project: Some(project.name.clone()), ..ReleaseQuery::default() };
        let releases = match project.manager.list(&query).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(project = %project.name, "cannot list releases: {e}");
                return;
            }
        };
        let policy = project.manager.policy();
        for summary in releases {
            if running.len() >= self.concurrency {
                return;
            }
            if policy.is_final(&summary.stage) || in_flight.contains(&summary.release) {
                continue;
            }
            let key = (project.name.clone(), summary.release.clone());
            if let Some(s) = seen.get(&key) {
                let unchanged = s.updated_at == summary.updated_at;
                if unchanged && (s.failed || s.asked.elapsed() < self.recheck) {
                    continue;
                }
            }
            if held_elsewhere(project, &summary.release).await {
                continue;
            }
            in_flight.insert(summary.release.clone());
            let manager = project.manager.clone();
            let name = project.name.clone();
            let updated_at = summary.updated_at;
            running.spawn(async move {
                let outcome = manager.run(&summary.release, None).await;
                Driven { project: name, release: summary.release, outcome, updated_at }
            });
        }
    }
}

/// Starts the background work of `state` unless `[server] background = false`;
/// it stops when `stop` turns true. Await the handle to let running drives finish.
pub fn spawn(state: Arc<AppState>, stop: watch::Receiver<bool>) -> Option<tokio::task::JoinHandle<()>> {
    if state.settings.background == Some(false) {
        return None;
    }
    Some(tokio::spawn(Background::default().run(state, stop)))
}

/// Whether another driver holds the release's lease now.
async fn held_elsewhere(project: &Project, release: &ReleaseId) -> bool {
    match project.manager.lease(&format!("release:{release}")).await {
        Ok(Some(lease)) => lease.expires_at > Timestamp::now() && !lease.holder.starts_with(project.manager.driver()),
        _ => false,
    }
}

/// Performs the duties that are due (R-5c, R-6d); the engine records each once.
async fn duties(project: &Project) {
    match project.manager.run_due(project.manager.clock().now()).await {
        Ok(done) => {
            for r in done {
                tracing::info!(project = %project.name, release = %r.release, duty = %r.duty.subject, "duty performed");
            }
        }
        Err(e) => tracing::warn!(project = %project.name, "duties: {e}"),
    }
}

/// Logs a drive's outcome and remembers it for the next pass.
fn record(seen: &mut BTreeMap<(String, ReleaseId), Seen>, d: Driven) {
    let failed = match &d.outcome {
        Ok(RunOutcome::Failed(f)) => {
            tracing::warn!(release = %d.release, "stopped on a failed step: {}", f.error);
            true
        }
        Ok(RunOutcome::RolledBack { reason, .. }) => {
            tracing::warn!(release = %d.release, "rolled back: {reason}");
            false
        }
        Ok(RunOutcome::Waiting(w)) => !w.failed.is_empty(),
        Ok(_) => false,
        Err(shipwarden::engine::EngineError::Busy(_)) => false,
        Err(e) => {
            tracing::warn!(release = %d.release, "cannot drive: {e}");
            !e.is_retryable()
        }
    };
    seen.insert((d.project, d.release), Seen { updated_at: d.updated_at, asked: Instant::now(), failed });
}
