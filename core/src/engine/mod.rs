//! The engine: [`ReleaseManager`] loads a release from its event store, runs
//! steps through the ports, and appends what happened. Every command goes
//! through [`decide`]; the engine adds no rule of its own.
//!
//! # Durability and concurrency
//! A release is its event stream. Appends carry the expected stream version;
//! a writer that lost a race reloads and decides again. A step is recorded as
//! started under an idempotency key before its port is called and as finished
//! after; a new process that finds a started but unfinished step asks the
//! port about the key instead of calling again. Deployments to an environment
//! hold a lease in the store, so two drivers never deploy one environment at
//! once, even from different machines (R-6e).

mod anchor;
mod deploy;
mod duties;
mod error;
mod evidence;
mod identity;
mod lease;
mod listing;
mod run;
mod steps;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Mutex, broadcast};
use tracing::Instrument;

use crate::audit::Envelope;
use crate::machine::{Action, Command, Evidence, ReleaseState, apply, decide};
use crate::model::{Actor, ApprovalId, Channel, EnvName, Plan, ReleaseId, Role, Stage, TicketKey};
use crate::policy::Policy;
use crate::ports::*;

pub use anchor::{Published, Unpublished};
pub use duties::DutyReport;
pub use error::{EngineError, ErrorCode};
pub use listing::{Listing, ListingMismatch};
pub use run::{Failure, RunOutcome, StepError, Waiting};

/// The outside systems a manager drives. Every port is optional; a step
/// whose port is missing waits for someone to report it.
#[derive(Clone, Default)]
pub struct Ports {
    /// Version control (tags, commits).
    pub vcs: Option<Arc<dyn Vcs>>,
    /// Tickets (bugs in scope, release ticket).
    pub ticketing: Option<Arc<dyn Ticketing>>,
    /// Where artifacts are published.
    pub artifacts: Option<Arc<dyn ArtifactStore>>,
    /// The build.
    pub builder: Option<Arc<dyn Builder>>,
    /// Database and configuration backups.
    pub backup: Option<Arc<dyn Backup>>,
    /// Where release notes go.
    pub notes: Option<Arc<dyn NotesPublisher>>,
    /// Who is told.
    pub notifiers: Vec<Arc<dyn Notifier>>,
    /// Deploy targets per environment.
    pub targets: BTreeMap<EnvName, Vec<Arc<dyn DeployTarget>>>,
    /// Pre-deployment check probes per environment (R-8a).
    pub checks: BTreeMap<EnvName, Vec<Arc<dyn Probe>>>,
    /// Smoke-test probes per environment (R-8f).
    pub smoke: BTreeMap<EnvName, Vec<Arc<dyn Probe>>>,
    /// Probes sampled while a deployment runs and through the verification window (R-8e).
    pub monitors: BTreeMap<EnvName, Vec<Arc<dyn Probe>>>,
    /// Each environment's database migrations (R-7e, R-8b).
    pub migrators: BTreeMap<EnvName, Arc<dyn Migrator>>,
    /// What each environment runs of the release's external dependencies (R-7f, R-8d).
    pub dependencies: BTreeMap<EnvName, Vec<Arc<dyn DependencyProbe>>>,
    /// Signs the evidence bundle written when a release closes (R-9d).
    pub signer: Option<Arc<dyn Signer>>,
    /// Each environment's configuration settings, recorded on each deployment (R-9c).
    pub settings: BTreeMap<EnvName, Arc<dyn SettingsSource>>,
    /// Where each step's whole log is kept; the audit trail keeps a bounded excerpt (R-9d).
    pub logs: Option<Arc<dyn LogArchive>>,
}

/// Settings of the engine itself (the rules are in the [`Policy`]).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long a deployment lease lasts without renewal.
    pub lease_ttl: Duration,
    /// How long to wait for a lease held by another driver.
    pub lease_wait: Duration,
    /// How often a writer that lost a race reloads and tries again.
    pub conflict_retries: u32,
    /// Where each signed checkpoint is published besides the store (R-9d):
    /// the notes at every checkpoint, the release ticket at close. None by default.
    pub publish_heads: Vec<crate::audit::HeadDestination>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(30),
            lease_wait: Duration::from_secs(600),
            conflict_retries: 16,
            publish_heads: Vec::new(),
        }
    }
}

