//! `ReleaseManager` for Node: every operation returns a Promise; the work
//! runs on napi's tokio runtime, never on the JavaScript thread.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::{Function, JsObjectValue, Object, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use shipwarden::engine::{Ports, ReleaseManager as RManager};
use shipwarden::machine::Evidence;
use shipwarden::ports::memory::{MemoryArtifacts, MemoryBackup, MemoryBuilder, MemoryNotes, MemoryStore};
use shipwarden::ports::{Clock, ManualClock, ReleaseQuery};
use shipwarden::{Channel, EnvName, ReleaseId, StepOutcome};
use shipwarden_adapters::config::Loaded;

use crate::errors;
use crate::ports::JsPort;
use crate::types::*;

fn parse<T: std::str::FromStr<Err = shipwarden::ParseError>>(text: &str) -> napi::Result<T> {
    text.parse().map_err(errors::parse)
}

fn id(release: &str) -> napi::Result<ReleaseId> {
    parse(release)
}

/// Options of `ReleaseManager.open`, normalized by `index.cjs`.
#[napi(object)]
pub struct OpenOptions {
    /// The folder relative paths of an object config start from.
    pub base_dir: Option<String>,
    /// A fixed time for the manager's clock (RFC 3339), for tests and rehearsals.
    pub clock: Option<String>,
}

/// Runs releases.
#[napi]
pub struct ReleaseManager {
    inner: RManager,
    config: Option<Arc<Loaded>>,
    clock: Option<Arc<ManualClock>>,
}

const TARGET: (&[&str], &[&str]) = (&["deploy", "rollback"], &["status"]);
const NOTIFIER: (&[&str], &[&str]) = (&["send"], &[]);
const PROBE: (&[&str], &[&str]) = (&["check"], &[]);
const TICKETING: (&[&str], &[&str]) = (&["get", "openBugs", "comment", "transition", "createReleaseTicket"], &[]);
const ARTIFACTS: (&[&str], &[&str]) = (&["put", "get", "exists", "versions"], &[]);
const BACKUP: (&[&str], &[&str]) = (&["backup", "verify", "restore"], &["find"]);

fn port(
    obj: &Object<'_>,
    role: &'static str,
    methods: (&[&'static str], &[&'static str]),
) -> napi::Result<Arc<JsPort>> {
    JsPort::new(obj, role, methods.0, methods.1).map(Arc::new)
}

/// Reads `{ env: [port, …] }`.
fn env_ports(
    ports: &Object<'_>,
    key: &str,
    role: &'static str,
    methods: (&[&'static str], &[&'static str]),
) -> napi::Result<Vec<(EnvName, Vec<Arc<JsPort>>)>> {
    let Some(map) = ports.get_named_property::<Option<Object<'_>>>(key)? else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for env in Object::keys(&map)? {
        let list: Vec<Object<'_>> = map.get_named_property(&env)?;
        let ports = list.iter().map(|o| port(o, role, methods)).collect::<napi::Result<Vec<_>>>()?;
        out.push((parse(&env)?, ports));
    }
    Ok(out)
}

fn add_ports(into: &mut Ports, js: &Object<'_>) -> napi::Result<()> {
    for (env, list) in env_ports(js, "targets", "deploy-target", TARGET)? {
        into.targets.insert(env, list.into_iter().map(|p| p as _).collect());
    }
    for (env, list) in env_ports(js, "checks", "probe", PROBE)? {
        into.checks.entry(env).or_default().extend(list.into_iter().map(|p| p as _));
    }
    for (env, list) in env_ports(js, "smoke", "probe", PROBE)? {
        into.smoke.entry(env).or_default().extend(list.into_iter().map(|p| p as _));
    }
    if let Some(list) = js.get_named_property::<Option<Vec<Object<'_>>>>("notifiers")? {
        for n in &list {
            into.notifiers.push(port(n, "notifier", NOTIFIER)?);
        }
    }
    if let Some(t) = js.get_named_property::<Option<Object<'_>>>("ticketing")? {
        into.ticketing = Some(port(&t, "ticketing", TICKETING)?);
    }
    if let Some(a) = js.get_named_property::<Option<Object<'_>>>("artifacts")? {
        into.artifacts = Some(port(&a, "artifact-store", ARTIFACTS)?);
    }
    if let Some(b) = js.get_named_property::<Option<Object<'_>>>("backup")? {
        into.backup = Some(port(&b, "backup", BACKUP)?);
    }
    Ok(())
}

