//! Deployments to an environment's targets (R-8e): waves (canary first,
//! then the rest at a concurrency limit) under the environment's lease
//! (R-6e); on the first failure, stop, roll back every target already
//! deployed, restore the database, and notify (R-8g).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use super::steps::StepSpec;
use super::{EngineError, ReleaseManager};
use crate::machine::{Action, ReleaseState, StepOutcome};
use crate::model::{ArtifactRef, EnvName, ReleaseId, Stage, StepKind};
use crate::ports::{
    Audience, BackupRef, DeployRequest, DeployTarget, Lookup, Notice, PortError, ReleaseQuery, RollbackRequest,
};

/// The env-level deploy steps of `env`, and the number of the current deployment.
fn deployment_number(state: &ReleaseState, env: &EnvName) -> (u32, bool) {
    let prefix = format!("deploy:{env}#");
    let ours: Vec<_> = state.steps.iter().filter(|s| s.target.is_none() && s.key.starts_with(&prefix)).collect();
    match ours.last() {
        Some(last) if last.outcome.is_none() => (ours.len() as u32, true),
        _ => (ours.len() as u32 + 1, false),
    }
}

/// Asks a target what became of an idempotency key, in the step runner's terms.
async fn target_status(target: Arc<dyn DeployTarget>, key: String) -> Result<Lookup<super::steps::Done>, PortError> {
    Ok(match target.status(&key).await? {
        Lookup::Done(detail) => Lookup::Done((detail, None)),
        Lookup::NotFound => Lookup::NotFound,
        Lookup::Unsupported => Lookup::Unsupported,
    })
}

fn unsupported() -> Result<Lookup<super::steps::Done>, PortError> {
    Ok(Lookup::Unsupported)
}

impl ReleaseManager {
    /// Deploys the release to every target of `environment`, holding the
    /// environment's lease. Returns the outcome of the environment's deploy step.
    pub async fn deploy(&self, release: &ReleaseId, environment: &EnvName) -> Result<StepOutcome, EngineError> {
        self.with_lease(&format!("release:{release}"), self.deploy_env(release, environment)).await
    }

    pub(crate) async fn deploy_env(&self, release: &ReleaseId, env: &EnvName) -> Result<StepOutcome, EngineError> {
        let span = tracing::info_span!("deploy", release = %release, environment = %env);
        self.with_lease(&format!("env:{env}"), Box::pin(self.deploy_env_locked(release, env))).instrument(span).await
    }

    async fn deploy_env_locked(&self, release: &ReleaseId, env: &EnvName) -> Result<StepOutcome, EngineError> {
        let (n, resuming) = self.with_state(release, |state| deployment_number(state, env)).await?;
        let env_key = format!("deploy:{env}#{n}");
        let automation = self.inner.automation.clone();
        if !resuming {
            let action = Action::StartStep {
                step: StepKind::Deploy,
                environment: Some(env.clone()),
                target: None,
                key: env_key.clone(),
                held: self.held(release, env).await?,
            };
            self.commit(release, &automation, vec![action]).await?;
        }
        let targets: Vec<Arc<dyn DeployTarget>> = self.inner.ports.targets.get(env).cloned().unwrap_or_default();
        let outcome = if targets.is_empty() {
            StepOutcome::failed(format!("no deploy targets are configured for {env}"), false)
        } else if let Some(failed) = self.migrate(release, env, n).await? {
            StepOutcome::failed(failed, false)
        } else {
            Box::pin(self.deploy_watched(release, env, n, &targets)).await?
        };
        if outcome.succeeded() {
            self.record_dependencies(release, env, n).await?;
            self.record_settings(release, env, n).await?;
        }
        let action = Action::FinishStep { key: env_key, outcome: outcome.clone(), log: Vec::new() };
        self.commit(release, &automation, vec![action]).await?;
        Ok(outcome)
    }

    /// The holds other releases have on `env` (R-6e), read under its lease.
    async fn held(&self, release: &ReleaseId, env: &EnvName) -> Result<Vec<crate::machine::EnvHold>, EngineError> {
        let query = ReleaseQuery::default();
        Ok(self
            .inner
            .store
            .list(&query)
            .await?
            .into_iter()
            .filter(|s| &s.release != release && !self.inner.policy.is_final(&s.stage))
            .flat_map(|s| s.holds)
            .filter(|h| &h.environment == env)
            .collect())
    }

