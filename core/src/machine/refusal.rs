use std::fmt;

use serde::{Deserialize, Serialize};

use crate::calendar::{Booking, WindowBlock};
use crate::model::{ApprovalId, EnvName, GateId, Measure, ProofKind, ReleaseKind, Role, Stage, StepKind};
use crate::rule::RuleId;

/// A command the policy refuses: the rule, the stage, what was attempted,
/// and **each** unmet requirement, so that one answer says everything to fix.
///
/// Built only by the core (its rules): other crates read it, never make one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[non_exhaustive]
pub struct Refusal {
    /// The rule of the first unmet requirement.
    pub rule: RuleId,
    /// The stage the release was in (none before it is planned).
    pub stage: Option<Stage>,
    /// What was attempted, e.g. `advance built -> prod_ready`.
    pub attempted: String,
    /// Every unmet requirement.
    pub unmet: Vec<Unmet>,
}

impl Refusal {
    pub(crate) fn new(stage: Option<Stage>, attempted: impl Into<String>, unmet: Vec<Unmet>) -> Self {
        let rule = unmet.first().map_or(RuleId::R_3, |u| u.rule);
        Self { rule, stage, attempted: attempted.into(), unmet }
    }

    /// True when some unmet requirement comes from `rule`.
    pub fn names_rule(&self, rule: &str) -> bool {
        self.unmet.iter().any(|u| u.rule.as_str() == rule)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused by {}: {}", self.rule, self.attempted)?;
        if let Some(stage) = &self.stage {
            write!(f, " (stage {stage})")?;
        }
        match self.unmet.as_slice() {
            [only] => write!(f, ": {}", only.requirement),
            many => {
                write!(f, "; {} unmet requirements:", many.len())?;
                for u in many {
                    write!(f, "\n  - {}: {}", u.rule, u.requirement)?;
                }
                Ok(())
            }
        }
    }
}

/// One unmet requirement and the rule it comes from. Built only by the core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Unmet {
    /// The rule.
    pub rule: RuleId,
    /// What is missing (flattened in JSON: `{"rule": "R-2b", "requirement": "approval", ...}`).
    #[serde(flatten)]
    pub requirement: Requirement,
}

impl Unmet {
    pub(crate) fn new(rule: RuleId, requirement: Requirement) -> Self {
        Self { rule, requirement }
    }
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rule, self.requirement)
    }
}

