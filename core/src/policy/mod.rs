//! Policy: the procedure's rules as data a team can change (R-2, R-3, R-5,
//! [`Policy::default`] is the procedure itself; a team's
//! `shipwarden.toml` overrides any part of it (see [`Policy::from_toml_str`]).

mod defaults;
mod identity;
mod load;
mod validate;

use std::collections::BTreeMap;
use std::fmt;

use jiff::SignedDuration;
use jiff::civil::{DateTime, Time};
use serde::{Deserialize, Serialize};

use crate::model::{ApprovalId, EnvName, GateId, ReleaseKind, Role, Stage, StepKind, Threshold, Unit};
use crate::rule::RuleId;

pub use identity::{IdentityAction, IdentityPolicy, Trust};
pub use load::{PolicyError, Problem};

/// The whole policy. Every field has the procedure's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// Environments in promotion order (R-1b).
    pub environments: Vec<EnvironmentPolicy>,
    /// The roles actors may hold (R-2a).
    pub roles: Vec<Role>,
    /// When true, the author of a release may not approve it (R-2d).
    pub separation_of_duties: bool,
    /// The stages and which of them are final.
    pub stages: Vec<StageDef>,
    /// Where the lifecycle starts, and its implicit moves: cancel, rollback, close.
    pub lifecycle: Lifecycle,
    /// The transitions between stages and what each requires.
    pub transitions: BTreeMap<String, Transition>,
    /// Approvals: who may give them and how many are needed (R-2b).
    pub approvals: BTreeMap<ApprovalId, ApprovalRule>,
    /// Gates and their thresholds (R-4a, R-7, R-8a, R-8f).
    pub gates: BTreeMap<GateId, GateRule>,
    /// Emergency releases.
    pub emergency: EmergencyPolicy,
    /// Blackout, maintenance and freeze windows (R-6b, R-6c).
    pub calendar: CalendarPolicy,
    /// Deadlines (R-5c, R-6d, R-8f).
    pub deadlines: Deadlines,
    /// Version control conventions (R-4c, R-4d).
    pub vcs: VcsPolicy,
    /// How the engine retries a port call whose failure is retryable.
    pub retry: RetryPolicy,
    /// What the ticketing system is asked (R-7b).
    pub tickets: TicketPolicy,
    /// How deployments are watched (R-8e).
    #[serde(default)]
    pub monitoring: MonitoringPolicy,
    /// Reminders and expiry of approvals (R-2b); the other duties' times are in `deadlines`.
    #[serde(default)]
    pub duties: DutyPolicy,
    /// `[identity]`: which proofs of who acted each action needs (issue #19, R-2b, R-2d).
    #[serde(default)]
    pub identity: IdentityPolicy,
}

/// Approvals over time (R-2b): people are reminded of an approval still
/// missing, and an approval older than `approval_expiry` no longer counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DutyPolicy {
    /// How long after entering a stage the teams are reminded of an approval it still needs (zero: never).
    #[serde(with = "friendly_duration")]
    pub approval_reminder: SignedDuration,
    /// How long an approval counts (zero: forever).
    #[serde(with = "friendly_duration")]
    pub approval_expiry: SignedDuration,
    /// Whether the approvers are asked as soon as a stage needs their
    /// approval (issue #23): a notice that carries the approval, which a chat
    /// notifier shows with Approve / Reject buttons. Off by default: turn it
    /// on with a notifier people can answer from.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approval_requests: bool,
    /// How long a one-time approve or reject link mailed with an approval
    /// request can be used (issue #23; default 24 h).
    #[serde(
        default = "DutyPolicy::default_link_ttl",
        skip_serializing_if = "DutyPolicy::is_default_link_ttl",
        with = "friendly_duration"
    )]
    pub approval_link_ttl: SignedDuration,
}

impl Default for DutyPolicy {
    fn default() -> Self {
        Self {
            approval_reminder: SignedDuration::from_hours(24),
            approval_expiry: SignedDuration::from_hours(7 * 24),
            approval_requests: false,
            approval_link_ttl: Self::default_link_ttl(),
        }
    }
}

