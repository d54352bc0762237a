//! `ReleaseManager` for Node: every operation returns a Promise; the work
//! runs on napi's tokio runtime, never on the JavaScript thread.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::{Function, JsObjectValue, Object, PromiseRaw};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;
use shipwarden::audit::ChainHash;
use shipwarden::engine::ReleaseManager as RManager;
use shipwarden::machine::Evidence;
use shipwarden::ports::memory::MemoryStore;
use shipwarden::ports::{Clock, ManualClock, ReleaseQuery};
use shipwarden::{Channel, EnvName, IdentityAction, ReleaseId, StepOutcome};
use shipwarden_adapters::anchor::verify_release;
use shipwarden_adapters::config::Loaded;
use shipwarden_adapters::identity;

use crate::errors;
use shipwarden_bindings::{ErrorDoc, PortKind, UserPorts, default_ports};

use crate::ports::{JsPort, js_port};
use crate::types::*;

pub(crate) fn parse<T: std::str::FromStr<Err = shipwarden::ParseError>>(text: &str) -> napi::Result<T> {
    text.parse().map_err(errors::parse)
}

pub(crate) fn id(release: &str) -> napi::Result<ReleaseId> {
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
    pub(crate) inner: RManager,
    pub(crate) config: Option<Arc<Loaded>>,
    clock: Option<Arc<ManualClock>>,
}

fn port(obj: &Object<'_>, kind: &'static PortKind) -> napi::Result<Arc<JsPort>> {
    js_port(obj, kind).map(Arc::new)
}

/// Reads `{ env: [port, …] }`, adding each with `add`.
fn env_ports(
    ports: &Object<'_>,
    key: &str,
    kind: &'static PortKind,
    mut add: impl FnMut(&str, Arc<JsPort>) -> Result<(), shipwarden::ParseError>,
) -> napi::Result<()> {
    let Some(map) = ports.get_named_property::<Option<Object<'_>>>(key)? else { return Ok(()) };
    for env in Object::keys(&map)? {
        let list: Vec<Object<'_>> = map.get_named_property(&env)?;
        for o in &list {
            add(&env, port(o, kind)?).map_err(errors::parse)?;
        }
    }
    Ok(())
}

/// The JavaScript ports passed to `open`, to lay over the configured or default ones.
fn user_ports(js: &Object<'_>) -> napi::Result<UserPorts> {
    let mut user = UserPorts::default();
    env_ports(js, "targets", &PortKind::TARGET, |env, p| user.target(env, p))?;
    env_ports(js, "checks", &PortKind::PROBE, |env, p| user.check(env, p))?;
    env_ports(js, "smoke", &PortKind::PROBE, |env, p| user.smoke(env, p))?;
    if let Some(list) = js.get_named_property::<Option<Vec<Object<'_>>>>("notifiers")? {
        for n in &list {
            user.notifier(port(n, &PortKind::NOTIFIER)?);
        }
    }
    if let Some(t) = js.get_named_property::<Option<Object<'_>>>("ticketing")? {
        user.ticketing(port(&t, &PortKind::TICKETING)?);
    }
    if let Some(a) = js.get_named_property::<Option<Object<'_>>>("artifacts")? {
        user.artifacts(port(&a, &PortKind::ARTIFACTS)?);
    }
    if let Some(b) = js.get_named_property::<Option<Object<'_>>>("backup")? {
        user.backup(port(&b, &PortKind::BACKUP)?);
    }
    Ok(user)
}

