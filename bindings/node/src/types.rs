//! The objects JavaScript sees: plain objects with camelCase fields, typed
//! in the generated `native.d.ts`.

use napi_derive::napi;
use shipwarden::machine::StepRecord;
use shipwarden::{ReleaseState, StepOutcome};

fn ts(at: jiff::Timestamp) -> String {
    at.to_string()
}

/// Someone acting on a release.
#[napi(object)]
#[derive(Clone)]
pub struct Actor {
    /// The user name recorded in the audit trail.
    pub user: String,
    /// The roles held (`release_manager`, `qa_lead`, `cto`, …).
    pub roles: Vec<String>,
    /// How the embedding platform established who this is (issue #19):
    /// `{ kind: 'token', id }`, `{ kind: 'oidc', issuer, subject }`,
    /// `{ kind: 'chat', platform, user_id }` or `{ kind: 'local' }` (the
    /// default, left out). An SSH signature goes to `approve(…, { signature, statement })`.
    pub proof: Option<serde_json::Value>,
}

/// The emergency details of a hotfix (R-5b).
#[napi(object)]
#[derive(Clone)]
pub struct Hotfix {
    /// The hotfix ticket.
    pub ticket: String,
    /// Its summary, with the policy's prefix (`HOTFIX`).
    pub summary: String,
    /// Why it cannot wait.
    pub justification: String,
}

/// A release plan (R-1a).
#[napi(object)]
#[derive(Clone)]
pub struct Plan {
    /// The project.
    pub project: String,
    /// The SemVer version.
    pub version: String,
    /// `major`, `minor` (default), `patch` or `emergency`.
    pub kind: Option<String>,
    /// The release id (default `project-version`).
    pub release: Option<String>,
    /// Ticket keys in scope.
    pub scope: Option<Vec<String>>,
    /// `YYYY-MM-DD`.
    pub target_date: Option<String>,
    /// External dependencies: name to version constraint.
    pub dependencies: Option<std::collections::HashMap<String, String>>,
    /// The hotfix details of an emergency release.
    pub hotfix: Option<Hotfix>,
}

/// An approval given (R-2c); also the record of a rejection of one, its comment the reason.
#[napi(object)]
pub struct Approval {
    /// Which approval.
    pub approval: String,
    /// The role it was given in.
    pub role: String,
    /// Who gave it.
    pub user: String,
    /// When (RFC 3339).
    pub at: String,
    /// The channel.
    pub channel: String,
    /// The comment.
    pub comment: String,
    /// How the approver was established (issue #19): `{ kind, … }` with who or
    /// what proved it; absent for approvals recorded before proofs were.
    pub proof: Option<serde_json::Value>,
}

/// A judged gate (R-7g).
#[napi(object)]
pub struct GateResult {
    /// The gate.
    pub gate: String,
    /// The environment measured.
    pub environment: Option<String>,
    /// The target measured.
    pub target: Option<String>,
    /// The measured value.
    pub value: f64,
    /// The value as people read it (`92.0 %`).
    pub measured: String,
    /// The threshold (`>= 90.0 %`).
    pub threshold: String,
    /// The verdict.
    pub passed: bool,
    /// Where the value came from.
    pub source: String,
    /// Who or what produced it.
    pub produced_by: String,
    /// When (RFC 3339).
    pub at: String,
}

/// An artifact.
#[napi(object)]
#[derive(Clone)]
pub struct ArtifactRef {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// SHA-256 of its content, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: f64,
}

/// A step's record.
#[napi(object)]
pub struct Step {
    /// The idempotency key.
    pub key: String,
    /// The kind of step.
    pub step: String,
    /// Its environment.
    pub environment: Option<String>,
    /// Its target.
    pub target: Option<String>,
    /// True: succeeded; false: failed; absent: still running.
    pub ok: Option<bool>,
    /// What it did or what went wrong.
    pub detail: Option<String>,
    /// Its log lines.
    pub log: Vec<String>,
    /// Why nobody knew how it ended, once it was found in doubt (its driver stopped and the target could
    /// not tell); absent for a step never in doubt. While `ok` is absent it waits for a person
    /// (`resolve`, R-9d); once resolved, `ok` says how it ended and this keeps the why.
    pub in_doubt: Option<String>,
}

