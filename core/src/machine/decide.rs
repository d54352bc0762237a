use jiff::{SignedDuration, Timestamp};

use super::identity::{proof_unmet, rejected_unmet, replay_unmet};
use super::{
    Action, Command, Event, Evidence, Refusal, ReleaseState, Requirement as Req, StepOutcome, Unmet, WindowOverride,
};
use crate::calendar::{Booking, Calendar, Overrides};
use crate::model::{
    Actor, Approval, ApprovalId, ArtifactRef, Channel, EnvName, GateResult, Measure, Plan, ReleaseKind, Role, Stage,
    Version,
};
use crate::policy::{GateRequirement, IdentityAction, Policy, StepRequirement, Transition};
use crate::rule::RuleId;

/// Decides what a command does: the events to append, or a [`Refusal`]
/// naming the rule, the stage and **every** unmet requirement.
///
/// Pure and total: no I/O, no clock (the caller passes `now`), no panic on
/// any input. Every rule of the procedure is enforced here and nowhere else.
pub fn decide(state: &ReleaseState, command: &Command, policy: &Policy, now: Timestamp) -> Result<Vec<Event>, Refusal> {
    let actor = &command.actor;
    let attempted = describe(&command.action);
    if let Some(unmet) = rejected_unmet(actor) {
        return Err(Refusal::new(state.stage.clone(), attempted, vec![unmet]));
    }
    if let Action::Plan { plan, last_release } = &command.action {
        return plan_release(state, actor, plan, last_release.as_ref(), policy, now, attempted);
    }
    let (Some(plan), Some(stage)) = (&state.plan, &state.stage) else {
        return Err(Refusal::new(None, attempted, vec![Unmet::new(RuleId::R_3, Req::NotPlanned)]));
    };
    if policy.is_final(stage) {
        return Err(Refusal::new(Some(stage.clone()), attempted, vec![Unmet::new(RuleId::R_3, Req::Final)]));
    }
    let ctx = Ctx { state, plan, stage, actor, policy, now };
    let result = match &command.action {
        Action::Plan { .. } => Err(vec![Unmet::new(RuleId::R_1A, Req::AlreadyPlanned)]),
        Action::Approve { approval, role, channel, comment } => ctx.approve(approval, role, *channel, comment),
        Action::Reject { approval, role, channel, comment } => ctx.reject(approval, role, *channel, comment),
        Action::RecordEvidence(evidence) => ctx.evidence(evidence),
        Action::RecordArtifact(artifact) => ctx.artifact(artifact),
        Action::Advance { to } => ctx.advance(to),
        Action::Schedule { environment, start, end, busy } => ctx.schedule(environment, *start, *end, busy),
        Action::OverrideWindow { reason } => ctx.override_window(reason),
        Action::StartStep { step, environment, target, key, held } => {
            ctx.start_step(step, environment, target, key, held)
        }
        Action::FinishStep { key, outcome, log } => ctx.finish_step(key, outcome, log),
        Action::BeginRollback { reason } => ctx.begin_rollback(reason),
        Action::FinishRollback { succeeded, detail } => ctx.finish_rollback(*succeeded, detail),
        Action::Cancel { reason } => ctx.cancel(reason),
        Action::Close { summary } => ctx.close(summary),
        Action::RecordFinding { key, rule, detail } => ctx.finding(key, rule, detail),
        Action::MarkInDoubt { key, detail } => ctx.mark_in_doubt(key, detail),
        Action::ResolveStep { key, done, reason } => ctx.resolve_step(key, *done, reason),
    };
    result.map_err(|unmet| Refusal::new(Some(stage.clone()), attempted, unmet))
}

/// A short description of an action, for refusals.
fn describe(action: &Action) -> String {
    match action {
        Action::Plan { plan, .. } => {
            format!("plan {} {} {}", plan.kind, plan.project, plan.version)
        }
        Action::Approve { approval, role, .. } => format!("approve {approval} as {role}"),
        Action::Reject { approval, role, .. } => format!("reject {approval} as {role}"),
        Action::RecordEvidence(e) => format!("record evidence for gate {}", e.gate),
        Action::RecordArtifact(a) => format!("record artifact {}", a.name),
        Action::Advance { to } => format!("advance to {to}"),
        Action::Schedule { environment, .. } => format!("schedule deployment to {environment}"),
        Action::OverrideWindow { .. } => "override deployment windows".into(),
        Action::StartStep { step, key, .. } => format!("start step {step} ({key})"),
        Action::FinishStep { key, .. } => format!("finish step {key}"),
        Action::BeginRollback { .. } => "begin rollback".into(),
        Action::FinishRollback { .. } => "finish rollback".into(),
        Action::Cancel { .. } => "cancel".into(),
        Action::Close { .. } => "close".into(),
        Action::RecordFinding { key, .. } => format!("record finding {key}"),
        Action::MarkInDoubt { key, .. } => format!("mark step {key} in doubt"),
        Action::ResolveStep { key, done, .. } => {
            format!("resolve step {key} as {}", if *done { "done" } else { "failed" })
        }
    }
}