impl DutyPolicy {
    fn default_link_ttl() -> SignedDuration {
        SignedDuration::from_hours(24)
    }

    fn is_default_link_ttl(ttl: &SignedDuration) -> bool {
        *ttl == Self::default_link_ttl()
    }

    /// The oldest instant an approval may have been given and still count at `now`.
    pub fn approvals_valid_since(&self, now: jiff::Timestamp) -> jiff::Timestamp {
        if self.approval_expiry.is_zero() {
            return jiff::Timestamp::MIN;
        }
        now.checked_sub(self.approval_expiry).unwrap_or(jiff::Timestamp::MIN)
    }
}

/// How the engine watches an environment while a deployment runs and
/// through the verification window (R-8e): it samples the environment's
/// monitoring probes every `interval`, records every sample, and stops and
/// rolls back when a gate's threshold is breached for `sustained` without a
/// passing sample in between.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringPolicy {
    /// Time between samples.
    #[serde(with = "friendly_duration")]
    pub interval: SignedDuration,
    /// How long a breach must last to stop the deployment (zero: the first breaching sample).
    #[serde(with = "friendly_duration")]
    pub sustained: SignedDuration,
    /// How long a production environment is watched after its deployment,
    /// before its smoke tests run.
    #[serde(with = "friendly_duration")]
    pub verification_window: SignedDuration,
}

impl Default for MonitoringPolicy {
    fn default() -> Self {
        Self {
            interval: SignedDuration::from_secs(15),
            sustained: SignedDuration::from_secs(60),
            verification_window: SignedDuration::from_mins(5),
        }
    }
}

/// What counts in the ticketing system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketPolicy {
    /// Severities of open bugs that block a release (R-7b).
    pub blocking_severities: Vec<String>,
    /// Link for a `PROJ-123` key in release notes, with `{key}` (`https://jira.example.com/browse/{key}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Link for a `#123` key, with `{number}` (`https://github.com/acme/shop/issues/{number}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_url: Option<String>,
}

/// Retries with exponential backoff and jitter, for retryable port failures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retry).
    pub attempts: u32,
    /// The wait before the second attempt.
    #[serde(with = "friendly_duration")]
    pub initial_backoff: SignedDuration,
    /// The longest wait between attempts.
    #[serde(with = "friendly_duration")]
    pub max_backoff: SignedDuration,
    /// Each wait is this many times the one before, at most `max_backoff`.
    pub multiplier: f64,
}

impl RetryPolicy {
    /// The wait before attempt `attempt` (2 for the first retry), without jitter.
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let exponent = attempt.saturating_sub(2).min(64) as i32;
        let secs = self.initial_backoff.as_secs_f64() * self.multiplier.powi(exponent);
        let secs = secs.min(self.max_backoff.as_secs_f64()).max(0.0);
        std::time::Duration::try_from_secs_f64(secs).unwrap_or(std::time::Duration::ZERO)
    }
}

/// An environment (R-1b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPolicy {
    /// Its name.
    pub name: EnvName,
    /// True for production: windows and stricter checks apply.
    #[serde(default)]
    pub production: bool,
    /// How deployments to its targets roll out.
    #[serde(default)]
    pub rollout: Rollout,
}

/// How a deployment to many targets rolls out (R-8e): first `canary` targets
/// alone, then the rest, at most `concurrency` at a time. The first failure
/// stops the rollout and rolls back every target already deployed (R-8g).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    /// Targets deployed first, on their own, before the rest.
    #[serde(default)]
    pub canary: u32,
    /// Targets deployed at once.
    #[serde(default = "ten")]
    pub concurrency: u32,
}

fn ten() -> u32 {
    10
}

impl Default for Rollout {
    fn default() -> Self {
        Rollout { canary: 0, concurrency: ten() }
    }
}

/// A stage of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    /// The stage.
    pub name: Stage,
    /// A final stage accepts no further command.
    #[serde(default, rename = "final")]
    pub terminal: bool,
}

