//! The state machine: [`decide`] turns a command into events or a
//! [`Refusal`]; [`apply`] folds events into a [`ReleaseState`]. Both are pure
//! and total; every rule of the procedure is enforced in `decide`, once.

mod decide;
mod identity;
mod refusal;
mod state;
pub mod typestate;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::calendar::Booking;
use crate::model::{
    Actor, Approval, ApprovalId, ArtifactRef, Channel, EnvName, GateId, GateResult, Plan, Role, Stage, StepKind,
    Version,
};
use crate::rule::RuleId;

pub use decide::decide;
pub use refusal::{Refusal, Requirement, Unmet};
pub use state::{EnvHold, Finding, ReleaseState, StepRecord, WindowOverride, apply};

/// A command: who asks, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Who issues the command.
    pub actor: Actor,
    /// What is asked.
    pub action: Action,
}

impl Command {
    /// A command by `actor`.
    pub fn new(actor: &Actor, action: Action) -> Self {
        Self { actor: actor.clone(), action }
    }
}

/// Everything people and the engine can ask of a release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Create the release from its plan (R-1a). `last_release` is the newest
    /// released version, if known, which the new version must exceed (R-4c).
    Plan {
        /// The plan.
        plan: Plan,
        /// The newest released version of the project, if any.
        #[serde(default)]
        last_release: Option<Version>,
    },
    /// Give an approval in one of the actor's roles (R-2b, R-2c, R-2d).
    Approve {
        /// What is approved.
        approval: ApprovalId,
        /// The role the actor approves in.
        role: Role,
        /// Where the approval was given.
        channel: Channel,
        /// The approver's comment.
        comment: String,
    },
    /// Reject an approval: a qualified approver declines it, with a reason
    /// (R-2b, R-2c, R-2d). While the rejection stands, every transition
    /// that needs the approval is refused naming it, however many others
    /// approved; the same person lifts it by approving later.
    Reject {
        /// What is rejected.
        approval: ApprovalId,
        /// The role the actor rejects in.
        role: Role,
        /// Where the rejection was given.
        channel: Channel,
        /// Why: required.
        comment: String,
    },
    /// Record a measured value for a gate; the machine judges it (R-7g).
    RecordEvidence(Evidence),
    /// Record a published artifact (R-8b, R-8d).
    RecordArtifact(ArtifactRef),
    /// Move to another stage along a policy transition.
    Advance {
        /// The stage to enter.
        to: Stage,
    },
    /// Book a deployment into the calendar (R-6a, R-6e).
    Schedule {
        /// Where.
        environment: EnvName,
        /// Start, inclusive.
        start: Timestamp,
        /// End, exclusive.
        end: Timestamp,
        /// Other releases' bookings the caller knows of, for the conflict check.
        #[serde(default)]
        busy: Vec<Booking>,
    },
    /// Override blackout windows and freezes, with a reason (R-6b).
    OverrideWindow {
        /// Why the override is needed.
        reason: String,
    },
    /// Record that a step has started, under an idempotency key.
    StartStep {
        /// The kind of step.
        step: StepKind,
        /// The environment, for per-environment steps.
        #[serde(default)]
        environment: Option<EnvName>,
        /// The target, for per-target steps.
        #[serde(default)]
        target: Option<String>,
        /// A key unique within the release; asking the port about it resolves an unfinished step.
        key: String,
        /// The environments other releases hold, as the caller knows them:
        /// a deployment to one of them is refused (R-6e).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        held: Vec<EnvHold>,
    },
    /// Record a started step's outcome.
    FinishStep {
        /// The step's idempotency key.
        key: String,
        /// What happened.
        outcome: StepOutcome,
        /// The step's log (R-8e), at most [`LogLine::MAX_PER_STEP`] lines.
        #[serde(default)]
        log: Vec<LogLine>,
    },
    /// Begin a rollback; fast-track, no gates (R-8g).
    BeginRollback {
        /// Why.
        reason: String,
    },
    /// Record the end of a rollback (R-1d).
    FinishRollback {
        /// True when the previous release runs again.
        succeeded: bool,
        /// What was done.
        detail: String,
    },
    /// Cancel the release from any non-final stage.
    Cancel {
        /// Why.
        reason: String,
    },
    /// Close a released release with its summary (R-9d). Refused while a
    /// duty is still due (R-6d, R-5c).
    Close {
        /// The log summary posted to the release ticket.
        summary: String,
    },
    /// Record that a started step's outcome cannot be established: its
    /// driver stopped and the port cannot tell (R-9d). The engine's, once.
    MarkInDoubt {
        /// The step's key.
        key: String,
        /// What is known.
        detail: String,
    },
    /// A person resolves a step in doubt after checking the target: it was
    /// done, or it failed (R-9d, R-8g); recorded with who and why.
    ResolveStep {
        /// The step's key.
        key: String,
        /// True when the step's work is done; false when it failed.
        done: bool,
        /// What the person checked.
        reason: String,
    },
    /// Record that a duty missed its deadline (R-5c, R-6d); once per key.
    RecordFinding {
        /// The duty's key.
        key: String,
        /// The requirement not met.
        rule: RuleId,
        /// What happened.
        detail: String,
    },
}