fn actor(config: &Option<Arc<Loaded>>, who: &napi::Either<Actor, String>) -> napi::Result<shipwarden::Actor> {
    match who {
        napi::Either::A(a) => {
            if a.user.trim().is_empty() {
                return Err(errors::invalid("an actor needs a user name"));
            }
            let roles = a.roles.iter().map(|r| parse::<shipwarden::Role>(r)).collect::<napi::Result<Vec<_>>>()?;
            Ok(shipwarden::Actor::new(a.user.clone(), roles))
        }
        napi::Either::B(name) => match config {
            Some(c) => c.actor(name).map_err(|e| match e {
                shipwarden_adapters::config::ConfigError::Invalid(m) => errors::invalid(m),
                other => errors::config(other),
            }),
            None => Err(errors::invalid(format!(
                "`{name}`: a user name needs a configuration with [users]; pass {{ user: '{name}', roles: [...] }}"
            ))),
        },
    }
}

fn plan(p: Plan) -> napi::Result<shipwarden::Plan> {
    let version: shipwarden::Version = parse(&p.version)?;
    let kind: shipwarden::ReleaseKind = parse(p.kind.as_deref().unwrap_or("minor"))?;
    let release = match &p.release {
        Some(r) => parse(r)?,
        None => ReleaseId::for_version(&p.project, &version).map_err(errors::parse)?,
    };
    let mut plan = shipwarden::Plan::new(release, p.project.clone(), version, kind);
    plan.scope = p.scope.unwrap_or_default().iter().map(|k| parse(k)).collect::<napi::Result<_>>()?;
    if let Some(d) = &p.target_date {
        plan.target_date = Some(d.parse().map_err(|e| errors::invalid(format!("targetDate `{d}`: {e}")))?);
    }
    let mut deps: Vec<_> = p.dependencies.unwrap_or_default().into_iter().collect();
    deps.sort();
    plan.dependencies = deps.into_iter().map(|(name, version)| shipwarden::Dependency { name, version }).collect();
    plan.hotfix = match p.hotfix {
        Some(h) => {
            Some(shipwarden::Hotfix { ticket: parse(&h.ticket)?, summary: h.summary, justification: h.justification })
        }
        None => None,
    };
    Ok(plan)
}

fn timestamp(text: &str) -> napi::Result<jiff::Timestamp> {
    text.parse().map_err(|e| errors::invalid(format!("`{text}` is not an RFC 3339 time: {e}")))
}

/// A subscription to a manager's events; `close()` ends it.
#[napi]
pub struct Subscription {
    task: tokio::task::AbortHandle,
}

#[napi]
impl Subscription {
    /// Stops the stream.
    #[napi]
    pub fn close(&self) {
        self.task.abort();
    }
}