impl EngineConfig {
    /// The shortest lease accepted: shorter ones lapse while their holder
    /// still deploys (two drivers in one environment) and make waiting drivers
    /// spin (R-6e).
    pub const MIN_LEASE_TTL: Duration = Duration::from_secs(5);

    /// Checks the settings; each problem names its field (`lease_ttl`).
    pub fn validate(&self) -> Result<(), Vec<crate::Problem>> {
        if self.lease_ttl < Self::MIN_LEASE_TTL {
            return Err(vec![crate::Problem {
                path: "lease_ttl".into(),
                message: format!(
                    "{:?} is too short: a lease lasts at least {}s (R-6e)",
                    self.lease_ttl,
                    Self::MIN_LEASE_TTL.as_secs()
                ),
            }]);
        }
        Ok(())
    }
}

/// A release as last loaded or written by this manager.
#[derive(Default)]
struct Loaded {
    /// Shared with callers; copied only when written while they still hold it.
    state: Arc<ReleaseState>,
    last: Option<Envelope>,
    fresh: bool,
    /// Step key (without its `/n` attempt suffix) -> positions of its attempts in `state.steps`.
    attempts: HashMap<String, Vec<usize>>,
}

impl Loaded {
    /// Drops what is held, so that the next use loads the stream whole.
    fn forget(&mut self) {
        *self = Loaded::default();
    }

    /// Folds one event in, keeping the attempts index current.
    fn apply(&mut self, event: &crate::machine::Event) {
        let state = Arc::make_mut(&mut self.state);
        *state = apply(std::mem::take(state), event);
        if let crate::machine::Event::StepStarted { key, .. } = event {
            let base = key.split_once('/').map_or(key.as_str(), |(base, _)| base);
            self.attempts.entry(base.to_owned()).or_default().push(state.steps.len() - 1);
        }
    }

    /// Replaces the state with a whole one, and rebuilds the index.
    fn replace(&mut self, state: ReleaseState) {
        self.attempts.clear();
        for (i, step) in state.steps.iter().enumerate() {
            let base = step.key.split_once('/').map_or(step.key.as_str(), |(base, _)| base);
            self.attempts.entry(base.to_owned()).or_default().push(i);
        }
        self.state = Arc::new(state);
    }
}

pub(crate) struct Inner {
    policy: Arc<Policy>,
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    ports: Ports,
    config: EngineConfig,
    automation: Actor,
    escalation: Vec<crate::model::EscalationContact>,
    driver: String,
    leases: std::sync::atomic::AtomicU64,
    cache: std::sync::Mutex<HashMap<ReleaseId, Arc<Mutex<Loaded>>>>,
    events: broadcast::Sender<Envelope>,
    logs: broadcast::Sender<(ReleaseId, String, LogLine)>,
    /// Heads that could not be published since the last [`ReleaseManager::take_unpublished`].
    unpublished: std::sync::Mutex<Vec<anchor::Unpublished>>,
}

/// Runs releases: the one object a service, script or UI talks to.
#[derive(Clone)]
pub struct ReleaseManager {
    inner: Arc<Inner>,
}

/// Builds a [`ReleaseManager`].
pub struct ReleaseManagerBuilder {
    policy: Policy,
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
    ports: Ports,
    config: EngineConfig,
    automation: Actor,
    escalation: Vec<crate::model::EscalationContact>,
}

impl ReleaseManagerBuilder {
    /// Whom to call when a release fails or rolls back (R-2e), from the project's config.
    pub fn escalation(mut self, contacts: Vec<crate::model::EscalationContact>) -> Self {
        self.escalation = contacts;
        self
    }

    /// The policy (default: the procedure).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The clock (default: the system's).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// All ports at once.
    pub fn ports(mut self, ports: Ports) -> Self {
        self.ports = ports;
        self
    }

    /// The ports set so far, to add to or replace some of them.
    pub fn ports_mut(&mut self) -> &mut Ports {
        &mut self.ports
    }

    /// Adds a deploy target to an environment.
    pub fn target(mut self, environment: EnvName, target: Arc<dyn DeployTarget>) -> Self {
        self.ports.targets.entry(environment).or_default().push(target);
        self
    }