/// What exactly is missing or wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "requirement", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Requirement {
    /// Not enough approvals of a kind.
    Approval {
        /// Which approval.
        approval: ApprovalId,
        /// The roles that may give it.
        roles: Vec<Role>,
        /// How many distinct people must approve.
        needed: u32,
        /// How many have.
        have: u32,
        /// Who has (an N-of-M approval names those who already gave it).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        given_by: Vec<String>,
    },
    /// A gate failed or has no result.
    Gate {
        /// Which gate.
        gate: GateId,
        /// For which environment.
        environment: Option<EnvName>,
        /// For which target.
        target: Option<String>,
        /// The measured value; none when nothing was recorded.
        measured: Option<Measure>,
        /// The threshold, described in the gate's unit.
        threshold: String,
        /// What the failing measurement counted, by name (the open bug
        /// tickets, the commits without a key, the pull requests short of
        /// reviewers), when the measurement named them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        items: Vec<String>,
    },
    /// A step has not succeeded.
    Step {
        /// Which step.
        step: StepKind,
        /// In which environment.
        environment: Option<EnvName>,
        /// `missing`, `running`, or `failed: <error>`.
        status: String,
    },
    /// A step whose outcome nobody knows: a person must check and resolve it (R-9d).
    StepInDoubt {
        /// The step's key.
        key: String,
        /// What is known.
        detail: String,
    },
    /// One run came back to a stage it had left: the policy's stage graph
    /// loops, and the engine stopped rather than follow it again.
    Cycle {
        /// The stages entered, the repeated one last.
        path: Vec<Stage>,
    },
    /// A commit without a ticket key (R-4a).
    UntrackedCommit {
        /// Its short id.
        commit: String,
        /// Its subject.
        subject: String,
    },
    /// No artifact is recorded (R-8b).
    Artifact,
    /// An artifact's version is not the release's (R-8d).
    ArtifactVersion {
        /// The artifact.
        name: String,
        /// Its version.
        version: String,
        /// The release's version.
        expected: String,
    },
    /// A deployment window forbids it now (R-6b, R-6c).
    Window {
        /// The window.
        block: WindowBlock,
        /// The environment.
        environment: EnvName,
        /// When it is next allowed, in the policy's time zone.
        next_allowed: Option<String>,
    },
    /// No transition leads there from here.
    Transition {
        /// From.
        from: Stage,
        /// To.
        to: Stage,
        /// Where the policy allows going from here for this release.
        allowed: Vec<Stage>,
    },
    /// The transition is not for this kind of release (R-5a).
    Kind {
        /// The release's kind.
        kind: ReleaseKind,
        /// The kinds it is for.
        allowed: Vec<ReleaseKind>,
    },
    /// The actor lacks a role (R-2d).
    Role {
        /// Who.
        user: String,
        /// Any of these roles would do.
        needed: Vec<Role>,
    },
    /// The release's author may not approve it (R-2d).
    SeparationOfDuties {
        /// Who.
        user: String,
    },
    /// The same person approved this already; N-of-M needs distinct people.
    DuplicateApproval {
        /// Who.
        user: String,
        /// Which approval.
        approval: ApprovalId,
    },
    /// The same person rejected this already, and has not approved since.
    DuplicateRejection {
        /// Who.
        user: String,
        /// Which approval.
        approval: ApprovalId,
    },
    /// A qualified approver rejected the approval, and the rejection stands
    /// (R-2b): it blocks the approval until that person approves.
    Rejected {
        /// Which approval.
        approval: ApprovalId,
        /// Who rejected it.
        user: String,
        /// In which role.
        role: Role,
        /// Why.
        reason: String,
        /// When.
        at: jiff::Timestamp,
    },
    /// An emergency release needs a justification (R-5b).
    Justification,
    /// An emergency release needs a ticket with the prefix (R-5b).
    HotfixTicket {
        /// The prefix, e.g. `HOTFIX`.
        prefix: String,
    },
    /// The version is not newer than the last release (R-4c).
    VersionNotNewer {
        /// The planned version.
        version: String,
        /// The newest released version.
        last: String,
    },
    /// A deadline passed (R-8f).
    Deadline {
        /// Which deadline.
        deadline: String,
        /// Its limit, e.g. `10m`.
        limit: String,
        /// Time taken, e.g. `12m 5s`.
        elapsed: String,
    },
    /// The command does not fit the stage.
    Stage {
        /// The stages where it would fit.
        expected: Vec<Stage>,
    },
    /// The release is in a final stage.
    Final,
    /// The release has not been planned yet.
    NotPlanned,
    /// The release is already planned.
    AlreadyPlanned,
    /// Another deployment to the environment overlaps (R-6e).
    Conflict {
        /// The conflicting booking.
        with: Booking,
    },
    /// Another release holds the environment until its verification ends (R-6e).
    EnvironmentHeld {
        /// The environment.
        environment: EnvName,
        /// The release that holds it.
        by: crate::model::ReleaseId,
        /// Since when.
        since: jiff::Timestamp,
    },
    /// A duty is due and not yet performed (R-5c, R-6d, R-2b).
    Duty {
        /// The duty's key.
        key: String,
        /// The notice it sends.
        subject: String,
        /// Since when it is due.
        due_at: jiff::Timestamp,
    },
    /// The action needs a proof of who acts that the actor does not bring
    /// (issue #19, R-2d): under `[identity] trust = "verified"`.
    Proof {
        /// Who.
        user: String,
        /// The action, as `[identity]` names it (`approve`, `rollback`, …).
        action: String,
        /// Any of these proofs would do.
        needed: Vec<ProofKind>,
        /// The proof given.
        given: ProofKind,
    },
    /// A signed statement does not fit the action (issue #19, R-2d): it was
    /// recorded already, or it names an older chain head (a replay).
    Statement {
        /// Who.
        user: String,
        /// What does not fit.
        problem: String,
    },
    /// Something in the command is invalid.
    Input {
        /// Which field.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

fn join<T: fmt::Display>(items: &[T], sep: &str) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(sep)
}