/// A release: the fold of its audit events.
#[napi(object)]
pub struct Release {
    /// The release id.
    pub id: Option<String>,
    /// The project.
    pub project: Option<String>,
    /// The version.
    pub version: Option<String>,
    /// The kind.
    pub kind: Option<String>,
    /// The current stage.
    pub stage: Option<String>,
    /// Every stage entered.
    pub path: Vec<String>,
    /// Who planned it.
    pub author: Option<String>,
    /// Approvals given.
    pub approvals: Vec<Approval>,
    /// Rejections of an approval (R-2c), standing or lifted, oldest first: the
    /// same records as approvals, `comment` being the reason. One stands until
    /// its author approves (R-2b).
    pub rejections: Vec<Approval>,
    /// Gate results, oldest first.
    pub gate_results: Vec<GateResult>,
    /// Artifacts recorded.
    pub artifacts: Vec<ArtifactRef>,
    /// Steps, in start order.
    pub steps: Vec<Step>,
    /// The steps in doubt, in start order: each waits for a person to `resolve` it (R-9d).
    pub in_doubt: Vec<Step>,
    /// Environments deployed to.
    pub deployed_to: Vec<String>,
    /// Why a rollback began.
    pub rollback_reason: Option<String>,
    /// Why it was cancelled.
    pub cancel_reason: Option<String>,
    /// The closing summary.
    pub close_summary: Option<String>,
    /// The number of events folded.
    pub stream_version: f64,
}

impl From<&StepRecord> for Step {
    fn from(s: &StepRecord) -> Self {
        Step {
            key: s.key.clone(),
            step: s.step.to_string(),
            environment: s.environment.as_ref().map(ToString::to_string),
            target: s.target.clone(),
            ok: s.outcome.as_ref().map(StepOutcome::succeeded),
            detail: s.outcome.as_ref().map(|o| match o {
                StepOutcome::Succeeded { detail, .. } => detail.clone(),
                StepOutcome::Failed { error, .. } => error.clone(),
            }),
            log: s.log.iter().map(|l| l.text.clone()).collect(),
            in_doubt: s.in_doubt.clone(),
        }
    }
}

impl From<&shipwarden::Approval> for Approval {
    fn from(a: &shipwarden::Approval) -> Self {
        Approval {
            approval: a.approval.to_string(),
            role: a.role.to_string(),
            user: a.user.clone(),
            at: ts(a.at),
            channel: a.channel.as_str().to_owned(),
            comment: a.comment.clone(),
            proof: a.proof.as_ref().and_then(|p| serde_json::to_value(p).ok()),
        }
    }
}

impl From<&shipwarden::ArtifactRef> for ArtifactRef {
    fn from(a: &shipwarden::ArtifactRef) -> Self {
        ArtifactRef {
            name: a.name.clone(),
            version: a.version.to_string(),
            sha256: a.sha256.to_string(),
            size: a.size as f64,
        }
    }
}

impl From<&ReleaseState> for Release {
    fn from(s: &ReleaseState) -> Self {
        let plan = s.plan.as_ref();
        Release {
            id: plan.map(|p| p.release.to_string()),
            project: plan.map(|p| p.project.clone()),
            version: plan.map(|p| p.version.to_string()),
            kind: plan.map(|p| p.kind.as_str().to_owned()),
            stage: s.stage.as_ref().map(ToString::to_string),
            path: s.path.iter().map(ToString::to_string).collect(),
            author: s.author.clone(),
            approvals: s.approvals.iter().map(Approval::from).collect(),
            rejections: s.rejections.iter().map(Approval::from).collect(),
            gate_results: s
                .gate_results
                .iter()
                .map(|g| GateResult {
                    gate: g.gate.to_string(),
                    environment: g.environment.as_ref().map(ToString::to_string),
                    target: g.target.clone(),
                    value: g.measured.value,
                    measured: g.measured.to_string(),
                    threshold: g.threshold.describe(g.measured.unit),
                    passed: g.passed,
                    source: g.source.clone(),
                    produced_by: g.produced_by.clone(),
                    at: ts(g.at),
                })
                .collect(),
            artifacts: s.artifacts.iter().map(ArtifactRef::from).collect(),
            steps: s.steps.iter().map(Step::from).collect(),
            in_doubt: s.in_doubt().map(Step::from).collect(),
            deployed_to: s.deployed_to.iter().map(ToString::to_string).collect(),
            rollback_reason: s.rollback_reason.clone(),
            cancel_reason: s.cancel_reason.clone(),
            close_summary: s.close_summary.clone(),
            stream_version: s.version as f64,
        }
    }
}