    /// Adds a pre-deployment check probe to an environment (R-8a).
    pub fn check(mut self, environment: EnvName, probe: Arc<dyn Probe>) -> Self {
        self.ports.checks.entry(environment).or_default().push(probe);
        self
    }

    /// Adds a smoke-test probe to an environment (R-8f).
    pub fn smoke_test(mut self, environment: EnvName, probe: Arc<dyn Probe>) -> Self {
        self.ports.smoke.entry(environment).or_default().push(probe);
        self
    }

    /// Adds a probe sampled while `environment` deploys and is verified (R-8e).
    pub fn monitor(mut self, environment: EnvName, probe: Arc<dyn Probe>) -> Self {
        self.ports.monitors.entry(environment).or_default().push(probe);
        self
    }

    /// Sets the migrator of an environment's database (R-7e).
    pub fn migrator(mut self, environment: EnvName, migrator: Arc<dyn Migrator>) -> Self {
        self.ports.migrators.insert(environment, migrator);
        self
    }

    /// Adds a dependency probe to an environment (R-7f).
    pub fn dependency_probe(mut self, environment: EnvName, probe: Arc<dyn DependencyProbe>) -> Self {
        self.ports.dependencies.entry(environment).or_default().push(probe);
        self
    }

    /// Adds a notifier.
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.ports.notifiers.push(notifier);
        self
    }

    /// Engine settings.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// The actor automatic steps are recorded under (default: `shipwarden`,
    /// a deployment engineer).
    pub fn automation(mut self, actor: Actor) -> Self {
        self.automation = actor;
        self
    }

    /// The manager.
    pub fn build(self) -> ReleaseManager {
        let (events, _) = broadcast::channel(1024);
        let (logs, _) = broadcast::channel(1024);
        let driver = lease::driver_id();
        ReleaseManager {
            inner: Arc::new(Inner {
                policy: Arc::new(self.policy),
                store: self.store,
                clock: self.clock,
                ports: self.ports,
                config: self.config,
                automation: self.automation,
                escalation: self.escalation,
                driver,
                leases: std::sync::atomic::AtomicU64::new(0),
                cache: std::sync::Mutex::default(),
                events,
                logs,
                unpublished: std::sync::Mutex::default(),
            }),
        }
    }
}

/// What a manager says about a release: its state and what each way forward still needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseStatus {
    /// The state.
    pub state: ReleaseState,
    /// For each stage the policy allows next: the refusal that advancing now
    /// would meet (none when it would succeed).
    pub next: Vec<(Stage, Option<crate::machine::Refusal>)>,
}

impl ReleaseManager {
    /// Starts building a manager over `store`.
    pub fn builder(store: Arc<dyn EventStore>) -> ReleaseManagerBuilder {
        ReleaseManagerBuilder {
            policy: Policy::default(),
            store,
            clock: Arc::new(SystemClock),
            ports: Ports::default(),
            config: EngineConfig::default(),
            automation: Actor::new("shipwarden", [Role::DeploymentEngineer]),
            escalation: Vec::new(),
        }
    }