/// The most bytes of an evidence source kept in the audit trail.
const MAX_SOURCE: usize = 4 * 1024;
/// The most items (bug tickets, commits) named by one piece of evidence, and the bytes of each.
const MAX_ITEMS: usize = 100;
const MAX_ITEM: usize = 256;

/// At most [`MAX_ITEMS`] items of at most [`MAX_ITEM`] bytes, the rest counted.
fn bounded_items(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> =
        items.iter().take(MAX_ITEMS).map(|i| crate::ports::capped(i.clone(), MAX_ITEM)).collect();
    if items.len() > MAX_ITEMS {
        out.push(format!("and {} more", items.len() - MAX_ITEMS));
    }
    out
}

/// A step's outcome with its detail or error bounded (a command's last line can be huge).
fn bounded_outcome(outcome: &StepOutcome) -> StepOutcome {
    let cap = |t: &String| crate::ports::capped(t.clone(), crate::ports::LogSink::MAX_LINE);
    match outcome {
        StepOutcome::Succeeded { detail, output } => {
            StepOutcome::Succeeded { detail: cap(detail), output: output.clone() }
        }
        StepOutcome::Failed { error, retryable, call } => {
            StepOutcome::Failed { error: cap(error), retryable: *retryable, call: call.clone() }
        }
    }
}

fn input(rule: RuleId, field: &str, problem: impl Into<String>) -> Unmet {
    Unmet::new(rule, Req::Input { field: field.into(), problem: problem.into() })
}

fn lacks_roles(actor: &Actor, roles: &[Role]) -> Option<Unmet> {
    (!roles.iter().any(|r| actor.has_role(r)))
        .then(|| Unmet::new(RuleId::R_2D, Req::Role { user: actor.user.clone(), needed: roles.to_vec() }))
}

/// R-5b: an emergency needs a justification and a ticket with the prefix.
fn hotfix_unmet(plan: &Plan, policy: &Policy) -> Vec<Unmet> {
    let prefix = &policy.emergency.ticket_prefix;
    let rule = RuleId::R_5B;
    let mut unmet = Vec::new();
    match &plan.hotfix {
        None => {
            unmet.push(Unmet::new(rule, Req::HotfixTicket { prefix: prefix.clone() }));
            unmet.push(Unmet::new(rule, Req::Justification));
        }
        Some(h) => {
            let prefixed =
                h.summary.trim_start().starts_with(prefix.as_str()) || h.ticket.project() == Some(prefix.as_str());
            if !prefixed {
                unmet.push(Unmet::new(rule, Req::HotfixTicket { prefix: prefix.clone() }));
            }
            if h.justification.trim().is_empty() {
                unmet.push(Unmet::new(rule, Req::Justification));
            }
        }
    }
    unmet
}

fn plan_release(
    state: &ReleaseState,
    actor: &Actor,
    plan: &Plan,
    last_release: Option<&Version>,
    policy: &Policy,
    now: Timestamp,
    attempted: String,
) -> Result<Vec<Event>, Refusal> {
    if state.plan.is_some() {
        return Err(Refusal::new(state.stage.clone(), attempted, vec![Unmet::new(RuleId::R_1A, Req::AlreadyPlanned)]));
    }
    let mut unmet = Vec::new();
    unmet.extend(lacks_roles(actor, &policy.lifecycle.plan_roles));
    if plan.kind == ReleaseKind::Emergency {
        unmet.extend(proof_unmet(actor, policy, IdentityAction::EmergencyPlan));
    }
    if plan.project.trim().is_empty() {
        unmet.push(input(RuleId::R_1A, "project", "a release needs a project name"));
    }
    if plan.kind == ReleaseKind::Emergency {
        unmet.extend(hotfix_unmet(plan, policy));
    }
    let overridden = plan.version_override.as_deref().is_some_and(|r| !r.trim().is_empty());
    if let Some(last) = last_release.filter(|last| &plan.version <= last)
        && !overridden
    {
        unmet.push(Unmet::new(
            RuleId::R_4C,
            Req::VersionNotNewer { version: plan.version.to_string(), last: last.to_string() },
        ));
    }
    for (i, d) in plan.dependencies.iter().enumerate() {
        if d.name.trim().is_empty() || d.version.trim().is_empty() {
            unmet.push(input(RuleId::R_7F, &format!("dependencies[{i}]"), "a dependency needs a name and a version"));
        }
    }
    if !unmet.is_empty() {
        return Err(Refusal::new(None, attempted, unmet));
    }
    Ok(vec![Event::Planned {
        plan: plan.clone(),
        author: actor.user.clone(),
        stage: policy.lifecycle.initial.clone(),
        at: now,
        proof: (plan.kind == ReleaseKind::Emergency).then(|| actor.proof.clone()),
    }])
}