/// The lifecycle's entry point and its moves that are not transitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// The stage a planned release is in.
    pub initial: Stage,
    /// Who may plan a release (R-2a).
    pub plan_roles: Vec<Role>,
    /// Where cancel leads, from any non-final stage.
    pub cancelled: Stage,
    /// Who may cancel.
    pub cancel_roles: Vec<Role>,
    /// Stages from which a rollback may begin (R-8g); rollback needs no gates.
    pub rollback_from: Vec<Stage>,
    /// Who may begin a rollback.
    pub rollback_roles: Vec<Role>,
    /// The stage while a rollback runs.
    pub rolling_back: Stage,
    /// The stage after a successful rollback (R-1d).
    pub rolled_back: Stage,
    /// Stages from which a release may be closed (R-9d).
    pub close_from: Vec<Stage>,
    /// The stage of a closed release.
    pub closed: Stage,
}

/// A requirement for a gate result, optionally in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRequirement {
    /// Which gate must have passed.
    pub gate: GateId,
    /// In which environment, for per-environment checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
}

/// A requirement for a step that finished successfully.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRequirement {
    /// Which kind of step.
    pub step: StepKind,
    /// In which environment, if the step is per environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvName>,
}

/// A transition between two stages and everything it requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The stage it leaves.
    pub from: Stage,
    /// The stage it enters.
    pub to: Stage,
    /// The requirement this transition enforces first.
    pub rule: RuleId,
    /// A switch to drop a transition from the default policy.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The release kinds that may take it (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<ReleaseKind>,
    /// An emergency path: also requires the plan's hotfix details (R-5a, R-5b).
    #[serde(default, skip_serializing_if = "is_false")]
    pub emergency: bool,
    /// Roles allowed to take it (empty: any actor).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<Role>,
    /// Approvals required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<ApprovalId>,
    /// Gates that must have passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateRequirement>,
    /// Steps that must have succeeded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepRequirement>,
    /// At least one artifact must be recorded (R-8b).
    #[serde(default, skip_serializing_if = "is_false")]
    pub needs_artifact: bool,
    /// The environment whose deployment windows apply now (R-6b, R-6c).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<EnvName>,
    /// A deadline from [`Deadlines`]: the required steps must have finished
    /// within it, counted from entering `from` (R-8f).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

impl Transition {
    /// True when the transition applies to a `kind` release (no `kinds`: to every kind).
    pub fn applies_to(&self, kind: ReleaseKind) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

fn yes() -> bool {
    true
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// Who may give an approval and how many distinct people must (N of M).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    /// Any of these roles may approve.
    pub roles: Vec<Role>,
    /// How many distinct people must approve.
    #[serde(default = "one")]
    pub count: u32,
    /// The requirement it enforces.
    pub rule: RuleId,
}

fn one() -> u32 {
    1
}

/// A gate's threshold and unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRule {
    /// The requirement it enforces.
    pub rule: RuleId,
    /// The unit of measured values.
    pub unit: Unit,
    /// How a value is judged.
    pub threshold: Threshold,
    /// What the gate checks, in a sentence.
    #[serde(default)]
    pub description: String,
    /// Thresholds for particular targets, in place of `threshold`: a
    /// performance test's request labels (`"POST /checkout" = { below = 400.0 }`),
    /// a host. Evidence for any other target is judged by `threshold`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, Threshold>,
}

impl GateRule {
    /// The threshold that judges evidence for `target`.
    pub fn threshold_for(&self, target: Option<&str>) -> Threshold {
        target.and_then(|t| self.targets.get(t)).copied().unwrap_or(self.threshold)
    }
}

/// Emergency releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencyPolicy {
    /// The prefix an emergency ticket's summary (or project key) carries (R-5b).
    pub ticket_prefix: String,
    /// The approval that authorises the emergency path (R-5a).
    pub approval: ApprovalId,
    /// A granted emergency approval overrides blackout windows (R-6b), not freezes.
    pub overrides_blackout: bool,
}

