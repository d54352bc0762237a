//! Running one step through a port: recorded as started under an
//! idempotency key, called, recorded with its outcome. Retryable failures are
//! retried with exponential backoff and full jitter, each attempt under its
//! own key (`key`, `key/2`, `key/3`, …).

use std::future::Future;
use std::sync::Arc;

use tracing::Instrument;

use super::{EngineError, ReleaseManager};
use crate::machine::{Action, StepOutcome, StepRecord};
use crate::model::{EnvName, ReleaseId, StepKind};
use crate::ports::{LogSink, LogStream, Lookup, PortError};

/// What a successful port call reports: a detail and optional data for later steps.
pub(crate) type Done = (String, Option<serde_json::Value>);

/// Actions to record with a step's outcome, in the same append.
pub(crate) type FollowUp = Arc<dyn Fn(&StepOutcome) -> Vec<Action> + Send + Sync>;

/// Which step to run.
#[derive(Clone)]
pub(crate) struct StepSpec {
    pub step: StepKind,
    pub environment: Option<EnvName>,
    pub target: Option<String>,
    /// The key of the first attempt; later attempts append `/n`.
    pub key: String,
    /// Safe to call again when the port cannot say whether a call happened.
    pub idempotent: bool,
    /// What to record with the outcome (the evidence a probe measured, the artifacts published).
    pub follow_up: Option<FollowUp>,
}

impl StepSpec {
    pub fn new(step: StepKind, environment: Option<EnvName>, key: impl Into<String>) -> Self {
        Self { step, environment, target: None, key: key.into(), idempotent: false, follow_up: None }
    }

    pub fn follow_up(mut self, follow_up: impl Fn(&StepOutcome) -> Vec<Action> + Send + Sync + 'static) -> Self {
        self.follow_up = Some(Arc::new(follow_up));
        self
    }

    pub fn target(mut self, target: &str) -> Self {
        self.target = Some(target.to_owned());
        self
    }

    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    fn attempt_key(&self, attempt: u32) -> String {
        if attempt <= 1 { self.key.clone() } else { format!("{}/{attempt}", self.key) }
    }
}

/// The idempotency key a port sees: the release, then the step's attempt key
/// (`shop-2.0.0:deploy:prod:web-1#1`), so keys are unique across releases and
/// a port that outlives one release (a host, a backup folder) never takes
/// another release's work for this one's.
pub(crate) fn port_key(release: &ReleaseId, key: &str) -> String {
    format!("{release}:{key}")
}

fn outcome_of(result: Result<Done, PortError>) -> StepOutcome {
    match result {
        Ok((detail, output)) => StepOutcome::Succeeded { detail, output },
        Err(e) => StepOutcome::port_failed(&e),
    }
}

impl ReleaseManager {
    /// The attempts of a step so far, oldest first.
    pub(crate) async fn attempts(&self, release: &ReleaseId, spec: &StepSpec) -> Result<Vec<StepRecord>, EngineError> {
        self.step_attempts(release, &spec.key).await
    }

    fn sink(&self, release: &ReleaseId, key: &str) -> Arc<LogSink> {
        let (logs, release, key) = (self.inner.logs.clone(), release.clone(), key.to_owned());
        let archive = self.inner.ports.logs.clone();
        Arc::new(LogSink::with_tap(move |line| {
            if let Some(archive) = &archive {
                archive.append(&release, &key, line);
            }
            let _ = logs.send((release.clone(), key.clone(), line.clone()));
        }))
    }

    async fn finish(
        &self,
        release: &ReleaseId,
        spec: &StepSpec,
        key: String,
        outcome: StepOutcome,
        sink: &LogSink,
    ) -> Result<(), EngineError> {
        let actor = self.inner.automation.clone();
        let (lines, bytes, digest) = sink.written();
        let mut log = sink.take();
        if let Some(place) = self.inner.ports.logs.as_ref().and_then(|a| a.finish(release, &key)) {
            log.push(crate::machine::LogLine {
                stream: LogStream::Info,
                text: format!("the whole log ({lines} lines, {bytes} bytes, sha256:{digest}) is kept at {place}"),
            });
        }
        let mut actions = vec![Action::FinishStep { key, outcome: outcome.clone(), log }];
        if let Some(follow_up) = &spec.follow_up {
            actions.extend(follow_up(&outcome));
        }
        self.commit(release, &actor, actions).await
    }

    /// Runs a step to its outcome inside a `step` span (release, step, key,
    /// environment, target), resuming whatever a previous process left.
    pub(crate) async fn run_step<C, CF, L, LF>(
        &self,
        release: &ReleaseId,
        spec: &StepSpec,
        call: C,
        lookup: L,
    ) -> Result<StepOutcome, EngineError>
    where
        C: Fn(String, Arc<LogSink>) -> CF,
        CF: Future<Output = Result<Done, PortError>>,
        L: Fn(String) -> LF,
        LF: Future<Output = Result<Lookup<Done>, PortError>>,
    {
        let span = tracing::info_span!(
            "step",
            release = %release,
            step = %spec.step,
            key = %spec.key,
            environment = %spec.environment.as_ref().map_or("", |e| e.as_str()),
            target = %spec.target.as_deref().unwrap_or(""),
        );
        Box::pin(self.run_step_inner(release, spec, call, lookup)).instrument(span).await
    }