struct Ctx<'a> {
    state: &'a ReleaseState,
    plan: &'a Plan,
    stage: &'a Stage,
    actor: &'a Actor,
    policy: &'a Policy,
    now: Timestamp,
}

type Decision = Result<Vec<Event>, Vec<Unmet>>;

fn decided(unmet: Vec<Unmet>, events: impl FnOnce() -> Vec<Event>) -> Decision {
    if unmet.is_empty() { Ok(events()) } else { Err(unmet) }
}

impl Ctx<'_> {
    fn env_known(&self, env: &EnvName, unmet: &mut Vec<Unmet>) {
        if self.policy.environment(env).is_none() {
            let known: Vec<&str> = self.policy.environments.iter().map(|e| e.name.as_str()).collect();
            unmet.push(input(
                RuleId::R_1B,
                "environment",
                format!("unknown environment `{env}`; known: {}", known.join(", ")),
            ));
        }
    }

    fn approve(&self, approval: &ApprovalId, role: &Role, channel: Channel, comment: &str) -> Decision {
        let mut unmet = self.decision_unmet(approval, role, IdentityAction::Approve)?;
        // An expired approval may be given again (R-2b); approving lifts the
        // approver's own standing rejection.
        if self.approved_by_actor(approval) {
            let user = self.actor.user.clone();
            unmet.push(Unmet::new(RuleId::R_2D, Req::DuplicateApproval { user, approval: approval.clone() }));
        }
        decided(unmet, || vec![Event::Approved(self.decision(approval, role, channel, comment))])
    }

    /// A rejection (R-2b, R-2c, R-2d): the checks of an approval, a reason,
    /// and nothing given already by the same person that still counts.
    fn reject(&self, approval: &ApprovalId, role: &Role, channel: Channel, comment: &str) -> Decision {
        let mut unmet = self.decision_unmet(approval, role, IdentityAction::Reject)?;
        let user = &self.actor.user;
        if comment.trim().is_empty() {
            unmet.push(input(RuleId::R_2C, "comment", "a rejection needs a reason"));
        }
        if self.approved_by_actor(approval) {
            unmet.push(Unmet::new(
                RuleId::R_2D,
                Req::DuplicateApproval { user: user.clone(), approval: approval.clone() },
            ));
        }
        let roles: Vec<Role> = self.state.rejections.iter().map(|r| r.role.clone()).collect();
        if self.state.standing_rejections(approval, &roles).iter().any(|r| &r.user == user) {
            unmet.push(Unmet::new(
                RuleId::R_2D,
                Req::DuplicateRejection { user: user.clone(), approval: approval.clone() },
            ));
        }
        decided(unmet, || vec![Event::Rejected(self.decision(approval, role, channel, comment))])
    }

    /// What an approval and a rejection both require: a known approval, the
    /// role (held, and one the approval accepts), a proof the policy accepts,
    /// a statement not recorded before, and separation of duties (R-2d).
    /// `Err` for an unknown approval, alone.
    fn decision_unmet(
        &self,
        approval: &ApprovalId,
        role: &Role,
        action: IdentityAction,
    ) -> Result<Vec<Unmet>, Vec<Unmet>> {
        let Some(rule) = self.policy.approvals.get(approval) else {
            let known: Vec<String> = self.policy.approvals.keys().map(ToString::to_string).collect();
            return Err(vec![input(
                RuleId::R_2B,
                "approval",
                format!("unknown approval `{approval}`; known: {}", known.join(", ")),
            )]);
        };
        let mut unmet = Vec::new();
        let user = &self.actor.user;
        if !self.actor.has_role(role) {
            unmet.push(Unmet::new(RuleId::R_2D, Req::Role { user: user.clone(), needed: vec![role.clone()] }));
        }
        if !rule.roles.contains(role) {
            unmet.push(Unmet::new(RuleId::R_2D, Req::Role { user: user.clone(), needed: rule.roles.clone() }));
        }
        unmet.extend(proof_unmet(self.actor, self.policy, action));
        unmet.extend(replay_unmet(self.state, self.actor));
        if self.policy.separation_of_duties && self.state.author.as_deref() == Some(user.as_str()) {
            unmet.push(Unmet::new(RuleId::R_2D, Req::SeparationOfDuties { user: user.clone() }));
        }
        Ok(unmet)
    }

    /// True when the actor gave `approval` and it still counts (R-2b).
    fn approved_by_actor(&self, approval: &ApprovalId) -> bool {
        let since = self.valid_since();
        self.state.approvals.iter().any(|a| &a.approval == approval && a.user == self.actor.user && a.at >= since)
    }

    /// The record of an approval or a rejection by the actor, now.
    fn decision(&self, approval: &ApprovalId, role: &Role, channel: Channel, comment: &str) -> Approval {
        Approval {
            approval: approval.clone(),
            role: role.clone(),
            user: self.actor.user.clone(),
            at: self.now,
            channel,
            comment: comment.to_owned(),
            proof: Some(self.actor.proof.clone()),
        }
    }

    fn evidence(&self, e: &Evidence) -> Decision {
        let Some(rule) = self.policy.gates.get(&e.gate) else {
            let known: Vec<String> = self.policy.gates.keys().map(ToString::to_string).collect();
            return Err(vec![input(
                RuleId::R_7G,
                "gate",
                format!("unknown gate `{}`; known: {}", e.gate, known.join(", ")),
            )]);
        };
        let mut unmet = Vec::new();
        if !e.value.is_finite() {
            unmet.push(input(RuleId::R_7G, "value", format!("{} is not a finite number", e.value)));
        } else if let Some(range) = out_of_range(e.value, rule.unit) {
            // A value outside what the unit can measure (`--value 1e308` for a ratio) would pass or fail a
            // gate by accident (issue #18): refused, naming the allowed range.
            let hint = match rule.unit {
                // 93 for a coverage ratio is nearly always a percentage (issue #20).
                crate::model::Unit::Ratio if e.value > 1.0 && e.value <= 100.0 => {
                    format!(": did you mean {}?", e.value / 100.0)
                }
                _ => String::new(),
            };
            unmet.push(input(
                RuleId::R_7G,
                "value",
                format!("{} for gate `{}` must be {range}{hint}", e.value, e.gate),
            ));
        }
        if e.source.trim().is_empty() {
            unmet.push(input(RuleId::R_7G, "source", "evidence needs a source: a report path, URL or probe"));
        }
        if let Some(env) = &e.environment {
            self.env_known(env, &mut unmet);
        }
        decided(unmet, || {
            vec![Event::EvidenceRecorded(GateResult {
                gate: e.gate.clone(),
                environment: e.environment.clone(),
                target: e.target.clone(),
                measured: Measure::new(e.value, rule.unit),
                threshold: rule.threshold_for(e.target.as_deref()),
                passed: rule.threshold_for(e.target.as_deref()).passes(e.value),
                // Bounded, whatever a report holds (a 10 MB test name): R-7g keeps the evidence, not the file.
                source: crate::ports::capped(e.source.clone(), MAX_SOURCE),
                items: bounded_items(&e.items),
                produced_by: self.actor.user.clone(),
                at: self.now,
            })]
        })
    }

    fn artifact(&self, a: &ArtifactRef) -> Decision {
        let mut unmet = Vec::new();
        if a.name.trim().is_empty() {
            unmet.push(input(RuleId::R_8B, "name", "an artifact needs a name"));
        }
        if a.version != self.plan.version {
            unmet.push(Unmet::new(
                RuleId::R_8D,
                Req::ArtifactVersion {
                    name: a.name.clone(),
                    version: a.version.to_string(),
                    expected: self.plan.version.to_string(),
                },
            ));
        }
        decided(unmet, || vec![Event::ArtifactRecorded(a.clone())])
    }

    /// Approvals given before this no longer count (R-2b, `duties.approval_expiry`).
    fn valid_since(&self) -> jiff::Timestamp {
        self.policy.duties.approvals_valid_since(self.now)
    }

    /// True when the emergency approval is complete on an emergency release.
    fn emergency_approved(&self) -> bool {
        let e = &self.policy.emergency;
        self.plan.kind == ReleaseKind::Emergency
            && self.policy.approvals.get(&e.approval).is_some_and(|rule| {
                self.state.approvers_since(&e.approval, &rule.roles, self.valid_since()).len() >= rule.count as usize
                    && self.state.standing_rejections(&e.approval, &rule.roles).is_empty()
            })
    }

    fn overrides(&self) -> Overrides {
        Overrides {
            blackout: self.policy.emergency.overrides_blackout && self.emergency_approved(),
            all: !self.state.overrides.is_empty(),
        }
    }

    fn advance(&self, to: &Stage) -> Decision {
        let candidates: Vec<(&str, &Transition)> = self.policy.transitions_from(self.stage).collect();
        let Some(&(name, t)) = candidates.iter().find(|(_, t)| &t.to == to) else {
            let allowed =
                candidates.iter().filter(|(_, t)| t.applies_to(self.plan.kind)).map(|(_, t)| t.to.clone()).collect();
            return Err(vec![Unmet::new(
                RuleId::R_3,
                Req::Transition { from: self.stage.clone(), to: to.clone(), allowed },
            )]);
        };
        let mut unmet = Vec::new();
        if !t.applies_to(self.plan.kind) {
            unmet.push(Unmet::new(t.rule, Req::Kind { kind: self.plan.kind, allowed: t.kinds.clone() }));
        }
        if !t.by.is_empty() {
            unmet.extend(lacks_roles(self.actor, &t.by));
        }
        if t.emergency {
            unmet.extend(hotfix_unmet(self.plan, self.policy));
        }
        for approval in &t.approvals {
            self.check_approval(approval, &mut unmet);
        }
        for gate in &t.gates {
            self.check_gate(gate, &mut unmet);
        }
        for step in &t.steps {
            self.check_step(step, &t.rule, &mut unmet);
        }
        if t.needs_artifact && self.state.artifacts.is_empty() {
            unmet.push(Unmet::new(RuleId::R_8B, Req::Artifact));
        }
        if let Some(env) = &t.window {
            self.check_window(env, &mut unmet);
        }
        if let Some(deadline) = &t.deadline {
            self.check_deadline(deadline, t, &mut unmet);
        }
        decided(unmet, || {
            vec![Event::Advanced {
                from: self.stage.clone(),
                to: to.clone(),
                transition: name.to_owned(),
                rule: t.rule,
                at: self.now,
            }]
        })
    }

    fn check_approval(&self, approval: &ApprovalId, unmet: &mut Vec<Unmet>) {
        let Some(rule) = self.policy.approvals.get(approval) else {
            unmet.push(input(RuleId::R_2B, "approval", format!("the policy does not define approval `{approval}`")));
            return;
        };
        let given_by: Vec<String> = self
            .state
            .approvers_since(approval, &rule.roles, self.valid_since())
            .into_iter()
            .map(str::to_owned)
            .collect();
        let have = given_by.len() as u32;
        if have < rule.count {
            unmet.push(Unmet::new(
                rule.rule,
                Req::Approval {
                    approval: approval.clone(),
                    roles: rule.roles.clone(),
                    needed: rule.count,
                    have,
                    given_by,
                },
            ));
        }
        for r in self.state.standing_rejections(approval, &rule.roles) {
            unmet.push(Unmet::new(
                rule.rule,
                Req::Rejected {
                    approval: approval.clone(),
                    user: r.user.clone(),
                    role: r.role.clone(),
                    reason: r.comment.clone(),
                    at: r.at,
                },
            ));
        }
    }

    fn check_gate(&self, req: &GateRequirement, unmet: &mut Vec<Unmet>) {
        let Some(rule) = self.policy.gates.get(&req.gate) else {
            unmet.push(input(RuleId::R_7G, "gate", format!("the policy does not define gate `{}`", req.gate)));
            return;
        };
        let results = self.state.latest_results(&req.gate, req.environment.as_ref());
        let threshold = rule.threshold.describe(rule.unit);
        let judged = |target: Option<&str>| rule.threshold_for(target);
        if results.is_empty() {
            unmet.push(Unmet::new(
                rule.rule,
                Req::Gate {
                    gate: req.gate.clone(),
                    environment: req.environment.clone(),
                    target: None,
                    measured: None,
                    threshold: threshold.clone(),
                    items: Vec::new(),
                },
            ));
        }
        for r in results.into_iter().filter(|r| !judged(r.target.as_deref()).passes(r.measured.value)) {
            unmet.push(Unmet::new(
                rule.rule,
                Req::Gate {
                    gate: req.gate.clone(),
                    environment: req.environment.clone(),
                    target: r.target.clone(),
                    measured: Some(Measure::new(r.measured.value, rule.unit)),
                    threshold: judged(r.target.as_deref()).describe(rule.unit),
                    items: r.items.clone(),
                },
            ));
        }
    }

    /// A step requirement is the transition's own rule (R-8e for the production deployment).
    fn check_step(&self, req: &StepRequirement, rule: &RuleId, unmet: &mut Vec<Unmet>) {
        let records = self.state.latest_steps(&req.step, req.environment.as_ref());
        let push = |unmet: &mut Vec<Unmet>, status: String| {
            unmet.push(Unmet::new(
                *rule,
                Req::Step { step: req.step.clone(), environment: req.environment.clone(), status },
            ));
        };
        if records.is_empty() {
            push(unmet, "missing".into());
        }
        for r in records {
            match &r.outcome {
                None => {
                    // In doubt: the step itself, or one of its targets (R-9d).
                    let doubtful: Vec<&crate::machine::StepRecord> = self
                        .state
                        .in_doubt()
                        .filter(|d| d.key == r.key || (d.step == r.step && d.environment == r.environment))
                        .collect();
                    if doubtful.is_empty() {
                        push(unmet, "running".into());
                    }
                    for d in doubtful {
                        unmet.push(Unmet::new(
                            RuleId::R_9D,
                            Req::StepInDoubt { key: d.key.clone(), detail: d.in_doubt.clone().unwrap_or_default() },
                        ));
                    }
                }
                Some(StepOutcome::Failed { error, .. }) => push(unmet, format!("failed: {error}")),
                Some(StepOutcome::Succeeded { .. }) => {}
            }
        }
    }

    fn window_unmet(
        &self,
        calendar: &Calendar<'_>,
        env: &EnvName,
        blocks: Vec<crate::calendar::WindowBlock>,
        from: Timestamp,
        unmet: &mut Vec<Unmet>,
    ) {
        if blocks.is_empty() {
            return;
        }
        let next = calendar.next_allowed(env, self.plan.kind, from, self.overrides()).map(|t| calendar.local(t));
        for block in blocks {
            unmet.push(Unmet::new(
                block.rule,
                Req::Window { block, environment: env.clone(), next_allowed: next.clone() },
            ));
        }
    }

    fn check_window(&self, env: &EnvName, unmet: &mut Vec<Unmet>) {
        let calendar = Calendar::new(self.policy);
        let blocks = calendar.blocks(env, self.plan.kind, self.now, self.overrides());
        self.window_unmet(&calendar, env, blocks, self.now, unmet);
    }

    fn check_deadline(&self, deadline: &str, t: &Transition, unmet: &mut Vec<Unmet>) {
        let (Some(limit), Some(since)) = (self.policy.deadlines.get(deadline), self.state.entered_at.get(&t.from))
        else {
            return;
        };
        let fmt = |d: SignedDuration| format!("{:#}", d.round(jiff::Unit::Second).unwrap_or(d));
        let mut late = |elapsed: SignedDuration| {
            unmet.push(Unmet::new(
                t.rule,
                Req::Deadline { deadline: deadline.to_owned(), limit: fmt(limit), elapsed: fmt(elapsed) },
            ));
        };
        let mut all_done = true;
        let mut latest_finish: Option<Timestamp> = None;
        for req in &t.steps {
            for r in self.state.latest_steps(&req.step, req.environment.as_ref()) {
                match (r.outcome.as_ref().is_some_and(StepOutcome::succeeded), r.finished_at) {
                    (true, Some(done)) => latest_finish = latest_finish.max(Some(done)),
                    _ => all_done = false,
                }
            }
        }
        let end = if all_done { latest_finish.unwrap_or(self.now) } else { self.now };
        let elapsed = end.duration_since(*since);
        if elapsed > limit {
            late(elapsed);
        }
    }

    fn schedule(&self, env: &EnvName, start: Timestamp, end: Timestamp, busy: &[Booking]) -> Decision {
        let mut unmet = Vec::new();
        self.env_known(env, &mut unmet);
        if start >= end {
            unmet.push(input(RuleId::R_6A, "end", "a booking must end after it starts"));
        }
        let booking = Booking { release: self.plan.release.clone(), environment: env.clone(), start, end };
        for other in busy.iter().filter(|b| b.release != booking.release && b.conflicts_with(&booking)) {
            unmet.push(Unmet::new(RuleId::R_6E, Req::Conflict { with: other.clone() }));
        }
        if unmet.is_empty() && self.policy.environment(env).is_some_and(|e| e.production) {
            let calendar = Calendar::new(self.policy);
            let blocks = calendar.blocks_during(env, self.plan.kind, start, end, self.overrides());
            self.window_unmet(&calendar, env, blocks, start, &mut unmet);
        }
        decided(unmet, || vec![Event::Scheduled(booking)])
    }

    fn override_window(&self, reason: &str) -> Decision {
        let roles = &self.policy.calendar.override_roles;
        let mut unmet = Vec::new();
        unmet.extend(lacks_roles(self.actor, roles));
        unmet.extend(proof_unmet(self.actor, self.policy, IdentityAction::OverrideWindow));
        if reason.trim().is_empty() {
            unmet.push(input(RuleId::R_6B, "reason", "an override needs a reason"));
        }
        let role = roles.iter().find(|r| self.actor.has_role(r)).cloned();
        match role {
            Some(role) if unmet.is_empty() => Ok(vec![Event::WindowOverridden(WindowOverride {
                user: self.actor.user.clone(),
                role,
                reason: reason.to_owned(),
                at: self.now,
                proof: Some(self.actor.proof.clone()),
            })]),
            _ => Err(unmet),
        }
    }

    fn start_step(
        &self,
        step: &crate::model::StepKind,
        env: &Option<EnvName>,
        target: &Option<String>,
        key: &str,
        held: &[super::EnvHold],
    ) -> Decision {
        let mut unmet = Vec::new();
        if key.trim().is_empty() {
            unmet.push(input(RuleId::R_9D, "key", "a step needs an idempotency key"));
        } else if self.state.step(key).is_some() {
            unmet.push(input(RuleId::R_9D, "key", format!("a step with key `{key}` was already started")));
        }
        if let Some(env) = env {
            self.env_known(env, &mut unmet);
            // production is deployed only as a step of the lifecycle, from
            // the stage whose way forward needs it (after its gates, approvals
            // and window were met), never straight from any stage.
            // R-6e: an environment another release holds (deploying, or not yet
            // through its verification) takes no other deployment.
            if *step == crate::model::StepKind::Deploy && target.is_none() {
                for h in held.iter().filter(|h| &h.environment == env && h.release != self.plan.release) {
                    unmet.push(Unmet::new(
                        RuleId::R_6E,
                        Req::EnvironmentHeld { environment: env.clone(), by: h.release.clone(), since: h.since },
                    ));
                }
            }
            let production = self.policy.environment(env).is_some_and(|e| e.production);
            if production && *step == crate::model::StepKind::Deploy {
                let wanted = |t: &crate::policy::Transition| {
                    t.enabled
                        && t.applies_to(self.plan.kind)
                        && t.steps.iter().any(|r| r.step == *step && r.environment.as_ref() == Some(env))
                };
                if !self.policy.transitions_from(self.stage).any(|(_, t)| wanted(t)) {
                    let expected: Vec<Stage> =
                        self.policy.transitions.values().filter(|t| wanted(t)).map(|t| t.from.clone()).collect();
                    unmet.push(Unmet::new(RuleId::R_3, Req::Stage { expected }));
                }
            }
        }
        decided(unmet, || {
            vec![Event::StepStarted {
                key: key.to_owned(),
                step: step.clone(),
                environment: env.clone(),
                target: target.clone(),
                at: self.now,
            }]
        })
    }

    fn finish_step(&self, key: &str, outcome: &StepOutcome, log: &[super::LogLine]) -> Decision {
        match self.state.step(key) {
            None => Err(vec![input(RuleId::R_9D, "key", format!("no step with key `{key}` was started"))]),
            Some(s) if s.outcome.is_some() => {
                Err(vec![input(RuleId::R_9D, "key", format!("step `{key}` already finished"))])
            }
            Some(_) => {
                let skip = log.len().saturating_sub(super::LogLine::MAX_PER_STEP);
                let log = log[skip..]
                    .iter()
                    .map(|l| super::LogLine {
                        stream: l.stream,
                        text: crate::ports::capped(l.text.clone(), crate::ports::LogSink::MAX_LINE),
                    })
                    .collect();
                let outcome = bounded_outcome(outcome);
                Ok(vec![Event::StepFinished { key: key.to_owned(), outcome, log, at: self.now }])
            }
        }
    }

    fn begin_rollback(&self, reason: &str) -> Decision {
        let l = &self.policy.lifecycle;
        let mut unmet = Vec::new();
        if !l.rollback_from.contains(self.stage) {
            unmet.push(Unmet::new(RuleId::R_8G, Req::Stage { expected: l.rollback_from.clone() }));
        }
        unmet.extend(lacks_roles(self.actor, &l.rollback_roles));
        unmet.extend(proof_unmet(self.actor, self.policy, IdentityAction::Rollback));
        if reason.trim().is_empty() {
            unmet.push(input(RuleId::R_8G, "reason", "a rollback needs a reason"));
        }
        decided(unmet, || {
            vec![Event::RollbackStarted {
                from: self.stage.clone(),
                to: l.rolling_back.clone(),
                reason: reason.to_owned(),
                at: self.now,
                proof: Some(self.actor.proof.clone()),
            }]
        })
    }

    fn finish_rollback(&self, succeeded: bool, detail: &str) -> Decision {
        let l = &self.policy.lifecycle;
        let mut unmet = Vec::new();
        if self.stage != &l.rolling_back {
            unmet.push(Unmet::new(RuleId::R_8G, Req::Stage { expected: vec![l.rolling_back.clone()] }));
        }
        unmet.extend(lacks_roles(self.actor, &l.rollback_roles));
        decided(unmet, || {
            vec![Event::RollbackFinished {
                succeeded,
                to: succeeded.then(|| l.rolled_back.clone()),
                detail: detail.to_owned(),
                at: self.now,
            }]
        })
    }

    fn cancel(&self, reason: &str) -> Decision {
        let l = &self.policy.lifecycle;
        let mut unmet = Vec::new();
        unmet.extend(lacks_roles(self.actor, &l.cancel_roles));
        if reason.trim().is_empty() {
            unmet.push(input(RuleId::R_3, "reason", "a cancellation needs a reason"));
        }
        decided(unmet, || {
            vec![Event::Cancelled {
                from: self.stage.clone(),
                to: l.cancelled.clone(),
                reason: reason.to_owned(),
                at: self.now,
            }]
        })
    }

    fn close(&self, summary: &str) -> Decision {
        let l = &self.policy.lifecycle;
        let mut unmet = Vec::new();
        if !l.close_from.contains(self.stage) {
            unmet.push(Unmet::new(RuleId::R_9D, Req::Stage { expected: l.close_from.clone() }));
        }
        if summary.trim().is_empty() {
            unmet.push(input(RuleId::R_9D, "summary", "closing needs the log summary for the release ticket"));
        }
        for duty in crate::duties::due(self.state, self.policy, self.now) {
            unmet.push(Unmet::new(
                duty.rule,
                Req::Duty { key: duty.key.clone(), subject: duty.subject.clone(), due_at: duty.due_at },
            ));
        }
        decided(unmet, || vec![Event::Closed { summary: summary.to_owned(), to: l.closed.clone(), at: self.now }])
    }

    fn mark_in_doubt(&self, key: &str, detail: &str) -> Decision {
        match self.state.step(key) {
            None => Err(vec![input(RuleId::R_9D, "key", format!("no step with key `{key}` was started"))]),
            Some(s) if s.outcome.is_some() => {
                Err(vec![input(RuleId::R_9D, "key", format!("step `{key}` already finished"))])
            }
            Some(s) if s.in_doubt.is_some() => {
                Err(vec![input(RuleId::R_9D, "key", format!("step `{key}` is already in doubt"))])
            }
            Some(_) => Ok(vec![Event::StepInDoubt { key: key.to_owned(), detail: detail.to_owned(), at: self.now }]),
        }
    }

    /// A person says how a step in doubt ended, after checking (R-9d, R-8g):
    /// someone who may roll back, with a reason; only a step in doubt.
    fn resolve_step(&self, key: &str, done: bool, reason: &str) -> Decision {
        let mut unmet = Vec::new();
        unmet.extend(lacks_roles(self.actor, &self.policy.lifecycle.rollback_roles));
        if reason.trim().is_empty() {
            unmet.push(input(RuleId::R_9D, "reason", "say what was checked: resolving a step needs a reason"));
        }
        match self.state.step(key) {
            None => unmet.push(input(RuleId::R_9D, "key", format!("no step with key `{key}` was started"))),
            Some(s) if s.outcome.is_some() => {
                unmet.push(input(RuleId::R_9D, "key", format!("step `{key}` already finished")));
            }
            Some(s) if s.in_doubt.is_none() => unmet.push(input(
                RuleId::R_9D,
                "key",
                format!("step `{key}` is not in doubt: a driver may still be running it"),
            )),
            Some(_) => {}
        }
        let user = &self.actor.user;
        let outcome = if done {
            StepOutcome::ok(format!("resolved as done by {user}: {reason}"))
        } else {
            StepOutcome::failed(format!("resolved as failed by {user}: {reason}"), false)
        };
        decided(unmet, || vec![Event::StepFinished { key: key.to_owned(), outcome, log: Vec::new(), at: self.now }])
    }

    fn finding(&self, key: &str, rule: &RuleId, detail: &str) -> Decision {
        let mut unmet = Vec::new();
        if key.trim().is_empty() || detail.trim().is_empty() {
            unmet.push(input(RuleId::R_9D, "finding", "a finding needs a key and a detail"));
        }
        if self.state.findings.iter().any(|f| f.key == key) {
            unmet.push(input(RuleId::R_9D, "key", format!("a finding for `{key}` is already recorded")));
        }
        let finding =
            crate::machine::Finding { key: key.to_owned(), rule: *rule, detail: detail.to_owned(), at: self.now };
        decided(unmet, || vec![Event::FindingRecorded(finding)])
    }
}

/// The range a finite value in `unit` must be within, when `value` is outside it.
fn out_of_range(value: f64, unit: crate::model::Unit) -> Option<&'static str> {
    use crate::model::Unit;
    let (ok, range) = match unit {
        Unit::Ratio => ((0.0..=1.0).contains(&value), "within 0..=1 (a ratio: 0.9 is 90 %)"),
        Unit::Percent => ((0.0..=100.0).contains(&value), "within 0..=100 (a percentage)"),
        Unit::Count => (value >= 0.0, "0 or more (a count)"),
        Unit::Flag => (value >= 0.0, "0 or more (a flag: 1 is yes, 0 is no)"),
        Unit::Millis => (value >= 0.0, "0 or more (milliseconds)"),
        Unit::Days => (value >= 0.0, "0 or more (days)"),
    };
    (!ok).then_some(range)
}
