//! Duties that come due (R-5c, R-6d, R-9a, R-2b): the notices the procedure
//! asks for at a time, computed from a release's state and the policy.
//! Pure: the caller passes `now`; the engine performs what is due
//! ([`ReleaseManager::run_due`](crate::engine::ReleaseManager::run_due)), each
//! duty exactly once, as a notify step keyed `duty:<key>#<attempt>`.
//!
//! | duty | due | deadline | rule |
//! |---|---|---|---|
//! | advance notice to the teams of a scheduled production deployment (version, date, ticket keys) | `deadlines.advance_notice` before its start | its start | R-6d |
//! | notice to stakeholders of the user-facing changes of a major or minor release | with the advance notice | its start | R-6d, R-9a |
//! | notice to all teams of an emergency production deployment | when it finished | `deadlines.emergency_notice` after | R-5c |
//! | reminder of an approval still missing in the current stage | `duties.approval_reminder` after entering it | — | R-2b |
//! | notice that an approval expired (`duties.approval_expiry`) and must be given again | when it expired | — | R-2b |
//! | notice that an approval was rejected, with who and why | when it was rejected | — | R-2c |
//! | request for an approval a stage needs, under `duties.approval_requests` | on entering the stage | — | R-2b |
//!
//! The request, the reminder and the expiry carry an [`ApprovalAsk`]: the
//! approval, the release, its gates and what each way forward still needs,
//! for a notifier that lets people answer (Slack buttons, mail links).
//!
//! A duty not done by its deadline is *missed*: the engine records a
//! [`Finding`](crate::machine::Finding) on the release, then still performs it.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::machine::{Action, Command, ReleaseState, Requirement, StepOutcome};
use crate::model::{Actor, ApprovalId, ReleaseKind, Stage, StepKind};
use crate::policy::{ApprovalRule, Policy};
use crate::ports::{ApprovalAsk, Audience};
use crate::rule::RuleId;

/// What a duty is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyKind {
    /// Teams told ahead of a scheduled production deployment (R-6d).
    AdvanceNotice,
    /// Stakeholders told about user-facing changes (R-6d, R-9a).
    StakeholderNotice,
    /// All teams told of an emergency production deployment (R-5c).
    EmergencyNotice,
    /// An approval is still missing (R-2b).
    ApprovalReminder,
    /// An approval expired and must be given again (R-2b).
    ApprovalExpired,
    /// An approval was rejected: the teams are told who rejected it and why (R-2b, R-2c).
    ApprovalRejected,
    /// The approvers are asked for an approval as soon as a stage needs it,
    /// under `[duties] approval_requests = true` (R-2b, issue #23).
    ApprovalRequest,
}

/// A notice the procedure asks for at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duty {
    /// Stable across calls: the same duty always has the same key.
    pub key: String,
    /// What it is.
    pub kind: DutyKind,
    /// The requirement it fulfils.
    pub rule: RuleId,
    /// From when it is due.
    pub due_at: Timestamp,
    /// By when it must be done, if it has a deadline.
    pub deadline: Option<Timestamp>,
    /// The notice's subject.
    pub subject: String,
    /// The notice's text.
    pub body: String,
    /// Who is told.
    pub audience: Vec<Audience>,
    /// The approval the notice asks for, for a request, a reminder or an
    /// expiry (issue #23): a chat notifier shows it with buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<ApprovalAsk>,
}

impl Duty {
    /// The prefix of the keys of the notify steps that perform it: one per
    /// attempt (`duty:<key>#1`, `#2` after a failed one).
    pub fn step_prefix(&self) -> String {
        format!("duty:{}#", self.key)
    }

    /// True when its deadline passed before `now`.
    pub fn missed(&self, now: Timestamp) -> bool {
        self.deadline.is_some_and(|d| d < now)
    }
}

fn stamp(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%MZ").to_string()
}

fn local(policy: &Policy, t: Timestamp) -> String {
    crate::calendar::Calendar::new(policy).local(t)
}

