use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Event, StepOutcome};
use crate::calendar::Booking;
use crate::model::{Approval, ApprovalId, ArtifactRef, EnvName, GateId, GateResult, Plan, Role, Stage, StepKind};

/// A recorded override of deployment windows (R-6b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowOverride {
    /// Who overrode.
    pub user: String,
    /// In which role.
    pub role: Role,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
    /// How the person was established (issue #19); none in events recorded
    /// before proofs were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<crate::model::Proof>,
}

/// A step's record: started, and perhaps finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The idempotency key.
    pub key: String,
    /// The kind of step.
    pub step: StepKind,
    /// Its environment.
    pub environment: Option<EnvName>,
    /// Its target.
    pub target: Option<String>,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished, if it did.
    pub finished_at: Option<Timestamp>,
    /// How it ended, if it did.
    pub outcome: Option<StepOutcome>,
    /// Its log lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<super::LogLine>,
    /// Why nobody knows how it ended, once the engine found it started by a
    /// driver that stopped and the port could not tell: the engine never runs
    /// it again by itself; a person resolves it (R-9d).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_doubt: Option<String>,
}

/// Something the audit trail must show went wrong without stopping the
/// release: a notice sent after its deadline (R-5c, R-6d).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The duty or check it is about; one finding per key.
    pub key: String,
    /// The requirement not met.
    pub rule: crate::RuleId,
    /// What happened.
    pub detail: String,
    /// When it was found.
    pub at: Timestamp,
}

/// An environment a release holds (R-6e): from the start of a deployment
/// there until its verification has ended, no other release deploys to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvHold {
    /// The environment.
    pub environment: EnvName,
    /// The release that holds it.
    pub release: crate::model::ReleaseId,
    /// When the deployment that took it started.
    pub since: Timestamp,
}

/// A release as the fold of its events. Nothing else is stored as truth.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReleaseState {
    /// The plan, once planned.
    pub plan: Option<Plan>,
    /// Who planned it.
    pub author: Option<String>,
    /// The current stage, once planned.
    pub stage: Option<Stage>,
    /// Every stage entered, in order.
    pub path: Vec<Stage>,
    /// When each stage was last entered.
    pub entered_at: BTreeMap<Stage, Timestamp>,
    /// Every approval given (R-2c).
    pub approvals: Vec<Approval>,
    /// Every rejection of an approval (R-2c), standing or lifted: see
    /// [`ReleaseState::standing_rejections`].
    #[serde(default)]
    pub rejections: Vec<Approval>,
    /// Every gate result recorded (R-7g), oldest first.
    pub gate_results: Vec<GateResult>,
    /// Recorded artifacts (R-8b).
    pub artifacts: Vec<ArtifactRef>,
    /// Every step, in start order.
    pub steps: Vec<StepRecord>,
    /// Booked deployments, one per environment (R-6a).
    pub bookings: Vec<Booking>,
    /// Window overrides (R-6b).
    pub overrides: Vec<WindowOverride>,
    /// Why a rollback began, if one did.
    pub rollback_reason: Option<String>,
    /// Why the release was cancelled, if it was.
    pub cancel_reason: Option<String>,
    /// The closing summary, once closed.
    pub close_summary: Option<String>,
    /// Environments the release was deployed to: a deploy step of the whole
    /// environment succeeded there.
    #[serde(default)]
    pub deployed_to: Vec<EnvName>,
    /// Audit findings: duties missed (R-5c, R-6d).
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// The number of events folded: the stream version.
    pub version: u64,
}

