//! What the engine measures about a release itself before production: its
//! database migrations rehearsed in staging (R-7e), its external
//! dependencies as staging was verified with (R-7f, R-8d), its artifacts'
//! version against the git tag (R-8d); and the monitoring of an environment
//! while it deploys and through the verification window (R-8e).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::steps::StepSpec;
use super::{EngineError, ReleaseManager};
use crate::machine::{Action, Evidence, ReleaseState, StepOutcome, StepRecord};
use crate::model::{EnvName, GateId, Measure, Plan, ReleaseId, StepKind};
use crate::policy::Policy;
use crate::ports::{LogStream, Lookup, MigrationSet, PortError};

fn unsupported() -> std::future::Ready<Result<Lookup<super::steps::Done>, PortError>> {
    std::future::ready(Ok(Lookup::Unsupported))
}

fn is_production(policy: &Policy, env: &EnvName) -> bool {
    policy.environment(env).is_some_and(|e| e.production)
}

fn output_of<T: serde::de::DeserializeOwned>(step: &StepRecord) -> Option<T> {
    step.outcome.as_ref()?.output().and_then(|o| serde_json::from_value(o.clone()).ok())
}

/// Whether `set` was rehearsed outside production (R-7e): the newest
/// successful migration there ran the same scripts, and the newest rollback
/// test there reverted and re-applied them. `Ok` says where; `Err` says what
/// is missing.
pub(crate) fn rehearsal(state: &ReleaseState, policy: &Policy, set: &MigrationSet) -> Result<String, String> {
    if set.is_empty() {
        return Ok("the release carries no migrations".into());
    }
    let digest = set.digest();
    let rehearsal_env = |s: &&StepRecord| s.environment.as_ref().is_some_and(|e| !is_production(policy, e));
    let migrated = state
        .steps
        .iter()
        .rev()
        .filter(rehearsal_env)
        .filter(|s| s.step == StepKind::Migrate && s.outcome.as_ref().is_some_and(StepOutcome::succeeded))
        .find_map(|s| output_of::<MigrationSet>(s).map(|ran| (s, ran)));
    let Some((step, ran)) = migrated else {
        return Err("the migrations never ran successfully in staging".into());
    };
    let env = step.environment.as_ref().map_or("-", |e| e.as_str()).to_owned();
    if ran.digest() != digest {
        return Err(format!("{env} ran other migrations: {}", set.differences(&ran).join("; ")));
    }
    let tested = state.steps.iter().rev().filter(rehearsal_env).find(|s| s.step == StepKind::MigrationRollbackTest);
    match tested.map(|s| (&s.outcome, s)) {
        None | Some((None, _)) => Err(format!("the rollback scripts were never tested in {env}")),
        Some((Some(StepOutcome::Failed { error, .. }), s)) => {
            Err(format!("the rollback test in {} failed: {error}", s.environment.as_ref().map_or("-", |e| e.as_str())))
        }
        Some((Some(StepOutcome::Succeeded { .. }), s)) => match output_of::<MigrationSet>(s) {
            Some(tested) if tested.digest() == digest => Ok(format!(
                "{} migrations (sha256:{digest}) ran in {env} and were reverted and re-applied there",
                set.scripts.len()
            )),
            _ => Err(format!("the rollback test in {env} tested other migrations")),
        },
    }
}

/// One sample a monitoring probe took (R-8e).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it was taken.
    pub at: Timestamp,
    /// The gate whose threshold judges it.
    pub gate: GateId,
    /// The target measured, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The value, in the gate's unit.
    pub value: f64,
    /// Whether it was within the threshold.
    pub passed: bool,
    /// The probe that took it.
    pub source: String,
}

/// How long an environment is watched.
pub(crate) enum Watch {
    /// Until the deployment says it is done.
    UntilDone(watch::Receiver<bool>),
    /// For a fixed window.
    For(Duration),
}

/// Set by the monitor when a breach lasted: the deployment stops.
#[derive(Default)]
pub(crate) struct Breach {
    reason: Mutex<Option<String>>,
    /// Told after the first round of samples (or when monitoring ends), so a
    /// deployment starts against a baseline.
    pub(crate) sampled: tokio::sync::Notify,
}

impl Breach {
    pub(crate) fn get(&self) -> Option<String> {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, reason: &str) {
        self.reason.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(|| reason.to_owned());
    }
}