    /// Deploys to the targets while the environment's monitors are sampled
    /// (R-8e); on a failed target or a sustained breach, undoes what was
    /// deployed (R-8g).
    async fn deploy_watched(
        &self,
        release: &ReleaseId,
        env: &EnvName,
        n: u32,
        targets: &[Arc<dyn DeployTarget>],
    ) -> Result<StepOutcome, EngineError> {
        let breach = Arc::new(super::evidence::Breach::default());
        let failed = if self.inner.ports.monitors.contains_key(env) {
            let (done, watching) = tokio::sync::watch::channel(false);
            let deploying = async {
                breach.sampled.notified().await;
                let result = self.fan_out(release, env, n, targets, &breach).await;
                let _ = done.send(true);
                result
            };
            let watch = super::evidence::Watch::UntilDone(watching);
            let monitoring = async {
                let result = self.monitor(release, env, format!("monitor:{env}#{n}"), watch, breach.clone()).await;
                breach.sampled.notify_one();
                result
            };
            let (deployed, monitored) = tokio::join!(deploying, monitoring);
            let failed = deployed?;
            monitored?;
            // A sustained breach is the engine's verdict (R-8e): a finding, and the rollout stops.
            if let Some(reason) = breach.get() {
                self.find(release, &format!("monitor:{env}#{n}"), crate::RuleId::R_8E, &reason).await?;
            }
            failed.or_else(|| breach.get())
        } else {
            self.fan_out(release, env, n, targets, &breach).await?
        };
        let version = self.with_state(release, |s| s.plan.as_ref().map(|p| p.version.to_string())).await?;
        match failed {
            None => Ok(StepOutcome::ok(format!("{} targets on {}", targets.len(), version.unwrap_or_default()))),
            Some(error) => {
                let undone =
                    Box::pin(self.undo_deployment(release, env, n, &format!("deployment to {env} failed: {error}")))
                        .await?;
                Ok(StepOutcome::failed(format!("{error}; {undone}"), false))
            }
        }
    }