pub(crate) fn actor(
    config: &Option<Arc<Loaded>>,
    who: &napi::Either<Actor, String>,
) -> napi::Result<shipwarden::Actor> {
    match who {
        napi::Either::A(a) => {
            if a.user.trim().is_empty() {
                return Err(errors::invalid("an actor needs a user name"));
            }
            let roles = a.roles.iter().map(|r| parse::<shipwarden::Role>(r)).collect::<napi::Result<Vec<_>>>()?;
            let actor = shipwarden::Actor::new(a.user.clone(), roles);
            Ok(match &a.proof {
                Some(p) => actor.with_proof(platform_proof(p)?),
                None => actor,
            })
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

/// A proof an embedding platform verified itself (issue #19).
fn platform_proof(value: &serde_json::Value) -> napi::Result<shipwarden::Proof> {
    match value.get("kind").and_then(|k| k.as_str()) {
        Some("ssh_signature") => {
            return Err(errors::invalid(
                "proof: an SSH signature is verified against the configured keys: pass approve(…, { signature, statement })",
            ));
        }
        Some("rejected") => return Err(errors::invalid("proof: `rejected` is not a proof")),
        _ => {}
    }
    serde_json::from_value(value.clone()).map_err(|e| {
        errors::invalid(format!(
            "proof: {e}; expected {{ kind: 'token', id }}, {{ kind: 'oidc', issuer, subject }}, \
             {{ kind: 'chat', platform, user_id }} or {{ kind: 'local' }}"
        ))
    })
}

/// The role an approval is given in (R-2c): `role`, else as the policy chooses ([`shipwarden::Policy::approval_role`]).
pub(crate) fn approval_role(
    policy: &shipwarden::Policy,
    who: &shipwarden::Actor,
    approval: &shipwarden::ApprovalId,
    role: Option<&str>,
) -> napi::Result<shipwarden::Role> {
    let explicit = role.map(parse).transpose()?;
    policy.approval_role(who, approval, explicit).map_err(|e| errors::encode(&ErrorDoc::role(&e)))
}

pub(crate) fn plan(p: Plan) -> napi::Result<shipwarden::Plan> {
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

pub(crate) fn timestamp(text: &str) -> napi::Result<jiff::Timestamp> {
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
                let value: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| errors::invalid(format!("config: {e}")))?;
                let base = match &options.base_dir {
                    Some(b) => PathBuf::from(b),
                    None => std::env::current_dir().map_err(errors::invalid)?,
                };
                Some(Arc::new(Loaded::from_value(value, &base).map_err(errors::config)?.defer_secrets()))
            }
            Some(path) => {
                Some(Arc::new(Loaded::read(std::path::Path::new(&path)).map_err(errors::config)?.defer_secrets()))
            }
        };
        let js_ports = user_ports(&ports)?;
        env.spawn_future(async move {
            let dyn_clock = clock.clone().map(|c| c as Arc<dyn Clock>);
            let inner = match &loaded {
                Some(loaded) => {
                    let (mut builder, _) = loaded.builder(dyn_clock).await.map_err(errors::config)?;
                    js_ports.lay_over(builder.ports_mut());
                    builder.build()
                }
                None => {
                    let mut ports = default_ports("node");
                    js_ports.lay_over(&mut ports);
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
        Ok(Actor {
            user: a.user,
            roles: a.roles.iter().map(ToString::to_string).collect(),
            // The default (local, no OS user) is left out: `{ user, roles }` as before proofs.
            proof: (a.proof != shipwarden::Proof::default()).then(|| serde_json::to_value(&a.proof).ok()).flatten(),
        })
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

    /// The stages the policy declares, in order: the built-in ones and its own.
    #[napi]
    pub fn declared_stages(&self) -> Vec<String> {
        self.inner.policy().stages.iter().map(|s| s.name.to_string()).collect()
    }

    /// Plans a release (R-1a, R-3); `{ signature, statement }` (from
    /// `actionStatement(…, 'emergency_plan', justification)`) prove who plans
    /// an emergency release where `[identity]` asks for it (R-2d).
    #[napi]
    pub async fn plan(
        &self,
        actor: napi::Either<Actor, String>,
        plan: Plan,
        options: Option<crate::acting::SignedOptions>,
    ) -> napi::Result<Release> {
        let (who, plan) = (self::actor(&self.config, &actor)?, self::plan(plan)?);
        let reason = plan.hotfix.as_ref().map_or("", |h| h.justification.as_str()).to_owned();
        let who = self.acting(who, shipwarden::IdentityAction::EmergencyPlan, &plan.release, &reason, options).await?;
        let state = self.inner.plan(&who, plan).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// The configuration's project and SSH keys, which a signed approval needs.
    pub(crate) fn signing_config(&self) -> napi::Result<Arc<Loaded>> {
        self.config.clone().ok_or_else(|| {
            errors::invalid("a signed approval needs a configuration with [project] and the users' ssh_keys: open one")
        })
    }

    /// Records an approval (R-2c); `role` defaults to the first of the actor's roles the policy accepts for it.
    /// `signature` (an armored SSH signature, namespace `shipwarden`) and
    /// `statement` (the text it signs, from `approvalStatement`) prove who
    /// approves (issue #19, R-2d), verified against the configured users' keys
    /// as `shipwarden approve --signature` does.
    #[napi]
    pub async fn approve(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        approval: String,
        options: Option<ApproveOptions>,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let options = options.unwrap_or_default();
        let channel: Channel = parse(options.channel.as_deref().unwrap_or("api"))?;
        let (id, approval): (ReleaseId, shipwarden::ApprovalId) = (id(&release)?, parse(&approval)?);
        let role = approval_role(self.inner.policy(), &who, &approval, options.role.as_deref())?;
        let comment = options.comment.as_deref().unwrap_or("");
        let signed = crate::acting::SignedOptions { signature: options.signature, statement: options.statement };
        let what = (&id, &approval, &role, channel, comment);
        let who = self.approving(who, IdentityAction::Approve, what, signed).await?;
        let state = self.inner.approve(&id, &who, approval, role, channel, comment).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// The statement to sign for an approval (issue #19, R-2b): the exact bytes
    /// for `ssh-keygen -Y sign -n shipwarden` or `signStatement`, naming the
    /// release's current chain head. Needs a configuration.
    #[napi]
    pub async fn approval_statement(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        approval: String,
        options: Option<ApproveOptions>,
    ) -> napi::Result<String> {
        let who = self::actor(&self.config, &actor)?;
        let options = options.unwrap_or_default();
        let channel: Channel = parse(options.channel.as_deref().unwrap_or("api"))?;
        let (id, approval): (ReleaseId, shipwarden::ApprovalId) = (id(&release)?, parse(&approval)?);
        let role = approval_role(self.inner.policy(), &who, &approval, options.role.as_deref())?;
        let what = (&id, &approval, &role, channel, options.comment.as_deref().unwrap_or(""));
        Ok(self.approving_statement(&who, IdentityAction::Approve, what).await?.text())
    }

    /// Rejects an approval with a reason (R-2b, R-2c): the checks of an
    /// approval (the role, the proof `[identity] approve` asks for, separation
    /// of duties) apply; the rejection stands, blocking every transition that
    /// needs the approval, until the same person approves. `reason` is
    /// required; rejecting again before approving is refused. `signature` and
    /// `statement` (from `rejectionStatement`) prove who rejects (R-2d),
    /// verified as `shipwarden reject --signature` does; an approval's
    /// statement or signature does not prove a rejection.
    #[napi]
    pub async fn reject(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        approval: String,
        reason: String,
        options: Option<RejectOptions>,
    ) -> napi::Result<Release> {
        let who = self::actor(&self.config, &actor)?;
        let options = options.unwrap_or_default();
        let channel: Channel = parse(options.channel.as_deref().unwrap_or("api"))?;
        let (id, approval): (ReleaseId, shipwarden::ApprovalId) = (id(&release)?, parse(&approval)?);
        let role = approval_role(self.inner.policy(), &who, &approval, options.role.as_deref())?;
        let signed = crate::acting::SignedOptions { signature: options.signature, statement: options.statement };
        let what = (&id, &approval, &role, channel, reason.as_str());
        let who = self.approving(who, IdentityAction::Reject, what, signed).await?;
        let state = self.inner.reject(&id, &who, approval, role, channel, &reason).await.map_err(errors::engine)?;
        Ok(Release::from(state.as_ref()))
    }

    /// The statement to sign for a rejection of an approval (R-2c, R-2d):
    /// `shipwarden rejection statement v1`, the fields of an approval's
    /// statement with `reason` as the comment, naming the release's current
    /// chain head. Needs a configuration.
    #[napi]
    pub async fn rejection_statement(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        approval: String,
        reason: String,
        options: Option<RejectOptions>,
    ) -> napi::Result<String> {
        let who = self::actor(&self.config, &actor)?;
        let options = options.unwrap_or_default();
        let channel: Channel = parse(options.channel.as_deref().unwrap_or("api"))?;
        let (id, approval): (ReleaseId, shipwarden::ApprovalId) = (id(&release)?, parse(&approval)?);
        let role = approval_role(self.inner.policy(), &who, &approval, options.role.as_deref())?;
        let what = (&id, &approval, &role, channel, reason.as_str());
        Ok(self.approving_statement(&who, IdentityAction::Reject, what).await?.text())
    }

    /// The release's signed checkpoints, by sequence (R-9d); not verified here: see `verifyAudit`.
    #[napi]
    pub async fn checkpoints(&self, release: String) -> napi::Result<Vec<Checkpoint>> {
        let list = self.inner.checkpoints(&id(&release)?).await.map_err(errors::engine)?;
        Ok(list.iter().map(Checkpoint::from).collect())
    }

    /// Verifies the release's audit trail as `shipwarden audit --verify` does
    /// (R-9d): the chain, its signed checkpoints, `head` (a head hash known
    /// from elsewhere) and the listing row. Throws `IntegrityError` naming the
    /// sequence where they disagree.
    #[napi]
    pub async fn verify_audit(&self, release: String, options: Option<VerifyOptions>) -> napi::Result<AuditReport> {
        let id = id(&release)?;
        let options = options.unwrap_or(VerifyOptions { head: None, published: None, bundle: None });
        let head: Option<ChainHash> = options.head.as_deref().map(parse).transpose()?;
        let trusted: Vec<String> = match &self.config {
            Some(c) => c.config.evidence.public_key.iter().chain(&c.config.evidence.trusted_keys).cloned().collect(),
            None => Vec::new(),
        };
        // Heads published outside the store first, as `audit --verify --published` does: a rewrite is named against them.
        if let Some(text) = &options.published {
            self.verify_published(&id, text, &trusted).await?;
        }
        let (history, report) =
            verify_release(&self.inner, &id, &trusted, head.as_ref()).await.map_err(errors::verify)?;
        if let Some(bundle) = options.bundle {
            self.verify_bundle_head(&id, &history, bundle)?;
        }
        Ok(AuditReport::from(&report))
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

    /// Rolls the release back (R-8g); `{ signature, statement }` (from
    /// `actionStatement(…, 'rollback', reason)`) prove who rolls back where
    /// `[identity] rollback` asks for it (R-2d).
    #[napi]
    pub async fn rollback(
        &self,
        release: String,
        actor: napi::Either<Actor, String>,
        reason: String,
        options: Option<crate::acting::SignedOptions>,
    ) -> napi::Result<Release> {
        let rid = id(&release)?;
        let who = self::actor(&self.config, &actor)?;
        let who = self.acting(who, shipwarden::IdentityAction::Rollback, &rid, &reason, options).await?;
        let state = self.inner.rollback(&rid, &who, &reason).await.map_err(errors::engine)?;
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
        // A failed deployment rejects (issue #20): an AdapterError with the target's port error.
        let state = shipwarden_bindings::ops::deploy(&self.inner, &rid, &env).await.map_err(|d| errors::encode(&d))?;
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

/// Options of `approve` and `approvalStatement`.
#[napi(object)]
#[derive(Default)]
pub struct ApproveOptions {
    /// The role the approval is given in (default: the actor's only role).
    pub role: Option<String>,
    /// `ticket_comment`, `email`, `chat`, `cli` or `api` (default).
    pub channel: Option<String>,
    /// A comment.
    pub comment: Option<String>,
    /// An armored SSH signature (namespace `shipwarden`) over `statement` (issue #19, R-2d).
    pub signature: Option<String>,
    /// The statement `signature` signs, from `approvalStatement`.
    pub statement: Option<String>,
}

/// Options of `reject` and `rejectionStatement`.
#[napi(object)]
#[derive(Default)]
pub struct RejectOptions {
    /// The role the rejection is given in (default: the first of the actor's roles the policy accepts).
    pub role: Option<String>,
    /// `ticket_comment`, `email`, `chat`, `cli` or `api` (default).
    pub channel: Option<String>,
    /// An armored SSH signature (namespace `shipwarden`) over `statement` (R-2d).
    pub signature: Option<String>,
    /// The statement `signature` signs, from `rejectionStatement`.
    pub statement: Option<String>,
}

/// Options of `verifyAudit`.
#[napi(object)]
pub struct VerifyOptions {
    /// A head hash known from elsewhere (a ticket, the notes): the chain must end there.
    pub head: Option<String>,
    /// Signed heads published outside the store (R-9d): a `<release>.heads.json`, one checkpoint as
    /// JSON, or a release-ticket comment holding one. The chain must hold each of them.
    pub published: Option<String>,
    /// A signed evidence bundle (`evidenceBundle`): it must verify, and the chain must hold its head.
    #[napi(ts_type = "Record<string, unknown>")]
    pub bundle: Option<serde_json::Value>,
}

/// Signs `statement` with an SSH private key file (unencrypted), or with a
/// `.pub` file's private half held by ssh-agent: the armored signature
/// `approve(…, { signature })` takes. The same signing as `shipwarden approve --key`.
#[napi]
pub fn sign_statement(statement: String, key_file: String) -> napi::Result<String> {
    identity::sign_with_key_file(std::path::Path::new(&key_file), &statement).map_err(errors::invalid)
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
    let port = port(&target, &PortKind::TARGET)?;
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