impl ReleaseManager {
    /// Records an audit finding of the engine's own (a policy verdict it
    /// measured, named by its rule), once per key.
    pub(crate) async fn find(
        &self,
        release: &ReleaseId,
        key: &str,
        rule: crate::RuleId,
        detail: &str,
    ) -> Result<(), EngineError> {
        if self.with_state(release, |s| s.findings.iter().any(|f| f.key == key)).await? {
            return Ok(());
        }
        let automation = self.inner.automation.clone();
        let action = Action::RecordFinding { key: key.to_owned(), rule, detail: detail.to_owned() };
        self.commit(release, &automation, vec![action]).await
    }

    /// Runs `env`'s migrations before its targets are deployed (R-8b); in
    /// production only what was rehearsed in staging (R-7e). Outside
    /// production the rollback scripts are then tested: reverted and applied
    /// again. Returns why the deployment must not go on, if it must not.
    pub(crate) async fn migrate(
        &self,
        release: &ReleaseId,
        env: &EnvName,
        n: u32,
    ) -> Result<Option<String>, EngineError> {
        let Some(migrator) = self.inner.ports.migrators.get(env).cloned() else { return Ok(None) };
        let policy = self.inner.policy.clone();
        let production = is_production(&policy, env);
        let state = self.cached(release).await?;
        // R-7e is the engine's verdict, not the migrator's: production runs only
        // the set rehearsed outside it, else the deployment stops with a finding.
        if production {
            let set = migrator.scripts().await?;
            if let Err(why) = rehearsal(&state, &policy, &set) {
                let detail = format!("production migrations refused: {why}");
                self.find(release, &format!("migrate:{env}#{n}"), crate::RuleId::R_7E, &detail).await?;
                return Ok(Some(format!("{detail} (R-7e)")));
            }
        }
        let spec = StepSpec::new(StepKind::Migrate, Some(env.clone()), format!("migrate:{env}#{n}")).idempotent();
        let outcome = self
            .run_step(
                release,
                &spec,
                |key, log| {
                    let (migrator, env, state, policy) = (migrator.clone(), env.clone(), state.clone(), policy.clone());
                    async move {
                        let set = migrator.scripts().await?;
                        // Changed since the check above (or on a resumed step): refused all the same.
                        if production && let Err(why) = rehearsal(&state, &policy, &set) {
                            return Err(PortError::permanent(
                                format!("migrator {}", migrator.name()),
                                "apply",
                                format!("production migrations refused: {why} (R-7e)"),
                            ));
                        }
                        let detail = migrator.apply(&env, &set, &key, &log).await?;
                        Ok((format!("{detail} (sha256:{})", set.digest()), serde_json::to_value(&set).ok()))
                    }
                },
                |_| unsupported(),
            )
            .await?;
        let set: MigrationSet = match &outcome {
            StepOutcome::Failed { error, .. } => {
                return Ok(Some(format!("database migration on {env} failed: {error}")));
            }
            StepOutcome::Succeeded { output, .. } => {
                output.as_ref().and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default()
            }
        };
        if production || set.is_empty() {
            return Ok(None);
        }
        let spec = StepSpec::new(
            StepKind::MigrationRollbackTest,
            Some(env.clone()),
            format!("migration-rollback-test:{env}#{n}"),
        )
        .idempotent();
        let outcome = self
            .run_step(
                release,
                &spec,
                |key, log| {
                    let (migrator, env, set) = (migrator.clone(), env.clone(), set.clone());
                    async move {
                        match migrator.revert(&env, &set, &key, &log).await {
                            Ok(reverted) => {
                                let applied = migrator.apply(&env, &set, &key, &log).await?;
                                Ok((format!("{reverted}; then {applied}"), serde_json::to_value(&set).ok()))
                            }
                            Err(e) => {
                                // Leave the database as the deployment expects it, then report the failure.
                                if let Err(again) = migrator.apply(&env, &set, &key, &log).await {
                                    log.line(LogStream::Info, format!("re-applying after the failed revert: {again}"));
                                }
                                Err(e)
                            }
                        }
                    }
                },
                |_| unsupported(),
            )
            .await?;
        if let StepOutcome::Failed { error, .. } = outcome {
            tracing::warn!(release = %release, environment = %env, %error, "the rollback scripts failed their test (R-7e)");
        }
        Ok(None)
    }

