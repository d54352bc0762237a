//! Driving a release: every automatic step up to the next human decision.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::steps::{Done, StepSpec};
use super::{EngineError, ReleaseManager};
use crate::machine::{Action, Evidence, Refusal, ReleaseState, StepOutcome};
use crate::model::{Actor, EnvName, GateId, ReleaseId, ReleaseKind, Stage, StepKind};
use crate::policy::{GateRequirement, StepRequirement, Transition};
use crate::ports::{Audience, BackupRef, BuildRequest, BuiltArtifact, Lookup, PortError, Probe};

/// What a release is waiting for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    /// The stage it waits in.
    pub stage: Stage,
    /// What advancing would still meet: every unmet requirement, by rule.
    pub refusal: Refusal,
    /// The steps that failed during this run and stayed failed (a failed
    /// deployment that was undone, a build that broke): the run ended in a
    /// failure, not merely waiting for people. Empty when nothing failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<crate::machine::StepRecord>,
}

/// A run that stopped on a failed step: the failure, and what the release
/// now waits for (trying the step again, or a person resolving it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The step that failed, and the port call that failed it.
    pub error: StepError,
    /// The stage it stays in, what advancing still needs, and every step that failed.
    #[serde(flatten)]
    pub waiting: Waiting,
}

/// A failed step, with the port error that failed it: which port, which
/// operation, the cause, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    /// The kind of step.
    pub step: StepKind,
    /// Its environment, if any.
    pub environment: Option<EnvName>,
    /// Its target, if any.
    pub target: Option<String>,
    /// The port or adapter that failed (`deploy-target web-1`), or `engine`
    /// when the engine or a person recorded the failure.
    pub port: String,
    /// The operation (`deploy`), or the step's name when no port call failed.
    pub operation: String,
    /// What happened.
    pub cause: String,
    /// True when trying again can help.
    pub retryable: bool,
}

impl StepError {
    /// The error of the most telling of `failed`: the first whose port call is
    /// known (a target's own step rather than its environment's), else the last.
    pub fn of(failed: &[&crate::machine::StepRecord]) -> Option<StepError> {
        let has_call =
            |r: &&&crate::machine::StepRecord| matches!(r.outcome, Some(StepOutcome::Failed { call: Some(_), .. }));
        let record = failed.iter().find(has_call).or_else(|| failed.last())?;
        let Some(StepOutcome::Failed { error, retryable, call }) = &record.outcome else { return None };
        let (port, operation, cause) = match call {
            Some(c) => (c.port.clone(), c.operation.clone(), c.cause.clone()),
            None => ("engine".to_owned(), record.step.to_string(), error.clone()),
        };
        Some(StepError {
            step: record.step.clone(),
            environment: record.environment.clone(),
            target: record.target.clone(),
            port,
            operation,
            cause,
            retryable: *retryable,
        })
    }
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.step)?;
        if let Some(env) = &self.environment {
            write!(f, " on {env}")?;
        }
        if let Some(target) = &self.target {
            write!(f, " ({target})")?;
        }
        write!(f, " failed: {} {}: {}", self.port, self.operation, self.cause)?;
        if self.retryable {
            write!(f, " (retryable)")?;
        }
        Ok(())
    }
}

impl RunOutcome {
    /// What the release waits for, when the run stopped waiting or on a failed step.
    pub fn waiting(&self) -> Option<&Waiting> {
        match self {
            RunOutcome::Waiting(w) | RunOutcome::Failed(Failure { waiting: w, .. }) => Some(w),
            _ => None,
        }
    }
}

/// Where [`ReleaseManager::run`] stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RunOutcome {
    /// It reached the stage asked for.
    Reached {
        /// The stage.
        stage: Stage,
    },
    /// It needs people (approvals, evidence, an external step) or a window.
    Waiting(Waiting),
    /// A step failed during this run and stayed failed (a build that broke,
    /// a deployment that failed and was undone): the run stopped on it.
    Failed(Failure),
    /// A deployment or verification failed and the release was rolled back (R-8g).
    RolledBack {
        /// Why.
        reason: String,
        /// The port call that caused it, when a port's error did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<StepError>,
    },
    /// It is in a final stage.
    Final {
        /// The stage.
        stage: Stage,
    },
}

fn unmet_step(state: &ReleaseState, req: &StepRequirement) -> bool {
    let latest = state.latest_steps(&req.step, req.environment.as_ref());
    latest.is_empty() || latest.iter().any(|r| !r.outcome.as_ref().is_some_and(StepOutcome::succeeded))
}

fn unmet_gate(state: &ReleaseState, req: &GateRequirement, policy: &crate::policy::Policy) -> bool {
    let Some(rule) = policy.gates.get(&req.gate) else { return false };
    let latest = state.latest_results(&req.gate, req.environment.as_ref());
    latest.is_empty() || latest.iter().any(|r| !rule.threshold_for(r.target.as_deref()).passes(r.measured.value))
}

fn no_lookup() -> std::future::Ready<Result<Lookup<Done>, PortError>> {
    std::future::ready(Ok(Lookup::Unsupported))
}

impl ReleaseManager {
    /// Drives every automatic step of the release until it reaches `until`
    /// (or a final stage), or needs people. Holds the release's lease, so
    /// several drivers can call it at once: one works, the others wait and
    /// then find the work done.
    ///
    /// An `until` the policy does not declare is refused, naming the
    /// stages it does: a typo must not run the release on to the end.
    pub async fn run(&self, release: &ReleaseId, until: Option<Stage>) -> Result<RunOutcome, EngineError> {
        let (version, stage, current) = self
            .with_state(release, |s| {
                (
                    s.plan.as_ref().map(|p| p.version.to_string()),
                    s.stage.as_ref().map(ToString::to_string),
                    s.stage.clone(),
                )
            })
            .await?;
        if let Some(until) = until.as_ref().filter(|u| self.inner.policy.stage(u).is_none()) {
            let known: Vec<&str> = self.inner.policy.stages.iter().map(|s| s.name.as_str()).collect();
            return Err(EngineError::Refused(crate::machine::Refusal::new(
                current,
                format!("run until {until}"),
                vec![crate::machine::Unmet::new(
                    crate::rule::RuleId::R_3,
                    crate::machine::Requirement::Input {
                        field: "until".into(),
                        problem: format!("unknown stage `{until}`; the policy's stages are {}", known.join(", ")),
                    },
                )],
            )));
        }
        let span = tracing::info_span!(
            "run",
            release = %release,
            version = %version.as_deref().unwrap_or(""),
            stage = %stage.as_deref().unwrap_or("")
        );
        let run = async {
            self.invalidate(release).await;
            let before = self.cached(release).await?;
            let mut outcome = Box::pin(self.run_locked(release, until)).await?;
            if let RunOutcome::Waiting(waiting) = &mut outcome {
                let after = self.cached(release).await?;
                let failed = after.failed_since(&before);
                if let Some(error) = StepError::of(&failed) {
                    waiting.failed = failed.into_iter().cloned().collect();
                    outcome = RunOutcome::Failed(Failure { error, waiting: waiting.clone() });
                }
            }
            Ok(outcome)
        };
        self.with_lease(&format!("release:{release}"), run).instrument(span).await
    }