/// A measured value for a gate, with where it came from (R-7g).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Which gate.
    pub gate: GateId,
    /// The environment, for per-environment checks.
    #[serde(default)]
    pub environment: Option<EnvName>,
    /// The target, for per-target checks.
    #[serde(default)]
    pub target: Option<String>,
    /// The measured value, in the gate's unit.
    pub value: f64,
    /// Where it came from: a report path, URL or probe name.
    pub source: String,
    /// What the value counted, by name (open bug tickets, commits without a
    /// ticket key), so that a refusal can name them (R-7g).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
}

impl Evidence {
    /// Evidence for a release-wide gate.
    pub fn new(gate: GateId, value: f64, source: impl Into<String>) -> Self {
        Self { gate, environment: None, target: None, value, source: source.into(), items: Vec::new() }
    }

    /// The same evidence naming what it counted.
    pub fn with_items(mut self, items: Vec<String>) -> Self {
        self.items = items;
        self
    }

    /// The same evidence for one environment.
    pub fn in_env(mut self, environment: EnvName) -> Self {
        self.environment = Some(environment);
        self
    }

    /// The same evidence for one target.
    pub fn on_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }
}

/// Which output stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// A message from shipwarden or the adapter itself.
    Info,
}

impl LogStream {
    /// `stdout`, `stderr` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
            LogStream::Info => "info",
        }
    }
}

impl std::str::FromStr for LogStream {
    type Err = crate::ParseError;
    fn from_str(text: &str) -> Result<Self, crate::ParseError> {
        match text {
            "stdout" => Ok(LogStream::Stdout),
            "stderr" => Ok(LogStream::Stderr),
            "info" => Ok(LogStream::Info),
            other => Err(crate::ParseError::new("log stream", other, "expected stdout, stderr or info")),
        }
    }
}

/// One line of a step's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The stream.
    pub stream: LogStream,
    /// The text, without its line ending.
    pub text: String,
}

impl LogLine {
    /// The most lines recorded per step; older lines are dropped first.
    pub const MAX_PER_STEP: usize = 1000;
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepOutcome {
    /// It did what it should.
    Succeeded {
        /// What it did, for the audit trail.
        detail: String,
        /// Data later steps need (a backup's reference, built files), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<serde_json::Value>,
    },
    /// It failed.
    Failed {
        /// What went wrong.
        error: String,
        /// Whether trying again can help.
        retryable: bool,
        /// The port call that failed, when a port's error ended the step
        /// (absent in events recorded before issue #20, and for failures the
        /// engine or a person reports).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<FailedCall>,
    },
}

/// The port call that failed a step: the structured half of a
/// [`crate::ports::PortError`], kept so a run can say which system failed,
/// in which operation, and why (issue #20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedCall {
    /// The port or adapter, e.g. `deploy-target web-1`.
    pub port: String,
    /// The operation, e.g. `deploy`.
    pub operation: String,
    /// What happened: the error's kind and message.
    pub cause: String,
}

impl From<&crate::ports::PortError> for FailedCall {
    fn from(e: &crate::ports::PortError) -> Self {
        FailedCall { port: e.port.clone(), operation: e.operation.clone(), cause: format!("{}: {}", e.kind, e.message) }
    }
}

impl StepOutcome {
    /// A success with a detail and no output.
    pub fn ok(detail: impl Into<String>) -> Self {
        StepOutcome::Succeeded { detail: detail.into(), output: None }
    }

    /// A failure.
    pub fn failed(error: impl Into<String>, retryable: bool) -> Self {
        StepOutcome::Failed { error: error.into(), retryable, call: None }
    }

    /// The failure a port's error makes, keeping which call failed.
    pub fn port_failed(error: &crate::ports::PortError) -> Self {
        StepOutcome::Failed { error: error.to_string(), retryable: error.retryable, call: Some(error.into()) }
    }

    /// The output of a success.
    pub fn output(&self) -> Option<&serde_json::Value> {
        match self {
            StepOutcome::Succeeded { output, .. } => output.as_ref(),
            StepOutcome::Failed { .. } => None,
        }
    }

    /// True for success.
    pub fn succeeded(&self) -> bool {
        matches!(self, StepOutcome::Succeeded { .. })
    }
}