    /// Reads which versions of its dependencies `env` runs after a deployment (R-7f).
    pub(crate) async fn record_dependencies(
        &self,
        release: &ReleaseId,
        env: &EnvName,
        n: u32,
    ) -> Result<(), EngineError> {
        let Some(probes) = self.inner.ports.dependencies.get(env).cloned() else { return Ok(()) };
        let plan = self.with_state(release, |s| s.plan.clone()).await?;
        let planned = plan.map(|p| p.dependencies).unwrap_or_default();
        let spec = StepSpec::new(StepKind::CheckDependencies, Some(env.clone()), format!("dependencies:{env}#{n}"))
            .idempotent();
        self.run_step(
            release,
            &spec,
            |_, log| {
                let (probes, env, planned) = (probes.clone(), env.clone(), planned.clone());
                async move {
                    let mut runs = BTreeMap::new();
                    for p in &probes {
                        runs.extend(p.versions(&env).await?);
                    }
                    for finding in crate::dependencies::drift(&planned, None, env.as_str(), &runs) {
                        log.line(LogStream::Info, finding);
                    }
                    let list: Vec<String> = runs.iter().map(|(n, v)| format!("{n} {v}")).collect();
                    Ok((format!("{env} runs {}", list.join(", ")), serde_json::to_value(&runs).ok()))
                }
            },
            |_| unsupported(),
        )
        .await?;
        Ok(())
    }

    /// Records what deployment `n` changed in `env`'s settings (R-9c): keys
    /// added, changed and removed since the environment's last recorded
    /// deployment (of this release, else of the project's newest other
    /// release); values only as hashes, secrets never.
    pub(crate) async fn record_settings(&self, release: &ReleaseId, env: &EnvName, n: u32) -> Result<(), EngineError> {
        use crate::settings::Snapshot;
        let Some(source) = self.inner.ports.settings.get(env).cloned() else { return Ok(()) };
        let snapshot_of = |state: &ReleaseState| -> Option<Snapshot> {
            state
                .steps
                .iter()
                .rev()
                .filter(|s| s.step == StepKind::RecordSettings && s.environment.as_ref() == Some(env))
                .find_map(output_of::<serde_json::Value>)
                .and_then(|o| serde_json::from_value(o["snapshot"].clone()).ok())
        };
        let (mut before, plan) = self.with_state(release, |s| (snapshot_of(s), s.plan.clone())).await?;
        if before.is_none()
            && let Some(plan) = &plan
        {
            let query = crate::ports::ReleaseQuery { project: Some(plan.project.clone()), ..Default::default() };
            let mut others: Vec<_> =
                self.inner.store.list(&query).await?.into_iter().filter(|s| &s.release != release).collect();
            others.sort_by(|a, b| b.version.cmp(&a.version));
            for other in others {
                let chain = self.inner.store.load(&other.release).await?;
                if let Some(found) = snapshot_of(&ReleaseState::from_events(chain.iter().map(|e| &e.event))) {
                    before = Some(found);
                    break;
                }
            }
        }
        let spec =
            StepSpec::new(StepKind::RecordSettings, Some(env.clone()), format!("settings:{env}#{n}")).idempotent();
        self.run_step(
            release,
            &spec,
            |_, _| {
                let (source, env, before) = (source.clone(), env.clone(), before.clone());
                async move {
                    let values = source.settings(&env).await?;
                    let snapshot = Snapshot::of(&env, &values, |k| source.is_secret(k));
                    let (diff, detail) = match &before {
                        Some(b) => {
                            let d = snapshot.diff(b);
                            let text = format!("{env}: {d}");
                            (Some(d), text)
                        }
                        None => (None, format!("{env}: first record, {} settings", snapshot.settings.len())),
                    };
                    let secrets = snapshot.settings.values().filter(|s| s.secret).count();
                    let detail = format!("{detail} ({secrets} secret values not recorded)");
                    Ok((detail, Some(serde_json::json!({ "snapshot": snapshot, "diff": diff }))))
                }
            },
            |_| unsupported(),
        )
        .await?;
        Ok(())
    }

    /// Records evidence the engine measured, as its automation actor (R-7g).
    pub(crate) async fn record(&self, release: &ReleaseId, evidence: Evidence) -> Result<(), EngineError> {
        let automation = self.inner.automation.clone();
        self.commit(release, &automation, vec![Action::RecordEvidence(evidence)]).await
    }

    /// R-7e: the migrations production would run were rehearsed in staging.
    pub(crate) async fn measure_migrations(&self, release: &ReleaseId) -> Result<(), EngineError> {
        let policy = self.inner.policy.clone();
        let production: Vec<(EnvName, Arc<dyn crate::ports::Migrator>)> = self
            .inner
            .ports
            .migrators
            .iter()
            .filter(|(env, _)| is_production(&policy, env))
            .map(|(e, m)| (e.clone(), m.clone()))
            .collect();
        let (value, source) = if production.is_empty() {
            (1.0, "no migrator for production: the release runs no migrations".to_owned())
        } else {
            let state = self.cached(release).await?;
            let mut problems = Vec::new();
            let mut fine = Vec::new();
            for (env, migrator) in production {
                match migrator.scripts().await.map(|set| rehearsal(&state, &policy, &set)) {
                    Ok(Ok(detail)) => fine.push(format!("{env}: {detail}")),
                    Ok(Err(why)) => problems.push(format!("{env}: {why}")),
                    Err(e) => problems.push(format!("{env}: the migrations could not be read: {e}")),
                }
            }
            if problems.is_empty() { (1.0, fine.join("; ")) } else { (0.0, problems.join("; ")) }
        };
        self.record(release, Evidence::new(GateId::MigrationsRehearsed, value, format!("migrations: {source}"))).await
    }