    /// Whom to call after `outcome` (R-2e): the escalation contacts when the
    /// run rolled back or a step failed in it, no one otherwise.
    pub fn escalation_for(&self, outcome: &RunOutcome) -> &[crate::model::EscalationContact] {
        match outcome {
            RunOutcome::RolledBack { .. } => &self.inner.escalation,
            RunOutcome::Failed(_) => &self.inner.escalation,
            RunOutcome::Waiting(w) if !w.failed.is_empty() => &self.inner.escalation,
            _ => &[],
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The clock in use.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Every envelope appended by this manager, as it is appended (for live UIs).
    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.inner.events.subscribe()
    }

    /// Every step log line, as it is written: (release, step key, line).
    pub fn subscribe_logs(&self) -> broadcast::Receiver<(ReleaseId, String, LogLine)> {
        self.inner.logs.subscribe()
    }

    fn entry(&self, release: &ReleaseId) -> Arc<Mutex<Loaded>> {
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.entry(release.clone()).or_default().clone()
    }

    /// Brings `loaded` up to date: only the envelopes after the last one it
    /// holds are read, and verified as the continuation of its chain; a tail
    /// that does not link (a store rewritten under us) forces a full load.
    async fn reload(&self, release: &ReleaseId, loaded: &mut Loaded) -> Result<(), EngineError> {
        if let Some(last) = loaded.last.clone() {
            let tail = self.inner.store.load_after(release, last.sequence).await?;
            if crate::audit::verify_after(Some(&last), &tail).is_ok() {
                for e in &tail {
                    loaded.apply(&e.event);
                }
                if let Some(new_last) = tail.into_iter().last() {
                    loaded.last = Some(new_last);
                }
                loaded.fresh = true;
                return Ok(());
            }
            tracing::warn!(release = %release, "the stored chain does not continue ours; loading it whole");
        }
        let envelopes = self.inner.store.load(release).await?;
        loaded.replace(ReleaseState::from_events(envelopes.iter().map(|e| &e.event)));
        loaded.last = envelopes.last().cloned();
        loaded.fresh = true;
        Ok(())
    }

    /// Decides `action` by `actor` and appends its events; on a lost race,
    /// reloads and decides again. Returns the new state.
    pub async fn execute(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        action: Action,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute_many(release, actor, vec![action]).await
    }

    /// Decides several actions in order and appends all their events at
    /// once, or none: a step's outcome and the evidence it produced are
    /// recorded together.
    pub async fn execute_many(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        actions: Vec<Action>,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.commit(release, actor, actions).await?;
        self.cached(release).await
    }

    /// [`execute_many`](Self::execute_many) without handing back a copy of the state.
    pub(crate) async fn commit(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        actions: Vec<Action>,
    ) -> Result<(), EngineError> {
        let entry = self.entry(release);
        let mut loaded = entry.lock().await;
        for _ in 0..=self.inner.config.conflict_retries {
            if !loaded.fresh {
                self.reload(release, &mut loaded).await?;
            }
            let now = self.inner.clock.now();
            self.check_statement(actor, &loaded, now)?;
            let expected = loaded.state.version;
            // Decide the first action on the held state; later ones see the
            // events of those before them. Events are applied in place: if the
            // append then fails, the held state is dropped and loaded again.
            let mut events = Vec::new();
            let mut working: Option<ReleaseState> = None;
            for (i, action) in actions.iter().enumerate() {
                let command = Command { actor: actor.clone(), action: action.clone() };
                let state = working.as_ref().unwrap_or(&*loaded.state);
                let decided = decide(state, &command, &self.inner.policy, now).map_err(EngineError::Refused)?;
                if i + 1 < actions.len() {
                    let base = working.take().unwrap_or_else(|| (*loaded.state).clone());
                    working = Some(decided.iter().fold(base, apply));
                }
                events.extend(decided);
            }
            let envelopes = Envelope::seal_all(release.as_str(), loaded.last.as_ref(), now, &actor.user, events);
            let stage_before = loaded.state.stage.clone();
            for e in &envelopes[..] {
                loaded.apply(&e.event);
            }
            let Some(summary) = crate::ports::ReleaseSummary::of(&loaded.state, now)
                .map(|s| s.holding(&loaded.state, &self.inner.policy))
            else {
                loaded.forget();
                return Err(EngineError::NotFound(release.clone()));
            };
            match self.inner.store.append(release, expected, &envelopes, &summary).await {
                Ok(_) => {
                    loaded.last = envelopes.last().cloned().or(loaded.last.take());
                    let mut signed = None;
                    if loaded.state.stage != stage_before
                        && let (Some(last), Some(stage)) = (&loaded.last, &loaded.state.stage)
                    {
                        signed = self.checkpoint(last, stage).await;
                    }
                    for e in envelopes {
                        let _ = self.inner.events.send(e);
                    }
                    let state = loaded.state.clone();
                    drop(loaded);
                    // Published outside the release's lock (events were sent in order under it): a slow
                    // wiki or ticket system holds nobody up.
                    if let Some(checkpoint) = signed {
                        self.publish_checkpoint(&checkpoint, &state).await;
                    }
                    return Ok(());
                }
                Err(StoreError::Conflict { .. }) => {
                    tracing::debug!(release = %release, "lost a race to another driver; reloading");
                    loaded.forget();
                }
                Err(e) => {
                    loaded.forget();
                    return Err(e.into());
                }
            }
        }
        Err(EngineError::Conflict(release.clone()))
    }

    /// The release's state: this manager's copy, brought up to date from the
    /// store only when it may be stale (cheaper than [`status`](Self::status),
    /// which reloads the stream and judges every way forward).
    pub async fn state(&self, release: &ReleaseId) -> Result<Arc<ReleaseState>, EngineError> {
        self.cached(release).await
    }

    /// The state as this manager last saw it (reloaded when unknown).
    pub(crate) async fn cached(&self, release: &ReleaseId) -> Result<Arc<ReleaseState>, EngineError> {
        let entry = self.entry(release);
        let mut loaded = entry.lock().await;
        if !loaded.fresh {
            self.reload(release, &mut loaded).await?;
        }
        Ok(loaded.state.clone())
    }

    /// Forgets the cached state so the next command reloads it.
    pub(crate) async fn invalidate(&self, release: &ReleaseId) {
        self.entry(release).lock().await.fresh = false;
    }

    /// The attempts of the step whose first attempt has `key`, oldest first.
    pub(crate) async fn step_attempts(
        &self,
        release: &ReleaseId,
        key: &str,
    ) -> Result<Vec<crate::machine::StepRecord>, EngineError> {
        let entry = self.entry(release);
        let mut loaded = entry.lock().await;
        if !loaded.fresh {
            self.reload(release, &mut loaded).await?;
        }
        let positions = loaded.attempts.get(key).map(Vec::as_slice).unwrap_or_default();
        Ok(positions.iter().filter_map(|&i| loaded.state.steps.get(i).cloned()).collect())
    }

    /// Reads the state as this manager last saw it, without copying it.
    pub(crate) async fn with_state<T>(
        &self,
        release: &ReleaseId,
        read: impl FnOnce(&ReleaseState) -> T,
    ) -> Result<T, EngineError> {
        let entry = self.entry(release);
        let mut loaded = entry.lock().await;
        if !loaded.fresh {
            self.reload(release, &mut loaded).await?;
        }
        Ok(read(&loaded.state))
    }

    /// Plans a release (R-1a). The new version must be newer than the
    /// project's newest release, in the store or as a git tag of the
    /// project's prefix (R-4c), unless the plan carries an override with a
    /// reason. A plan without scope gets the ticket keys of the commits
    /// since the last release tag, when a [`Vcs`] port is configured (R-4a).
    pub async fn plan(&self, actor: &Actor, plan: Plan) -> Result<Arc<ReleaseState>, EngineError> {
        let release = plan.release.clone();
        let span = tracing::info_span!("plan", release = %release, version = %plan.version);
        async {
            let action = self.context(&release, Action::Plan { plan, last_release: None }).await?;
            self.execute(&release, actor, action).await
        }
        .instrument(span)
        .await
    }

    /// The decision `action` by `actor` would meet at `at` (default: now),
    /// made exactly as the real call makes it (the same context from the
    /// store and the ports, the same [`decide`]), with nothing appended: the
    /// events it would record, or the refusal. A dry run of any command.
    pub async fn preview(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        action: Action,
        at: Option<Timestamp>,
    ) -> Result<Vec<crate::machine::Event>, EngineError> {
        let action = self.context(release, action).await?;
        let now = at.unwrap_or_else(|| self.inner.clock.now());
        // A release that is not planned yet has the empty state: a plan previews against it.
        let state = {
            let entry = self.entry(release);
            let mut loaded = entry.lock().await;
            if !loaded.fresh {
                self.reload(release, &mut loaded).await?;
            }
            // A signed statement is checked as the real call checks it (R-2d).
            self.check_statement(actor, &loaded, now)?;
            loaded.state.clone()
        };
        let command = Command::new(actor, action);
        decide(&state, &command, &self.inner.policy, now).map_err(EngineError::Refused)
    }

    /// Fills in what a command needs to know of the world beyond its own
    /// release, the same for the real call and its [`preview`](Self::preview):
    /// the project's newest release (store and git tags, R-4c) and default
    /// scope (R-4a) for a plan; other releases' bookings for a booking (R-6e).
    async fn context(&self, release: &ReleaseId, action: Action) -> Result<Action, EngineError> {
        Ok(match action {
            Action::Plan { mut plan, .. } => {
                // The tags are read once, for both the newest release and the default scope.
                let tags = match &self.inner.ports.vcs {
                    Some(vcs) => Some(vcs.tags().await?),
                    None => None,
                };
                let last_release = self.last_release(&plan, tags.as_deref()).await?;
                if plan.scope.is_empty()
                    && let Some(tags) = &tags
                {
                    plan.scope = self.scope_since(tags, &plan.version).await?;
                }
                Action::Plan { plan, last_release }
            }
            Action::Schedule { environment, start, end, .. } => {
                let busy = self.busy_bookings(release).await?;
                Action::Schedule { environment, start, end, busy }
            }
            other => other,
        })
    }

    /// The newest version of `plan`'s project released in the store, or
    /// tagged in git with the project's tag prefix (R-4c).
    async fn last_release(
        &self,
        plan: &Plan,
        tags: Option<&[crate::ports::Tag]>,
    ) -> Result<Option<crate::model::Version>, EngineError> {
        let query = crate::ports::ReleaseQuery { project: Some(plan.project.clone()), ..Default::default() };
        let released = [Stage::Released, Stage::Closed];
        let stored = self
            .inner
            .store
            .list(&query)
            .await?
            .into_iter()
            .filter(|s| released.contains(&s.stage) && s.release != plan.release)
            .map(|s| s.version)
            .max();
        let prefix = &self.inner.policy.vcs.tag_prefix;
        let tagged = tags
            .unwrap_or_default()
            .iter()
            .filter_map(|t| crate::model::Version::from_tag(&t.name, prefix).ok())
            .filter(|v| !v.is_prerelease())
            .max();
        Ok(stored.max(tagged))
    }

    /// The ticket keys of the commits since the newest release tag older
    /// than `version`, oldest first, each once; none without a [`Vcs`] port.
    pub async fn default_scope(&self, version: &crate::model::Version) -> Result<Vec<TicketKey>, EngineError> {
        let Some(vcs) = &self.inner.ports.vcs else { return Ok(Vec::new()) };
        self.scope_since(&vcs.tags().await?, version).await
    }

    /// [`default_scope`](Self::default_scope) with the tags already read.
    async fn scope_since(
        &self,
        tags: &[crate::ports::Tag],
        version: &crate::model::Version,
    ) -> Result<Vec<TicketKey>, EngineError> {
        let Some(vcs) = &self.inner.ports.vcs else { return Ok(Vec::new()) };
        let last = crate::changes::last_release_tag(tags, &self.inner.policy.vcs.tag_prefix, version);
        let commits = vcs.commits_since(last.as_ref().map(|(_, name)| name.as_str())).await?;
        let mut seen = std::collections::HashSet::new();
        let mut keys = Vec::new();
        for commit in commits.into_iter().rev() {
            for key in crate::changes::parse_owned(commit).tickets {
                if seen.insert(key.clone()) {
                    keys.push(key);
                }
            }
        }
        Ok(keys)
    }

    /// Bookings of every other release that is not final (R-6e).
    async fn busy_bookings(&self, release: &ReleaseId) -> Result<Vec<crate::calendar::Booking>, EngineError> {
        Ok(self
            .inner
            .store
            .list(&crate::ports::ReleaseQuery::default())
            .await?
            .into_iter()
            .filter(|s| &s.release != release && !self.inner.policy.is_final(&s.stage))
            .flat_map(|s| s.bookings)
            .collect())
    }

    /// Records an approval (R-2b, R-2c).
    pub async fn approve(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        approval: ApprovalId,
        role: Role,
        channel: Channel,
        comment: &str,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute(release, actor, Action::Approve { approval, role, channel, comment: comment.to_owned() }).await
    }

    /// Records a rejection of an approval, with its reason (R-2b, R-2c): it
    /// blocks every transition that needs the approval until the same person
    /// approves.
    pub async fn reject(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        approval: ApprovalId,
        role: Role,
        channel: Channel,
        reason: &str,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute(release, actor, Action::Reject { approval, role, channel, comment: reason.to_owned() }).await
    }

    /// Records evidence for a gate (R-7g).
    pub async fn record_evidence(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        evidence: Evidence,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute(release, actor, Action::RecordEvidence(evidence)).await
    }

    /// Moves a release to `to`.
    pub async fn advance(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        to: Stage,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        let span = tracing::info_span!("advance", release = %release, to = %to);
        self.execute(release, actor, Action::Advance { to }).instrument(span).await
    }

    /// Books a deployment; other releases' bookings come from the store (R-6a, R-6e).
    pub async fn schedule(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        environment: EnvName,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        let action = self.context(release, Action::Schedule { environment, start, end, busy: Vec::new() }).await?;
        self.execute(release, actor, action).await
    }

    /// Overrides blackout windows and freezes for this release, with a
    /// reason, by a role the calendar policy names (R-6b); under
    /// `trust = "verified"` with a proof `[identity] override_window` accepts (R-2d).
    pub async fn override_window(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        reason: &str,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute(release, actor, Action::OverrideWindow { reason: reason.to_owned() }).await
    }

    /// A person resolves a step in doubt after checking its target: `done`
    /// or failed, with what was checked (R-9d). The next run goes on from
    /// there: a resolved deployment is not run again; a failed one is undone.
    pub async fn resolve(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        key: &str,
        done: bool,
        reason: &str,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        let action = Action::ResolveStep { key: key.to_owned(), done, reason: reason.to_owned() };
        self.execute(release, actor, action).await
    }

    /// Cancels a release.
    pub async fn cancel(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        reason: &str,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute(release, actor, Action::Cancel { reason: reason.to_owned() }).await
    }

    /// The release's state and, for each possible next stage, what is still missing.
    pub async fn status(&self, release: &ReleaseId) -> Result<ReleaseStatus, EngineError> {
        self.status_at(release, self.inner.clock.now()).await
    }

    /// [`status`](Self::status) as it would be judged at `now`: what each
    /// way forward would still need then ("would this be allowed then?").
    pub async fn status_at(&self, release: &ReleaseId, now: Timestamp) -> Result<ReleaseStatus, EngineError> {
        let envelopes = self.inner.store.load(release).await?;
        if envelopes.is_empty() {
            return Err(EngineError::NotFound(release.clone()));
        }
        let state = ReleaseState::from_events(envelopes.iter().map(|e| &e.event));
        let mut next = Vec::new();
        if let Some(stage) = &state.stage {
            for (_, t) in self.inner.policy.transitions_from(stage) {
                let command = Command::new(&self.inner.automation, Action::Advance { to: t.to.clone() });
                let refusal = decide(&state, &command, &self.inner.policy, now).err();
                let fits = state.plan.as_ref().is_some_and(|p| t.applies_to(p.kind));
                if fits {
                    next.push((t.to.clone(), refusal));
                }
            }
        }
        Ok(ReleaseStatus { state, next })
    }

    /// The release's audit trail, verified (R-9d).
    pub async fn history(&self, release: &ReleaseId) -> Result<Vec<Envelope>, EngineError> {
        Ok(self.inner.store.load(release).await?)
    }

    /// Lists releases, each as its chain says (see [`listing`](Self::listing)): a stored
    /// listing row is an index, never the truth (R-9d).
    pub async fn list(
        &self,
        query: &crate::ports::ReleaseQuery,
    ) -> Result<Vec<crate::ports::ReleaseSummary>, EngineError> {
        Ok(self.list_checked(query).await?.releases)
    }

    /// Runs `work` while holding the lease `name`, renewing it in the background.
    pub(crate) async fn with_lease<T, F>(&self, name: &str, work: F) -> Result<T, EngineError>
    where
        F: std::future::Future<Output = Result<T, EngineError>>,
    {
        let inner = &self.inner;
        // Each holding is its own holder, so tasks of one manager exclude each other too.
        let n = inner.leases.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let holder = format!("{}-{n}", inner.driver);
        let ttl = inner.config.lease_ttl;
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(10);
        while !inner.store.try_lease(name, &holder, ttl, Timestamp::now()).await? {
            if started.elapsed() > inner.config.lease_wait {
                return Err(EngineError::Busy(name.to_owned()));
            }
            tracing::debug!(lease = name, "waiting for another driver's lease");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(ttl / 4).min(Duration::from_millis(200)).max(Duration::from_millis(10));
        }
        let renewer = {
            let store = inner.store.clone();
            let (name, driver) = (name.to_owned(), holder.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    if !matches!(store.try_lease(&name, &driver, ttl, Timestamp::now()).await, Ok(true)) {
                        tracing::warn!(lease = %name, "lost a lease while holding it");
                    }
                }
            })
        };
        let result = work.await;
        renewer.abort();
        let _ = inner.store.release_lease(name, &holder).await;
        result
    }
}