/// A fact appended to a release's stream. The state is the fold of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The release was planned.
    Planned {
        /// The plan.
        plan: Plan,
        /// Who planned it (for separation of duties).
        author: String,
        /// The policy's initial stage.
        stage: Stage,
        /// When.
        at: Timestamp,
        /// How the author was established, for an emergency plan (issue #19);
        /// none for other plans and in events recorded before proofs were.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<crate::model::Proof>,
    },
    /// An approval was given (R-2c).
    Approved(Approval),
    /// An approval was rejected, with a reason (R-2c): the record has the
    /// same fields as an approval's, the comment being the reason.
    Rejected(Approval),
    /// A gate result was recorded (R-7g).
    EvidenceRecorded(GateResult),
    /// An artifact was recorded (R-8b).
    ArtifactRecorded(ArtifactRef),
    /// The release moved to another stage.
    Advanced {
        /// The stage it left.
        from: Stage,
        /// The stage it entered.
        to: Stage,
        /// The policy transition taken.
        transition: String,
        /// The transition's rule.
        rule: RuleId,
        /// When.
        at: Timestamp,
    },
    /// A deployment was booked (R-6a).
    Scheduled(Booking),
    /// Windows were overridden (R-6b).
    WindowOverridden(WindowOverride),
    /// A step started.
    StepStarted {
        /// Its idempotency key.
        key: String,
        /// Its kind.
        step: StepKind,
        /// Its environment.
        environment: Option<EnvName>,
        /// Its target.
        target: Option<String>,
        /// When.
        at: Timestamp,
    },
    /// A step finished.
    StepFinished {
        /// Its idempotency key.
        key: String,
        /// How it ended.
        outcome: StepOutcome,
        /// Its log (R-8e).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        log: Vec<LogLine>,
        /// When.
        at: Timestamp,
    },
    /// A started step's outcome could not be established (R-9d).
    StepInDoubt {
        /// Its idempotency key.
        key: String,
        /// What is known.
        detail: String,
        /// When.
        at: Timestamp,
    },
    /// A rollback began (R-8g).
    RollbackStarted {
        /// The stage it began from.
        from: Stage,
        /// The rolling-back stage it entered.
        to: Stage,
        /// Why.
        reason: String,
        /// When.
        at: Timestamp,
        /// How the person who began it was established (issue #19); none in
        /// events recorded before proofs were.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proof: Option<crate::model::Proof>,
    },
    /// A rollback ended (R-1d).
    RollbackFinished {
        /// Whether the previous release runs again.
        succeeded: bool,
        /// The stage entered on success (none: still rolling back).
        to: Option<Stage>,
        /// What was done.
        detail: String,
        /// When.
        at: Timestamp,
    },
    /// The release was cancelled.
    Cancelled {
        /// The stage it was cancelled in.
        from: Stage,
        /// The cancelled stage it entered.
        to: Stage,
        /// Why.
        reason: String,
        /// When.
        at: Timestamp,
    },
    /// An audit finding was recorded: a duty missed its deadline (R-5c, R-6d).
    FindingRecorded(Finding),
    /// The release was closed (R-9d).
    Closed {
        /// The log summary.
        summary: String,
        /// The closed stage it entered.
        to: Stage,
        /// When.
        at: Timestamp,
    },
}

impl Event {
    /// The requirement this event documents, for the audit trail.
    pub fn rule(&self) -> RuleId {
        match self {
            Event::Planned { .. } => RuleId::R_1A,
            Event::Approved(_) | Event::Rejected(_) => RuleId::R_2C,
            Event::EvidenceRecorded(_) => RuleId::R_7G,
            Event::ArtifactRecorded(_) => RuleId::R_8B,
            Event::Advanced { rule, .. } => *rule,
            Event::Scheduled(_) => RuleId::R_6A,
            Event::WindowOverridden(_) => RuleId::R_6B,
            Event::StepStarted { .. }
            | Event::StepFinished { .. }
            | Event::StepInDoubt { .. }
            | Event::Closed { .. } => RuleId::R_9D,
            Event::RollbackStarted { .. } => RuleId::R_8G,
            Event::RollbackFinished { .. } => RuleId::R_1D,
            Event::Cancelled { .. } => RuleId::R_3,
            Event::FindingRecorded(f) => f.rule,
        }
    }

    /// The event's name, e.g. `advanced`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Planned { .. } => "planned",
            Event::Approved(_) => "approved",
            Event::Rejected(_) => "rejected",
            Event::EvidenceRecorded(_) => "evidence_recorded",
            Event::ArtifactRecorded(_) => "artifact_recorded",
            Event::Advanced { .. } => "advanced",
            Event::Scheduled(_) => "scheduled",
            Event::WindowOverridden(_) => "window_overridden",
            Event::StepStarted { .. } => "step_started",
            Event::StepFinished { .. } => "step_finished",
            Event::StepInDoubt { .. } => "step_in_doubt",
            Event::RollbackStarted { .. } => "rollback_started",
            Event::RollbackFinished { .. } => "rollback_finished",
            Event::Cancelled { .. } => "cancelled",
            Event::Closed { .. } => "closed",
            Event::FindingRecorded(_) => "finding_recorded",
        }
    }
}