/// A weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// The day of a jiff weekday.
    pub fn of(weekday: jiff::civil::Weekday) -> Day {
        use jiff::civil::Weekday as W;
        match weekday {
            W::Monday => Day::Mon,
            W::Tuesday => Day::Tue,
            W::Wednesday => Day::Wed,
            W::Thursday => Day::Thu,
            W::Friday => Day::Fri,
            W::Saturday => Day::Sat,
            W::Sunday => Day::Sun,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Day::Mon => "Mon",
            Day::Tue => "Tue",
            Day::Wed => "Wed",
            Day::Thu => "Thu",
            Day::Fri => "Fri",
            Day::Sat => "Sat",
            Day::Sun => "Sun",
        }
    }
}

/// A window that repeats every week, e.g. Mon–Fri 09:00–17:00.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyWindow {
    /// A name people recognise (`peak-hours`).
    pub name: String,
    /// The environments it applies to.
    pub environments: Vec<EnvName>,
    /// The days it applies on.
    pub days: Vec<Day>,
    /// Local start time, inclusive.
    pub start: Time,
    /// Local end time, exclusive; after `start` (use two windows to span midnight).
    pub end: Time,
    /// For maintenance windows: the release kinds that must deploy inside one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_for: Vec<ReleaseKind>,
}

impl fmt::Display for WeeklyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = describe_days(&self.days);
        write!(f, "{days} {}-{}", self.start.strftime("%H:%M"), self.end.strftime("%H:%M"))
    }
}

fn describe_days(days: &[Day]) -> String {
    let mut sorted = days.to_vec();
    sorted.sort();
    sorted.dedup();
    let consecutive = sorted.windows(2).all(|w| w[1] as u8 == w[0] as u8 + 1);
    match (sorted.first(), sorted.last()) {
        (Some(first), Some(last)) if consecutive && sorted.len() > 2 => {
            format!("{}-{}", first.title(), last.title())
        }
        _ => sorted.iter().map(|d| d.title()).collect::<Vec<_>>().join(","),
    }
}

/// A one-off freeze between two local date-times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Freeze {
    /// A name people recognise (`year-end`).
    pub name: String,
    /// The environments it applies to.
    pub environments: Vec<EnvName>,
    /// Local start, inclusive.
    pub start: DateTime,
    /// Local end, exclusive.
    pub end: DateTime,
}

/// Windows that govern when deployments may happen (R-6b, R-6c).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarPolicy {
    /// The IANA time zone windows are read in (`Europe/Berlin`).
    pub time_zone: String,
    /// Weekly windows in which deployments are refused (R-6b).
    pub blackouts: Vec<WeeklyWindow>,
    /// Weekly windows in which some kinds of release must deploy (R-6c).
    pub maintenance: Vec<WeeklyWindow>,
    /// One-off freezes (R-6b).
    pub freezes: Vec<Freeze>,
    /// Roles that may override a window or freeze, with a reason.
    pub override_roles: Vec<Role>,
}

/// Deadlines (R-5c, R-6d, R-8f), written as `10m`, `1h`, `24h`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deadlines {
    /// Smoke tests must complete within this after the production deployment (R-8f).
    #[serde(with = "friendly_duration")]
    pub smoke_tests: SignedDuration,
    /// All teams are notified within this after an emergency deployment (R-5c).
    #[serde(with = "friendly_duration")]
    pub emergency_notice: SignedDuration,
    /// Teams are notified this long before a scheduled production deployment (R-6d).
    #[serde(with = "friendly_duration")]
    pub advance_notice: SignedDuration,
}