    /// `call` performs the port operation under an attempt key; `lookup`
    /// asks the port what became of an attempt key.
    async fn run_step_inner<C, CF, L, LF>(
        &self,
        release: &ReleaseId,
        spec: &StepSpec,
        call: C,
        lookup: L,
    ) -> Result<StepOutcome, EngineError>
    where
        C: Fn(String, Arc<LogSink>) -> CF,
        CF: Future<Output = Result<Done, PortError>>,
        L: Fn(String) -> LF,
        LF: Future<Output = Result<Lookup<Done>, PortError>>,
    {
        let max_attempts = self.inner.policy.retry.attempts.max(1);
        let mut retry_after = None;
        loop {
            let attempts = self.attempts(release, spec).await?;
            let n = attempts.len() as u32;
            let key = match attempts.last() {
                None => spec.attempt_key(1),
                Some(StepRecord { outcome: Some(outcome @ StepOutcome::Succeeded { .. }), .. }) => {
                    return Ok(outcome.clone());
                }
                Some(StepRecord { outcome: Some(StepOutcome::Failed { retryable: true, .. }), .. })
                    if n < max_attempts =>
                {
                    let backoff = self.inner.policy.retry.backoff(n + 1).mul_f64(fastrand::f64());
                    let wait = retry_after.take().map_or(backoff, |after: std::time::Duration| after.max(backoff));
                    tracing::info!(step = %spec.step, key = %spec.key, attempt = n + 1, ?wait, "retrying");
                    self.inner.clock.sleep(wait).await;
                    spec.attempt_key(n + 1)
                }
                Some(StepRecord { outcome: Some(outcome), .. }) => return Ok(outcome.clone()),
                Some(StepRecord { key, outcome: None, in_doubt, .. }) => {
                    // Started by a driver that stopped before recording the outcome:
                    // ask the port about the key; never call again unless the port
                    // says the key was never seen, or the step is idempotent.
                    let (key, in_doubt) = (key.clone(), in_doubt.clone());
                    let sink = self.sink(release, &key);
                    let outcome = match lookup(port_key(release, &key)).await? {
                        Lookup::Done((detail, output)) => {
                            sink.line(
                                LogStream::Info,
                                format!("resolved after a restart: the port reports {key} done"),
                            );
                            StepOutcome::Succeeded { detail, output }
                        }
                        Lookup::NotFound => self.call(&call, &port_key(release, &key), &sink, &mut retry_after).await,
                        Lookup::Unsupported if spec.idempotent => {
                            self.call(&call, &port_key(release, &key), &sink, &mut retry_after).await
                        }
                        Lookup::Unsupported => {
                            let detail = format!(
                                "started {}, its driver stopped before recording the outcome, and the port cannot tell \
                                 whether it finished",
                                attempts.last().map(|s| s.started_at.to_string()).unwrap_or_default()
                            );
                            return Err(self.in_doubt(release, &key, in_doubt, detail).await);
                        }
                    };
                    self.finish(release, spec, key, outcome, &sink).await?;
                    continue;
                }
            };
            match self.start(release, spec, key.clone()).await {
                Ok(()) => {}
                // Another driver started this attempt first: read what it did.
                Err(EngineError::Refused(_)) => continue,
                Err(e) => return Err(e),
            }
            let sink = self.sink(release, &key);
            let outcome = self.call(&call, &port_key(release, &key), &sink, &mut retry_after).await;
            self.finish(release, spec, key, outcome.clone(), &sink).await?;
            // This was attempt n + 1: unless it may be retried, its outcome is the step's.
            let retry = matches!(outcome, StepOutcome::Failed { retryable: true, .. }) && n + 1 < max_attempts;
            if !retry {
                return Ok(outcome);
            }
        }
    }

    /// Records that step `key` is in doubt (once) and returns the refusal that
    /// stops whatever needed it until a person resolves it (R-9d).
    async fn in_doubt(&self, release: &ReleaseId, key: &str, known: Option<String>, detail: String) -> EngineError {
        let detail = match known {
            Some(known) => known,
            None => {
                tracing::warn!(release = %release, key, "a step is in doubt: it will not be run again by itself");
                let actor = self.inner.automation.clone();
                let action = Action::MarkInDoubt { key: key.to_owned(), detail: detail.clone() };
                if let Err(e) = self.commit(release, &actor, vec![action]).await {
                    return e;
                }
                detail
            }
        };
        let stage = match self.with_state(release, |s| s.stage.clone()).await {
            Ok(stage) => stage,
            Err(e) => return e,
        };
        EngineError::Refused(crate::machine::Refusal::new(
            stage,
            format!("resume step {key}"),
            vec![crate::machine::Unmet::new(
                crate::RuleId::R_9D,
                crate::machine::Requirement::StepInDoubt { key: key.to_owned(), detail },
            )],
        ))
    }

    async fn start(&self, release: &ReleaseId, spec: &StepSpec, key: String) -> Result<(), EngineError> {
        let actor = self.inner.automation.clone();
        let action = Action::StartStep {
            step: spec.step.clone(),
            environment: spec.environment.clone(),
            target: spec.target.clone(),
            key,
            held: Vec::new(),
        };
        self.commit(release, &actor, vec![action]).await
    }

    async fn call<C, CF>(
        &self,
        call: &C,
        key: &str,
        sink: &Arc<LogSink>,
        retry_after: &mut Option<std::time::Duration>,
    ) -> StepOutcome
    where
        C: Fn(String, Arc<LogSink>) -> CF,
        CF: Future<Output = Result<Done, PortError>>,
    {
        let result = call(key.to_owned(), sink.clone()).await;
        if let Err(e) = &result {
            tracing::warn!(key, error = %e, "step attempt failed");
            *retry_after = e.retry_after;
        }
        outcome_of(result)
    }
}