fn place(environment: &Option<EnvName>, target: &Option<String>) -> String {
    match (environment, target) {
        (Some(e), Some(t)) => format!(" on {e}/{t}"),
        (Some(e), None) => format!(" on {e}"),
        (None, Some(t)) => format!(" on {t}"),
        (None, None) => String::new(),
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Approval { approval, roles, needed, have, given_by } => {
                write!(f, "approval `{approval}` needs {needed} from {}; has {have}", join(roles, " or "))?;
                if !given_by.is_empty() {
                    write!(f, " ({})", given_by.join(", "))?;
                }
                Ok(())
            }
            Requirement::Gate { gate, environment, target, measured: Some(m), threshold, items } => {
                write!(f, "gate `{gate}`{} measured {m}, required {threshold}", place(environment, target))?;
                if !items.is_empty() {
                    write!(f, ": {}", items.join(", "))?;
                }
                Ok(())
            }
            Requirement::Gate { gate, environment, target, measured: None, threshold, .. } => {
                write!(f, "gate `{gate}`{} has no result (required {threshold})", place(environment, target))
            }
            Requirement::Step { step, environment, status } => {
                write!(f, "step `{step}`{} is {status}", place(environment, &None))
            }
            Requirement::Artifact => f.write_str("no artifact is recorded for this release"),
            Requirement::ArtifactVersion { name, version, expected } => {
                write!(f, "artifact `{name}` has version {version}, the release is {expected}")
            }
            Requirement::Window { block, environment, next_allowed } => {
                if block.rule == RuleId::R_6C {
                    write!(f, "{environment} is outside a maintenance window: {block}")?;
                } else {
                    write!(f, "{environment} is in {block}")?;
                }
                match next_allowed {
                    Some(next) => write!(f, "; next allowed {next}"),
                    None => f.write_str("; no allowed time found"),
                }
            }
            Requirement::Transition { from, to, allowed } if allowed.is_empty() => {
                write!(f, "no transition from {from} to {to}, and none leaves {from} for this release")
            }
            Requirement::Transition { from, to, allowed } => {
                write!(f, "no transition from {from} to {to}; allowed: {}", join(allowed, ", "))
            }
            Requirement::Kind { kind, allowed } => {
                write!(f, "only {} releases may take this path, this one is {kind}", join(allowed, ", "))
            }
            Requirement::Role { user, needed } => {
                write!(f, "{user} lacks the role {}", join(needed, " or "))
            }
            Requirement::SeparationOfDuties { user } => {
                write!(f, "{user} planned this release and may not approve it (separation of duties)")
            }
            Requirement::DuplicateApproval { user, approval } => {
                write!(f, "{user} already gave approval `{approval}`; it needs distinct people")
            }
            Requirement::DuplicateRejection { user, approval } => {
                write!(f, "{user} already rejected `{approval}` and has not approved it since")
            }
            Requirement::Rejected { approval, user, role, reason, at } => {
                write!(
                    f,
                    "approval `{approval}` was rejected by {user} ({role}) at {at}: {reason}; it stands until {user} approves"
                )
            }
            Requirement::Justification => f.write_str("an emergency release needs a logged justification"),
            Requirement::HotfixTicket { prefix } => {
                write!(f, "an emergency release needs a ticket whose summary starts with `{prefix}`")
            }
            Requirement::VersionNotNewer { version, last } => {
                write!(
                    f,
                    "version {version} is not newer than the last release {last} (a backport needs an override with a reason)"
                )
            }
            Requirement::Deadline { deadline, limit, elapsed } => {
                write!(f, "deadline `{deadline}` of {limit} passed ({elapsed} elapsed)")
            }
            Requirement::Stage { expected } => {
                write!(f, "only possible in stage {}", join(expected, ", "))
            }
            Requirement::Final => f.write_str("the release is final; nothing more can happen to it"),
            Requirement::NotPlanned => f.write_str("the release has not been planned"),
            Requirement::AlreadyPlanned => f.write_str("the release is already planned"),
            Requirement::Conflict { with } => {
                write!(f, "{} is booked for {} from {} to {}", with.environment, with.release, with.start, with.end)
            }
            Requirement::StepInDoubt { key, detail } => write!(
                f,
                "step `{key}` is in doubt ({detail}): check the target, then `shipwarden resolve RELEASE {key} --done` or `--failed`"
            ),
            Requirement::Cycle { path } => write!(
                f,
                "the run came back to `{}` ({}): the policy's stage graph loops, so it stopped",
                path.last().map_or("", |s| s.as_str()),
                join(path, " -> ")
            ),
            Requirement::UntrackedCommit { commit, subject } => {
                write!(f, "commit {commit} `{subject}` has no ticket key")
            }
            Requirement::EnvironmentHeld { environment, by, since } => write!(
                f,
                "{environment} is held by {by} (deploying since {since}) until its verification ends: released, rolled back or cancelled"
            ),
            Requirement::Duty { subject, due_at, .. } => write!(f, "duty due since {due_at} not done: {subject}"),
            Requirement::Proof { user, action, needed, given } => write!(
                f,
                "`{action}` needs proof of who acts ({}); {user} brought a {given} proof{}",
                join(needed, " or "),
                if needed.contains(&ProofKind::SshSignature) {
                    " (sign it with your SSH key: `--sign`, or `--signature FILE`)"
                } else {
                    ""
                }
            ),
            Requirement::Statement { user, problem } => write!(f, "the statement signed for {user} {problem}"),
            Requirement::Input { field, problem } => write!(f, "{field}: {problem}"),
        }
    }
}