impl Deadlines {
    /// The names a transition's `deadline` may use.
    pub const NAMES: [&'static str; 3] = ["smoke_tests", "emergency_notice", "advance_notice"];

    /// The deadline with this name.
    pub fn get(&self, name: &str) -> Option<SignedDuration> {
        match name {
            "smoke_tests" => Some(self.smoke_tests),
            "emergency_notice" => Some(self.emergency_notice),
            "advance_notice" => Some(self.advance_notice),
            _ => None,
        }
    }
}

/// Version-control conventions (R-4c, R-4d).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcsPolicy {
    /// Release tags are this prefix plus the version (`v1.2.3`).
    pub tag_prefix: String,
    /// The production branch.
    pub main_branch: String,
    /// The development branch.
    pub develop_branch: String,
    /// Release branches are this prefix plus the version (`release/v1.2.3`).
    pub release_branch_prefix: String,
    /// Minimum reviewers per pull request, where the VCS host tells.
    pub min_reviewers: u32,
    /// Commits that need no ticket key (R-4a), by conventional type, or type
    /// and scope: `chore`, `chore(deps)`.
    #[serde(default)]
    pub exempt_types: Vec<String>,
    /// Authors whose commits need no ticket key (bots: `dependabot[bot]`).
    #[serde(default)]
    pub exempt_authors: Vec<String>,
    /// Merge commits: `skip` (they are not changes) or `check` (they need a key too).
    #[serde(default)]
    pub merge_commits: MergeCommits,
    /// Link for a commit in release notes, with `{sha}` (`https://github.com/acme/shop/commit/{sha}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_url: Option<String>,
}

/// What the R-4a gate and the notes do with merge commits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeCommits {
    /// Merges are not changes: no key needed, not in the notes.
    #[default]
    Skip,
    /// Merges need a ticket key like any commit.
    Check,
}

mod friendly_duration {
    use jiff::SignedDuration;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &SignedDuration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{value:#}"))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SignedDuration, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        text.parse().map_err(|e| {
            serde::de::Error::custom(format_args!("invalid duration `{text}` (expected e.g. `10m`, `1h`, `24h`): {e}"))
        })
    }
}

/// Why no role could be chosen for an approval (R-2c): the actor must say which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct RoleChoiceError {
    /// The actor's user name.
    pub user: String,
    /// The roles the actor holds.
    pub held: Vec<Role>,
    /// The approval.
    pub approval: ApprovalId,
    /// The roles the policy accepts for it.
    pub accepted: Vec<Role>,
}

impl RoleChoiceError {
    fn describe(&self) -> String {
        let list = |roles: &[Role]| roles.iter().map(Role::as_str).collect::<Vec<_>>().join(", ");
        let accepted = if self.accepted.is_empty() {
            format!("the policy names no role for `{}`", self.approval)
        } else {
            format!("`{}` accepts {}", self.approval, list(&self.accepted))
        };
        if self.held.is_empty() {
            format!("{} holds no role ({accepted}): say which role to approve in", self.user)
        } else {
            format!(
                "{} holds several roles ({}) and none is accepted ({accepted}): say which role to approve in",
                self.user,
                list(&self.held)
            )
        }
    }
}

impl Policy {
    /// The role `actor` gives `approval` in (R-2c): `explicit` when given;
    /// else the first role of the policy's accepted list the actor holds;
    /// else the actor's only role (the engine then refuses, naming the
    /// accepted roles). An actor with several roles, none accepted, or with
    /// no role, must say which: that is the error, naming the accepted roles.
    /// The CLI and both bindings choose with this one function.
    pub fn approval_role(
        &self,
        actor: &crate::model::Actor,
        approval: &ApprovalId,
        explicit: Option<Role>,
    ) -> Result<Role, RoleChoiceError> {
        if let Some(role) = explicit {
            return Ok(role);
        }
        let accepted = self.approvals.get(approval).map(|r| r.roles.clone()).unwrap_or_default();
        if let Some(role) = accepted.iter().find(|r| actor.has_role(r)) {
            return Ok(role.clone());
        }
        let held: Vec<Role> = actor.roles.iter().cloned().collect();
        match held.as_slice() {
            [only] => Ok(only.clone()),
            _ => Err(RoleChoiceError { user: actor.user.clone(), held, approval: approval.clone(), accepted }),
        }
    }