    /// R-7f, R-8d: production's dependencies against the plan and against
    /// what staging was verified with.
    pub(crate) async fn measure_dependencies(&self, release: &ReleaseId, plan: &Plan) -> Result<(), EngineError> {
        let policy = self.inner.policy.clone();
        let production: Vec<(EnvName, Vec<Arc<dyn crate::ports::DependencyProbe>>)> = self
            .inner
            .ports
            .dependencies
            .iter()
            .filter(|(env, _)| is_production(&policy, env))
            .map(|(e, p)| (e.clone(), p.clone()))
            .collect();
        if production.is_empty() {
            let source = format!(
                "dependencies: no dependency probe for production, not checked ({} listed in the plan)",
                plan.dependencies.len()
            );
            return self.record(release, Evidence::new(GateId::DependencyDrift, 0.0, source)).await;
        }
        // What staging was verified with: its newest reading, else the newest of any environment before production.
        let verified: Option<(String, BTreeMap<String, String>)> = self
            .with_state(release, |state| {
                let readings = state.steps.iter().rev().filter(|s| {
                    s.step == StepKind::CheckDependencies
                        && s.environment.as_ref().is_some_and(|e| !is_production(&policy, e))
                        && s.outcome.as_ref().is_some_and(StepOutcome::succeeded)
                });
                let mut first = None;
                for s in readings {
                    let env = s.environment.as_ref().map_or("-", |e| e.as_str()).to_owned();
                    let Some(map) = output_of(s) else { continue };
                    if env == "staging" {
                        return Some((env, map));
                    }
                    first.get_or_insert((env, map));
                }
                first
            })
            .await?;
        let mut findings = Vec::new();
        let mut read = Vec::new();
        for (env, probes) in production {
            let mut runs = BTreeMap::new();
            for p in &probes {
                match p.versions(&env).await {
                    Ok(v) => runs.extend(v),
                    Err(e) => findings.push(format!("{env}: {} could not be read: {e}", p.name())),
                }
            }
            findings.extend(crate::dependencies::drift(
                &plan.dependencies,
                verified.as_ref().map(|(_, m)| m),
                env.as_str(),
                &runs,
            ));
            read.push(format!(
                "{env} runs {}",
                runs.iter().map(|(n, v)| format!("{n} {v}")).collect::<Vec<_>>().join(", ")
            ));
        }
        let against =
            verified.as_ref().map_or("no staging reading".to_owned(), |(env, _)| format!("as verified in {env}"));
        let source = if findings.is_empty() {
            format!("dependencies: {} {against}", read.join("; "))
        } else {
            format!("dependencies: {}", findings.join("; "))
        };
        self.record(release, Evidence::new(GateId::DependencyDrift, findings.len() as f64, source)).await
    }

    /// R-8d: the artifacts carry the release's version, and the repository
    /// holds the tag of that version.
    pub(crate) async fn measure_artifact_version(&self, release: &ReleaseId, plan: &Plan) -> Result<(), EngineError> {
        let artifacts = self.with_state(release, |s| s.artifacts.clone()).await?;
        let tag = plan.version.tag(&self.inner.policy.vcs.tag_prefix);
        let mut problems: Vec<String> = artifacts
            .iter()
            .filter(|a| a.version != plan.version)
            .map(|a| format!("{} has version {}, the release is {}", a.name, a.version, plan.version))
            .collect();
        if artifacts.is_empty() {
            problems.push("no artifacts were published".into());
        }
        let checked = match self.inner.ports.vcs.clone() {
            Some(vcs) => {
                let tags = vcs.tags().await?;
                match tags.iter().find(|t| t.name == tag) {
                    Some(t) => format!("tag {tag} at {}", t.target.get(..12).unwrap_or(&t.target)),
                    None => {
                        problems.push(format!("the repository has no tag {tag}"));
                        String::new()
                    }
                }
            }
            None => "no repository: tag not checked".to_owned(),
        };
        let (value, source) = if problems.is_empty() {
            (1.0, format!("artifacts: {} at {}; {checked}", artifacts.len(), plan.version))
        } else {
            (0.0, format!("artifacts: {}", problems.join("; ")))
        };
        self.record(release, Evidence::new(GateId::ArtifactVersion, value, source)).await
    }