impl ReleaseState {
    /// The environments this release holds (R-6e). Every environment whose
    /// deployment is running (or was started and has no recorded outcome),
    /// and, while the release is still between its production deployment and
    /// the end of its verification (a stage it may roll back from, other than
    /// one it may close from, or rolling back), each production environment
    /// it deployed to: its rollback would overwrite whatever another release
    /// deployed there meanwhile. Released, rolled back, cancelled, or a
    /// failure handed to people in a stage that no longer rolls back: free.
    pub fn holds(&self, policy: &crate::policy::Policy) -> Vec<EnvHold> {
        let (Some(plan), Some(stage)) = (&self.plan, &self.stage) else { return Vec::new() };
        let l = &policy.lifecycle;
        let verifying = !policy.is_final(stage)
            && ((l.rollback_from.contains(stage) && !l.close_from.contains(stage)) || stage == &l.rolling_back);
        let mut holds: Vec<EnvHold> = Vec::new();
        for step in self.steps.iter().filter(|s| s.step == StepKind::Deploy && s.target.is_none()) {
            let Some(env) = &step.environment else { continue };
            let production = policy.environment(env).is_some_and(|e| e.production);
            if step.outcome.is_none() || (production && verifying) {
                match holds.iter_mut().find(|h| &h.environment == env) {
                    Some(h) => h.since = h.since.min(step.started_at),
                    None => holds.push(EnvHold {
                        environment: env.clone(),
                        release: plan.release.clone(),
                        since: step.started_at,
                    }),
                }
            }
        }
        holds
    }

    /// The steps in doubt: started, no outcome, and found so after their
    /// driver stopped (see [`StepRecord::in_doubt`]).
    pub fn in_doubt(&self) -> impl Iterator<Item = &StepRecord> {
        self.steps.iter().filter(|s| s.outcome.is_none() && s.in_doubt.is_some())
    }

    /// The steps that finished failed since `before` (an earlier state of
    /// this release) and stayed failed: an attempt that a later attempt of
    /// the same step retried to success is not one. What "a step failed in
    /// this run" means for every surface (exit code 5, an error in a binding).
    pub fn failed_since(&self, before: &ReleaseState) -> Vec<&StepRecord> {
        let base = |key: &str| key.split('/').next().unwrap_or(key).to_owned();
        let finished_before =
            |i: usize, s: &StepRecord| before.steps.get(i).is_some_and(|b| b.key == s.key && b.outcome.is_some());
        self.steps
            .iter()
            .enumerate()
            .filter(|(i, s)| matches!(s.outcome, Some(StepOutcome::Failed { .. })) && !finished_before(*i, s))
            .filter(|(i, s)| {
                let key = base(&s.key);
                !self.steps[i + 1..]
                    .iter()
                    .any(|later| base(&later.key) == key && later.outcome.as_ref().is_some_and(StepOutcome::succeeded))
            })
            .map(|(_, s)| s)
            .collect()
    }

    /// Folds a whole log into a state.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        events.into_iter().fold(ReleaseState::default(), apply)
    }

    /// Distinct approvers of `approval` whose role is one of `roles`.
    pub fn approvers(&self, approval: &ApprovalId, roles: &[Role]) -> Vec<&str> {
        self.approvers_since(approval, roles, Timestamp::MIN)
    }

    /// [`approvers`](Self::approvers), counting only approvals given at or after `since`
    /// (an older one expired, R-2b).
    pub fn approvers_since(&self, approval: &ApprovalId, roles: &[Role], since: Timestamp) -> Vec<&str> {
        let mut users: Vec<&str> = self
            .approvals
            .iter()
            .filter(|a| &a.approval == approval && roles.contains(&a.role) && a.at >= since)
            .map(|a| a.user.as_str())
            .collect();
        users.sort_unstable();
        users.dedup();
        users
    }

    /// The rejections of `approval` by one of `roles` that still stand: no
    /// approval of it by the same person was given at or after the rejection
    /// (R-2b). `decide` refuses a rejection from someone whose approval counts,
    /// so an approval at the same instant can only have come after.
    pub fn standing_rejections(&self, approval: &ApprovalId, roles: &[Role]) -> Vec<&Approval> {
        self.rejections
            .iter()
            .filter(|r| &r.approval == approval && roles.contains(&r.role))
            .filter(|r| !self.approvals.iter().any(|a| &a.approval == approval && a.user == r.user && a.at >= r.at))
            .collect()
    }

    /// The latest result per target for `gate` in `environment`.
    pub fn latest_results(&self, gate: &GateId, environment: Option<&EnvName>) -> Vec<&GateResult> {
        let mut latest: BTreeMap<Option<&str>, &GateResult> = BTreeMap::new();
        for r in self.gate_results.iter().filter(|r| &r.gate == gate && r.environment.as_ref() == environment) {
            latest.insert(r.target.as_deref(), r);
        }
        latest.into_values().collect()
    }

    /// The latest record per target for `step` in `environment`.
    pub fn latest_steps(&self, step: &StepKind, environment: Option<&EnvName>) -> Vec<&StepRecord> {
        let mut latest: BTreeMap<Option<&str>, &StepRecord> = BTreeMap::new();
        for r in self.steps.iter().filter(|r| &r.step == step && r.environment.as_ref() == environment) {
            latest.insert(r.target.as_deref(), r);
        }
        latest.into_values().collect()
    }

    /// The step with this idempotency key (searched from the newest).
    pub fn step(&self, key: &str) -> Option<&StepRecord> {
        self.steps.iter().rev().find(|s| s.key == key)
    }

    /// Steps started but not finished: after a crash, the engine asks their
    /// ports about these keys instead of running them again.
    pub fn unfinished_steps(&self) -> impl Iterator<Item = &StepRecord> {
        self.steps.iter().filter(|s| s.outcome.is_none())
    }

    fn enter(&mut self, stage: Stage, at: Timestamp) {
        self.entered_at.insert(stage.clone(), at);
        self.path.push(stage.clone());
        self.stage = Some(stage);
    }
}