    /// The stage definition, if the policy declares `stage`.
    pub fn stage(&self, stage: &Stage) -> Option<&StageDef> {
        self.stages.iter().find(|s| &s.name == stage)
    }

    /// True when `stage` is declared final.
    pub fn is_final(&self, stage: &Stage) -> bool {
        self.stage(stage).is_some_and(|s| s.terminal)
    }

    /// The environment named `name`.
    pub fn environment(&self, name: &EnvName) -> Option<&EnvironmentPolicy> {
        self.environments.iter().find(|e| &e.name == name)
    }

    /// The ways forward of a `kind` release in stage `from`, in the order the
    /// engine tries them: the enabled transitions that apply to the kind;
    /// when one of them is made for this kind (the emergency fast track),
    /// only those, so the engine waits for that path rather than take the
    /// general one (R-3, R-5a).
    pub fn ways_forward(&self, from: &Stage, kind: ReleaseKind) -> Vec<(&str, &Transition)> {
        let mut ways: Vec<(&str, &Transition)> = self
            .transitions
            .iter()
            .filter(|(_, t)| t.enabled && &t.from == from && t.applies_to(kind))
            .map(|(name, t)| (name.as_str(), t))
            .collect();
        if ways.iter().any(|(_, t)| !t.kinds.is_empty()) {
            ways.retain(|(_, t)| !t.kinds.is_empty());
        }
        ways
    }

    /// The path the engine would take from `from` for a `kind` release, one
    /// transition per stage (the first way forward of each), up to a final
    /// stage, a stage already on the path, or a stage with no way forward.
    /// What a dry run of `advance` shows.
    pub fn path_ahead(&self, from: &Stage, kind: ReleaseKind) -> Vec<(&str, &Transition)> {
        let mut path: Vec<(&str, &Transition)> = Vec::new();
        let mut at = from.clone();
        let mut seen = vec![at.clone()];
        while let Some(&(name, t)) = self.ways_forward(&at, kind).first() {
            path.push((name, t));
            if self.is_final(&t.to) || seen.contains(&t.to) {
                break;
            }
            seen.push(t.to.clone());
            at = t.to.clone();
        }
        path
    }

    /// Enabled transitions leaving `from`, with their names.
    pub fn transitions_from<'a>(&'a self, from: &'a Stage) -> impl Iterator<Item = (&'a str, &'a Transition)> + 'a {
        self.transitions.iter().filter(move |(_, t)| t.enabled && &t.from == from).map(|(name, t)| (name.as_str(), t))
    }

    /// The time zone windows are read in; UTC when the name is unknown
    /// (validation reports that case).
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.calendar.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// The stage graph as a Mermaid `stateDiagram-v2`: transitions labelled
    /// with their rule, plus cancel, rollback and close.
    pub fn to_mermaid(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::from("stateDiagram-v2\n");
        let _ = writeln!(out, "    [*] --> {}", self.lifecycle.initial);
        for (name, t) in self.transitions.iter().filter(|(_, t)| t.enabled) {
            let kinds = if t.kinds.is_empty() {
                String::new()
            } else {
                format!(" ({})", t.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))
            };
            let _ = writeln!(out, "    {} --> {}: {name} [{}]{kinds}", t.from, t.to, t.rule);
        }
        for from in &self.lifecycle.rollback_from {
            let _ = writeln!(out, "    {from} --> {}: rollback [R-8g]", self.lifecycle.rolling_back);
        }
        let _ = writeln!(
            out,
            "    {} --> {}: rollback finished [R-1d]",
            self.lifecycle.rolling_back, self.lifecycle.rolled_back
        );
        for from in &self.lifecycle.close_from {
            let _ = writeln!(out, "    {from} --> {}: close [R-9d]", self.lifecycle.closed);
        }
        let _ = writeln!(out, "    note right of {}: any non-final stage may be cancelled", self.lifecycle.cancelled);
        for stage in self.stages.iter().filter(|s| s.terminal) {
            let _ = writeln!(out, "    {} --> [*]", stage.name);
        }
        out
    }
}