    /// Samples `env`'s monitoring probes as one step (R-8e), for as long as
    /// `watch` says, every `monitoring.interval`. Each sample is a line of the
    /// step's log and, when the step succeeds, its output. A gate breached for
    /// `monitoring.sustained` fails the step and sets `breach`.
    pub(crate) async fn monitor(
        &self,
        release: &ReleaseId,
        env: &EnvName,
        key: String,
        watch: Watch,
        breach: Arc<Breach>,
    ) -> Result<StepOutcome, EngineError> {
        let probes = self.inner.ports.monitors.get(env).cloned().unwrap_or_default();
        let (policy, clock) = (self.inner.policy.clone(), self.inner.clock.clone());
        let interval = policy.monitoring.interval.unsigned_abs().max(Duration::from_millis(1));
        let (window, done) = match watch {
            Watch::UntilDone(done) => (None, Some(done)),
            Watch::For(window) => (Some(window), None),
        };
        let spec = StepSpec::new(StepKind::Monitor, Some(env.clone()), key);
        self.run_step(
            release,
            &spec,
            |_, log| {
                let (probes, policy, clock, env, breach) =
                    (probes.clone(), policy.clone(), clock.clone(), env.clone(), breach.clone());
                let mut done = done.clone();
                async move {
                    let started = clock.now();
                    let mut samples: Vec<Sample> = Vec::new();
                    let mut breaching: BTreeMap<(GateId, Option<String>), Timestamp> = BTreeMap::new();
                    loop {
                        let now = clock.now();
                        for p in &probes {
                            let measured = match p.check(&env).await {
                                Ok(m) => m,
                                Err(e) => {
                                    log.line(LogStream::Info, format!("{}: could not measure: {e}", p.name()));
                                    continue;
                                }
                            };
                            for m in measured {
                                let gate = m.gate.clone();
                                let Some(rule) = policy.gates.get(&m.gate) else { continue };
                                let threshold = rule.threshold_for(m.target.as_deref());
                                let passed = threshold.passes(m.value);
                                let place = m.target.as_deref().map_or(String::new(), |t| format!(" on {t}"));
                                let shown = Measure::new(m.value, rule.unit);
                                log.line(
                                    LogStream::Info,
                                    format!(
                                        "{now} {}{place}: {} = {shown}{}",
                                        p.name(),
                                        m.gate,
                                        if passed {
                                            String::new()
                                        } else {
                                            format!(" (breach: required {})", threshold.describe(rule.unit))
                                        }
                                    ),
                                );
                                let key = (m.gate.clone(), m.target.clone());
                                samples.push(Sample {
                                    at: now,
                                    gate: m.gate,
                                    target: m.target,
                                    value: m.value,
                                    passed,
                                    source: m.source,
                                });
                                if passed {
                                    breaching.remove(&key);
                                    continue;
                                }
                                let since = *breaching.entry(key).or_insert(now);
                                let lasted = now.duration_since(since);
                                if lasted >= policy.monitoring.sustained {
                                    let reason = format!(
                                        "{gate}{place} in {env} measured {shown}, required {}, for {:.0} s (R-8e)",
                                        threshold.describe(rule.unit),
                                        lasted.as_secs_f64()
                                    );
                                    breach.set(&reason);
                                    return Err(PortError::permanent("monitor", "sample", reason));
                                }
                            }
                        }
                        breach.sampled.notify_one();
                        let finished = match (&window, &done) {
                            (Some(w), _) => clock.now().duration_since(started).unsigned_abs() >= *w,
                            (None, Some(d)) => *d.borrow(),
                            (None, None) => true,
                        };
                        if finished {
                            break;
                        }
                        match done.as_mut() {
                            Some(d) => {
                                tokio::select! {
                                    () = clock.sleep(interval) => {}
                                    _ = d.changed() => {}
                                }
                            }
                            None => clock.sleep(interval).await,
                        }
                    }
                    let breaches = samples.iter().filter(|s| !s.passed).count();
                    Ok((
                        format!(
                            "{} samples from {} probes, {breaches} outside thresholds, none sustained",
                            samples.len(),
                            probes.len()
                        ),
                        serde_json::to_value(&samples).ok(),
                    ))
                }
            },
            |_| unsupported(),
        )
        .await
    }
}