#[napi]
impl ReleaseManager {
    /// Opens a manager: `config` is JSON of a `shipwarden.toml`'s shape, a path
    /// (a string not starting with `{`), or null for an in-memory manager;
    /// `ports` holds JavaScript ports normalized by `index.cjs`.
    #[napi(ts_return_type = "Promise<ReleaseManager>")]
    pub fn open<'env>(
        env: &'env Env,
        config: Option<String>,
        options: OpenOptions,
        ports: Object<'env>,
    ) -> napi::Result<PromiseRaw<'env, ReleaseManager>> {
        let clock = options.clock.as_deref().map(timestamp).transpose()?.map(|at| Arc::new(ManualClock::new(at)));
        let loaded = match config {
            None => None,
            Some(text) if text.trim_start().starts_with('{') => {
                let value: toml::Value =
                    serde_json::from_str(&text).map_err(|e| errors::invalid(format!("config: {e}")))?;
                let toml = toml::to_string(&value).map_err(|e| errors::invalid(format!("config: {e}")))?;
                let base = match &options.base_dir {
                    Some(b) => PathBuf::from(b),
                    None => std::env::current_dir().map_err(errors::invalid)?,
                };
                Some(Arc::new(
                    Loaded::parse(&toml, &base.join("shipwarden.toml")).map_err(errors::config)?.defer_secrets(),
                ))
            }
            Some(path) => {
                Some(Arc::new(Loaded::read(std::path::Path::new(&path)).map_err(errors::config)?.defer_secrets()))
            }
        };
        let mut js_ports = Ports::default();
        add_ports(&mut js_ports, &ports)?;
        env.spawn_future(async move {
            let dyn_clock = clock.clone().map(|c| c as Arc<dyn Clock>);
            let inner = match &loaded {
                Some(loaded) => {
                    let (mut builder, _) = loaded.builder(dyn_clock).await.map_err(errors::config)?;
                    merge(builder.ports_mut(), js_ports);
                    builder.build()
                }
                None => {
                    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // A build folder of its own for each in-memory manager.
                    let scratch = std::env::temp_dir().join(format!("shipwarden-node-{}-{n}", std::process::id()));
                    let mut ports = Ports {
                        builder: Some(Arc::new(MemoryBuilder::new(
                            scratch,
                            vec![("app.tar.gz".into(), b"app".to_vec())],
                        ))),
                        artifacts: Some(Arc::new(MemoryArtifacts::new())),
                        backup: Some(Arc::new(MemoryBackup::new())),
                        notes: Some(Arc::new(MemoryNotes::new())),
                        ..Ports::default()
                    };
                    merge(&mut ports, js_ports);
                    let mut builder = RManager::builder(Arc::new(MemoryStore::new())).ports(ports);
                    if let Some(c) = dyn_clock {
                        builder = builder.clock(c);
                    }
                    builder.build()
                }
            };
            Ok(ReleaseManager { inner, config: loaded, clock })
        })
    }

    /// The actor of a configured user (`[users.NAME]`).
    #[napi]
    pub fn actor(&self, user: String) -> napi::Result<Actor> {
        let a = actor(&self.config, &napi::Either::B(user))?;
        Ok(Actor { user: a.user, roles: a.roles.iter().map(ToString::to_string).collect() })
    }

    /// Moves a fixed clock (one opened with `clock`) forward by `seconds`.
    #[napi]
    pub fn advance_clock(&self, seconds: f64) -> napi::Result<()> {
        let Some(clock) = &self.clock else { return Err(errors::invalid("this manager runs on the system clock")) };
        let by = std::time::Duration::try_from_secs_f64(seconds).map_err(errors::invalid)?;
        clock.advance(by);
        Ok(())
    }

    /// The policy as TOML.
    #[napi]
    pub fn policy_toml(&self) -> String {
        self.inner.policy().to_toml()
    }

    /// Plans a release (R-1a, R-3).
    #[napi]
    pub async fn plan(&self, actor: napi::Either<Actor, String>, plan: Plan) -> napi::Result<Release> {
        let (who, plan) = (self::actor(&self.config, &actor)?, self::plan(plan)?);
        let state = self.inner.plan(&who, plan).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Records an approval (R-2c); `role` defaults to the actor's only role.
    #[napi]
    pub async fn approve(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        approval: String,
        options: Option<ApproveOptions>,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let options = options.unwrap_or(ApproveOptions { role: None, channel: None, comment: None });
        let role = match options.role.as_deref() {
            Some(r) => parse(r)?,
            None => match who.roles.iter().collect::<Vec<_>>().as_slice() {
                [only] => (*only).clone(),
                _ => return Err(errors::invalid(format!("{} holds several roles or none: pass {{ role }}", who.user))),
            },
        };
        let channel: Channel = parse(options.channel.as_deref().unwrap_or("api"))?;
        let state = self
            .inner
            .approve(&id(&release)?, &who, parse(&approval)?, role, channel, options.comment.as_deref().unwrap_or(""))
            .await
            .map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Records a measured value for a gate (R-7g).
    #[napi]
    pub async fn record_evidence(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        gate: String,
        value: f64,
        source: String,
        options: Option<EvidenceOptions>,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let mut evidence = Evidence::new(parse(&gate)?, value, source);
        if let Some(o) = options {
            evidence.environment = o.environment.as_deref().map(parse).transpose()?;
            evidence.target = o.target;
        }
        let state = self.inner.record_evidence(&id(&release)?, &who, evidence).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Moves the release to a stage, if the policy allows it now.
    #[napi]
    pub async fn advance(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        to: String,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let state = self.inner.advance(&id(&release)?, &who, parse(&to)?).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Books a deployment window (R-6a); conflicts are refused (R-6e).
    #[napi]
    pub async fn schedule(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        environment: String,
        start: String,
        end: String,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let (env, start, end) = (parse(&environment)?, timestamp(&start)?, timestamp(&end)?);
        let state = self.inner.schedule(&id(&release)?, &who, env, start, end).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Cancels a release that has not reached production.
    #[napi]
    pub async fn cancel(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        reason: String,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let state = self.inner.cancel(&id(&release)?, &who, &reason).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Rolls the release back (R-8g).
    #[napi]
    pub async fn rollback(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        reason: String,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let state = self.inner.rollback(&id(&release)?, &who, &reason).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Reports a step people or another system performed.
    #[napi]
    pub async fn report_step(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        step: String,
        options: Option<StepOptions>,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let o = options.unwrap_or(StepOptions { environment: None, ok: None, detail: None, retryable: None });
        let env = o.environment.as_deref().map(parse).transpose()?;
        let detail = o.detail.unwrap_or_default();
        let outcome = if o.ok.unwrap_or(true) {
            StepOutcome::ok(detail)
        } else {
            StepOutcome::failed(detail, o.retryable.unwrap_or(false))
        };
        let state =
            self.inner.report_step(&id(&release)?, &who, parse(&step)?, env, outcome).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// Says how a step in doubt ended (R-9d), after checking its target: `done` true when its work is
    /// done, false when it failed (the release then undoes it). `step` is the step's key
    /// (`release.inDoubt`, or `unmet.step` of a `step_in_doubt` refusal); needs a role that may roll
    /// back, and a reason.
    #[napi]
    pub async fn resolve(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        step: String,
        options: ResolveOptions,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let state = self
            .inner
            .resolve(&id(&release)?, &who, &step, options.done, &options.reason)
            .await
            .map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// The release's state and what each way forward still needs.
    #[napi]
    pub async fn status(&self, release: String) -> napi::Result<ReleaseStatus> {
        let status = self.inner.status(&id(&release)?).await.map_err(errors::engine)?;
        Ok(ReleaseStatus::from(&status))
    }

    /// The audit trail, oldest first.
    #[napi]
    pub async fn history(&self, release: String) -> napi::Result<Vec<AuditEvent>> {
        let events = self.inner.history(&id(&release)?).await.map_err(errors::engine)?;
        Ok(events.iter().map(AuditEvent::from).collect())
    }

    /// Releases in the store.
    #[napi]
    pub async fn list(&self, query: Option<ListQuery>) -> napi::Result<Vec<ReleaseSummary>> {
        let mut q = ReleaseQuery::default();
        if let Some(query) = query {
            q.project = query.project;
            q.stage = query.stage.as_deref().map(parse).transpose()?;
            q.environment = query.environment.as_deref().map(parse).transpose()?;
            q.limit = query.limit;
        }
        let list = self.inner.list(&q).await.map_err(errors::engine)?;
        Ok(list
            .into_iter()
            .map(|s| ReleaseSummary {
                release: s.release.to_string(),
                project: s.project,
                version: s.version.to_string(),
                kind: s.kind.as_str().to_owned(),
                stage: s.stage.to_string(),
            })
            .collect())
    }

    /// Runs the release as far as it can go (or to `until`).
    #[napi]
    pub async fn run(&self, release: String, until: Option<String>) -> napi::Result<RunOutcome> {
        let until = until.as_deref().map(parse).transpose()?;
        let outcome = self.inner.run(&id(&release)?, until).await.map_err(errors::engine)?;
        Ok(RunOutcome::from(&outcome))
    }

    /// Runs the production verification (R-8f): releases, or rolls back (R-8g).
    #[napi]
    pub async fn verify(&self, release: String) -> napi::Result<RunOutcome> {
        let outcome = self.inner.verify(&id(&release)?).await.map_err(errors::engine)?;
        Ok(RunOutcome::from(&outcome))
    }

    /// Deploys to one environment now, and returns the release.
    #[napi]
    pub async fn deploy(&self, release: String, environment: String) -> napi::Result<Release> {
        let (rid, env) = (id(&release)?, parse::<EnvName>(&environment)?);
        self.inner.deploy(&rid, &env).await.map_err(errors::engine)?;
        let state = self.inner.state(&rid).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// The release notes, as Markdown.
    #[napi]
    pub async fn notes(&self, release: String) -> napi::Result<String> {
        self.inner.notes(&id(&release)?).await.map_err(errors::engine)
    }

    /// Streams every audit event this manager appends to `callback`, until `close()`.
    #[napi(ts_args_type = "callback: (event: AuditEvent) => void")]
    pub fn subscribe_events(&self, callback: Function<'_, AuditEvent, ()>) -> napi::Result<Subscription> {
        forward(self.inner.subscribe(), callback, |envelope| AuditEvent::from(&envelope))
    }

    /// Streams every step log line to `callback`, as it is written, until `close()`.
    #[napi(ts_args_type = "callback: (line: LogEvent) => void")]
    pub fn subscribe_logs(&self, callback: Function<'_, LogEvent, ()>) -> napi::Result<Subscription> {
        forward(self.inner.subscribe_logs(), callback, |(release, step, line)| LogEvent {
            release: release.to_string(),
            step,
            stream: line.stream.as_str().to_owned(),
            text: line.text,
        })
    }
}

/// Hands each message of `rx` to `callback` (a weak threadsafe function: it
/// never keeps Node alive), until the subscription is closed; a listener that
/// falls behind skips what it missed rather than holding the engine back.
fn forward<M, T>(
    mut rx: tokio::sync::broadcast::Receiver<M>,
    callback: Function<'_, T, ()>,
    map: impl Fn(M) -> T + Send + 'static,
) -> napi::Result<Subscription>
where
    M: Clone + Send + 'static,
    T: napi::bindgen_prelude::ToNapiValue + Send + 'static,
{
    let tsfn: ThreadsafeFunction<T, (), T, Status, false, true> =
        callback.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?;
    let task = napi::bindgen_prelude::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(message) => {
                    tsfn.call(map(message), ThreadsafeFunctionCallMode::NonBlocking);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Ok(Subscription { task: task.abort_handle() })
}

fn merge(into: &mut Ports, js: Ports) {
    for (env, list) in js.targets {
        into.targets.insert(env, list);
    }
    for (env, list) in js.checks {
        into.checks.entry(env).or_default().extend(list);
    }
    for (env, list) in js.smoke {
        into.smoke.entry(env).or_default().extend(list);
    }
    into.notifiers.extend(js.notifiers);
    if js.ticketing.is_some() {
        into.ticketing = js.ticketing;
    }
    if js.artifacts.is_some() {
        into.artifacts = js.artifacts;
    }
    if js.backup.is_some() {
        into.backup = js.backup;
    }
}

/// Options of `approve`.
#[napi(object)]
pub struct ApproveOptions {
    /// The role the approval is given in (default: the actor's only role).
    pub role: Option<String>,
    /// `ticket_comment`, `email`, `chat`, `cli` or `api` (default).
    pub channel: Option<String>,
    /// A comment.
    pub comment: Option<String>,
}

/// Options of `recordEvidence`.
#[napi(object)]
pub struct EvidenceOptions {
    /// The environment measured.
    pub environment: Option<String>,
    /// The target measured.
    pub target: Option<String>,
}

/// Options of `reportStep`.
#[napi(object)]
pub struct StepOptions {
    /// The environment.
    pub environment: Option<String>,
    /// Whether it succeeded (default true).
    pub ok: Option<bool>,
    /// What it did, or what went wrong.
    pub detail: Option<String>,
    /// For failures: whether trying again can help.
    pub retryable: Option<bool>,
}

/// How a step in doubt ended, for `resolve` (R-9d).
#[napi(object)]
pub struct ResolveOptions {
    /// True: the step's work is done (checked on the target); false: it failed, and the release undoes it.
    pub done: bool,
    /// What was checked.
    pub reason: String,
}

/// A filter for `list`.
#[napi(object)]
pub struct ListQuery {
    /// The project.
    pub project: Option<String>,
    /// The stage.
    pub stage: Option<String>,
    /// An environment booked or deployed.
    pub environment: Option<String>,
    /// At most this many.
    pub limit: Option<u32>,
}

fn change(c: CommitInput) -> shipwarden::changes::Change {
    shipwarden::changes::parse_owned(shipwarden::ports::Commit {
        sha: c.sha.unwrap_or_default(),
        subject: c.subject,
        body: c.body.unwrap_or_default(),
        author: c.author.unwrap_or_default(),
        parents: c.parents.unwrap_or(1) as usize,
    })
}

/// Parses a commit message.
#[napi]
pub fn parse_commit(commit: CommitInput) -> Commit {
    Commit::from(&change(commit))
}

/// Release notes for commits (oldest first), grouped and linked as the default policy says.
#[napi]
pub fn release_notes(
    project: String,
    commits: Vec<CommitInput>,
    version: Option<String>,
    date: Option<String>,
) -> napi::Result<ReleaseNotes> {
    let version = version.as_deref().map(parse::<shipwarden::Version>).transpose()?;
    let policy = shipwarden::Policy::default();
    let changes = shipwarden::changes::for_notes(commits.into_iter().map(change).collect(), &policy.vcs);
    let links = shipwarden::notes::Links::from_policy(&policy);
    let notes = shipwarden::notes::ReleaseNotes::from_changes(&project, version, date, changes, Vec::new(), &links);
    Ok(ReleaseNotes::from(&notes))
}

/// Every stage the procedure defines, in order.
#[napi]
pub fn stages() -> Vec<String> {
    shipwarden::Stage::BUILT_IN.iter().map(ToString::to_string).collect()
}

/// For `benches/node_overhead.cjs`: mean nanoseconds of `target.status(key)`
/// called from Rust `n` times, on a JavaScript deploy target (normalized by `index.cjs`).
#[napi]
pub fn bench_js_port<'env>(env: &'env Env, target: Object<'env>, n: u32) -> napi::Result<PromiseRaw<'env, f64>> {
    let port = port(&target, "deploy-target", TARGET)?;
    env.spawn_future(async move {
        let start = std::time::Instant::now();
        for i in 0..n {
            let key = if i % 2 == 0 { "deploy:prod:web-1#1" } else { "deploy:prod:web-1#2" };
            shipwarden::ports::DeployTarget::status(port.as_ref(), key)
                .await
                .map_err(|e| errors::engine(shipwarden::engine::EngineError::Port(e)))?;
        }
        Ok(start.elapsed().as_nanos() as f64 / f64::from(n.max(1)))
    })
}
