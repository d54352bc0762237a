//! `shipwarden.ReleaseManager`: the engine, opened from a `shipwarden.toml`,
//! a dict, or in memory, with ports written in Python added on top. Every
//! operation is a coroutine method (`await manager.run(id)`) with a sync
//! twin for scripts (`manager.run_sync(id)`).

// Methods mirror Python signatures with keyword arguments.
#![allow(clippy::too_many_arguments)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use shipwarden::audit::ChainHash;
use shipwarden::engine::ReleaseManager as RManager;
use shipwarden::machine::{Action, Evidence};
use shipwarden::ports::memory::MemoryStore;
use shipwarden::ports::{Clock, ReleaseQuery};
use shipwarden::{Actor as RActor, ApprovalId, Channel, EnvName, IdentityAction, ReleaseId, Role, StepOutcome};
use shipwarden_adapters::anchor::verify_release;
use shipwarden_adapters::config::Loaded;
use shipwarden_adapters::identity::{self, Acting, Approving};

use crate::convert::to_py;
use crate::convert::{Json, no_unknown_keys, parse, py_to_timestamp, py_to_value, timestamp_to_py};
use crate::errors::Error;
use crate::events::{EventStream, LogStream, Subscription};
use crate::exceptions::invalid;
use crate::ports::{EventLoop, PyPort, py_port};
use crate::types::{
    Actor, AuditEvent, AuditReport, Checkpoint, Plan, Policy, Release, ReleaseStatus, ReleaseSummary, RunOutcome,
    stage_arg,
};
use shipwarden_bindings::{PortKind, UserPorts, default_ports};

type BoxFut<T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>;

/// A clock that moves only when told to: for tests, rehearsals, and windows.
#[pyclass(module = "shipwarden", frozen)]
pub struct ManualClock(Arc<shipwarden::ports::ManualClock>);

#[pymethods]
impl ManualClock {
    #[new]
    fn new(at: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(ManualClock(Arc::new(shipwarden::ports::ManualClock::new(py_to_timestamp(at)?))))
    }

    /// The time it shows.
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.0.now())
    }

    /// Sets the time (an aware datetime or an RFC 3339 string).
    fn set(&self, at: &Bound<'_, PyAny>) -> PyResult<()> {
        self.0.set(py_to_timestamp(at)?);
        Ok(())
    }

    /// Moves the time forward by `seconds`.
    fn advance(&self, seconds: f64) -> PyResult<()> {
        let by = std::time::Duration::try_from_secs_f64(seconds)
            .map_err(|_| invalid(format!("cannot advance by {seconds} seconds")))?;
        self.0.advance(by);
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("ManualClock('{}')", self.0.now())
    }
}

/// Runs releases: plan, approve, record evidence, run, deploy, verify, roll back.
#[pyclass(module = "shipwarden", frozen)]
pub struct ReleaseManager {
    inner: RManager,
    event_loop: Arc<EventLoop>,
    config: Option<Arc<Loaded>>,
}

/// Reads `{env: port or [port, …]}`, adding each with `add`.
fn env_ports(
    obj: Option<&Bound<'_, PyDict>>,
    kind: &'static PortKind,
    event_loop: &Arc<EventLoop>,
    mut add: impl FnMut(&str, Arc<PyPort>) -> Result<(), shipwarden::ParseError>,
) -> PyResult<()> {
    let Some(dict) = obj else { return Ok(()) };
    for (env, items) in dict.iter() {
        let env: String =
            env.extract().map_err(|_| invalid(format!("{}s: environment names must be strings", kind.role)))?;
        let list: Vec<Bound<'_, PyAny>> =
            if items.is_instance_of::<PyList>() || items.is_instance_of::<pyo3::types::PyTuple>() {
                items.try_iter()?.collect::<PyResult<_>>()?
            } else {
                vec![items]
            };
        for item in list {
            add(&env, Arc::new(py_port(&item, kind, event_loop.clone())?)).map_err(invalid)?;
        }
    }
    Ok(())
}

/// The Python ports passed to `open`.
struct PyPorts<'a, 'py> {
    targets: Option<&'a Bound<'py, PyDict>>,
    checks: Option<&'a Bound<'py, PyDict>>,
    smoke: Option<&'a Bound<'py, PyDict>>,
    notifiers: Option<Vec<Bound<'py, PyAny>>>,
    ticketing: Option<&'a Bound<'py, PyAny>>,
    artifacts: Option<&'a Bound<'py, PyAny>>,
    backup: Option<&'a Bound<'py, PyAny>>,
}

impl PyPorts<'_, '_> {
    /// The ports to lay over the configured or default ones.
    fn user_ports(&self, event_loop: &Arc<EventLoop>) -> PyResult<UserPorts> {
        let mut user = UserPorts::default();
        env_ports(self.targets, &PortKind::TARGET, event_loop, |env, p| user.target(env, p))?;
        env_ports(self.checks, &PortKind::PROBE, event_loop, |env, p| user.check(env, p))?;
        env_ports(self.smoke, &PortKind::PROBE, event_loop, |env, p| user.smoke(env, p))?;
        for n in self.notifiers.iter().flatten() {
            user.notifier(Arc::new(py_port(n, &PortKind::NOTIFIER, event_loop.clone())?));
        }
        if let Some(t) = self.ticketing {
            user.ticketing(Arc::new(py_port(t, &PortKind::TICKETING, event_loop.clone())?));
        }
        if let Some(a) = self.artifacts {
            user.artifacts(Arc::new(py_port(a, &PortKind::ARTIFACTS, event_loop.clone())?));
        }
        if let Some(b) = self.backup {
            user.backup(Arc::new(py_port(b, &PortKind::BACKUP, event_loop.clone())?));
        }
        Ok(user)
    }
}

fn clock_arg(clock: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Arc<dyn Clock>>> {
    let Some(clock) = clock else { return Ok(None) };
    if let Ok(c) = clock.cast::<ManualClock>() {
        return Ok(Some(c.get().0.clone() as Arc<dyn Clock>));
    }
    Ok(Some(Arc::new(shipwarden::ports::ManualClock::new(py_to_timestamp(clock)?))))
}

/// Fails when an event loop runs in this thread: a sync twin would block it.
fn no_running_loop(py: Python<'_>, method: &str) -> PyResult<()> {
    let running = py.import("asyncio")?.call_method0("_get_running_loop")?;
    if running.is_none() {
        Ok(())
    } else {
        Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "{method}_sync() would block the running event loop: use `await manager.{method}(...)` inside a coroutine"
        )))
    }
}

/// Runs `fut` on the shared runtime with the GIL released.
fn block_on<T: Send>(py: Python<'_>, fut: BoxFut<T>) -> PyResult<T> {
    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(fut)).map_err(PyErr::from)
}

fn id(release: &str) -> PyResult<ReleaseId> {
    parse(release)
}

