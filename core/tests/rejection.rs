//! Rejecting an approval (R-2b, R-2c, R-2d): a qualified approver declines
//! it with a reason; the rejection is recorded like an approval and blocks
//! every transition that needs the approval until the same person approves.

mod common;

use common::*;
use shipwarden::*;

fn reject(approval: ApprovalId, role: Role, reason: &str) -> Action {
    Action::Reject { approval, role, channel: Channel::Email, comment: reason.into() }
}

#[test]
fn a_rejection_is_logged_like_an_approval_with_its_reason_r2c() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let events = sim.ok(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "SHOP-12 is not ready"));
    let [Event::Rejected(r)] = events.as_slice() else { panic!("one rejection: {events:?}") };
    assert_eq!(
        (r.approval.clone(), r.user.as_str(), r.role.clone(), r.channel, r.comment.as_str(), r.at),
        (ApprovalId::Scope, "paul", Role::ProductOwner, Channel::Email, "SHOP-12 is not ready", saturday())
    );
    assert_eq!(events[0].rule(), RuleId::R_2C);
    assert_eq!(events[0].name(), "rejected");
    assert_eq!(sim.state.rejections.len(), 1);
    assert!(sim.state.approvals.is_empty(), "a rejection is not an approval");
    assert_eq!(ReleaseState::from_events(&sim.events), sim.state, "the state is the fold of its events");
}

#[test]
fn a_standing_rejection_blocks_the_stage_and_is_named_with_its_reason_r2b() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.ok(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "scope too big"));
    // Another product owner approves: the count is met, the rejection still stands.
    let pia = Actor::new("pia", [Role::ProductOwner]);
    sim.approve(&pia, ApprovalId::Scope, Role::ProductOwner);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ScopeApproved });
    assert_eq!(refusal.rule.as_str(), "R-2b");
    assert_eq!(refusal.unmet.len(), 1, "{refusal}");
    assert!(matches!(
        &refusal.unmet[0].requirement,
        Requirement::Rejected { approval: ApprovalId::Scope, user, reason, .. } if user == "paul" && reason == "scope too big"
    ));
    let text = refusal.to_string();
    assert!(text.contains("rejected by paul (product_owner)") && text.contains("scope too big"), "{text}");
    // The same person approving lifts it.
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    assert!(sim.state.standing_rejections(&ApprovalId::Scope, &[Role::ProductOwner]).is_empty());
    sim.advance(Stage::ScopeApproved);
    assert_eq!(sim.stage(), Stage::ScopeApproved);
}

#[test]
fn a_rejection_needs_a_reason_the_role_and_an_independent_approver_r2c_r2d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "  "));
    assert_eq!(refusal.rule, RuleId::R_2C);
    assert!(refusal.to_string().contains("a rejection needs a reason"), "{refusal}");
    assert_eq!(refusal.attempted, "reject scope as product_owner");

    let refusal = sim.refused(&qa(), reject(ApprovalId::Scope, Role::QaLead, "no"));
    assert_eq!(refusal.rule, RuleId::R_2D);
    assert!(
        matches!(&refusal.unmet[0].requirement, Requirement::Role { needed, .. } if needed == &vec![Role::ProductOwner])
    );

    let refusal = sim.refused(&po(), reject("nonsense".parse().expect("id"), Role::ProductOwner, "no"));
    assert!(refusal.to_string().contains("unknown approval `nonsense`"), "{refusal}");

    let mut sim = Sim::new(Policy::default());
    let author = Actor::new("rita", [Role::ReleaseManager, Role::ProductOwner]);
    sim.ok(&author, Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    let refusal = sim.refused(&author, reject(ApprovalId::Scope, Role::ProductOwner, "mine"));
    assert!(matches!(refusal.unmet[0].requirement, Requirement::SeparationOfDuties { .. }));
}

#[test]
fn rejecting_twice_or_after_approving_is_refused_r2d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.ok(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "not yet"));
    let refusal = sim.refused(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "still not"));
    assert!(matches!(refusal.unmet[0].requirement, Requirement::DuplicateRejection { .. }), "{refusal}");
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    let refusal = sim.refused(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "changed my mind"));
    assert!(matches!(refusal.unmet[0].requirement, Requirement::DuplicateApproval { .. }), "{refusal}");
}

#[test]
fn an_expired_approval_can_be_rejected_and_the_rejection_does_not_expire_r2b() {
    let mut policy = Policy::default();
    policy.duties.approval_expiry = jiff::SignedDuration::from_hours(24);
    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    sim.now = ts("2026-11-30T10:00:00Z");
    sim.ok(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "the scope changed"));
    sim.now = ts("2026-12-30T10:00:00Z");
    let pia = Actor::new("pia", [Role::ProductOwner]);
    sim.approve(&pia, ApprovalId::Scope, Role::ProductOwner);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ScopeApproved });
    assert!(matches!(&refusal.unmet[0].requirement, Requirement::Rejected { user, .. } if user == "paul"));
}