/// One unmet requirement of a refusal.
#[napi(object)]
pub struct Unmet {
    /// The rule (`R-5a`).
    pub rule: String,
    /// The kind (`approval`, `gate`, `step`, `window`, `transition`, …).
    pub requirement: String,
    /// As people read it.
    pub message: String,
    /// The approval missing.
    pub approval: Option<String>,
    /// The roles that may give it.
    pub roles: Vec<String>,
    /// The gate.
    pub gate: Option<String>,
    /// Who: the person who rejected the approval, for `rejected` requirements
    /// (R-2b); the person concerned, for `duplicate_approval`,
    /// `duplicate_rejection` and `separation_of_duties` ones.
    pub user: Option<String>,
    /// Why the approval was rejected, for `rejected` requirements (R-2b).
    pub reason: Option<String>,
    /// The step: its kind for `step` requirements, its key for `step_in_doubt` ones.
    pub step: Option<String>,
    /// What is known, for `step_in_doubt` requirements.
    pub detail: Option<String>,
    /// The environment concerned.
    pub environment: Option<String>,
}

impl From<&shipwarden::Unmet> for Unmet {
    fn from(u: &shipwarden::Unmet) -> Self {
        // Flattened once, in the shared layer, for both bindings' error documents.
        let d = shipwarden_bindings::error::UnmetDoc::from(u);
        Unmet {
            rule: d.rule,
            requirement: d.requirement,
            message: d.message,
            approval: d.approval,
            roles: d.roles,
            gate: d.gate,
            user: d.user,
            reason: d.reason,
            step: d.step,
            detail: d.detail,
            environment: d.environment,
        }
    }
}

/// Why the policy refused.
#[napi(object)]
pub struct Refusal {
    /// The rule of the first unmet requirement.
    pub rule: String,
    /// The stage the release was in.
    pub stage: Option<String>,
    /// What was attempted.
    pub attempted: String,
    /// Every unmet requirement.
    pub unmet: Vec<Unmet>,
    /// The rules of the unmet requirements, without repeats.
    pub rules: Vec<String>,
    /// The whole refusal as one text.
    pub message: String,
}

impl From<&shipwarden::Refusal> for Refusal {
    fn from(r: &shipwarden::Refusal) -> Self {
        let mut rules: Vec<String> = Vec::new();
        for u in &r.unmet {
            let rule = u.rule.to_string();
            if !rules.contains(&rule) {
                rules.push(rule);
            }
        }
        Refusal {
            rule: r.rule.to_string(),
            stage: r.stage.as_ref().map(ToString::to_string),
            attempted: r.attempted.clone(),
            unmet: r.unmet.iter().map(Unmet::from).collect(),
            rules,
            message: r.to_string(),
        }
    }
}

/// A stage the release may go to next, and what advancing would meet.
#[napi(object)]
pub struct NextStage {
    /// The stage.
    pub stage: String,
    /// The refusal advancing now would meet (absent: it would succeed).
    pub refusal: Option<Refusal>,
}

/// A release's state and its ways forward.
#[napi(object)]
pub struct ReleaseStatus {
    /// The release.
    pub release: Release,
    /// The current stage.
    pub stage: Option<String>,
    /// Each next stage with its refusal.
    pub next: Vec<NextStage>,
}

impl From<&shipwarden::engine::ReleaseStatus> for ReleaseStatus {
    fn from(s: &shipwarden::engine::ReleaseStatus) -> Self {
        ReleaseStatus {
            release: Release::from(&s.state),
            stage: s.state.stage.as_ref().map(ToString::to_string),
            next: s
                .next
                .iter()
                .map(|(stage, r)| NextStage { stage: stage.to_string(), refusal: r.as_ref().map(Refusal::from) })
                .collect(),
        }
    }
}

/// Where a run stopped.
#[napi(object)]
pub struct RunOutcome {
    /// `reached`, `waiting`, `failed`, `rolled_back` or `final`.
    pub outcome: String,
    /// The stage reached, waited or failed in, or final.
    pub stage: String,
    /// What it waits for (and, when `failed`, every unmet requirement with the failed steps).
    pub refusal: Option<Refusal>,
    /// Why it failed or was rolled back.
    pub reason: Option<String>,
    /// When `failed`, or `rolled_back` because a port failed: the step and its port error.
    pub error: Option<StepError>,
}