impl ReleaseManager {
    fn resolve_actor(&self, obj: &Bound<'_, PyAny>) -> PyResult<RActor> {
        if let Ok(a) = obj.cast::<Actor>() {
            return Ok(a.get().0.clone());
        }
        let name: String = obj.extract().map_err(|_| invalid("expected an Actor or a user name"))?;
        match &self.config {
            Some(config) => config.actor(&name).map_err(|e| match e {
                shipwarden_adapters::config::ConfigError::Invalid(message) => invalid(message),
                other => PyErr::from(Error::from(other)),
            }),
            None => Err(invalid(format!(
                "`{name}`: a user name needs a configuration with [users]; pass Actor('{name}', [roles]) instead"
            ))),
        }
    }

    fn spawn<'py, T>(&self, py: Python<'py>, fut: BoxFut<T>) -> PyResult<Bound<'py, PyAny>>
    where
        T: for<'a> IntoPyObject<'a> + Send + 'static,
    {
        let locals = pyo3_async_runtimes::tokio::get_current_locals(py)?;
        self.event_loop.set(locals);
        crate::bridge::future_into_py(py, async move { fut.await.map_err(PyErr::from) })
    }

    fn op_plan(
        &self,
        actor: &Bound<'_, PyAny>,
        plan: &Plan,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, plan) = (self.inner.clone(), plan.0.clone());
        if plan.kind != shipwarden::ReleaseKind::Emergency && (signature.is_some() || statement.is_some()) {
            return Err(invalid(
                "only an emergency plan is signed ([identity] emergency_plan): drop signature= and statement=, or plan kind='emergency'",
            ));
        }
        // The statement of an emergency plan gives the hotfix's justification as its reason, as `shipwarden plan` does.
        let reason = plan.hotfix.as_ref().map_or("", |h| h.justification.as_str()).to_owned();
        let release = plan.release.to_string();
        let acting =
            self.signed_actor(&release, actor, IdentityAction::EmergencyPlan, &reason, signature, statement)?;
        Ok(Box::pin(async move {
            let actor = acting.await?;
            Ok(Release(m.plan(&actor, plan).await?.as_ref().clone()))
        }))
    }

    /// The role an approval is given in (R-2c): `role`, else as the policy chooses ([`shipwarden::Policy::approval_role`]).
    fn approval_role(&self, actor: &RActor, approval: &ApprovalId, role: Option<&str>) -> PyResult<Role> {
        let explicit = role.map(parse).transpose()?;
        self.inner.policy().approval_role(actor, approval, explicit).map_err(invalid)
    }

    /// The configuration's project and SSH keys, which a signed approval needs.
    fn signing_config(&self) -> PyResult<Arc<Loaded>> {
        self.config.clone().ok_or_else(|| {
            invalid("a signed approval needs a configuration with [project] and the users' ssh_keys: open one")
        })
    }

    /// The statement approving (`action` `approve`) or rejecting (`reject`) an approval signs.
    fn op_statement(
        &self,
        action: IdentityAction,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        role: Option<&str>,
        channel: &str,
        comment: String,
    ) -> PyResult<BoxFut<String>> {
        let (m, id, actor, config) =
            (self.inner.clone(), id(release)?, self.resolve_actor(actor)?, self.signing_config()?);
        let (approval, channel): (ApprovalId, Channel) = (parse(approval)?, parse(channel)?);
        let role = self.approval_role(&actor, &approval, role)?;
        Ok(Box::pin(async move {
            let what = (&id, &approval, &role, channel, comment.as_str());
            Ok(approving_statement(&m, &config, action, what, &actor.user).await?.text())
        }))
    }

    /// An approval (`IdentityAction::Approve`) or its rejection (`Reject`, the comment being the reason):
    /// the role the policy accepts, the proof a signature gives, then the engine's one call. An
    /// approval's signed statement does not verify against a rejection's (another header): refused (R-2d).
    #[allow(clippy::too_many_arguments)]
    fn op_decision(
        &self,
        verdict: IdentityAction,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        role: Option<&str>,
        channel: &str,
        comment: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let approval: ApprovalId = parse(approval)?;
        let role = self.approval_role(&actor, &approval, role)?;
        let channel: Channel = parse(channel)?;
        let signed = self.signed_arg(signature, statement)?;
        Ok(Box::pin(async move {
            let what = (&id, &approval, &role, channel, comment.as_str());
            let actor = with_approving_proof(&m, actor, verdict, what, signed).await?;
            let state = if verdict == IdentityAction::Reject {
                m.reject(&id, &actor, approval, role, channel, &comment).await?
            } else {
                m.approve(&id, &actor, approval, role, channel, &comment).await?
            };
            Ok(Release(state.as_ref().clone()))
        }))
    }

    /// `signature=` and `statement=`, which go together, with the configuration that verifies them.
    fn signed_arg(&self, signature: Option<String>, statement: Option<String>) -> PyResult<Option<Signed>> {
        match (signature, statement) {
            (Some(signature), Some(statement)) => {
                Ok(Some(Signed { config: self.signing_config()?, signature, statement }))
            }
            (None, None) => Ok(None),
            _ => Err(invalid("signature= and statement= go together: the signature and the statement it signs")),
        }
    }

    fn op_checkpoints(&self, release: &str) -> PyResult<BoxFut<Vec<Checkpoint>>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Ok(m.checkpoints(&id).await?.into_iter().map(Checkpoint).collect()) }))
    }

    fn op_verify_audit(&self, release: &str, head: Option<&str>) -> PyResult<BoxFut<AuditReport>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        let head: Option<ChainHash> = head.map(parse).transpose()?;
        let trusted: Vec<String> = match &self.config {
            Some(c) => c.config.evidence.public_key.iter().chain(&c.config.evidence.trusted_keys).cloned().collect(),
            None => Vec::new(),
        };
        Ok(Box::pin(async move {
            let (_, report) = verify_release(&m, &id, &trusted, head.as_ref()).await?;
            Ok(AuditReport(report))
        }))
    }

    fn op_record_evidence(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        gate: &str,
        value: f64,
        source: String,
        environment: Option<&str>,
        target: Option<String>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let mut evidence = Evidence::new(parse(gate)?, value, source);
        evidence.environment = environment.map(parse).transpose()?;
        evidence.target = target;
        Ok(Box::pin(async move { Ok(Release(m.record_evidence(&id, &actor, evidence).await?.as_ref().clone())) }))
    }

    fn op_advance(&self, release: &str, actor: &Bound<'_, PyAny>, to: &Bound<'_, PyAny>) -> PyResult<BoxFut<Release>> {
        let (m, id, actor, to) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?, stage_arg(to)?);
        Ok(Box::pin(async move { Ok(Release(m.advance(&id, &actor, to).await?.as_ref().clone())) }))
    }

    fn op_schedule(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        environment: &str,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let (env, start, end) = (parse(environment)?, py_to_timestamp(start)?, py_to_timestamp(end)?);
        Ok(Box::pin(async move { Ok(Release(m.schedule(&id, &actor, env, start, end).await?.as_ref().clone())) }))
    }

    fn op_cancel(&self, release: &str, actor: &Bound<'_, PyAny>, reason: String) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        Ok(Box::pin(async move { Ok(Release(m.cancel(&id, &actor, &reason).await?.as_ref().clone())) }))
    }

    fn op_rollback(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, rid) = (self.inner.clone(), id(release)?);
        let acting = self.signed_actor(release, actor, IdentityAction::Rollback, &reason, signature, statement)?;
        Ok(Box::pin(async move {
            let actor = acting.await?;
            Ok(Release(m.rollback(&rid, &actor, &reason).await?.as_ref().clone()))
        }))
    }

    fn op_report_step(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        step: &str,
        environment: Option<&str>,
        ok: bool,
        detail: String,
        retryable: bool,
    ) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let (step, env) = (parse(step)?, environment.map(parse).transpose()?);
        let outcome = if ok { StepOutcome::ok(detail) } else { StepOutcome::failed(detail, retryable) };
        Ok(Box::pin(async move { Ok(Release(m.report_step(&id, &actor, step, env, outcome).await?.as_ref().clone())) }))
    }

    fn op_resolve(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        step: String,
        done: bool,
        reason: String,
    ) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        Ok(Box::pin(async move { Ok(Release(m.resolve(&id, &actor, &step, done, &reason).await?.as_ref().clone())) }))
    }

    fn op_status(&self, release: &str) -> PyResult<BoxFut<ReleaseStatus>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Ok(ReleaseStatus(m.status(&id).await?)) }))
    }

    fn op_history(&self, release: &str) -> PyResult<BoxFut<Vec<AuditEvent>>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Ok(m.history(&id).await?.into_iter().map(AuditEvent).collect()) }))
    }

    fn op_list(
        &self,
        project: Option<String>,
        stage: Option<&Bound<'_, PyAny>>,
        environment: Option<&str>,
        limit: Option<u32>,
    ) -> PyResult<BoxFut<Vec<ReleaseSummary>>> {
        let query = ReleaseQuery {
            project,
            stage: stage.map(stage_arg).transpose()?,
            environment: environment.map(parse).transpose()?,
            limit,
            ..ReleaseQuery::default()
        };
        let m = self.inner.clone();
        Ok(Box::pin(async move { Ok(m.list(&query).await?.into_iter().map(ReleaseSummary).collect()) }))
    }

    fn op_run(&self, release: &str, until: Option<&Bound<'_, PyAny>>) -> PyResult<BoxFut<RunOutcome>> {
        let (m, id, until) = (self.inner.clone(), id(release)?, until.map(stage_arg).transpose()?);
        Ok(Box::pin(async move { Ok(RunOutcome(m.run(&id, until).await?)) }))
    }

    fn op_verify(&self, release: &str) -> PyResult<BoxFut<RunOutcome>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Ok(RunOutcome(m.verify(&id).await?)) }))
    }

    fn op_deploy(&self, release: &str, environment: &str) -> PyResult<BoxFut<Release>> {
        let (m, id, env) = (self.inner.clone(), id(release)?, parse::<EnvName>(environment)?);
        Ok(Box::pin(async move {
            // A failed deployment raises (issue #20): the target's port error, not a normal return.
            let after = shipwarden_bindings::ops::deploy(&m, &id, &env).await.map_err(|d| Error::Doc(Box::new(d)))?;
            Ok(Release(after.as_ref().clone()))
        }))
    }

    fn op_notes(&self, release: &str) -> PyResult<BoxFut<String>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Ok(m.notes(&id).await?) }))
    }

    /// `at`, or the manager's clock now.
    fn at_or_now(&self, at: Option<&Bound<'_, PyAny>>) -> PyResult<jiff::Timestamp> {
        at.map_or_else(|| Ok(self.inner.clock().now()), py_to_timestamp)
    }

    fn op_due(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<BoxFut<Json>> {
        let (m, now) = (self.inner.clone(), self.at_or_now(now)?);
        Ok(Box::pin(async move {
            let due: Vec<serde_json::Value> = m
                .due(now)
                .await?
                .into_iter()
                .map(|(release, duty)| {
                    let mut value = serde_json::to_value(&duty).unwrap_or_default();
                    if let Some(map) = value.as_object_mut() {
                        map.insert("release".into(), serde_json::Value::String(release.to_string()));
                    }
                    value
                })
                .collect();
            Ok(Json(serde_json::Value::Array(due)))
        }))
    }

    fn op_run_due(&self, now: Option<&Bound<'_, PyAny>>) -> PyResult<BoxFut<Json>> {
        let (m, now) = (self.inner.clone(), self.at_or_now(now)?);
        Ok(Box::pin(async move { Json::of(&m.run_due(now).await?) }))
    }

    fn op_evidence_bundle(&self, release: &str) -> PyResult<BoxFut<Json>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Json::of(&m.evidence_bundle(&id).await?) }))
    }

    fn op_preview(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<BoxFut<Json>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let action = action_arg(action)?;
        let at = at.map(py_to_timestamp).transpose()?;
        Ok(Box::pin(async move { Json::of(&m.preview(&id, &actor, action, at).await?) }))
    }

    fn op_execute(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let action = action_arg(action)?;
        Ok(Box::pin(async move { Ok(Release(m.execute(&id, &actor, action).await?.as_ref().clone())) }))
    }

    fn op_findings(&self, release: &str) -> PyResult<BoxFut<Json>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Json::of(&m.state(&id).await?.findings) }))
    }

    /// The actor with the proof `signature` over `statement` gives for `action`, or as it is without them.
    fn signed_actor(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: IdentityAction,
        reason: &str,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<BoxFut<RActor>> {
        let (m, id, actor) = (self.inner.clone(), id(release)?, self.resolve_actor(actor)?);
        let signed = self.signed_arg(signature, statement)?;
        let reason = reason.to_owned();
        Ok(Box::pin(async move {
            let Some(Signed { config, signature, statement }) = signed else { return Ok(actor) };
            let role = identity::acting_role(m.policy(), &actor, action)
                .ok_or_else(|| Error::invalid(format!("{} holds no role", actor.user)))?;
            let what = Acting {
                action,
                project: &config.config.project.name,
                release: &id,
                role: &role,
                user: &actor.user,
                reason: &reason,
            };
            let expected = identity::action_statement(&m, &what).await?;
            let signers = config.signers()?;
            let proof = identity::proof_of_signature(&statement, &signature, &signers, &expected);
            Ok(actor.with_proof(proof))
        }))
    }

    fn op_action_statement(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &str,
        reason: String,
    ) -> PyResult<BoxFut<String>> {
        let (m, id, actor, config) =
            (self.inner.clone(), id(release)?, self.resolve_actor(actor)?, self.signing_config()?);
        let action: IdentityAction = parse(action)?;
        match action {
            IdentityAction::Approve => {
                return Err(invalid("an approval's statement comes from approval_statement(release, actor, approval)"));
            }
            IdentityAction::Reject => {
                return Err(invalid(
                    "a rejection's statement comes from rejection_statement(release, actor, approval, reason)",
                ));
            }
            _ => {}
        }
        let role = identity::acting_role(self.inner.policy(), &actor, action).ok_or_else(|| {
            invalid(format!(
                "`{action}` is signed by a rollback, override_window or emergency_plan actor; {} holds no role for it",
                actor.user
            ))
        })?;
        Ok(Box::pin(async move {
            let what = Acting {
                action,
                project: &config.config.project.name,
                release: &id,
                role: &role,
                user: &actor.user,
                reason: &reason,
            };
            Ok(identity::action_statement(&m, &what).await?.text())
        }))
    }

    fn op_override_window(
        &self,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<BoxFut<Release>> {
        let (m, rid) = (self.inner.clone(), id(release)?);
        let acting =
            self.signed_actor(release, actor, IdentityAction::OverrideWindow, &reason, signature, statement)?;
        Ok(Box::pin(async move {
            let actor = acting.await?;
            Ok(Release(m.override_window(&rid, &actor, &reason).await?.as_ref().clone()))
        }))
    }

    fn op_publish_heads(&self, release: &str) -> PyResult<BoxFut<Json>> {
        let (m, id) = (self.inner.clone(), id(release)?);
        Ok(Box::pin(async move { Json::of(&m.publish_heads(&id).await?) }))
    }

    fn op_lease(&self, name: String) -> PyResult<BoxFut<Json>> {
        let m = self.inner.clone();
        Ok(Box::pin(async move { Json::of(&m.lease(&name).await?) }))
    }

    fn op_default_scope(&self, version: &str) -> PyResult<BoxFut<Vec<String>>> {
        let (m, version): (_, shipwarden::Version) = (self.inner.clone(), parse(version)?);
        Ok(Box::pin(async move { Ok(m.default_scope(&version).await?.iter().map(ToString::to_string).collect()) }))
    }

    fn op_status_at(&self, release: &str, at: &Bound<'_, PyAny>) -> PyResult<BoxFut<ReleaseStatus>> {
        let (m, id, at) = (self.inner.clone(), id(release)?, py_to_timestamp(at)?);
        Ok(Box::pin(async move { Ok(ReleaseStatus(m.status_at(&id, at).await?)) }))
    }
}

/// A signature and the statement it signs, with the configuration (project, users' keys) to verify them.
struct Signed {
    config: Arc<Loaded>,
    signature: String,
    statement: String,
}

/// The release, approval, role, channel and comment of an approval or of its rejection.
type ApprovingParts<'a> = (&'a ReleaseId, &'a ApprovalId, &'a Role, Channel, &'a str);

/// `actor` with the proof `signed` gives for approving (`action` `approve`)
/// or rejecting (`reject`) an approval, verified through the adapters exactly
/// as `shipwarden approve --signature` and `shipwarden reject --signature`
/// do; `actor` as it is without a signature.
async fn with_approving_proof(
    m: &RManager,
    actor: RActor,
    action: IdentityAction,
    what: ApprovingParts<'_>,
    signed: Option<Signed>,
) -> Result<RActor, Error> {
    let Some(Signed { config, signature, statement }) = signed else { return Ok(actor) };
    let expected = approving_statement(m, &config, action, what, &actor.user).await?;
    let signers = config.signers()?;
    let proof = identity::proof_of_signature(&statement, &signature, &signers, &expected);
    Ok(actor.with_proof(proof))
}

/// The statement approving (`action` `approve`) or rejecting (`reject`) an
/// approval signs: `shipwarden approval statement v1` or `shipwarden
/// rejection statement v1`, so that neither can stand for the other (R-2d).
async fn approving_statement(
    m: &RManager,
    config: &Loaded,
    action: IdentityAction,
    (release, approval, role, channel, comment): ApprovingParts<'_>,
    user: &str,
) -> Result<shipwarden::Statement, Error> {
    let what = Approving { project: &config.config.project.name, release, approval, role, user, channel, comment };
    Ok(match action {
        IdentityAction::Reject => identity::rejection_statement(m, &what).await?,
        _ => identity::approval_statement(m, &what).await?,
    })
}

/// An `Action` from its dict (`{"action": "approve", "approval": "scope", ...}`, as `to_dict()` and the audit trail spell it).
fn action_arg(obj: &Bound<'_, PyAny>) -> PyResult<Action> {
    let value = py_to_value(obj, "action")?;
    let action: Action = serde_json::from_value(value.clone()).map_err(|e| invalid(format!("action: {e}")))?;
    no_unknown_keys(&value, &action, "action", "action")?;
    Ok(action)
}

#[pymethods]
impl ReleaseManager {
    /// Opens a manager.
    ///
    /// `config` is a `shipwarden.toml` path, a dict of the same shape (paths
    /// relative to `base_dir`), or None for an in-memory manager (memory
    /// store, builder, artifacts and backups: tests and tours). Python
    /// objects passed as ports are added on top: `targets` replace the
    /// configured targets of their environments; `checks`, `smoke` and
    /// `notifiers` are added; `ticketing`, `artifacts`, `backup` replace.
    #[staticmethod]
    #[pyo3(signature = (config = None, *, base_dir = None, policy = None, clock = None, targets = None, checks = None, smoke = None, notifiers = None, ticketing = None, artifacts = None, backup = None))]
    fn open(
        py: Python<'_>,
        config: Option<&Bound<'_, PyAny>>,
        base_dir: Option<PathBuf>,
        policy: Option<Policy>,
        clock: Option<&Bound<'_, PyAny>>,
        targets: Option<&Bound<'_, PyDict>>,
        checks: Option<&Bound<'_, PyDict>>,
        smoke: Option<&Bound<'_, PyDict>>,
        notifiers: Option<Vec<Bound<'_, PyAny>>>,
        ticketing: Option<&Bound<'_, PyAny>>,
        artifacts: Option<&Bound<'_, PyAny>>,
        backup: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let event_loop = Arc::new(EventLoop::default());
        let clock = clock_arg(clock)?;
        let user =
            PyPorts { targets, checks, smoke, notifiers, ticketing, artifacts, backup }.user_ports(&event_loop)?;
        let loaded = match config {
            None => None,
            Some(c) if c.is_instance_of::<PyDict>() => {
                let value = py_to_value(c, "")?;
                let base = match base_dir {
                    Some(b) => b,
                    None => std::env::current_dir().map_err(invalid)?,
                };
                Some(Loaded::from_value(value, &base).map_err(Error::from)?.defer_secrets())
            }
            Some(c) => {
                let path: PathBuf = c.extract().map_err(|_| invalid("config: expected a path, a dict or None"))?;
                Some(Loaded::read(&path).map_err(Error::from)?.defer_secrets())
            }
        };
        let inner = match &loaded {
            Some(loaded) => {
                if policy.is_some() {
                    return Err(invalid("policy= is for in-memory managers; put overrides in the config's [policy]"));
                }
                let fut = async { loaded.builder(clock).await.map_err(Error::from) };
                let (mut builder, _) =
                    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(fut)).map_err(PyErr::from)?;
                user.lay_over(builder.ports_mut());
                builder.build()
            }
            None => {
                let mut ports = default_ports("py");
                user.lay_over(&mut ports);
                let mut builder = RManager::builder(Arc::new(MemoryStore::new())).ports(ports);
                if let Some(p) = policy {
                    builder = builder.policy(p.0);
                }
                if let Some(c) = clock {
                    builder = builder.clock(c);
                }
                builder.build()
            }
        };
        Ok(ReleaseManager { inner, event_loop, config: loaded.map(Arc::new) })
    }

    /// The policy in force.
    #[getter]
    fn policy(&self) -> Policy {
        Policy(self.inner.policy().clone())
    }

    /// The actor for a user of the configuration (`[users.NAME]`).
    fn actor(&self, user: &Bound<'_, PyAny>) -> PyResult<Actor> {
        self.resolve_actor(user).map(Actor)
    }

    /// The time on the manager's clock.
    fn now<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        timestamp_to_py(py, self.inner.clock().now())
    }

    /// Plans a release (R-1a, R-3); the plan's version must be newer than the last release (R-4c).
    ///
    /// An emergency plan may be signed (`[identity] emergency_plan`, R-2d):
    /// `statement` from `action_statement(plan.release, actor,
    /// "emergency_plan", hotfix_justification)` and its `signature`.
    #[pyo3(signature = (actor, plan, *, signature = None, statement = None))]
    fn plan<'py>(
        &self,
        py: Python<'py>,
        actor: &Bound<'_, PyAny>,
        plan: PyRef<'_, Plan>,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_plan(actor, &plan, signature, statement)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `plan`, for scripts (not inside a running event loop).
    #[pyo3(signature = (actor, plan, *, signature = None, statement = None))]
    fn plan_sync(
        &self,
        py: Python<'_>,
        actor: &Bound<'_, PyAny>,
        plan: PyRef<'_, Plan>,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Release> {
        no_running_loop(py, "plan")?;
        let fut = self.op_plan(actor, &plan, signature, statement)?;
        block_on(py, fut)
    }

    /// Records an approval (R-2c): `approval` is `scope`, `qa_signoff`, `acceptance`, `emergency` or one the policy adds; `role` defaults to the first of the actor's roles the policy accepts for it.
    ///
    /// `signature` (an armored SSH signature, namespace `shipwarden`) and
    /// `statement` (the text it signs, from `approval_statement`) prove who
    /// approves (issue #19, R-2d): verified against the configured users'
    /// keys as `shipwarden approve --signature` does; one that does not verify is refused.
    #[pyo3(signature = (release, actor, approval, *, role = None, channel = "api", comment = String::new(), signature = None, statement = None), text_signature = "($self, release, actor, approval, *, role=None, channel='api', comment='', signature=None, statement=None)")]
    fn approve<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        role: Option<&str>,
        channel: &str,
        comment: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_decision(
            IdentityAction::Approve,
            release,
            actor,
            approval,
            role,
            channel,
            comment,
            signature,
            statement,
        )?;
        self.spawn(py, fut)
    }

    /// The sync twin of `approve`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, approval, *, role = None, channel = "api", comment = String::new(), signature = None, statement = None), text_signature = "($self, release, actor, approval, *, role=None, channel='api', comment='', signature=None, statement=None)")]
    fn approve_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        role: Option<&str>,
        channel: &str,
        comment: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Release> {
        no_running_loop(py, "approve")?;
        let fut = self.op_decision(
            IdentityAction::Approve,
            release,
            actor,
            approval,
            role,
            channel,
            comment,
            signature,
            statement,
        )?;
        block_on(py, fut)
    }

    /// The statement to sign for an approval (issue #19, R-2b): the exact
    /// bytes for `ssh-keygen -Y sign -n shipwarden` or `sign_statement`,
    /// naming the release's current chain head. Needs a configuration.
    #[pyo3(signature = (release, actor, approval, *, role = None, channel = "api", comment = String::new()), text_signature = "($self, release, actor, approval, *, role=None, channel='api', comment='')")]
    fn approval_statement<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        role: Option<&str>,
        channel: &str,
        comment: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_statement(IdentityAction::Approve, release, actor, approval, role, channel, comment)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `approval_statement`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, approval, *, role = None, channel = "api", comment = String::new()), text_signature = "($self, release, actor, approval, *, role=None, channel='api', comment='')")]
    fn approval_statement_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        role: Option<&str>,
        channel: &str,
        comment: String,
    ) -> PyResult<String> {
        no_running_loop(py, "approval_statement")?;
        let fut = self.op_statement(IdentityAction::Approve, release, actor, approval, role, channel, comment)?;
        block_on(py, fut)
    }

    /// Rejects an approval with a reason (R-2b, R-2c): the checks of an
    /// approval (the role, the proof `[identity] approve` asks for,
    /// separation of duties) apply; the rejection stands, blocking every
    /// transition that needs the approval, until the same person approves.
    /// `reason` is required; rejecting again before approving is refused.
    ///
    /// `signature` and `statement` (from `rejection_statement`) prove who
    /// rejects (R-2d), verified as `shipwarden reject --signature` does; an
    /// approval's statement or signature does not prove a rejection.
    #[pyo3(signature = (release, actor, approval, reason, *, role = None, channel = "api", signature = None, statement = None), text_signature = "($self, release, actor, approval, reason, *, role=None, channel='api', signature=None, statement=None)")]
    fn reject<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        reason: String,
        role: Option<&str>,
        channel: &str,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_decision(
            IdentityAction::Reject,
            release,
            actor,
            approval,
            role,
            channel,
            reason,
            signature,
            statement,
        )?;
        self.spawn(py, fut)
    }

    /// The sync twin of `reject`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, approval, reason, *, role = None, channel = "api", signature = None, statement = None), text_signature = "($self, release, actor, approval, reason, *, role=None, channel='api', signature=None, statement=None)")]
    fn reject_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        reason: String,
        role: Option<&str>,
        channel: &str,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Release> {
        no_running_loop(py, "reject")?;
        let fut = self.op_decision(
            IdentityAction::Reject,
            release,
            actor,
            approval,
            role,
            channel,
            reason,
            signature,
            statement,
        )?;
        block_on(py, fut)
    }

    /// The statement to sign for a rejection of an approval (R-2c, R-2d):
    /// `shipwarden rejection statement v1`, the fields of an approval's
    /// statement with `reason` as the comment, naming the release's current
    /// chain head. Needs a configuration.
    #[pyo3(signature = (release, actor, approval, reason, *, role = None, channel = "api"), text_signature = "($self, release, actor, approval, reason, *, role=None, channel='api')")]
    fn rejection_statement<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        reason: String,
        role: Option<&str>,
        channel: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_statement(IdentityAction::Reject, release, actor, approval, role, channel, reason)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `rejection_statement`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, approval, reason, *, role = None, channel = "api"), text_signature = "($self, release, actor, approval, reason, *, role=None, channel='api')")]
    fn rejection_statement_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        approval: &str,
        reason: String,
        role: Option<&str>,
        channel: &str,
    ) -> PyResult<String> {
        no_running_loop(py, "rejection_statement")?;
        let fut = self.op_statement(IdentityAction::Reject, release, actor, approval, role, channel, reason)?;
        block_on(py, fut)
    }

    /// The release's signed checkpoints, by sequence (R-9d); not verified here: see `verify_audit`.
    #[pyo3(signature = (release))]
    fn checkpoints<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_checkpoints(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `checkpoints`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn checkpoints_sync(&self, py: Python<'_>, release: &str) -> PyResult<Vec<Checkpoint>> {
        no_running_loop(py, "checkpoints")?;
        let fut = self.op_checkpoints(release)?;
        block_on(py, fut)
    }

    /// Verifies the release's audit trail as `shipwarden audit --verify` does
    /// (R-9d): the chain, its signed checkpoints, `head` (a head hash known
    /// from elsewhere) and the listing row. Raises `IntegrityError` naming the
    /// sequence where they disagree.
    #[pyo3(signature = (release, *, head = None))]
    fn verify_audit<'py>(&self, py: Python<'py>, release: &str, head: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_verify_audit(release, head)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `verify_audit`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, *, head = None))]
    fn verify_audit_sync(&self, py: Python<'_>, release: &str, head: Option<&str>) -> PyResult<AuditReport> {
        no_running_loop(py, "verify_audit")?;
        let fut = self.op_verify_audit(release, head)?;
        block_on(py, fut)
    }

    /// Records a measured value for a gate (R-7g), judged against the policy's threshold.
    #[pyo3(signature = (release, actor, gate, value, source, *, environment = None, target = None))]
    fn record_evidence<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        gate: &str,
        value: f64,
        source: String,
        environment: Option<&str>,
        target: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_record_evidence(release, actor, gate, value, source, environment, target)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `record_evidence`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, gate, value, source, *, environment = None, target = None))]
    fn record_evidence_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        gate: &str,
        value: f64,
        source: String,
        environment: Option<&str>,
        target: Option<String>,
    ) -> PyResult<Release> {
        no_running_loop(py, "record_evidence")?;
        let fut = self.op_record_evidence(release, actor, gate, value, source, environment, target)?;
        block_on(py, fut)
    }

    /// Moves the release to a stage, if the policy allows it now.
    #[pyo3(signature = (release, actor, to))]
    fn advance<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_advance(release, actor, to)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `advance`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, to))]
    fn advance_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        to: &Bound<'_, PyAny>,
    ) -> PyResult<Release> {
        no_running_loop(py, "advance")?;
        let fut = self.op_advance(release, actor, to)?;
        block_on(py, fut)
    }

    /// Books a deployment window for an environment (R-6a); conflicting bookings are refused (R-6e).
    #[pyo3(signature = (release, actor, environment, start, end))]
    fn schedule<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        environment: &str,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_schedule(release, actor, environment, start, end)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `schedule`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, environment, start, end))]
    fn schedule_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        environment: &str,
        start: &Bound<'_, PyAny>,
        end: &Bound<'_, PyAny>,
    ) -> PyResult<Release> {
        no_running_loop(py, "schedule")?;
        let fut = self.op_schedule(release, actor, environment, start, end)?;
        block_on(py, fut)
    }

    /// Cancels a release that has not reached production.
    #[pyo3(signature = (release, actor, reason))]
    fn cancel<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_cancel(release, actor, reason)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `cancel`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, reason))]
    fn cancel_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
    ) -> PyResult<Release> {
        no_running_loop(py, "cancel")?;
        let fut = self.op_cancel(release, actor, reason)?;
        block_on(py, fut)
    }

    /// Rolls the release back (R-8g): every production target, the database, the teams told.
    ///
    /// `signature` and `statement` (from `action_statement(release, actor,
    /// "rollback", reason)`) prove who rolls back, as `shipwarden rollback
    /// --signature` does (R-2d).
    #[pyo3(signature = (release, actor, reason, *, signature = None, statement = None))]
    fn rollback<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_rollback(release, actor, reason, signature, statement)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `rollback`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, reason, *, signature = None, statement = None))]
    fn rollback_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Release> {
        no_running_loop(py, "rollback")?;
        let fut = self.op_rollback(release, actor, reason, signature, statement)?;
        block_on(py, fut)
    }

    /// Reports a step people or another system performed (integration tests, a demo, a tag).
    #[pyo3(signature = (release, actor, step, *, environment = None, ok = true, detail = String::new(), retryable = false), text_signature = "($self, release, actor, step, *, environment=None, ok=True, detail='', retryable=False)")]
    fn report_step<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        step: &str,
        environment: Option<&str>,
        ok: bool,
        detail: String,
        retryable: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_report_step(release, actor, step, environment, ok, detail, retryable)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `report_step`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, step, *, environment = None, ok = true, detail = String::new(), retryable = false), text_signature = "($self, release, actor, step, *, environment=None, ok=True, detail='', retryable=False)")]
    fn report_step_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        step: &str,
        environment: Option<&str>,
        ok: bool,
        detail: String,
        retryable: bool,
    ) -> PyResult<Release> {
        no_running_loop(py, "report_step")?;
        let fut = self.op_report_step(release, actor, step, environment, ok, detail, retryable)?;
        block_on(py, fut)
    }

    /// Says how a step in doubt ended (R-9d), after checking its target: `done=True` when its work is done,
    /// False when it failed (the release then undoes it). `step` is the step's key (`Release.in_doubt`,
    /// or `Unmet.step` of a `step_in_doubt` refusal); needs a role that may roll back, and a reason.
    #[pyo3(signature = (release, actor, step, *, done, reason))]
    fn resolve<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        step: String,
        done: bool,
        reason: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_resolve(release, actor, step, done, reason)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `resolve`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, step, *, done, reason))]
    fn resolve_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        step: String,
        done: bool,
        reason: String,
    ) -> PyResult<Release> {
        no_running_loop(py, "resolve")?;
        let fut = self.op_resolve(release, actor, step, done, reason)?;
        block_on(py, fut)
    }

    /// The release's state and what each way forward still needs.
    #[pyo3(signature = (release))]
    fn status<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_status(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `status`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn status_sync(&self, py: Python<'_>, release: &str) -> PyResult<ReleaseStatus> {
        no_running_loop(py, "status")?;
        let fut = self.op_status(release)?;
        block_on(py, fut)
    }

    /// The release's audit trail, oldest first.
    #[pyo3(signature = (release))]
    fn history<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_history(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `history`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn history_sync(&self, py: Python<'_>, release: &str) -> PyResult<Vec<AuditEvent>> {
        no_running_loop(py, "history")?;
        let fut = self.op_history(release)?;
        block_on(py, fut)
    }

    /// Releases in the store, filtered.
    #[pyo3(signature = (*, project = None, stage = None, environment = None, limit = None))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        project: Option<String>,
        stage: Option<&Bound<'_, PyAny>>,
        environment: Option<&str>,
        limit: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_list(project, stage, environment, limit)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `list`, for scripts (not inside a running event loop).
    #[pyo3(signature = (*, project = None, stage = None, environment = None, limit = None))]
    fn list_sync(
        &self,
        py: Python<'_>,
        project: Option<String>,
        stage: Option<&Bound<'_, PyAny>>,
        environment: Option<&str>,
        limit: Option<u32>,
    ) -> PyResult<Vec<ReleaseSummary>> {
        no_running_loop(py, "list")?;
        let fut = self.op_list(project, stage, environment, limit)?;
        block_on(py, fut)
    }

    /// Runs the release as far as it can go (or to `until`): builds, deploys, checks; stops when it needs people.
    #[pyo3(signature = (release, until = None))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        until: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_run(release, until)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `run`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, until = None))]
    fn run_sync(&self, py: Python<'_>, release: &str, until: Option<&Bound<'_, PyAny>>) -> PyResult<RunOutcome> {
        no_running_loop(py, "run")?;
        let fut = self.op_run(release, until)?;
        block_on(py, fut)
    }

    /// Runs the production verification (smoke tests, R-8f) and releases, or rolls back (R-8g).
    #[pyo3(signature = (release))]
    fn verify<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_verify(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `verify`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn verify_sync(&self, py: Python<'_>, release: &str) -> PyResult<RunOutcome> {
        no_running_loop(py, "verify")?;
        let fut = self.op_verify(release)?;
        block_on(py, fut)
    }

    /// Deploys the release to one environment now, and returns the release.
    #[pyo3(signature = (release, environment))]
    fn deploy<'py>(&self, py: Python<'py>, release: &str, environment: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_deploy(release, environment)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `deploy`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, environment))]
    fn deploy_sync(&self, py: Python<'_>, release: &str, environment: &str) -> PyResult<Release> {
        no_running_loop(py, "deploy")?;
        let fut = self.op_deploy(release, environment)?;
        block_on(py, fut)
    }

    /// The release notes, as Markdown, from the commits since the last release.
    #[pyo3(signature = (release))]
    fn notes<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_notes(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `notes`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn notes_sync(&self, py: Python<'_>, release: &str) -> PyResult<String> {
        no_running_loop(py, "notes")?;
        let fut = self.op_notes(release)?;
        block_on(py, fut)
    }

    /// Overrides blackout windows and freezes for this release, with a
    /// reason, by a role the calendar policy names (R-6b). `signature` and
    /// `statement` (from `action_statement(release, actor, "override_window",
    /// reason)`) prove who overrides when `[identity] override_window` wants it (R-2d).
    #[pyo3(signature = (release, actor, reason, *, signature = None, statement = None))]
    fn override_window<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_override_window(release, actor, reason, signature, statement)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `override_window`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, reason, *, signature = None, statement = None))]
    fn override_window_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        reason: String,
        signature: Option<String>,
        statement: Option<String>,
    ) -> PyResult<Release> {
        no_running_loop(py, "override_window")?;
        let fut = self.op_override_window(release, actor, reason, signature, statement)?;
        block_on(py, fut)
    }

    /// The statement to sign for a rollback, a window override or an
    /// emergency plan (`action` is `rollback`, `override_window` or
    /// `emergency_plan`; issue #19, R-2d), naming the release's current chain
    /// head and the clock now. Needs a configuration.
    #[pyo3(signature = (release, actor, action, reason))]
    fn action_statement<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &str,
        reason: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_action_statement(release, actor, action, reason)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `action_statement`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, action, reason))]
    fn action_statement_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &str,
        reason: String,
    ) -> PyResult<String> {
        no_running_loop(py, "action_statement")?;
        let fut = self.op_action_statement(release, actor, action, reason)?;
        block_on(py, fut)
    }

    /// Every duty due at `now` (default: the clock now) in every release
    /// that is not final, by due time: dicts with `release`, `key`, `kind`,
    /// `rule`, `due_at`, `deadline`, `subject`, `body`, ...
    #[pyo3(signature = (now = None))]
    fn due<'py>(&self, py: Python<'py>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_due(now)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `due`, for scripts (not inside a running event loop).
    #[pyo3(signature = (now = None))]
    fn due_sync<'py>(&self, py: Python<'py>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "due")?;
        let fut = self.op_due(now)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// Performs every duty due at `now` (default: the clock now), as
    /// `shipwarden tick` does: dicts with `release`, `duty`, `outcome` and
    /// `missed` (past its deadline: a finding was recorded, R-5c, R-6d).
    #[pyo3(signature = (now = None))]
    fn run_due<'py>(&self, py: Python<'py>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_run_due(now)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `run_due`, for scripts (not inside a running event loop).
    #[pyo3(signature = (now = None))]
    fn run_due_sync<'py>(&self, py: Python<'py>, now: Option<&Bound<'_, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "run_due")?;
        let fut = self.op_run_due(now)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// The release's evidence bundle (R-9d), signed when `[evidence]` has a
    /// key: a dict of the JSON `shipwarden evidence bundle` writes; check it with `verify_bundle`.
    #[pyo3(signature = (release))]
    fn evidence_bundle<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_evidence_bundle(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `evidence_bundle`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn evidence_bundle_sync<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "evidence_bundle")?;
        let fut = self.op_evidence_bundle(release)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// Verifies an evidence bundle (a dict from `evidence_bundle`, or its
    /// JSON text) as `shipwarden evidence verify` does: its signature, its
    /// chain and its checkpoints, against `public_key` (default: the
    /// configuration's `[evidence] public_key`). Returns what was verified,
    /// with its approvals and rejections (R-2c); raises `IntegrityError` when
    /// it does not verify (R-9d).
    #[pyo3(signature = (bundle, *, public_key = None))]
    fn verify_bundle<'py>(
        &self,
        py: Python<'py>,
        bundle: &Bound<'_, PyAny>,
        public_key: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = match bundle.extract::<String>() {
            Ok(text) => serde_json::from_str(&text).map_err(|e| invalid(format!("bundle: not JSON: {e}")))?,
            Err(_) => py_to_value(bundle, "bundle")?,
        };
        let signed: shipwarden::bundle::SignedBundle =
            serde_json::from_value(value).map_err(|e| invalid(format!("bundle: not an evidence bundle: {e}")))?;
        let pinned = self.config.as_ref().and_then(|c| c.config.evidence.public_key.clone());
        match shipwarden_adapters::bundle::verify(&signed, public_key.or(pinned).as_deref()) {
            Ok(v) => Json(serde_json::json!({
                "verified": true, "release": v.release, "head": v.head, "events": v.events,
                "public_key": v.public_key, "checkpoints": v.checkpoints,
                "approvals": v.approvals.iter().map(|a| serde_json::json!({
                    "sequence": a.sequence, "approval": a.approval, "user": a.user, "role": a.role,
                    "proof": a.proof, "fingerprint": a.fingerprint,
                })).collect::<Vec<_>>(),
                "rejections": shipwarden_bindings::ops::verified_rejections(&signed.bundle).into_iter().map(|r| serde_json::json!({
                    "sequence": r.sequence, "approval": r.approval, "user": r.user, "role": r.role,
                    "reason": r.reason, "at": r.at, "proof": r.proof, "fingerprint": r.fingerprint,
                })).collect::<Vec<_>>(),
            }))
            .into_pyobject(py),
            Err(e) => Err(crate::errors::integrity(
                format!("the evidence bundle does not verify (R-9d): {e}"),
                Some(signed.bundle.release.to_string()),
            )),
        }
    }

    /// What `action` (a dict, `{"action": "approve", "approval": "scope",
    /// "role": "product_owner", "channel": "api", "comment": ""}`, as the
    /// audit trail spells actions) by `actor` would record at `at` (default:
    /// now), decided exactly as the real call decides, with nothing appended:
    /// the events as dicts, or `RefusedError`. A dry run of any command.
    #[pyo3(signature = (release, actor, action, *, at = None))]
    fn preview<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_preview(release, actor, action, at)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `preview`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, action, *, at = None))]
    fn preview_sync<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "preview")?;
        let fut = self.op_preview(release, actor, action, at)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// Performs `action` (a dict, as `preview` takes) by `actor`: what every
    /// named method (`approve`, `advance`, ...) does underneath.
    #[pyo3(signature = (release, actor, action))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_execute(release, actor, action)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `execute`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, actor, action))]
    fn execute_sync(
        &self,
        py: Python<'_>,
        release: &str,
        actor: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<Release> {
        no_running_loop(py, "execute")?;
        let fut = self.op_execute(release, actor, action)?;
        block_on(py, fut)
    }

    /// What the audit trail shows went wrong without stopping the release (a
    /// missed deadline, a monitor's breach): dicts with `rule`, `step`, `detail`, `at`, ...
    #[pyo3(signature = (release))]
    fn findings<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_findings(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `findings`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn findings_sync<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "findings")?;
        let fut = self.op_findings(release)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// Publishes the release's chain heads to the configured anchors (R-9d)
    /// now, and returns where each went (dicts); the engine also publishes at each checkpoint.
    #[pyo3(signature = (release))]
    fn publish_heads<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_publish_heads(release)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `publish_heads`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release))]
    fn publish_heads_sync<'py>(&self, py: Python<'py>, release: &str) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "publish_heads")?;
        let fut = self.op_publish_heads(release)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// The checkpoints whose publication failed since the last call, as
    /// messages (a warning to show; `publish_heads` tries again).
    fn take_unpublished(&self) -> Vec<String> {
        self.inner.take_unpublished().iter().map(ToString::to_string).collect()
    }

    /// The public key (ed25519, hex) checkpoints are signed with, if any.
    fn signing_key(&self) -> Option<String> {
        self.inner.signing_key()
    }

    /// This manager's driver id (`host:pid-random`): the start of the holder of every lease it takes (see `lease`).
    #[getter]
    fn driver(&self) -> String {
        self.inner.driver().to_owned()
    }

    /// Who holds lease `name` (`release:ID`, `env:NAME`) and until when, as a dict; None when free.
    #[pyo3(signature = (name))]
    fn lease<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_lease(name)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `lease`, for scripts (not inside a running event loop).
    #[pyo3(signature = (name))]
    fn lease_sync<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        no_running_loop(py, "lease")?;
        let fut = self.op_lease(name)?;
        block_on(py, fut)?.into_pyobject(py)
    }

    /// The ticket keys of the commits since the last release tag older than
    /// `version` (R-4a): the scope a plan gets when it names none. Empty without a VCS.
    #[pyo3(signature = (version))]
    fn default_scope<'py>(&self, py: Python<'py>, version: &str) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_default_scope(version)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `default_scope`, for scripts (not inside a running event loop).
    #[pyo3(signature = (version))]
    fn default_scope_sync(&self, py: Python<'_>, version: &str) -> PyResult<Vec<String>> {
        no_running_loop(py, "default_scope")?;
        let fut = self.op_default_scope(version)?;
        block_on(py, fut)
    }

    /// `status` as it would be judged at `at`: what each way forward would still need then.
    #[pyo3(signature = (release, at))]
    fn status_at<'py>(&self, py: Python<'py>, release: &str, at: &Bound<'_, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.op_status_at(release, at)?;
        self.spawn(py, fut)
    }

    /// The sync twin of `status_at`, for scripts (not inside a running event loop).
    #[pyo3(signature = (release, at))]
    fn status_at_sync(&self, py: Python<'_>, release: &str, at: &Bound<'_, PyAny>) -> PyResult<ReleaseStatus> {
        no_running_loop(py, "status_at")?;
        let fut = self.op_status_at(release, at)?;
        block_on(py, fut)
    }

    /// Whom to call after `outcome` (R-2e): the escalation contacts (dicts)
    /// when the run failed or rolled back, none otherwise.
    fn escalation_for<'py>(&self, py: Python<'py>, outcome: PyRef<'_, RunOutcome>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.escalation_for(&outcome.0))
    }

    /// The audit events appended from now on: `async for event in manager.events()`.
    fn events(&self) -> EventStream {
        EventStream::new(self.inner.subscribe())
    }

    /// The step log lines written from now on: `async for line in manager.logs()`.
    fn logs(&self) -> LogStream {
        LogStream::new(self.inner.subscribe_logs())
    }

    /// Calls `callback(event)` with each audit event appended from now on,
    /// until the `Subscription` is closed: on the asyncio loop running now,
    /// if any, else on a runtime thread.
    fn on_event(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<Subscription> {
        crate::events::events_to(py, self.inner.subscribe(), callback)
    }

    /// Calls `callback(line)` with each step log line written from now on, until closed.
    fn on_log(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<Subscription> {
        crate::events::logs_to(py, self.inner.subscribe_logs(), callback)
    }

    fn __repr__(&self) -> String {
        let source = match &self.config {
            Some(c) => format!("config='{}'", c.base.display()),
            None => "in-memory".to_owned(),
        };
        format!("ReleaseManager({source})")
    }
}

/// Signs `statement` with an SSH private key file (unencrypted), or with a
/// `.pub` file's private half held by ssh-agent: the armored signature
/// `approve(signature=…)` takes. The same signing as `shipwarden approve --key`.
#[pyfunction]
pub fn sign_statement(statement: &str, key_file: PathBuf) -> PyResult<String> {
    identity::sign_with_key_file(&key_file, statement).map_err(invalid)
}