/// Folds one event into the state. Total: an event that does not fit the
/// state (which `decide` never produces) is still recorded as far as it can be.
pub fn apply(mut state: ReleaseState, event: &Event) -> ReleaseState {
    state.version += 1;
    match event {
        Event::Planned { plan, author, stage, at, .. } => {
            state.plan = Some(plan.clone());
            state.author = Some(author.clone());
            state.enter(stage.clone(), *at);
        }
        Event::Approved(approval) => state.approvals.push(approval.clone()),
        Event::Rejected(rejection) => state.rejections.push(rejection.clone()),
        Event::EvidenceRecorded(result) => state.gate_results.push(result.clone()),
        Event::ArtifactRecorded(artifact) => {
            state.artifacts.retain(|a| a.name != artifact.name);
            state.artifacts.push(artifact.clone());
        }
        Event::Advanced { to, at, .. } => state.enter(to.clone(), *at),
        Event::Scheduled(booking) => {
            state.bookings.retain(|b| b.environment != booking.environment);
            state.bookings.push(booking.clone());
        }
        Event::WindowOverridden(o) => state.overrides.push(o.clone()),
        Event::FindingRecorded(f) => state.findings.push(f.clone()),
        Event::StepStarted { key, step, environment, target, at } => state.steps.push(StepRecord {
            key: key.clone(),
            step: step.clone(),
            environment: environment.clone(),
            target: target.clone(),
            started_at: *at,
            finished_at: None,
            outcome: None,
            log: Vec::new(),
            in_doubt: None,
        }),
        Event::StepInDoubt { key, detail, .. } => {
            if let Some(record) = state.steps.iter_mut().rev().find(|s| &s.key == key) {
                record.in_doubt = Some(detail.clone());
            }
        }
        Event::StepFinished { key, outcome, log, at } => {
            if let Some(record) = state.steps.iter_mut().rev().find(|s| &s.key == key) {
                record.finished_at = Some(*at);
                record.outcome = Some(outcome.clone());
                record.log = log.clone();
                let whole_env = record.step == StepKind::Deploy && record.target.is_none() && outcome.succeeded();
                if let Some(env) = record.environment.as_ref().filter(|e| whole_env && !state.deployed_to.contains(e)) {
                    state.deployed_to.push(env.clone());
                }
            }
        }
        Event::RollbackStarted { reason, to, at, .. } => {
            state.rollback_reason = Some(reason.clone());
            state.enter(to.clone(), *at);
        }
        Event::RollbackFinished { to, at, .. } => {
            if let Some(to) = to {
                state.enter(to.clone(), *at);
            }
        }
        Event::Cancelled { reason, to, at, .. } => {
            state.cancel_reason = Some(reason.clone());
            state.enter(to.clone(), *at);
        }
        Event::Closed { summary, to, at } => {
            state.close_summary = Some(summary.clone());
            state.enter(to.clone(), *at);
        }
    }
    state
}