/// A step that failed at a port: which, where, and the port's error.
#[napi(object)]
pub struct StepError {
    /// The kind of step (`deploy`, `smoke_test`, …).
    pub step: String,
    /// Its environment, if any.
    pub environment: Option<String>,
    /// Its target, if any.
    pub target: Option<String>,
    /// The port that failed (`deploy-target web-1`), or `engine`.
    pub port: String,
    /// The operation (`deploy`).
    pub operation: String,
    /// What happened.
    pub cause: String,
    /// Whether trying again can help.
    pub retryable: bool,
}

impl From<&shipwarden::engine::StepError> for StepError {
    fn from(e: &shipwarden::engine::StepError) -> Self {
        StepError {
            step: e.step.as_str().to_owned(),
            environment: e.environment.as_ref().map(ToString::to_string),
            target: e.target.clone(),
            port: e.port.clone(),
            operation: e.operation.clone(),
            cause: e.cause.clone(),
            retryable: e.retryable,
        }
    }
}

impl From<&shipwarden::engine::RunOutcome> for RunOutcome {
    fn from(o: &shipwarden::engine::RunOutcome) -> Self {
        use shipwarden::engine::RunOutcome as O;
        let plain = |outcome: &str, stage: String| RunOutcome {
            outcome: outcome.into(),
            stage,
            refusal: None,
            reason: None,
            error: None,
        };
        match o {
            O::Reached { stage } => plain("reached", stage.to_string()),
            O::Final { stage } => plain("final", stage.to_string()),
            O::Waiting(w) => {
                RunOutcome { refusal: Some(Refusal::from(&w.refusal)), ..plain("waiting", w.stage.to_string()) }
            }
            O::Failed(f) => RunOutcome {
                refusal: Some(Refusal::from(&f.waiting.refusal)),
                reason: Some(f.error.to_string()),
                error: Some(StepError::from(&f.error)),
                ..plain("failed", f.waiting.stage.to_string())
            },
            O::RolledBack { reason, error } => RunOutcome {
                reason: Some(reason.clone()),
                error: error.as_ref().map(StepError::from),
                ..plain("rolled_back", shipwarden::Stage::RolledBack.to_string())
            },
        }
    }
}