/// Whether the duty with this key was performed.
pub fn done(state: &ReleaseState, key: &str) -> bool {
    let prefix = format!("duty:{key}#");
    state.steps.iter().any(|s| s.key.starts_with(&prefix) && s.outcome.as_ref().is_some_and(StepOutcome::succeeded))
}

/// Every duty of the release not yet performed, whether due by `now` or not,
/// by due time. A release in a final stage has none.
pub fn pending(state: &ReleaseState, policy: &Policy, now: Timestamp) -> Vec<Duty> {
    let (Some(plan), Some(stage)) = (&state.plan, &state.stage) else { return Vec::new() };
    if policy.is_final(stage) {
        return Vec::new();
    }
    let production = |env: &crate::model::EnvName| policy.environment(env).is_some_and(|e| e.production);
    let tickets = if plan.scope.is_empty() {
        "no tickets".to_owned()
    } else {
        plan.scope.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    let mut out = Vec::new();
    // R-6d: the teams 24 h ahead, stakeholders about user-facing changes; not for emergencies (R-5c is theirs).
    if plan.kind != ReleaseKind::Emergency {
        let deployed =
            state.steps.iter().any(|s| s.step == StepKind::Deploy && s.environment.as_ref().is_some_and(production));
        for b in state.bookings.iter().filter(|b| production(&b.environment)) {
            if deployed {
                break;
            }
            let due_at = b.start.checked_sub(policy.deadlines.advance_notice).unwrap_or(b.start);
            let when = local(policy, b.start);
            out.push(Duty {
                key: format!("advance-notice:{}:{}", b.environment, stamp(b.start)),
                kind: DutyKind::AdvanceNotice,
                rule: RuleId::R_6D,
                due_at,
                deadline: Some(b.start),
                subject: format!("Scheduled: {} {} to {} on {when}", plan.project, plan.version, b.environment),
                body: format!(
                    "{} {} ({}) will be deployed to {} on {when} (until {}).\nTickets: {tickets}",
                    plan.project,
                    plan.version,
                    plan.kind,
                    b.environment,
                    local(policy, b.end)
                ),
                audience: vec![Audience::Teams],
                ask: None,
            });
            if matches!(plan.kind, ReleaseKind::Major | ReleaseKind::Minor) {
                out.push(Duty {
                    key: format!("stakeholder-notice:{}:{}", b.environment, stamp(b.start)),
                    kind: DutyKind::StakeholderNotice,
                    rule: RuleId::R_6D,
                    due_at,
                    deadline: Some(b.start),
                    subject: format!("Coming on {when}: {} {}", plan.project, plan.version),
                    body: format!(
                        "The {} release {} {} brings user-facing changes on {when}.\nTickets: {tickets}",
                        plan.kind, plan.project, plan.version
                    ),
                    audience: vec![Audience::Stakeholders],
                    ask: None,
                });
            }
        }
    }
    // R-5c: all teams within 1 h of an emergency production deployment.
    if plan.kind == ReleaseKind::Emergency {
        let deployed = state.steps.iter().find(|s| {
            s.step == StepKind::Deploy
                && s.target.is_none()
                && s.environment.as_ref().is_some_and(production)
                && s.outcome.as_ref().is_some_and(StepOutcome::succeeded)
        });
        if let (Some(step), Some(at)) = (deployed, deployed.and_then(|s| s.finished_at)) {
            let env = step.environment.as_ref().map_or("-", |e| e.as_str());
            let (ticket, why) = plan
                .hotfix
                .as_ref()
                .map_or(("-".to_owned(), String::new()), |h| (h.ticket.to_string(), h.justification.clone()));
            out.push(Duty {
                key: format!("emergency-notice:{env}"),
                kind: DutyKind::EmergencyNotice,
                rule: RuleId::R_5C,
                due_at: at,
                deadline: at.checked_add(policy.deadlines.emergency_notice).ok(),
                subject: format!("Emergency deployment: {} {} on {env} ({ticket})", plan.project, plan.version),
                body: format!(
                    "The hotfix {} {} for {ticket} was deployed to {env} at {}.\nJustification: {why}\nTickets: {tickets}",
                    plan.project,
                    plan.version,
                    local(policy, at)
                ),
                audience: vec![Audience::Teams, Audience::Stakeholders],
                ask: None,
            });
        }
    }
    // R-2b: approvals still missing in the current stage, and approvals that expired.
    if let Some(entered) = state.entered_at.get(stage).copied() {
        let reminder = policy.duties.approval_reminder;
        let mut asked = Vec::new();
        for (_, t) in policy.transitions_from(stage) {
            if !t.applies_to(plan.kind) {
                continue;
            }
            for approval in &t.approvals {
                if asked.contains(approval) {
                    continue;
                }
                asked.push(approval.clone());
                let Some(rule) = policy.approvals.get(approval) else { continue };
                let since = policy.duties.approvals_valid_since(now);
                let have = state.approvers_since(approval, &rule.roles, since).len() as u32;
                let roles = rule.roles.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ");
                let asking = || Some(ask(state, policy, stage, approval, rule, have, now));
                if have < rule.count && policy.duties.approval_requests {
                    out.push(Duty {
                        key: format!("approval-request:{approval}:{stage}:{}", stamp(entered)),
                        kind: DutyKind::ApprovalRequest,
                        rule: rule.rule,
                        due_at: entered,
                        deadline: None,
                        subject: format!("Approval needed: `{approval}` of {} {}", plan.project, plan.version),
                        body: format!(
                            "{} {} waits in {stage} for the `{approval}` approval ({} of {} from {roles}).",
                            plan.project, plan.version, have, rule.count
                        ),
                        audience: vec![Audience::Teams],
                        ask: asking(),
                    });
                }
                if have < rule.count && !reminder.is_zero() {
                    let due_at = entered.checked_add(reminder).unwrap_or(entered);
                    out.push(Duty {
                        key: format!("approval-reminder:{approval}:{stage}:{}", stamp(entered)),
                        kind: DutyKind::ApprovalReminder,
                        rule: rule.rule,
                        due_at,
                        deadline: None,
                        subject: format!("Waiting for approval: {} {} needs `{approval}`", plan.project, plan.version),
                        body: format!(
                            "{} {} has waited in {stage} since {} for the `{approval}` approval ({} of {} from {roles}).",
                            plan.project,
                            plan.version,
                            local(policy, entered),
                            have,
                            rule.count
                        ),
                        audience: vec![Audience::Teams],
                        ask: asking(),
                    });
                }
                if !policy.duties.approval_expiry.is_zero() {
                    for a in state.approvals.iter().filter(|a| &a.approval == approval && rule.roles.contains(&a.role))
                    {
                        let Ok(expires) = a.at.checked_add(policy.duties.approval_expiry) else { continue };
                        out.push(Duty {
                            key: format!("approval-expired:{approval}:{}:{}", a.user, stamp(a.at)),
                            kind: DutyKind::ApprovalExpired,
                            rule: rule.rule,
                            due_at: expires,
                            deadline: None,
                            subject: format!("Approval expired: `{approval}` of {} {}", plan.project, plan.version),
                            body: format!(
                                "{}'s `{approval}` approval of {} {} given {} is older than {} and no longer counts; \
                                 it must be given again ({roles}).",
                                a.user,
                                plan.project,
                                plan.version,
                                local(policy, a.at),
                                friendly(policy.duties.approval_expiry)
                            ),
                            audience: vec![Audience::Teams],
                            ask: asking(),
                        });
                    }
                }
            }
        }
    }
    // R-2b, R-2c: each rejection is told to the teams once, when it is made.
    for r in &state.rejections {
        out.push(Duty {
            key: format!("approval-rejected:{}:{}:{}", r.approval, r.user, stamp(r.at)),
            kind: DutyKind::ApprovalRejected,
            rule: RuleId::R_2C,
            due_at: r.at,
            deadline: None,
            subject: format!("Approval rejected: `{}` of {} {} by {}", r.approval, plan.project, plan.version, r.user),
            body: format!(
                "{} ({}) rejected the `{}` approval of {} {} at {} via {}: {}\nThe release cannot pass a stage that \
                 needs it until {} approves.",
                r.user,
                r.role,
                r.approval,
                plan.project,
                plan.version,
                local(policy, r.at),
                r.channel,
                r.comment,
                r.user
            ),
            audience: vec![Audience::Teams],
            ask: None,
        });
    }
    out.retain(|d| !done(state, &d.key));
    out.sort_by(|a, b| (a.due_at, &a.key).cmp(&(b.due_at, &b.key)));
    out
}

/// The duties of the release due at `now` and not yet performed.
pub fn due(state: &ReleaseState, policy: &Policy, now: Timestamp) -> Vec<Duty> {
    pending(state, policy, now).into_iter().filter(|d| d.due_at <= now).collect()
}

/// What an approval request, reminder or expiry asks for: the approval, the
/// release, its gates' latest values and what each way forward from the stage
/// still needs, as the state machine judges it now.
fn ask(
    state: &ReleaseState,
    policy: &Policy,
    stage: &Stage,
    approval: &ApprovalId,
    rule: &ApprovalRule,
    have: u32,
    now: Timestamp,
) -> ApprovalAsk {
    let (project, version, kind, tickets) = match &state.plan {
        Some(p) => {
            (p.project.clone(), p.version.to_string(), p.kind, p.scope.iter().map(ToString::to_string).collect())
        }
        None => (String::new(), String::new(), ReleaseKind::Minor, Vec::new()),
    };
    let mut latest: std::collections::BTreeMap<(String, Option<String>, Option<String>), &crate::model::GateResult> =
        std::collections::BTreeMap::new();
    for g in &state.gate_results {
        let place = (g.gate.to_string(), g.environment.as_ref().map(ToString::to_string), g.target.clone());
        latest.insert(place, g);
    }
    let gates = latest
        .values()
        .map(|g| {
            let place = match (&g.environment, &g.target) {
                (Some(e), Some(t)) => format!(" [{e}/{t}]"),
                (Some(e), None) => format!(" [{e}]"),
                _ => String::new(),
            };
            let required = policy.gates.get(&g.gate).map_or_else(String::new, |r| g.threshold.describe(r.unit));
            let verdict = if g.passed { "passed" } else { "failed" };
            format!("{}{place}: {} ({verdict}, required {required})", g.gate, g.measured)
        })
        .collect();
    // What each way forward still needs, as `decide` says it to someone who
    // holds every role the transition asks for (the roles are not what is missing).
    let mut missing: Vec<String> = Vec::new();
    for (_, t) in policy.transitions_from(stage).filter(|(_, t)| t.applies_to(kind)) {
        let by = Actor::new("shipwarden", t.by.iter().cloned());
        let command = Command::new(&by, Action::Advance { to: t.to.clone() });
        let Err(refusal) = crate::machine::decide(state, &command, policy, now) else { continue };
        for u in refusal.unmet {
            if matches!(u.requirement, Requirement::Role { .. } | Requirement::Proof { .. }) {
                continue;
            }
            let line = format!("{} → {}: {u}", stage, t.to);
            if !missing.contains(&line) {
                missing.push(line);
            }
        }
    }
    ApprovalAsk {
        approval: approval.clone(),
        roles: rule.roles.clone(),
        needed: rule.count,
        have,
        stage: stage.clone(),
        entered: state.entered_at.get(stage).copied(),
        project,
        version,
        kind,
        tickets,
        gates,
        missing,
    }
}

fn friendly(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs % 86_400 == 0 {
        format!("{} days", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{} h", secs / 3600)
    } else {
        format!("{} min", secs / 60)
    }
}