    /// Deploys to the targets in waves; stops at the first failure or a
    /// monitor's breach. Returns the first failure.
    async fn fan_out(
        &self,
        release: &ReleaseId,
        env: &EnvName,
        n: u32,
        targets: &[Arc<dyn DeployTarget>],
        breach: &Arc<super::evidence::Breach>,
    ) -> Result<Option<String>, EngineError> {
        // Take what is needed and let go of the state: holding it would make
        // every append during the rollout copy it.
        let (plan, artifacts) = self.with_state(release, |s| (s.plan.clone(), s.artifacts.clone())).await?;
        let Some(plan) = plan else { return Err(EngineError::NotFound(release.clone())) };
        let rollout = self.inner.policy.environment(env).map(|e| e.rollout).unwrap_or_default();
        let canary = (rollout.canary as usize).min(targets.len());
        let failed = Arc::new(AtomicBool::new(false));
        let mut first_error: Option<String> = None;
        let request = DeployRequest {
            release: release.clone(),
            version: plan.version.clone(),
            environment: env.clone(),
            artifacts,
            key: String::new(),
        };
        // After a restart, the targets a stopped driver had started are settled
        // first, one by one: one in doubt stops the rollout before any other
        // target is touched (R-9d, R-8e).
        let unfinished: Vec<&Arc<dyn DeployTarget>> = self
            .with_state(release, |s| {
                targets
                    .iter()
                    .filter(|t| {
                        let key = format!("deploy:{env}:{}#{n}", t.name());
                        s.steps
                            .iter()
                            .rev()
                            .find(|r| r.key == key || r.key.starts_with(&format!("{key}/")))
                            .is_some_and(|r| r.outcome.is_none())
                    })
                    .collect()
            })
            .await?;
        let mut doubt: Option<EngineError> = None;
        for target in unfinished {
            match self.clone().deploy_target(request.clone(), target.clone(), n).await {
                Ok(StepOutcome::Failed { error, .. }) => {
                    failed.store(true, Ordering::SeqCst);
                    first_error.get_or_insert(format!("{}: {error}", target.name()));
                }
                Ok(_) => {}
                Err(e) => {
                    doubt.get_or_insert(e);
                }
            }
        }
        if let Some(e) = doubt {
            return Err(e);
        }
        for wave in [&targets[..canary], &targets[canary..]] {
            if wave.is_empty() || failed.load(Ordering::SeqCst) || breach.get().is_some() {
                continue;
            }
            let limit = Arc::new(Semaphore::new(rollout.concurrency.max(1) as usize));
            let mut tasks = JoinSet::new();
            for target in wave {
                let (this, target, failed, limit) = (self.clone(), target.clone(), failed.clone(), limit.clone());
                let (breach, request) = (breach.clone(), request.clone());
                tasks.spawn(async move {
                    let Ok(_permit) = limit.acquire_owned().await else { return Ok(None) };
                    if failed.load(Ordering::SeqCst) || breach.get().is_some() {
                        return Ok(None);
                    }
                    let name = target.name().to_owned();
                    let outcome = this.deploy_target(request, target, n).await;
                    match outcome {
                        Ok(StepOutcome::Failed { error, .. }) => {
                            failed.store(true, Ordering::SeqCst);
                            Ok(Some(format!("{name}: {error}")))
                        }
                        Ok(_) => Ok(None),
                        Err(e) => {
                            failed.store(true, Ordering::SeqCst);
                            Err(e)
                        }
                    }
                });
            }
            // Every task of the wave ends before anything is decided: none is
            // dropped half-way (a dropped deploy would leave its target in doubt).
            let mut error: Option<EngineError> = None;
            while let Some(joined) = tasks.join_next().await {
                let result = joined
                    .map_err(|e| PortError::permanent("engine", "deploy", format!("a deploy task panicked: {e}")))?;
                match result {
                    Ok(Some(e)) => {
                        first_error.get_or_insert(e);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        error.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = error {
                return Err(e);
            }
        }
        Ok(first_error)
    }

    /// Deploys deployment `n` to one target as a step of its own (R-8e).
    async fn deploy_target(
        self,
        request: DeployRequest,
        target: Arc<dyn DeployTarget>,
        n: u32,
    ) -> Result<StepOutcome, EngineError> {
        let name = target.name().to_owned();
        let mut spec = StepSpec::new(
            StepKind::Deploy,
            Some(request.environment.clone()),
            format!("deploy:{}:{name}#{n}", request.environment),
        )
        .target(&name);
        // A target whose deploy may safely run twice says so; no other is run again after a crash.
        if target.idempotent() {
            spec = spec.idempotent();
        }
        self.run_step(
            &request.release,
            &spec,
            |key, log| {
                let (target, request) = (target.clone(), DeployRequest { key, ..request.clone() });
                async move { target.deploy(&request, &log).await.map(|d| (d, None)) }
            },
            |key| target_status(target.clone(), key),
        )
        .await
    }

    /// Rolls back every target that deployment `n` reached, restores the
    /// environment's database from its last backup, and tells the teams (R-8g).
    /// Each part is a step of its own, so a repeat does nothing twice.
    pub(crate) async fn undo_deployment(
        &self,
        release: &ReleaseId,
        env: &EnvName,
        n: u32,
        reason: &str,
    ) -> Result<String, EngineError> {
        let state = self.cached(release).await?;
        let targets: Vec<Arc<dyn DeployTarget>> = self.inner.ports.targets.get(env).cloned().unwrap_or_default();
        let deployed: Vec<Arc<dyn DeployTarget>> = targets
            .into_iter()
            .filter(|t| {
                let key = format!("deploy:{env}:{}#{n}", t.name());
                state.steps.iter().any(|s| {
                    (s.key == key || s.key.starts_with(&format!("{key}/")))
                        && s.outcome.as_ref().is_some_and(StepOutcome::succeeded)
                })
            })
            .collect();
        drop(state);
        let previous = self.previous_artifacts(release).await?;
        let mut tasks = JoinSet::new();
        for target in deployed.clone() {
            let this = self.clone();
            let request = RollbackRequest {
                release: release.clone(),
                environment: env.clone(),
                previous: previous.clone(),
                key: String::new(),
            };
            tasks.spawn(async move {
                let name = target.name().to_owned();
                let spec = StepSpec::new(
                    StepKind::Rollback,
                    Some(request.environment.clone()),
                    format!("rollback:{}:{name}#{n}", request.environment),
                )
                .target(&name);
                this.run_step(
                    &request.release,
                    &spec,
                    |key, log| {
                        let (target, request) = (target.clone(), RollbackRequest { key, ..request.clone() });
                        async move { target.rollback(&request, &log).await.map(|d| (d, None)) }
                    },
                    |key| target_status(target.clone(), key),
                )
                .await
            });
        }
        let mut rolled_back = 0;
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined
                .map_err(|e| PortError::permanent("engine", "rollback", format!("a rollback task panicked: {e}")))??
            {
                StepOutcome::Succeeded { .. } => rolled_back += 1,
                StepOutcome::Failed { error, .. } => failures.push(error),
            }
        }
        let restored = self.restore_database(release, env, n).await?;
        self.notify(
            release,
            &format!("notify:rollback:{env}#{n}"),
            &format!("Rollback on {env}"),
            reason,
            vec![Audience::Teams],
        )
        .await?;
        let mut summary = format!("rolled back {rolled_back} of {} deployed targets; {restored}", deployed.len());
        if !failures.is_empty() {
            summary.push_str(&format!("; rollback failures: {}", failures.join("; ")));
        }
        Ok(summary)
    }

    /// Restores the environment's database from the release's last backup of it (R-8g).
    async fn restore_database(&self, release: &ReleaseId, env: &EnvName, n: u32) -> Result<String, EngineError> {
        let Some(backup) = self.inner.ports.backup.clone() else { return Ok("no backup port configured".into()) };
        let state = self.cached(release).await?;
        let last_backup: Option<BackupRef> = state
            .steps
            .iter()
            .rev()
            .filter(|s| s.step == StepKind::Backup && s.environment.as_ref() == Some(env))
            .find_map(|s| s.outcome.as_ref()?.output().and_then(|o| serde_json::from_value(o.clone()).ok()));
        drop(state);
        let Some(last_backup) = last_backup else {
            return Ok(format!("no backup of {env} was taken, nothing restored"));
        };
        let spec =
            StepSpec::new(StepKind::RestoreDatabase, Some(env.clone()), format!("restore:{env}#{n}")).idempotent();
        let outcome = self
            .run_step(
                release,
                &spec,
                |_, _| {
                    let (backup, last_backup) = (backup.clone(), last_backup.clone());
                    async move { backup.restore(&last_backup).await.map(|d| (d, None)) }
                },
                |_| async { unsupported() },
            )
            .await?;
        Ok(match outcome {
            StepOutcome::Succeeded { .. } => format!("database restored from {}", last_backup.id),
            StepOutcome::Failed { error, .. } => format!("database restore FAILED: {error}"),
        })
    }

    /// Sends a notice to every notifier, as one step.
    pub(crate) async fn notify(
        &self,
        release: &ReleaseId,
        key: &str,
        subject: &str,
        body: &str,
        audience: Vec<Audience>,
    ) -> Result<StepOutcome, EngineError> {
        let notice = Notice {
            // The same on every attempt, unique across releases: receivers drop repeats by it.
            key: super::steps::port_key(release, key),
            release: release.clone(),
            subject: subject.to_owned(),
            body: body.to_owned(),
            audience,
            ask: None,
        };
        self.send_notice(release, key, notice).await
    }

    /// Sends `notice` to every notifier, as one step keyed `key`.
    pub(crate) async fn send_notice(
        &self,
        release: &ReleaseId,
        key: &str,
        notice: Notice,
    ) -> Result<StepOutcome, EngineError> {
        let notifiers = self.inner.ports.notifiers.clone();
        let spec = StepSpec::new(StepKind::Notify, None, key).idempotent();
        self.run_step(
            release,
            &spec,
            |_, _| {
                let (notifiers, notice) = (notifiers.clone(), notice.clone());
                async move {
                    if notifiers.is_empty() {
                        return Ok(("no notifiers configured: recorded only".to_owned(), None));
                    }
                    for n in &notifiers {
                        n.send(&notice).await?;
                    }
                    Ok((format!("sent to {}", notifiers.iter().map(|n| n.name()).collect::<Vec<_>>().join(", ")), None))
                }
            },
            |_| async { unsupported() },
        )
        .await
    }

    /// The artifacts of the project's previous working release (R-1d), if known.
    async fn previous_artifacts(&self, release: &ReleaseId) -> Result<Vec<ArtifactRef>, EngineError> {
        let Some(plan) = self.with_state(release, |s| s.plan.clone()).await? else { return Ok(Vec::new()) };
        let query = ReleaseQuery { project: Some(plan.project.clone()), ..Default::default() };
        let previous = self
            .inner
            .store
            .list(&query)
            .await?
            .into_iter()
            .filter(|s| matches!(s.stage, Stage::Released | Stage::Closed) && s.version < plan.version)
            .max_by(|a, b| a.version.cmp(&b.version));
        let Some(previous) = previous else { return Ok(Vec::new()) };
        let envelopes = self.inner.store.load(&previous.release).await?;
        Ok(ReleaseState::from_events(envelopes.iter().map(|e| &e.event)).artifacts)
    }
}