    /// The run itself, under the release's lease; `run` has just reloaded the state.
    async fn run_locked(&self, release: &ReleaseId, until: Option<Stage>) -> Result<RunOutcome, EngineError> {
        // The stages this call has been through: one call never enters a
        // stage twice (a policy whose graph loops is stopped and named, R-3).
        let mut visited: Vec<Stage> = Vec::new();
        loop {
            let (plan, stage) = self.with_state(release, |s| (s.plan.clone(), s.stage.clone())).await?;
            let (Some(plan), Some(stage)) = (plan, stage) else {
                return Err(EngineError::NotFound(release.clone()));
            };
            if visited.contains(&stage) {
                visited.push(stage.clone());
                let refusal = Refusal::new(
                    Some(stage.clone()),
                    format!("run {release}"),
                    vec![crate::machine::Unmet::new(
                        crate::RuleId::R_3,
                        crate::machine::Requirement::Cycle { path: visited },
                    )],
                );
                return Ok(RunOutcome::Waiting(Waiting { stage, refusal, failed: Vec::new() }));
            }
            visited.push(stage.clone());
            if self.inner.policy.is_final(&stage) {
                return Ok(RunOutcome::Final { stage });
            }
            if until.as_ref() == Some(&stage) {
                return Ok(RunOutcome::Reached { stage });
            }
            // Notices that came due (the all-teams notice of an emergency deployment, R-5c) go out as soon as due.
            self.perform_due(release, self.inner.clock.now()).await?;
            if stage == self.inner.policy.lifecycle.rolling_back {
                self.finish_rollback(release).await?;
                continue;
            }
            if self.inner.policy.lifecycle.close_from.contains(&stage) {
                match self.close_out(release).await {
                    // A duty still due (its notice failed) keeps the release open (R-9d).
                    Err(EngineError::Refused(refusal)) => {
                        return Ok(RunOutcome::Waiting(Waiting { stage, refusal, failed: Vec::new() }));
                    }
                    other => other?,
                }
                continue;
            }
            let candidates: Vec<Transition> =
                self.inner.policy.ways_forward(&stage, plan.kind).into_iter().map(|(_, t)| t.clone()).collect();
            let mut refusal = None;
            for t in &candidates {
                // A step the policy refuses to start (R-6e: the environment is
                // held by another release) leaves the release waiting.
                match Box::pin(self.prepare(release, t)).await {
                    Ok(()) => {}
                    Err(EngineError::Refused(r)) => {
                        refusal.get_or_insert(r);
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                let automation = self.inner.automation.clone();
                match self.commit(release, &automation, vec![Action::Advance { to: t.to.clone() }]).await {
                    Ok(_) => {
                        refusal = None;
                        break;
                    }
                    Err(EngineError::Refused(r)) => {
                        refusal.get_or_insert(r);
                    }
                    Err(e) => return Err(e),
                }
            }
            let Some(refusal) = refusal else { continue };
            if let Some((reason, error)) = self.failed_in_production(release, &stage, &refusal).await? {
                self.rollback_locked(release, &reason).await?;
                return Ok(RunOutcome::RolledBack { reason, error });
            }
            return Ok(RunOutcome::Waiting(Waiting { stage, refusal, failed: Vec::new() }));
        }
    }

    /// Why the release must roll back now, if it must: a failed production
    /// deployment or smoke test, or a missed smoke-test deadline (R-8f, R-8g);
    /// with the failed port call, when one caused it.
    async fn failed_in_production(
        &self,
        release: &ReleaseId,
        stage: &Stage,
        refusal: &Refusal,
    ) -> Result<Option<(String, Option<StepError>)>, EngineError> {
        if !self.inner.policy.lifecycle.rollback_from.contains(stage) {
            return Ok(None);
        }
        let state = self.cached(release).await?;
        let failed = state.steps.iter().rev().find(|s| {
            matches!(s.step, StepKind::Deploy | StepKind::SmokeTest | StepKind::Monitor)
                && s.target.is_none()
                && matches!(s.outcome, Some(StepOutcome::Failed { .. }))
                && s.started_at >= state.entered_at.get(stage).copied().unwrap_or(s.started_at)
        });
        if let Some(step) = failed {
            let error = match &step.outcome {
                Some(StepOutcome::Failed { error, .. }) => error.clone(),
                _ => String::new(),
            };
            // The target's own failed step, started with this one, names the port call.
            let related: Vec<&crate::machine::StepRecord> = state
                .steps
                .iter()
                .filter(|s| {
                    s.step == step.step
                        && s.environment == step.environment
                        && s.started_at >= step.started_at
                        && matches!(s.outcome, Some(StepOutcome::Failed { .. }))
                })
                .collect();
            let reason =
                format!("{} on {} failed: {error}", step.step, step.environment.as_ref().map_or("-", |e| e.as_str()));
            return Ok(Some((reason, StepError::of(&related))));
        }
        // A smoke test that ran in this stage and measured a failing value has failed (R-8f): roll
        // back now rather than at the deadline. The unmet gates of this transition are its smoke gates.
        let entered = state.entered_at.get(stage).copied();
        let smoke_ran = state.steps.iter().any(|s| {
            s.step == StepKind::SmokeTest
                && entered.is_none_or(|at| s.started_at >= at)
                && matches!(s.outcome, Some(StepOutcome::Succeeded { .. }))
        });
        let measured_failing = refusal.unmet.iter().find(|u| {
            matches!(&u.requirement, crate::machine::Requirement::Gate { environment: Some(_), measured: Some(_), .. })
        });
        if let (true, Some(u)) = (smoke_ran, measured_failing) {
            return Ok(Some((format!("smoke test failed: {}", u.requirement), None)));
        }
        let late = refusal.unmet.iter().find(|u| matches!(u.requirement, crate::machine::Requirement::Deadline { .. }));
        Ok(late.map(|u| (format!("{}", u.requirement), None)))
    }

    /// Verifies a release in `verifying` (R-8f): runs its smoke tests, and
    /// releases it if they pass within the deadline, or rolls it back (R-8g).
    /// Refused in any other stage.
    pub async fn verify(&self, release: &ReleaseId) -> Result<RunOutcome, EngineError> {
        let stage = self.with_state(release, |s| s.stage.clone()).await?;
        if stage.as_ref() != Some(&Stage::Verifying) {
            let unmet = vec![crate::machine::Unmet::new(
                crate::RuleId::R_8F,
                crate::machine::Requirement::Stage { expected: vec![Stage::Verifying] },
            )];
            return Err(EngineError::Refused(Refusal::new(stage, "verify", unmet)));
        }
        self.run(release, Some(Stage::Released)).await
    }

    /// Does what the engine can do by itself toward transition `t`.
    async fn prepare(&self, release: &ReleaseId, t: &Transition) -> Result<(), EngineError> {
        for req in &t.steps {
            if self.with_state(release, |state| unmet_step(state, req)).await? {
                Box::pin(self.perform(release, req)).await?;
                // A step that failed stops the transition's later steps (no deployment after a failed build).
                let failed = self.with_state(release, |state| {
                    state
                        .latest_steps(&req.step, req.environment.as_ref())
                        .iter()
                        .any(|r| matches!(r.outcome, Some(StepOutcome::Failed { .. })))
                });
                if failed.await? {
                    break;
                }
            }
        }
        let policy = self.inner.policy.clone();
        let (unmet, plan) = self
            .with_state(release, |state| {
                let unmet: Vec<GateRequirement> =
                    t.gates.iter().filter(|g| unmet_gate(state, g, &policy)).cloned().collect();
                (unmet, state.plan.clone())
            })
            .await?;
        let mut checked: Vec<EnvName> = Vec::new();
        // The history since the last release, read once for the gates that need it (R-4a, R-4d).
        let mut history: Option<Option<History>> = None;
        for req in &unmet {
            match (&req.gate, &req.environment) {
                (GateId::CriticalBugs, None) => {
                    if let Some(plan) = &plan {
                        self.measure_bugs(release, plan).await?;
                    }
                }
                (GateId::MigrationsRehearsed, None) => self.measure_migrations(release).await?,
                (GateId::DependencyDrift, None) => {
                    if let Some(plan) = &plan {
                        self.measure_dependencies(release, plan).await?;
                    }
                }
                (GateId::ArtifactVersion, None) => {
                    if let Some(plan) = &plan {
                        self.measure_artifact_version(release, plan).await?;
                    }
                }
                (GateId::UntrackedCommits | GateId::UnreviewedPulls, None) => {
                    if history.is_none() {
                        history = Some(self.vcs_history(plan.as_ref()).await?);
                    }
                    let history = history.as_ref().and_then(Option::as_ref);
                    if req.gate == GateId::UntrackedCommits {
                        self.measure_commits(release, history).await?;
                    } else {
                        self.measure_reviews(release, history).await?;
                    }
                }
                // Gates a smoke test of this transition measures are not pre-deployment checks.
                (_, Some(env))
                    if !checked.contains(env)
                        && self.inner.ports.checks.contains_key(env)
                        && !t
                            .steps
                            .iter()
                            .any(|s| s.step == StepKind::SmokeTest && s.environment.as_ref() == Some(env)) =>
                {
                    checked.push(env.clone());
                    let probes = self.inner.ports.checks.get(env).cloned().unwrap_or_default();
                    self.probe_step(release, StepKind::PreDeployChecks, env, &probes, None).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The key for the next run of a step: `prefix` plus a number. A run
    /// whose last attempt has no outcome yet (a process stopped in it) keeps
    /// its key, so that it is resolved instead of started again.
    pub(crate) fn step_key(state: &ReleaseState, prefix: &str) -> String {
        let runs: Vec<&str> =
            state.steps.iter().map(|s| s.key.as_str()).filter(|k| k.starts_with(prefix) && !k.contains('/')).collect();
        if let Some(last) = runs.last() {
            let mut attempts = state.steps.iter().filter(|s| s.key == *last || s.key.starts_with(&format!("{last}/")));
            if attempts.next_back().is_some_and(|s| s.outcome.is_none()) {
                return (*last).to_owned();
            }
        }
        format!("{prefix}{}", runs.len() + 1)
    }

    /// Runs one automatic step, or leaves it for people when no port can.
    async fn perform(&self, release: &ReleaseId, req: &StepRequirement) -> Result<(), EngineError> {
        let ports = &self.inner.ports;
        let state = self.cached(release).await?;
        let Some(plan) = state.plan.clone() else { return Err(EngineError::NotFound(release.clone())) };
        let env = req.environment.clone();
        let env_name = env.as_ref().map_or("-".to_owned(), ToString::to_string);
        match (&req.step, &env) {
            (StepKind::Build, _) => {
                let Some(builder) = ports.builder.clone() else { return Ok(()) };
                let spec = StepSpec::new(StepKind::Build, env, Self::step_key(&state, "build#")).idempotent();
                let request =
                    BuildRequest { release: release.clone(), version: plan.version.clone(), key: spec.key.clone() };
                drop(state);
                self.run_step(
                    release,
                    &spec,
                    |key, log| {
                        let (builder, request) = (builder.clone(), BuildRequest { key, ..request.clone() });
                        async move {
                            let built = builder.build(&request, &log).await?;
                            Ok((format!("built {} artifacts", built.len()), serde_json::to_value(&built).ok()))
                        }
                    },
                    |_| no_lookup(),
                )
                .await?;
            }
            (StepKind::PublishArtifact, _) => {
                let Some(store) = ports.artifacts.clone() else { return Ok(()) };
                let built: Vec<BuiltArtifact> = state
                    .steps
                    .iter()
                    .rev()
                    .filter(|s| s.step == StepKind::Build)
                    .find_map(|s| s.outcome.as_ref()?.output().and_then(|o| serde_json::from_value(o.clone()).ok()))
                    .unwrap_or_default();
                let known = state.artifacts.clone();
                let spec = StepSpec::new(StepKind::PublishArtifact, env, Self::step_key(&state, "publish#"))
                    .idempotent()
                    .follow_up(move |outcome| {
                        let refs: Vec<crate::model::ArtifactRef> =
                            outcome.output().and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
                        refs.into_iter().filter(|r| !known.contains(r)).map(Action::RecordArtifact).collect()
                    });
                let version = plan.version.clone();
                let meta = crate::ports::ArtifactMeta {
                    release: Some(release.clone()),
                    revision: None,
                    tickets: plan.scope.clone(),
                };
                let vcs = ports.vcs.clone();
                drop(state);
                self.run_step(
                    release,
                    &spec,
                    |_, log| {
                        let (store, built, version, vcs) = (store.clone(), built.clone(), version.clone(), vcs.clone());
                        let mut meta = meta.clone();
                        async move {
                            // The commit the tag will point at (the tag step follows), for stores that record it.
                            if let Some(vcs) = vcs {
                                meta.revision = vcs.head().await.ok();
                            }
                            let mut refs = Vec::new();
                            for b in &built {
                                let r = store.put_with(&b.name, &version, &b.path, &meta).await?;
                                log.line(
                                    crate::ports::LogStream::Info,
                                    format!("published {} {} sha256:{}", r.name, r.version, r.sha256),
                                );
                                refs.push(r);
                            }
                            if refs.is_empty() {
                                return Err(PortError::permanent(
                                    "artifact-store",
                                    "put",
                                    "the build produced no artifacts",
                                ));
                            }
                            Ok((format!("published {} artifacts", refs.len()), serde_json::to_value(&refs).ok()))
                        }
                    },
                    |_| no_lookup(),
                )
                .await?;
            }
            (StepKind::Tag, _) => {
                let Some(vcs) = ports.vcs.clone() else { return Ok(()) };
                let tag = plan.version.tag(&self.inner.policy.vcs.tag_prefix);
                let spec = StepSpec::new(StepKind::Tag, env, format!("tag:{tag}")).idempotent();
                let message = format!("{} {} ({})", plan.project, plan.version, plan.kind);
                drop(state);
                self.run_step(
                    release,
                    &spec,
                    |_, _| {
                        let (vcs, tag, message) = (vcs.clone(), tag.clone(), message.clone());
                        async move {
                            let head = vcs.head().await?;
                            vcs.create_tag(&tag, &message, &head).await?;
                            Ok((format!("tagged {head} as {tag}"), None))
                        }
                    },
                    |_| no_lookup(),
                )
                .await?;
            }
            (StepKind::Deploy, Some(env)) => {
                drop(state);
                self.deploy_env(release, env).await?;
            }
            (StepKind::Backup, Some(env)) => {
                let Some(backup) = ports.backup.clone() else { return Ok(()) };
                let spec = StepSpec::new(
                    StepKind::Backup,
                    Some(env.clone()),
                    Self::step_key(&state, &format!("backup:{env}#")),
                );
                let env = env.clone();
                drop(state);
                self.run_step(
                    release,
                    &spec,
                    |key, _| {
                        let (backup, env) = (backup.clone(), env.clone());
                        async move {
                            let b = backup.backup(&env, &key).await?;
                            Ok((format!("backup {} of {env}", b.id), serde_json::to_value(&b).ok()))
                        }
                    },
                    |key| {
                        let backup = backup.clone();
                        async move {
                            Ok(match backup.find(&key).await? {
                                Lookup::Done(b) => {
                                    Lookup::Done((format!("backup {}", b.id), serde_json::to_value(&b).ok()))
                                }
                                Lookup::NotFound => Lookup::NotFound,
                                Lookup::Unsupported => Lookup::Unsupported,
                            })
                        }
                    },
                )
                .await?;
            }
            (StepKind::RestoreTest, Some(env)) => {
                let Some(backup) = ports.backup.clone() else { return Ok(()) };
                let last: Option<BackupRef> =
                    state.steps.iter().rev().filter(|s| s.step == StepKind::Backup).find_map(|s| {
                        s.outcome.as_ref()?.output().and_then(|o| serde_json::from_value(o.clone()).ok())
                    });
                let Some(last) = last else { return Ok(()) };
                let key = Self::step_key(&state, &format!("restore-test:{env}#"));
                let spec = StepSpec::new(StepKind::RestoreTest, Some(env.clone()), key).idempotent();
                drop(state);
                self.run_step(
                    release,
                    &spec,
                    |_, _| {
                        let (backup, last) = (backup.clone(), last.clone());
                        async move { backup.verify(&last).await.map(|d| (d, None)) }
                    },
                    |_| no_lookup(),
                )
                .await?;
            }
            (StepKind::SmokeTest, Some(env)) => {
                // Production is watched through the verification window before its smoke tests (R-8e).
                let window = self.inner.policy.monitoring.verification_window.unsigned_abs();
                let production = self.inner.policy.environment(env).is_some_and(|e| e.production);
                let prefix = format!("monitor:verify:{env}#");
                let watched = state
                    .steps
                    .iter()
                    .any(|s| s.key.starts_with(&prefix) && s.outcome.as_ref().is_some_and(StepOutcome::succeeded));
                let key = Self::step_key(&state, &prefix);
                drop(state);
                if production && !watched && !window.is_zero() && ports.monitors.contains_key(env) {
                    let breach = Arc::new(super::evidence::Breach::default());
                    let watch = super::evidence::Watch::For(window);
                    let finding_key = key.clone();
                    if !self.monitor(release, env, key, watch, breach.clone()).await?.succeeded() {
                        // A sustained breach is the engine's verdict (R-8e), recorded as a finding.
                        if let Some(reason) = breach.get() {
                            self.find(release, &finding_key, crate::RuleId::R_8E, &reason).await?;
                        }
                        return Ok(());
                    }
                }
                let Some(probes) = ports.smoke.get(env).cloned() else { return Ok(()) };
                // R-8f: the smoke tests end within what is left of the transition's deadline.
                let within = self.deadline_left(release, env).await?;
                self.probe_step(release, StepKind::SmokeTest, env, &probes, within).await?;
            }
            _ => tracing::debug!(step = %req.step, environment = %env_name, "waiting for this step to be reported"),
        }
        Ok(())
    }

    /// What is left of the deadline of the transition that needs smoke tests
    /// on `env` from the release's stage (R-8f), measured from when the
    /// release entered the stage; none when no such transition has one.
    async fn deadline_left(
        &self,
        release: &ReleaseId,
        env: &EnvName,
    ) -> Result<Option<(String, std::time::Duration)>, EngineError> {
        let policy = self.inner.policy.clone();
        let now = self.inner.clock.now();
        self.with_state(release, |state| {
            let (Some(stage), Some(plan)) = (&state.stage, &state.plan) else { return None };
            let entered = state.entered_at.get(stage)?;
            policy.ways_forward(stage, plan.kind).into_iter().find_map(|(_, t)| {
                let name = t.deadline.as_ref()?;
                let smoke =
                    t.steps.iter().any(|r| r.step == StepKind::SmokeTest && r.environment.as_ref() == Some(env));
                let limit = policy.deadlines.get(name).filter(|_| smoke)?;
                let left = limit - now.duration_since(*entered);
                Some((name.clone(), left.max(jiff::SignedDuration::ZERO).unsigned_abs()))
            })
        })
        .await
    }

    /// Runs probes as one step; what they measured is recorded as evidence
    /// in the same append as the step's outcome. With `within`, the probes
    /// must end before that deadline (its name and what is left of it), or
    /// the step fails (R-8f).
    async fn probe_step(
        &self,
        release: &ReleaseId,
        step: StepKind,
        env: &EnvName,
        probes: &[Arc<dyn Probe>],
        within: Option<(String, std::time::Duration)>,
    ) -> Result<(), EngineError> {
        let until = within.as_ref().map(|(name, left)| (name.clone(), *left, tokio::time::Instant::now() + *left));
        let key = self.with_state(release, |state| Self::step_key(state, &format!("{step}:{env}#"))).await?;
        let env_for_evidence = env.clone();
        let spec = StepSpec::new(step.clone(), Some(env.clone()), key).idempotent().follow_up(move |outcome| {
            let measured: Vec<crate::ports::Measurement> =
                outcome.output().and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
            measured
                .into_iter()
                .map(|m| {
                    Action::RecordEvidence(Evidence {
                        gate: m.gate,
                        environment: Some(env_for_evidence.clone()),
                        target: m.target,
                        value: m.value,
                        source: m.source,
                        items: Vec::new(),
                    })
                })
                .collect()
        });
        let env_for_call = env.clone();
        self.run_step(
            release,
            &spec,
            |_, log| {
                let (probes, env, until) = (probes.to_vec(), env_for_call.clone(), until.clone());
                async move {
                    let checks = async {
                        let mut all = Vec::new();
                        for p in &probes {
                            let measured = p.check(&env).await?;
                            for m in &measured {
                                log.line(
                                    crate::ports::LogStream::Info,
                                    format!("{}: {} = {}", p.name(), m.gate, m.value),
                                );
                            }
                            all.extend(measured);
                        }
                        Ok::<_, PortError>(all)
                    };
                    let all = match until {
                        None => checks.await?,
                        Some((name, left, at)) => match tokio::time::timeout_at(at, checks).await {
                            Ok(all) => all?,
                            Err(_) => {
                                return Err(PortError::permanent(
                                    "engine",
                                    "smoke tests",
                                    format!(
                                        "did not finish within the deadline `{name}` ({:#} were left, R-8f)",
                                        jiff::SignedDuration::try_from(left).unwrap_or_default()
                                    ),
                                ));
                            }
                        },
                    };
                    Ok((
                        format!("{} measurements from {} probes", all.len(), probes.len()),
                        serde_json::to_value(&all).ok(),
                    ))
                }
            },
            |_| no_lookup(),
        )
        .await?;
        Ok(())
    }

    /// R-7b: open critical and high bugs in scope, asked of the ticketing system.
    async fn measure_bugs(&self, release: &ReleaseId, plan: &crate::model::Plan) -> Result<(), EngineError> {
        let Some(ticketing) = self.inner.ports.ticketing.clone() else { return Ok(()) };
        let severities = self.inner.policy.tickets.blocking_severities.clone();
        let bugs = ticketing.open_bugs_for(plan, &severities).await?;
        let keys: Vec<String> = bugs.iter().map(|b| b.key.to_string()).collect();
        let source = if keys.is_empty() {
            "ticketing: no open bugs in scope".to_owned()
        } else {
            format!("ticketing: {}", keys.join(", "))
        };
        let items = bugs
            .iter()
            .map(|b| match &b.severity {
                Some(severity) => format!("{} ({severity})", b.key),
                None => b.key.to_string(),
            })
            .collect();
        self.record(release, Evidence::new(GateId::CriticalBugs, bugs.len() as f64, source).with_items(items)).await
    }

    /// The commits since the release's last release tag (all, without one), and that tag's name;
    /// `None` without a repository or a plan.
    async fn vcs_history(&self, plan: Option<&crate::model::Plan>) -> Result<Option<History>, EngineError> {
        let (Some(vcs), Some(plan)) = (self.inner.ports.vcs.clone(), plan) else { return Ok(None) };
        let last =
            crate::changes::last_release_tag(&vcs.tags().await?, &self.inner.policy.vcs.tag_prefix, &plan.version)
                .map(|(_, name)| name);
        let commits = vcs.commits_since(last.as_deref()).await?;
        Ok(Some(History { commits, last }))
    }

    /// R-4a: commits since the last release tag without a ticket key.
    async fn measure_commits(&self, release: &ReleaseId, history: Option<&History>) -> Result<(), EngineError> {
        let Some(History { commits, last }) = history else { return Ok(()) };
        let changes: Vec<crate::changes::Change> = commits.iter().map(crate::changes::parse).collect();
        let untracked: Vec<String> = crate::changes::untracked(&changes, &self.inner.policy.vcs)
            .iter()
            .map(|c| format!("{} {}", c.short(), c.subject))
            .collect();
        let source = if untracked.is_empty() {
            format!(
                "vcs: {} commits since {}, all with ticket keys",
                commits.len(),
                last.as_deref().unwrap_or("the start")
            )
        } else {
            format!("vcs: {} commits since {}", commits.len(), last.as_deref().unwrap_or("the start"))
        };
        let count = untracked.len() as f64;
        self.record(release, Evidence::new(GateId::UntrackedCommits, count, source).with_items(untracked)).await
    }

    /// R-4d: pull requests merged since the last release tag (read from the
    /// merge commits' subjects) with fewer approving reviewers than the policy
    /// asks, as the VCS host tells. Without a repository, or a host that
    /// tells, the evidence says that nothing could be checked.
    async fn measure_reviews(&self, release: &ReleaseId, history: Option<&History>) -> Result<(), EngineError> {
        let min = self.inner.policy.vcs.min_reviewers;
        let (count, source, short) = match history {
            Some(History { commits, .. }) => {
                let pulls = crate::changes::pull_requests(commits);
                let mut short = Vec::new();
                let mut untold = 0;
                for pull in &pulls {
                    let told = match &self.inner.ports.ticketing {
                        Some(ticketing) => ticketing.reviewers(*pull).await?,
                        None => Lookup::Unsupported,
                    };
                    match told {
                        Lookup::Done(n) if n < min => short.push(format!("#{pull} ({n} of {min})")),
                        Lookup::Done(_) => {}
                        _ => untold += 1,
                    }
                }
                let source = if pulls.is_empty() {
                    "vcs: no pull requests merged since the last release".to_owned()
                } else if untold == pulls.len() {
                    format!("vcs: {} pull requests; the VCS host does not tell reviewers, not checked", pulls.len())
                } else if short.is_empty() {
                    format!("vcs host: {} pull requests, each with at least {min} approving reviewers", pulls.len())
                } else {
                    format!("vcs host: too few approving reviewers: {}", short.join(", "))
                };
                (short.len(), source, short)
            }
            None => (0, "no repository: pull requests not checked".to_owned(), Vec::new()),
        };
        self.record(release, Evidence::new(GateId::UnreviewedPulls, count as f64, source).with_items(short)).await
    }

    /// The release notes as they are (or will be) published (R-9b).
    pub async fn notes(&self, release: &ReleaseId) -> Result<String, EngineError> {
        let state = self.status(release).await?.state;
        self.release_notes(&state).await
    }

    /// The release's commits, newest first: since the last older release tag,
    /// up to its own tag when it exists. `None` without a repository.
    async fn release_commits(
        &self,
        plan: &crate::model::Plan,
    ) -> Result<Option<Vec<crate::ports::Commit>>, EngineError> {
        let Some(vcs) = self.inner.ports.vcs.clone() else { return Ok(None) };
        let prefix = &self.inner.policy.vcs.tag_prefix;
        let tags = vcs.tags().await?;
        let last = crate::changes::last_release_tag(&tags, prefix, &plan.version);
        let own = plan.version.tag(prefix);
        let to = tags.iter().any(|t| t.name == own).then_some(own);
        Ok(Some(vcs.commits_between(last.as_ref().map(|(_, n)| n.as_str()), to.as_deref()).await?))
    }

    /// The release's evidence bundle as of now (R-9d): built from its whole
    /// audit chain and its commits, signed when a signer is configured.
    pub async fn evidence_bundle(&self, release: &ReleaseId) -> Result<crate::bundle::SignedBundle, EngineError> {
        use crate::bundle::{BundleCommit, BundleSignature, EvidenceBundle};
        let chain = self.inner.store.load(release).await?;
        let plan = ReleaseState::from_events(chain.iter().map(|e| &e.event)).plan;
        let Some(plan) = plan else { return Err(EngineError::NotFound(release.clone())) };
        let commits = self
            .release_commits(&plan)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(|c| BundleCommit { sha: c.sha, subject: c.subject, author: c.author })
            .collect();
        let mut bundle = EvidenceBundle::build(&chain, commits, self.inner.clock.now())
            .map_err(|e| PortError::permanent("engine", "evidence bundle", e.to_string()))?;
        let events = chain.len() as u64;
        bundle.checkpoints =
            self.inner.store.checkpoints(release).await?.into_iter().filter(|c| c.sequence <= events).collect();
        let signature = match &self.inner.ports.signer {
            Some(signer) => Some(BundleSignature {
                algorithm: signer.algorithm().to_owned(),
                public_key: signer.public_key(),
                value: signer.sign(&bundle.message()).await?,
            }),
            None => None,
        };
        Ok(crate::bundle::SignedBundle { bundle, signature })
    }

    /// The release's notes: its commits since the last older release tag
    /// (up to its own tag when it exists), grouped and linked; open bugs in
    /// scope as known issues; the hotfix and the artifacts (R-9b, R-4b).
    async fn release_notes(&self, state: &ReleaseState) -> Result<String, EngineError> {
        let Some(plan) = &state.plan else { return Ok(String::new()) };
        let policy = &self.inner.policy;
        let links = crate::notes::Links::from_policy(policy);
        let mut changes = Vec::new();
        if let Some(commits) = self.release_commits(plan).await? {
            let parsed = commits.into_iter().rev().map(crate::changes::parse_owned).collect();
            changes = crate::changes::for_notes(parsed, &policy.vcs);
        } else if let Some(ticketing) = self.inner.ports.ticketing.clone() {
            // Without a repository, the scope's tickets are the changes.
            for key in &plan.scope {
                let summary = ticketing.get(key).await.map(|t| t.summary).unwrap_or_else(|_| key.to_string());
                // Read as a commit `KEY: summary`, so it is grouped by its wording like one.
                let commit = crate::ports::Commit {
                    sha: String::new(),
                    subject: format!("{key}: {summary}"),
                    body: String::new(),
                    author: String::new(),
                    parents: 1,
                };
                changes.push(crate::changes::parse_owned(commit));
            }
        }
        let mut known = Vec::new();
        if let Some(ticketing) = self.inner.ports.ticketing.clone() {
            let all: Vec<String> =
                ["critical", "high", "major", "medium", "minor", "low", "trivial"].map(String::from).into();
            for bug in ticketing.open_bugs_for(plan, &all).await? {
                known.push(crate::notes::KnownIssue { ticket: links.ticket(&bug.key), summary: bug.summary });
            }
        }
        let date = state
            .entered_at
            .get(&Stage::Released)
            .copied()
            .unwrap_or_else(|| self.inner.clock.now())
            .strftime("%Y-%m-%d")
            .to_string();
        let notes = crate::notes::ReleaseNotes::build(
            &plan.project,
            Some(plan.version.clone()),
            Some(date),
            &changes,
            known,
            &links,
        );
        let mut text = notes.to_markdown();
        if let Some(h) = &plan.hotfix {
            text.push_str(&format!("### Hotfix\n\n{} {}: {}\n\n", h.ticket, h.summary, h.justification));
        }
        if !state.artifacts.is_empty() {
            text.push_str("### Artifacts\n\n");
            for a in &state.artifacts {
                text.push_str(&format!("- {} {} sha256:{}\n", a.name, a.version, a.sha256));
            }
        }
        Ok(text)
    }

    /// Reports a step that people or another system performed (integration
    /// tests, a demo), so the release can move on.
    pub async fn report_step(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        step: StepKind,
        environment: Option<EnvName>,
        outcome: StepOutcome,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        let env = environment.as_ref().map_or("-".to_owned(), ToString::to_string);
        let prefix = format!("report:{step}:{env}#");
        // A report whose start was recorded by a process that then stopped is finished, not repeated.
        let (unfinished, next) = self
            .with_state(release, |state| {
                let unfinished = state.steps.iter().rev().find(|s| s.key.starts_with(&prefix) && s.outcome.is_none());
                (unfinished.map(|s| s.key.clone()), Self::step_key(state, &prefix))
            })
            .await?;
        let key = match unfinished {
            Some(key) => key,
            None => {
                let key = next;
                self.execute(
                    release,
                    actor,
                    Action::StartStep { step, environment, target: None, key: key.clone(), held: Vec::new() },
                )
                .await?;
                key
            }
        };
        self.execute(release, actor, Action::FinishStep { key, outcome, log: Vec::new() }).await
    }

    /// Rolls the release back (R-8g): every target of the environments it
    /// reached in production, the database, the teams told.
    pub async fn rollback(
        &self,
        release: &ReleaseId,
        actor: &Actor,
        reason: &str,
    ) -> Result<Arc<ReleaseState>, EngineError> {
        self.execute(release, actor, Action::BeginRollback { reason: reason.to_owned() }).await?;
        let this = self.clone();
        let release2 = release.clone();
        self.with_lease(&format!("release:{release}"), async move { this.finish_rollback(&release2).await }).await?;
        self.cached(release).await
    }

    async fn rollback_locked(&self, release: &ReleaseId, reason: &str) -> Result<(), EngineError> {
        let automation = self.inner.automation.clone();
        self.commit(release, &automation, vec![Action::BeginRollback { reason: reason.to_owned() }]).await?;
        self.finish_rollback(release).await
    }

    /// Undoes the production deployment and records the rollback's end.
    async fn finish_rollback(&self, release: &ReleaseId) -> Result<(), EngineError> {
        let state = self.cached(release).await?;
        let reason = state.rollback_reason.clone().unwrap_or_default();
        let steps: Vec<(Option<String>, String)> =
            state.steps.iter().map(|s| (s.target.clone(), s.key.clone())).collect();
        drop(state);
        let prod: Vec<EnvName> =
            self.inner.policy.environments.iter().filter(|e| e.production).map(|e| e.name.clone()).collect();
        let mut details = Vec::new();
        for env in prod {
            let prefix = format!("deploy:{env}#");
            let deployments =
                steps.iter().filter(|(target, key)| target.is_none() && key.starts_with(&prefix)).count() as u32;
            if deployments > 0 {
                details.push(Box::pin(self.undo_deployment(release, &env, deployments, &reason)).await?);
            }
        }
        let failed = details.iter().any(|d| d.contains("FAILED") || d.contains("rollback failures"));
        let detail =
            if details.is_empty() { "nothing was deployed to production".to_owned() } else { details.join("; ") };
        let automation = self.inner.automation.clone();
        self.execute(release, &automation, Action::FinishRollback { succeeded: !failed, detail: detail.clone() })
            .await?;
        if failed {
            return Err(PortError::permanent("engine", "rollback", detail).into());
        }
        Ok(())
    }

    /// After release: notes published (R-9b), people told (R-9a), the release
    /// ticket closed with the log summary and notes (R-9d), then closed.
    async fn close_out(&self, release: &ReleaseId) -> Result<(), EngineError> {
        let state = self.cached(release).await?;
        let Some(plan) = state.plan.clone() else { return Err(EngineError::NotFound(release.clone())) };
        let notes = self.release_notes(&state).await?;
        let summary = format!(
            "{} {} released: stages {}",
            plan.project,
            plan.version,
            state.path.iter().map(Stage::as_str).collect::<Vec<_>>().join(" -> ")
        );
        let ticket_closed = state
            .steps
            .iter()
            .any(|s| s.step == StepKind::CloseTicket && s.outcome.as_ref().is_some_and(StepOutcome::succeeded));
        drop(state);
        if let Some(publisher) = self.inner.ports.notes.clone() {
            let spec = StepSpec::new(StepKind::PublishNotes, None, "notes#1").idempotent();
            let (version, notes) = (plan.version.clone(), notes.clone());
            self.run_step(
                release,
                &spec,
                |_, _| {
                    let (publisher, version, notes, release) =
                        (publisher.clone(), version.clone(), notes.clone(), release.clone());
                    async move {
                        publisher
                            .publish(&release, &version, &notes)
                            .await
                            .map(|at| (format!("notes published at {at}"), None))
                    }
                },
                |_| no_lookup(),
            )
            .await?;
        }
        let mut audience = vec![Audience::Teams];
        match plan.kind {
            ReleaseKind::Major => audience.extend([Audience::Clients, Audience::Stakeholders]),
            ReleaseKind::Emergency => audience.push(Audience::Stakeholders),
            _ => {}
        }
        let (subject, body) = released_notice(&plan, &notes);
        if plan.hotfix.is_some() && !audience.contains(&Audience::Stakeholders) {
            audience.push(Audience::Stakeholders);
        }
        self.notify(release, "notify:released", &subject, &body, audience).await?;
        let bundle = self.write_bundle(release).await?;
        if let Some(ticketing) = self.inner.ports.ticketing.clone().filter(|_| !ticket_closed) {
            let spec = StepSpec::new(StepKind::CloseTicket, None, "close-ticket#1");
            let (plan2, body) = (plan.clone(), format!("{summary}\n\n{notes}"));
            let bundle = bundle.clone();
            let outcome = self
                .run_step(
                    release,
                    &spec,
                    |_, _| {
                        let (ticketing, plan, body) = (ticketing.clone(), plan2.clone(), body.clone());
                        let bundle = bundle.clone();
                        async move {
                            let key = ticketing.create_release_ticket(&plan).await?;
                            ticketing.comment(&key, &body).await?;
                            if let Some((name, bytes, at)) = &bundle {
                                ticketing.attach(&key, name, bytes, at).await?;
                            }
                            ticketing.transition(&key, "Done").await?;
                            Ok((format!("release ticket {key} closed"), serde_json::to_value(key.to_string()).ok()))
                        }
                    },
                    |_| no_lookup(),
                )
                .await?;
            if let StepOutcome::Failed { error, .. } = outcome {
                // The release stays released until its ticket is closed (or someone reports it closed).
                return Err(PortError::permanent("ticketing", "close release ticket", error).into());
            }
        }
        let automation = self.inner.automation.clone();
        self.commit(release, &automation, vec![Action::Close { summary }]).await?;
        Ok(())
    }
}

impl ReleaseManager {
    /// Writes the signed evidence bundle beside the notes, as a step (R-9d);
    /// returns its name, bytes and where it is kept, for the release ticket.
    async fn write_bundle(&self, release: &ReleaseId) -> Result<Option<(String, Vec<u8>, String)>, EngineError> {
        let Some(publisher) = self.inner.ports.notes.clone() else { return Ok(None) };
        let signed = self.evidence_bundle(release).await?;
        let bytes = serde_json::to_vec_pretty(&signed)
            .map_err(|e| PortError::permanent("engine", "evidence bundle", e.to_string()))?;
        let name = format!("{release}.evidence.json");
        let spec = StepSpec::new(StepKind::EvidenceBundle, None, "evidence-bundle#1").idempotent();
        let outcome = self
            .run_step(
                release,
                &spec,
                |_, _| {
                    let (publisher, release, name, bytes) =
                        (publisher.clone(), release.clone(), name.clone(), bytes.clone());
                    let head = signed.bundle.audit.head.clone();
                    let signed_by = signed.signature.as_ref().map_or("unsigned".to_owned(), |s| {
                        format!("{} {}", s.algorithm, &s.public_key[..16.min(s.public_key.len())])
                    });
                    async move {
                        let at = publisher.attach(&release, &name, &bytes).await?.unwrap_or_else(|| "not kept".into());
                        let digest = crate::model::Sha256::of(&bytes);
                        Ok((
                            format!("evidence bundle at {at}: sha256:{digest}, chain head {head}, {signed_by}"),
                            Some(serde_json::json!({ "at": at, "sha256": digest.to_string() })),
                        ))
                    }
                },
                |_| no_lookup(),
            )
            .await?;
        let at = outcome.output().and_then(|o| o["at"].as_str().map(str::to_owned));
        Ok(at.map(|at| (name, bytes, at)))
    }
}

/// The subject and body of the notice that a release is out (R-9a): for a
/// hotfix, the version, the emergency ticket and the justification come first.
pub(crate) fn released_notice(plan: &crate::model::Plan, notes: &str) -> (String, String) {
    match &plan.hotfix {
        Some(hotfix) => (
            format!("Hotfix released: {} {} ({})", plan.project, plan.version, hotfix.ticket),
            format!(
                "Hotfix {} of {} for {}: {}\nJustification: {}\n\n{notes}",
                plan.version, plan.project, hotfix.ticket, hotfix.summary, hotfix.justification
            ),
        ),
        None => (format!("Released {} {}", plan.project, plan.version), notes.to_owned()),
    }
}

/// What the repository holds since the last release.
struct History {
    /// Commits since the last release tag, newest first.
    commits: Vec<crate::ports::Commit>,
    /// The last release tag's name, if any.
    last: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Hotfix, Plan, ReleaseKind, Version};

    #[test]
    fn a_hotfix_notice_names_version_ticket_and_justification_r9a() {
        let mut plan =
            Plan::new("shop-1.4.1".parse().expect("id"), "shop", Version::new(1, 4, 1), ReleaseKind::Emergency);
        let (subject, body) = released_notice(&plan, "notes");
        assert_eq!((subject.as_str(), body.as_str()), ("Released shop 1.4.1", "notes"));
        plan.hotfix = Some(Hotfix {
            ticket: "SHOP-99".parse().expect("key"),
            summary: "HOTFIX: card payments fail".into(),
            justification: "checkout down for EU cards".into(),
        });
        let (subject, body) = released_notice(&plan, "## Fixes");
        assert_eq!(subject, "Hotfix released: shop 1.4.1 (SHOP-99)");
        assert!(body.starts_with("Hotfix 1.4.1 of shop for SHOP-99: HOTFIX: card payments fail\n"), "{body}");
        assert!(body.contains("Justification: checkout down for EU cards\n\n## Fixes"), "{body}");
    }
}