/// One entry of the audit trail.
#[napi(object)]
pub struct AuditEvent {
    /// The release stream.
    pub stream: String,
    /// Position in the stream, from 1.
    pub sequence: f64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// Under which rule.
    pub rule: String,
    /// The event's name (`planned`, `approved`, `step_finished`, …).
    pub kind: String,
    /// The event's fields (snake_case, as stored).
    pub event: serde_json::Value,
    /// The previous entry's hash.
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

impl From<&shipwarden::audit::Envelope> for AuditEvent {
    fn from(e: &shipwarden::audit::Envelope) -> Self {
        AuditEvent {
            stream: e.stream.clone(),
            sequence: e.sequence as f64,
            at: ts(e.at),
            actor: e.actor.clone(),
            rule: e.rule.to_string(),
            kind: e.event.name().to_owned(),
            event: serde_json::to_value(&e.event).unwrap_or_default(),
            prev_hash: e.prev_hash.to_string(),
            hash: e.hash.to_string(),
        }
    }
}

/// A step's log line, as it is written.
#[napi(object)]
pub struct LogEvent {
    /// The release.
    pub release: String,
    /// The step's key.
    pub step: String,
    /// `stdout`, `stderr` or `info`.
    pub stream: String,
    /// The text.
    pub text: String,
}

/// A release as the store lists it.
#[napi(object)]
pub struct ReleaseSummary {
    /// The release id.
    pub release: String,
    /// The project.
    pub project: String,
    /// The version.
    pub version: String,
    /// The kind.
    pub kind: String,
    /// The stage.
    pub stage: String,
}

/// A commit read as a change.
#[napi(object)]
pub struct Commit {
    /// The commit id.
    pub sha: String,
    /// The subject as written.
    pub subject: String,
    /// Conventional type.
    pub kind: Option<String>,
    /// Conventional scope.
    pub scope: Option<String>,
    /// The description.
    pub description: String,
    /// A breaking change.
    pub breaking: bool,
    /// Ticket keys named.
    pub tickets: Vec<String>,
    /// A hotfix.
    pub hotfix: bool,
    /// The commit it reverts.
    pub revert: Option<String>,
    /// A merge commit.
    pub merge: bool,
    /// The author.
    pub author: String,
    /// The notes section (`Features`, `Fixes`, …).
    pub group: String,
}

impl From<&shipwarden::changes::Change> for Commit {
    fn from(c: &shipwarden::changes::Change) -> Self {
        Commit {
            sha: c.sha.clone(),
            subject: c.subject.clone(),
            kind: c.kind.clone(),
            scope: c.scope.clone(),
            description: c.description.clone(),
            breaking: c.breaking,
            tickets: c.tickets.iter().map(ToString::to_string).collect(),
            hotfix: c.hotfix,
            revert: c.revert.clone(),
            merge: c.merge,
            author: c.author.clone(),
            group: c.group().title().to_owned(),
        }
    }
}

/// A commit to parse.
#[napi(object)]
pub struct CommitInput {
    /// The subject line.
    pub subject: String,
    /// The body.
    pub body: Option<String>,
    /// The commit id.
    pub sha: Option<String>,
    /// The author.
    pub author: Option<String>,
    /// The number of parents (2 for merges).
    pub parents: Option<u32>,
}

/// Release notes.
#[napi(object)]
pub struct ReleaseNotes {
    /// The project.
    pub project: String,
    /// The version.
    pub version: Option<String>,
    /// Section titles, in order.
    pub sections: Vec<String>,
    /// Contributors.
    pub contributors: Vec<String>,
    /// The notes as Markdown.
    pub markdown: String,
}

impl From<&shipwarden::notes::ReleaseNotes> for ReleaseNotes {
    fn from(n: &shipwarden::notes::ReleaseNotes) -> Self {
        ReleaseNotes {
            project: n.project.clone(),
            version: n.version.as_ref().map(ToString::to_string),
            sections: n.sections.iter().map(|s| s.title.clone()).collect(),
            contributors: n.contributors.clone(),
            markdown: n.to_markdown(),
        }
    }
}

/// A signed checkpoint of a release's audit chain (R-9d).
#[napi(object)]
pub struct Checkpoint {
    /// The release stream.
    pub stream: String,
    /// The sequence of the event whose hash is `head`.
    pub sequence: f64,
    /// The chain's head hash there.
    pub head: String,
    /// The stage the release reached there.
    pub stage: String,
    /// When it was signed (RFC 3339).
    pub at: String,
    /// The signature algorithm (`ed25519`).
    pub algorithm: String,
    /// The signer's public key, hex.
    pub public_key: String,
    /// The signature, hex.
    pub signature: String,
}

impl From<&shipwarden::audit::Checkpoint> for Checkpoint {
    fn from(c: &shipwarden::audit::Checkpoint) -> Self {
        Checkpoint {
            stream: c.stream.clone(),
            sequence: c.sequence as f64,
            head: c.head.to_string(),
            stage: c.stage.to_string(),
            at: ts(c.at),
            algorithm: c.algorithm.clone(),
            public_key: c.public_key.clone(),
            signature: c.signature.clone(),
        }
    }
}

/// What a verified audit trail says (R-9d); a trail that does not verify throws `IntegrityError`.
#[napi(object)]
pub struct AuditReport {
    /// Always true.
    pub ok: bool,
    /// The chain's head hash.
    pub head: String,
    /// How many events the chain holds.
    pub events: f64,
    /// How many checkpoints verified.
    pub checkpoints: u32,
    /// The newest checkpoint's sequence; absent when the chain is unanchored.
    pub anchored_at: Option<f64>,
    /// Events after the newest checkpoint, which no signature vouches for yet.
    pub unanchored_events: f64,
}

impl From<&shipwarden::audit::AnchorReport> for AuditReport {
    fn from(r: &shipwarden::audit::AnchorReport) -> Self {
        AuditReport {
            ok: true,
            head: r.head.to_string(),
            events: r.events as f64,
            checkpoints: u32::try_from(r.checkpoints).unwrap_or(u32::MAX),
            anchored_at: r.anchored_at.map(|s| s as f64),
            unanchored_events: r.unanchored_events as f64,
        }
    }
}