#[test]
fn a_rejected_emergency_approval_stops_the_emergency_path_r2b_r5a() {
    let mut sim = Sim::planned(ReleaseKind::Emergency);
    sim.reach_built();
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    sim.ok(&cto(), reject(ApprovalId::Emergency, Role::Cto, "not an emergency: wait for Tuesday"));
    let tech_lead = Actor::new("tom", [Role::TechLead]);
    sim.approve(&tech_lead, ApprovalId::Emergency, Role::TechLead);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ProdReady });
    assert_eq!(refusal.rule, RuleId::R_5A);
    assert!(
        refusal.unmet.iter().any(|u| matches!(&u.requirement, Requirement::Rejected { user, .. } if user == "carla")),
        "{refusal}"
    );
    sim.approve(&cto(), ApprovalId::Emergency, Role::Cto);
    sim.advance(Stage::ProdReady);
}

#[test]
fn a_rejection_is_told_to_the_teams_once_with_its_reason_r2b_r2c() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.ok(&po(), reject(ApprovalId::Scope, Role::ProductOwner, "SHOP-12 is not ready"));
    let due = shipwarden::duties::due(&sim.state, &sim.policy, sim.now);
    let notice = due.iter().find(|d| d.kind == shipwarden::duties::DutyKind::ApprovalRejected).expect("a notice");
    assert_eq!(notice.rule, RuleId::R_2C);
    assert!(notice.subject.contains("`scope` of shop 1.4.0 by paul"), "{}", notice.subject);
    assert!(
        notice.body.contains("SHOP-12 is not ready") && notice.body.contains("until paul approves"),
        "{}",
        notice.body
    );
    // Performed once (the notify step recorded), it is not due again.
    let key = format!("{}1", notice.step_prefix());
    let start =
        Action::StartStep { step: StepKind::Notify, environment: None, target: None, key: key.clone(), held: vec![] };
    sim.ok(&de(), start);
    sim.ok(&de(), Action::FinishStep { key, outcome: StepOutcome::ok("sent"), log: vec![] });
    let again = shipwarden::duties::due(&sim.state, &sim.policy, sim.now);
    assert!(again.iter().all(|d| d.kind != shipwarden::duties::DutyKind::ApprovalRejected), "{again:?}");
}

#[test]
fn approvers_are_asked_on_entering_a_stage_with_what_they_need_to_decide_r2b() {
    use shipwarden::duties::{DutyKind, due};
    // Off by default: no request.
    let sim = Sim::planned(ReleaseKind::Minor);
    assert!(due(&sim.state, &sim.policy, sim.now).iter().all(|d| d.kind != DutyKind::ApprovalRequest));
    // On: a request due on entering the stage, carrying the approval, the release and what is missing.
    let mut policy = Policy::default();
    policy.duties.approval_requests = true;
    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    let due_now = due(&sim.state, &sim.policy, sim.now);
    let request = due_now.iter().find(|d| d.kind == DutyKind::ApprovalRequest).expect("a request");
    assert_eq!(request.rule.as_str(), "R-2b");
    assert_eq!(request.due_at, sim.now);
    assert_eq!(request.subject, "Approval needed: `scope` of shop 1.4.0");
    let ask = request.ask.as_ref().expect("it asks");
    assert_eq!(
        (ask.approval.clone(), ask.roles.clone(), ask.needed, ask.have),
        (ApprovalId::Scope, vec![Role::ProductOwner], 1, 0)
    );
    assert_eq!(
        (ask.project.as_str(), ask.version.as_str(), ask.kind, ask.stage.clone()),
        ("shop", "1.4.0", ReleaseKind::Minor, Stage::Planned)
    );
    assert_eq!(ask.tickets, vec!["SHOP-12", "#45"]);
    assert!(ask.missing.iter().any(|m| m.contains("R-2b") && m.contains("approval `scope`")), "{:?}", ask.missing);
    assert!(
        ask.missing.iter().all(|m| !m.contains("lacks the role")),
        "roles are not what is missing: {:?}",
        ask.missing
    );
    // The reminder a day later carries the same ask; once approved, neither is due.
    sim.now = ts("2026-11-29T11:00:00Z");
    let reminder = due(&sim.state, &sim.policy, sim.now)
        .into_iter()
        .find(|d| d.kind == DutyKind::ApprovalReminder)
        .expect("reminded");
    assert_eq!(reminder.ask.as_ref().map(|a| a.approval.clone()), Some(ApprovalId::Scope));
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    assert!(due(&sim.state, &sim.policy, sim.now).iter().all(|d| d.ask.is_none()));
}
