//! The default lifecycle (R-3) and every rule the machine enforces, one test
//! per rule, named after its R-ID.

mod common;

use common::*;
use shipwarden::*;

#[test]
fn a_minor_release_runs_the_whole_default_lifecycle_r3() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_prod_ready();
    sim.reach_verifying();
    sim.step(StepKind::SmokeTest, Some("prod"));
    sim.evidence(GateId::ResponseTime, 120.0, Some("prod"));
    sim.advance(Stage::Released);
    sim.ok(&rm(), Action::Close { summary: "released 1.4.0".into() });
    assert_eq!(sim.stage(), Stage::Closed);
    let expected: Vec<Stage> = vec![
        Stage::Planned,
        Stage::ScopeApproved,
        Stage::Built,
        Stage::StagingDeployed,
        Stage::QaVerified,
        Stage::IntegrationTested,
        Stage::TestDeployed,
        Stage::Accepted,
        Stage::ProdReady,
        Stage::Deploying,
        Stage::Verifying,
        Stage::Released,
        Stage::Closed,
    ];
    assert_eq!(sim.state.path, expected);
    assert_eq!(sim.state.version as usize, sim.events.len());
    assert_eq!(ReleaseState::from_events(&sim.events), sim.state, "the state is the fold of its events");
}

#[test]
fn skipping_a_stage_is_refused_and_lists_where_one_may_go_r3() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Deploying });
    assert_eq!(refusal.rule, RuleId::R_3);
    assert_eq!(refusal.stage, Some(Stage::Planned));
    match &refusal.unmet[0].requirement {
        Requirement::Transition { allowed, .. } => assert_eq!(allowed, &vec![Stage::ScopeApproved]),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn scope_approval_needs_a_product_owner_r2b() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ScopeApproved });
    assert_eq!(refusal.rule.as_str(), "R-2b");
    assert!(matches!(
        &refusal.unmet[0].requirement,
        Requirement::Approval { approval: ApprovalId::Scope, needed: 1, have: 0, .. }
    ));
}

#[test]
fn an_approval_by_an_actor_lacking_the_role_is_refused_r2d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    // QA lead claims product_owner: lacks the role.
    let refusal = sim.refused(
        &qa(),
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Email,
            comment: String::new(),
        },
    );
    assert_eq!(refusal.rule, RuleId::R_2D);
    assert!(refusal.to_string().contains("quinn lacks the role product_owner"), "{refusal}");
    // QA lead as QA lead: holds the role, but scope needs a product owner.
    let refusal = sim.refused(
        &qa(),
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::QaLead,
            channel: Channel::Email,
            comment: String::new(),
        },
    );
    assert!(
        matches!(&refusal.unmet[0].requirement, Requirement::Role { needed, .. } if needed == &vec![Role::ProductOwner])
    );
}

#[test]
fn the_author_may_not_approve_their_own_release_r2d() {
    let mut sim = Sim::new(Policy::default());
    let author = Actor::new("rita", [Role::ReleaseManager, Role::ProductOwner]);
    sim.ok(&author, Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    let refusal = sim.refused(
        &author,
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Cli,
            comment: String::new(),
        },
    );
    assert_eq!(refusal.rule, RuleId::R_2D);
    assert!(matches!(refusal.unmet[0].requirement, Requirement::SeparationOfDuties { .. }));

    // Separation of duties is a policy switch.
    let mut policy = Policy::default();
    policy.separation_of_duties = false;
    let mut sim = Sim::new(policy);
    sim.ok(&author, Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.approve(&author, ApprovalId::Scope, Role::ProductOwner);
}

#[test]
fn every_approval_is_logged_with_time_user_role_channel_and_comment_r2c() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let events = sim.ok(
        &po(),
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Chat,
            comment: "scope REL-789 ok".into(),
        },
    );
    let Event::Approved(a) = &events[0] else { panic!("expected an approval event") };
    assert_eq!(
        (a.user.as_str(), &a.role, a.channel, a.comment.as_str(), a.at),
        ("paul", &Role::ProductOwner, Channel::Chat, "scope REL-789 ok", saturday())
    );
    assert_eq!(events[0].rule(), RuleId::R_2C);
}

#[test]
fn n_of_m_approvals_need_distinct_people_r2b() {
    let mut policy = Policy::default();
    policy.approvals.get_mut(&ApprovalId::Scope).expect("scope").count = 2;
    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    let again = sim.refused(
        &po(),
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Cli,
            comment: String::new(),
        },
    );
    assert!(matches!(again.unmet[0].requirement, Requirement::DuplicateApproval { .. }));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ScopeApproved });
    assert!(matches!(refusal.unmet[0].requirement, Requirement::Approval { needed: 2, have: 1, .. }));
    // The refusal names who already approved (#17).
    assert!(refusal.to_string().contains("needs 2 from product_owner; has 1 (paul)"), "{refusal}");
    sim.approve(&Actor::new("petra", [Role::ProductOwner]), ApprovalId::Scope, Role::ProductOwner);
    sim.advance(Stage::ScopeApproved);
}

#[test]
fn a_qa_refusal_lists_every_unmet_requirement_with_measured_and_threshold_r7a_r7b_r7c() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    sim.step(StepKind::Deploy, Some("staging"));
    sim.advance(Stage::StagingDeployed);
    sim.evidence(GateId::Coverage, 0.85, None);
    sim.evidence(GateId::P95Latency, 250.0, None);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::QaVerified });
    let rules: Vec<&str> = refusal.unmet.iter().map(|u| u.rule.as_str()).collect();
    assert_eq!(rules, vec!["R-2b", "R-7a", "R-7b", "R-7c"], "{refusal}");
    let text = refusal.to_string();
    assert!(text.contains("approval `qa_signoff` needs 1 from qa_lead; has 0"), "{text}");
    assert!(text.contains("gate `coverage` measured 85.0 %, required >= 90.0 %"), "{text}");
    assert!(text.contains("gate `critical_bugs` has no result (required <= 0)"), "{text}");
    assert!(text.contains("gate `p95_latency` measured 250 ms, required < 200 ms"), "{text}");
}

#[test]
fn per_label_performance_thresholds_judge_each_label_r7c() {
    let mut policy = Policy::default();
    let p95 = policy.gates.get_mut(&GateId::P95Latency).expect("p95 gate");
    p95.targets.insert("POST /checkout".into(), Threshold::Below(400.0));
    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.reach_built();
    sim.step(StepKind::Deploy, Some("staging"));
    sim.advance(Stage::StagingDeployed);
    sim.qa_gates();
    sim.approve(&qa(), ApprovalId::QaSignoff, Role::QaLead);
    // Overall 140 ms passes the default; the checkout label is judged by its own 400 ms.
    let label = |value: f64, label: &str| Evidence::new(GateId::P95Latency, value, "results.jtl").on_target(label);
    sim.ok(&ci(), Action::RecordEvidence(label(350.0, "POST /checkout")));
    let recorded = sim.state.gate_results.last().expect("recorded");
    assert!(recorded.passed && recorded.threshold == Threshold::Below(400.0), "{recorded:?}");
    sim.ok(&ci(), Action::RecordEvidence(label(450.0, "POST /checkout")));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::QaVerified });
    assert_eq!(refusal.unmet.len(), 1, "{refusal}");
    assert_eq!(refusal.unmet[0].rule.as_str(), "R-7c");
    assert!(
        refusal.to_string().contains("gate `p95_latency` on POST /checkout measured 450 ms, required < 400 ms"),
        "{refusal}"
    );
    // Any other label is judged by the gate's own threshold.
    sim.ok(&ci(), Action::RecordEvidence(label(380.0, "POST /checkout")));
    sim.ok(&ci(), Action::RecordEvidence(label(210.0, "GET /search")));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::QaVerified });
    assert!(refusal.to_string().contains("on GET /search measured 210 ms, required < 200 ms"), "{refusal}");
}

#[test]
fn critical_bugs_in_scope_block_qa_r7b() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    sim.step(StepKind::Deploy, Some("staging"));
    sim.advance(Stage::StagingDeployed);
    sim.qa_gates();
    sim.evidence(GateId::CriticalBugs, 2.0, None); // the latest result counts
    sim.approve(&qa(), ApprovalId::QaSignoff, Role::QaLead);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::QaVerified });
    assert_eq!(refusal.rule.as_str(), "R-7b");
    sim.evidence(GateId::CriticalBugs, 0.0, None);
    sim.advance(Stage::QaVerified);
}

#[test]
fn docs_must_be_reviewed_before_acceptance_r7d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    sim.step(StepKind::Deploy, Some("staging"));
    sim.advance(Stage::StagingDeployed);
    sim.qa_gates();
    sim.approve(&qa(), ApprovalId::QaSignoff, Role::QaLead);
    sim.advance(Stage::QaVerified);
    sim.step(StepKind::IntegrationTests, Some("staging"));
    sim.advance(Stage::IntegrationTested);
    sim.step(StepKind::Deploy, Some("test"));
    sim.step(StepKind::Demo, Some("test"));
    sim.advance(Stage::TestDeployed);
    sim.approve(&po(), ApprovalId::Acceptance, Role::ProductOwner);
    sim.evidence(GateId::DocsReviewed, 0.0, None);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Accepted });
    assert_eq!(refusal.rule.as_str(), "R-7d");
    assert!(refusal.to_string().contains("measured no, required = yes"), "{refusal}");
}

#[test]
fn every_gate_result_is_stored_with_evidence_producer_and_time_r7g() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let events = sim.ok(&ci(), Action::RecordEvidence(Evidence::new(GateId::Coverage, 0.91, "target/lcov.info")));
    let Event::EvidenceRecorded(r) = &events[0] else { panic!("expected evidence") };
    assert!(r.passed);
    assert_eq!((r.source.as_str(), r.produced_by.as_str(), r.at), ("target/lcov.info", "ci-bot", saturday()));
    assert_eq!(r.threshold, Threshold::AtLeast(0.90));

    let refusal =
        sim.refused(&ci(), Action::RecordEvidence(Evidence::new(GateId::Custom("flakiness".into()), 1.0, "x")));
    assert_eq!(refusal.rule, RuleId::R_7G);
    let refusal = sim.refused(&ci(), Action::RecordEvidence(Evidence::new(GateId::Coverage, f64::NAN, "")));
    assert_eq!(refusal.unmet.len(), 2, "NaN value and empty source: {refusal}");
}

#[test]
fn untracked_commits_block_the_build_r4a() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    sim.advance(Stage::ScopeApproved);
    sim.step(StepKind::Build, None);
    sim.step(StepKind::PublishArtifact, None);
    sim.step(StepKind::Tag, None);
    sim.artifact();
    sim.evidence(GateId::UntrackedCommits, 3.0, None);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Built });
    assert_eq!(refusal.rule.as_str(), "R-4a");
}

#[test]
fn the_build_needs_its_steps_and_an_artifact_r8b() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
    sim.advance(Stage::ScopeApproved);
    sim.fail_step(StepKind::Build, None);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Built });
    let text = refusal.to_string();
    assert!(text.contains("step `build` is failed: boom"), "{text}");
    assert!(text.contains("step `tag` is missing"), "{text}");
    assert!(text.contains("no artifact is recorded"), "{text}");
    assert!(refusal.names_rule("R-8b") && refusal.names_rule("R-4a"));
}

#[test]
fn a_version_not_newer_than_the_last_release_is_refused_r4c() {
    let mut sim = Sim::new(Policy::default());
    let refusal =
        sim.refused(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: Some(Version::new(1, 4, 0)) });
    assert_eq!(refusal.rule, RuleId::R_4C);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: Some(Version::new(1, 3, 9)) });
}

#[test]
fn an_artifact_whose_version_differs_from_the_release_is_refused_r8d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let wrong = ArtifactRef::new("shop.jar", Version::new(1, 3, 0), Sha256::of(b"x"), 1);
    let refusal = sim.refused(&ci(), Action::RecordArtifact(wrong));
    assert_eq!(refusal.rule.as_str(), "R-8d");
}

#[test]
fn failed_pre_deploy_checks_block_production_readiness_r8a() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_accepted();
    sim.pre_deploy_checks();
    sim.evidence(GateId::Cpu, 85.0, Some("prod"));
    sim.evidence(GateId::TlsDaysLeft, 5.0, Some("prod"));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ProdReady });
    let text = refusal.to_string();
    assert!(text.contains("gate `cpu` on prod measured 85.0 %, required < 80.0 %"), "{text}");
    assert!(text.contains("gate `tls_days_left` on prod measured 5.0 days, required >= 14.0 days"), "{text}");
    assert!(text.contains("step `backup` on prod is missing"), "{text}");
    assert!(text.contains("step `restore_test` on staging is missing"), "{text}");
}

#[test]
fn a_per_target_check_fails_when_any_target_fails_r8a() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_accepted();
    sim.pre_deploy_checks();
    for (target, cpu) in [("web-1", 20.0), ("web-2", 91.0)] {
        let e = Evidence::new(GateId::Cpu, cpu, "host-probe").in_env(env("prod")).on_target(target);
        sim.ok(&ci(), Action::RecordEvidence(e));
    }
    sim.step(StepKind::Backup, Some("prod"));
    sim.step(StepKind::RestoreTest, Some("staging"));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ProdReady });
    assert_eq!(refusal.unmet.len(), 1, "{refusal}");
    assert!(refusal.to_string().contains("prod/web-2 measured 91.0 %"), "{refusal}");
}

#[test]
fn emergency_without_cto_approval_is_refused_r5a() {
    let mut sim = Sim::planned(ReleaseKind::Emergency);
    sim.reach_built();
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ProdReady });
    assert_eq!(refusal.rule, RuleId::R_5A);
    assert!(
        matches!(&refusal.unmet[0].requirement, Requirement::Approval { approval: ApprovalId::Emergency, roles, .. } if roles == &vec![Role::Cto, Role::TechLead])
    );
    // A QA lead cannot give it.
    let refusal = sim.refused(
        &qa(),
        Action::Approve {
            approval: ApprovalId::Emergency,
            role: Role::QaLead,
            channel: Channel::Chat,
            comment: "go".into(),
        },
    );
    assert_eq!(refusal.rule, RuleId::R_2D);
}

#[test]
fn emergency_with_cto_approval_skips_staging_and_test_r5a() {
    let mut sim = Sim::planned(ReleaseKind::Emergency);
    sim.reach_built();
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    sim.ok(
        &cto(),
        Action::Approve {
            approval: ApprovalId::Emergency,
            role: Role::Cto,
            channel: Channel::Chat,
            comment: "go, via Slack".into(),
        },
    );
    sim.advance(Stage::ProdReady);
    assert!(!sim.state.path.contains(&Stage::StagingDeployed));
    assert!(!sim.state.path.contains(&Stage::TestDeployed));
    let tech_lead = Actor::new("tom", [Role::TechLead]);
    let mut sim = Sim::planned(ReleaseKind::Emergency);
    sim.reach_built();
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    sim.approve(&tech_lead, ApprovalId::Emergency, Role::TechLead);
    sim.advance(Stage::ProdReady);
}

#[test]
fn only_emergency_releases_may_skip_staging_r5a() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    sim.approve(&cto(), ApprovalId::Emergency, Role::Cto);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::ProdReady });
    assert_eq!(refusal.rule, RuleId::R_5A);
    assert!(matches!(refusal.unmet[0].requirement, Requirement::Kind { kind: ReleaseKind::Minor, .. }));
}

#[test]
fn an_emergency_needs_a_hotfix_ticket_and_a_justification_r5b() {
    let mut sim = Sim::new(Policy::default());
    let mut p = plan(ReleaseKind::Emergency);
    p.hotfix = None;
    let refusal = sim.refused(&rm(), Action::Plan { plan: p.clone(), last_release: None });
    assert_eq!(refusal.unmet.len(), 2);
    assert!(refusal.unmet.iter().all(|u| u.rule.as_str() == "R-5b"));
    p.hotfix = Some(Hotfix {
        ticket: "SHOP-9".parse().expect("key"),
        summary: "checkout broken".into(),
        justification: " ".into(),
    });
    let refusal = sim.refused(&rm(), Action::Plan { plan: p.clone(), last_release: None });
    assert!(refusal.to_string().contains("starts with `HOTFIX`"), "{refusal}");
    // A HOTFIX project key carries the prefix too.
    p.hotfix = Some(Hotfix {
        ticket: "HOTFIX-3".parse().expect("key"),
        summary: "checkout broken".into(),
        justification: "revenue loss".into(),
    });
    sim.ok(&rm(), Action::Plan { plan: p, last_release: None });
}

fn blackout_policy() -> Policy {
    let mut policy = Policy::default();
    policy.calendar.time_zone = "Europe/Berlin".into();
    policy
}

#[test]
fn a_prod_deployment_inside_the_blackout_is_refused_with_the_next_allowed_time_r6b() {
    let mut sim = Sim::new(blackout_policy());
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.reach_prod_ready();
    sim.now = ts("2026-11-26T10:00:00Z"); // Thursday 11:00 in Berlin
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Deploying });
    assert_eq!(refusal.rule, RuleId::R_6B);
    assert_eq!(
        refusal.to_string(),
        "refused by R-6b: advance to deploying (stage prod_ready): prod is in blackout Mon-Fri 09:00-17:00 Europe/Berlin (peak-hours); next allowed 2026-11-26 17:00 Europe/Berlin"
    );
    sim.now = ts("2026-11-26T16:00:00Z"); // 17:00 in Berlin
    sim.advance(Stage::Deploying);
}

#[test]
fn an_emergency_approval_overrides_the_blackout_but_not_a_freeze_r6b() {
    let mut policy = blackout_policy();
    policy.calendar.freezes.push(shipwarden::policy::Freeze {
        name: "black-friday".into(),
        environments: vec![env("prod")],
        start: "2026-11-27T00:00".parse().expect("dt"),
        end: "2026-11-30T00:00".parse().expect("dt"),
    });
    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Emergency), last_release: None });
    sim.reach_built();
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    sim.approve(&cto(), ApprovalId::Emergency, Role::Cto);
    sim.advance(Stage::ProdReady);
    sim.now = ts("2026-11-26T10:00:00Z"); // Thursday, blackout: the emergency approval overrides it
    let events = sim.run(&de(), Action::Advance { to: Stage::Deploying });
    assert!(events.is_ok(), "{events:?}");

    let mut sim2 = Sim::new(sim.policy.clone());
    sim2.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Emergency), last_release: None });
    sim2.reach_built();
    sim2.pre_deploy_checks();
    sim2.step(StepKind::Backup, Some("prod"));
    sim2.approve(&cto(), ApprovalId::Emergency, Role::Cto);
    sim2.advance(Stage::ProdReady);
    sim2.now = ts("2026-11-27T10:00:00Z"); // Friday, inside the freeze
    let refusal = sim2.refused(&de(), Action::Advance { to: Stage::Deploying });
    assert!(refusal.to_string().contains("freeze 2026-11-27T00:00:00 to 2026-11-30T00:00:00"), "{refusal}");
    assert!(refusal.to_string().contains("next allowed 2026-11-30 00:00 Europe/Berlin"), "{refusal}");
}

#[test]
fn a_freeze_override_needs_a_role_and_a_reason_and_is_recorded_r6b() {
    let mut policy = Policy::default();
    policy.calendar.freezes.push(shipwarden::policy::Freeze {
        name: "year-end".into(),
        environments: vec![env("prod")],
        start: "2026-11-28T00:00".parse().expect("dt"),
        end: "2026-11-29T00:00".parse().expect("dt"),
    });
    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.reach_prod_ready();
    assert_eq!(sim.refused(&de(), Action::Advance { to: Stage::Deploying }).rule, RuleId::R_6B);
    let refusal = sim.refused(&de(), Action::OverrideWindow { reason: "".into() });
    assert_eq!(refusal.unmet.len(), 2, "role and reason: {refusal}");
    let events = sim.ok(&cto(), Action::OverrideWindow { reason: "regulator deadline".into() });
    assert!(
        matches!(&events[0], Event::WindowOverridden(o) if o.reason == "regulator deadline" && o.role == Role::Cto)
    );
    sim.advance(Stage::Deploying);
}

#[test]
fn a_major_release_deploys_only_in_the_maintenance_window_r6c() {
    let mut sim = Sim::planned(ReleaseKind::Major);
    sim.reach_prod_ready();
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Deploying }); // Saturday 10:00
    assert_eq!(refusal.rule.as_str(), "R-6c");
    assert!(refusal.to_string().contains("next allowed 2026-11-29 02:00 UTC"), "{refusal}");
    let text = refusal.to_string();
    assert!(text.contains("prod is outside a maintenance window: major releases deploy only inside"), "{text}");
    sim.now = ts("2026-11-29T02:30:00Z");
    sim.advance(Stage::Deploying);
}

#[test]
fn overlapping_deployments_to_one_environment_are_refused_r6e() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let other = shipwarden::calendar::Booking {
        release: "billing-2.0.0".parse().expect("id"),
        environment: env("prod"),
        start: ts("2026-11-28T18:00:00Z"),
        end: ts("2026-11-28T19:00:00Z"),
    };
    let refusal = sim.refused(
        &rm(),
        Action::Schedule {
            environment: env("prod"),
            start: ts("2026-11-28T18:30:00Z"),
            end: ts("2026-11-28T19:30:00Z"),
            busy: vec![other.clone()],
        },
    );
    assert_eq!(refusal.rule, RuleId::R_6E);
    assert!(refusal.to_string().contains("prod is booked for billing-2.0.0"), "{refusal}");
    sim.ok(
        &rm(),
        Action::Schedule {
            environment: env("prod"),
            start: ts("2026-11-28T19:00:00Z"),
            end: ts("2026-11-28T20:00:00Z"),
            busy: vec![other],
        },
    );
    // Booking into a blackout is refused as well.
    let refusal = sim.refused(
        &rm(),
        Action::Schedule {
            environment: env("prod"),
            start: ts("2026-11-30T16:00:00Z"),
            end: ts("2026-11-30T18:00:00Z"),
            busy: vec![],
        },
    );
    assert_eq!(refusal.rule, RuleId::R_6B);
}

#[test]
fn smoke_tests_must_complete_within_ten_minutes_r8f() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_prod_ready();
    sim.reach_verifying();
    sim.now = ts("2026-11-28T10:12:00Z");
    sim.step(StepKind::SmokeTest, Some("prod"));
    sim.evidence(GateId::ResponseTime, 120.0, Some("prod"));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Released });
    assert_eq!(refusal.rule, RuleId::R_8F);
    assert!(refusal.to_string().contains("deadline `smoke_tests` of 10m passed (12m elapsed)"), "{refusal}");
    // Fast-track rollback needs no gates.
    sim.ok(&de(), Action::BeginRollback { reason: "smoke tests too late".into() });
    assert_eq!(sim.stage(), Stage::RollingBack);
}

#[test]
fn slow_smoke_test_responses_block_the_release_r8f() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_prod_ready();
    sim.reach_verifying();
    sim.step(StepKind::SmokeTest, Some("prod"));
    sim.evidence(GateId::ResponseTime, 450.0, Some("prod"));
    assert_eq!(sim.refused(&de(), Action::Advance { to: Stage::Released }).rule, RuleId::R_8F);
}

#[test]
fn rollback_is_fast_tracked_and_returns_to_the_previous_release_r8g_r1d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_prod_ready();
    sim.reach_verifying();
    sim.fail_step(StepKind::SmokeTest, Some("prod"));
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Released });
    assert!(refusal.to_string().contains("step `smoke_test` on prod is failed: boom"), "{refusal}");
    sim.ok(&de(), Action::BeginRollback { reason: "login smoke test failed".into() });
    sim.step(StepKind::Rollback, Some("prod"));
    sim.step(StepKind::RestoreDatabase, Some("prod"));
    sim.step(StepKind::Notify, None);
    let failed = sim.ok(&de(), Action::FinishRollback { succeeded: false, detail: "target web-2 down".into() });
    assert!(matches!(failed[0], Event::RollbackFinished { to: None, .. }));
    assert_eq!(sim.stage(), Stage::RollingBack, "a failed rollback stays rolling back to be retried");
    sim.ok(&de(), Action::FinishRollback { succeeded: true, detail: "1.3.9 redeployed, db restored".into() });
    assert_eq!(sim.stage(), Stage::RolledBack);
    assert_eq!(sim.refused(&de(), Action::Cancel { reason: "x".into() }).unmet[0].requirement, Requirement::Final);
}

#[test]
fn rollback_is_refused_before_the_production_deployment_r8g() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(&de(), Action::BeginRollback { reason: "why not".into() });
    assert_eq!(refusal.rule, RuleId::R_8G);
    let refusal = sim.refused(&po(), Action::BeginRollback { reason: "why not".into() });
    assert!(refusal.names_rule("R-2d"), "a product owner may not roll back: {refusal}");
}

#[test]
fn any_non_final_stage_can_be_cancelled_and_then_nothing_more_happens_r3() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    assert!(sim.refused(&de(), Action::Cancel { reason: "no longer needed".into() }).names_rule("R-2d"));
    sim.ok(&rm(), Action::Cancel { reason: "superseded by 1.5.0".into() });
    assert_eq!(sim.stage(), Stage::Cancelled);
    assert_eq!(sim.state.cancel_reason.as_deref(), Some("superseded by 1.5.0"));
    let refusal = sim.refused(
        &po(),
        Action::Approve {
            approval: ApprovalId::Scope,
            role: Role::ProductOwner,
            channel: Channel::Cli,
            comment: String::new(),
        },
    );
    assert_eq!(refusal.unmet[0].requirement, Requirement::Final);
}

#[test]
fn commands_before_planning_are_refused_and_planning_twice_is_refused_r1a() {
    let mut sim = Sim::new(Policy::default());
    assert_eq!(sim.refused(&de(), Action::Advance { to: Stage::Built }).unmet[0].requirement, Requirement::NotPlanned);
    assert!(sim.refused(&de(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None }).names_rule("R-2d"));
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    assert_eq!(
        sim.refused(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None }).unmet[0].requirement,
        Requirement::AlreadyPlanned
    );
}

#[test]
fn unknown_environments_are_refused_r1b() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(
        &de(),
        Action::StartStep {
            step: StepKind::Deploy,
            environment: Some(env("qa")),
            target: None,
            key: "k".into(),
            held: Vec::new(),
        },
    );
    assert_eq!(refusal.rule, RuleId::R_1B);
    assert!(refusal.to_string().contains("known: dev, staging, test, prod"), "{refusal}");
}

#[test]
fn steps_are_recorded_once_per_idempotency_key_r9d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let start = Action::StartStep {
        step: StepKind::Deploy,
        environment: Some(env("staging")),
        target: Some("web-1".into()),
        key: "deploy:staging:web-1:1".into(),
        held: Vec::new(),
    };
    sim.ok(&de(), start.clone());
    assert_eq!(sim.state.unfinished_steps().count(), 1);
    assert_eq!(sim.refused(&de(), start).rule, RuleId::R_9D);
    let finish =
        Action::FinishStep { key: "deploy:staging:web-1:1".into(), outcome: StepOutcome::ok("ok"), log: vec![] };
    sim.ok(&de(), finish.clone());
    assert_eq!(sim.refused(&de(), finish).rule, RuleId::R_9D);
    assert_eq!(
        sim.refused(
            &de(),
            Action::FinishStep { key: "nope".into(), outcome: StepOutcome::ok(String::new()), log: vec![] }
        )
        .rule,
        RuleId::R_9D
    );
    assert_eq!(sim.state.unfinished_steps().count(), 0);
}

#[test]
fn closing_needs_a_released_release_and_a_summary_r9d() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let refusal = sim.refused(&rm(), Action::Close { summary: "".into() });
    assert_eq!(refusal.unmet.len(), 2);
    assert!(refusal.unmet.iter().all(|u| u.rule == RuleId::R_9D));
}

#[test]
fn a_custom_stage_graph_drops_test_and_adds_canary_without_code_r3() {
    let policy = Policy::from_toml_str(
        r#"
        stages = [
          { name = "planned" }, { name = "scope_approved" }, { name = "built" }, { name = "staging_deployed" },
          { name = "qa_verified" }, { name = "accepted" }, { name = "prod_ready" }, { name = "canary" },
          { name = "deploying" }, { name = "verifying" }, { name = "released" }, { name = "rolling_back" },
          { name = "rolled_back", final = true }, { name = "cancelled", final = true }, { name = "closed", final = true },
        ]
        [transitions.integration_testing]
        enabled = false
        [transitions.test_deployment]
        enabled = false
        [transitions.acceptance]
        from = "qa_verified"
        [transitions.prod_deployment]
        from = "canary"
        [transitions.canary]
        from = "prod_ready"
        to = "canary"
        rule = "R-8e"
        steps = [{ step = "deploy", environment = "prod" }]
        "#,
    )
    .expect("valid custom policy");
    let canary = Stage::Custom("canary".into());
    let mermaid = Stage::graph_mermaid(&policy);
    assert!(mermaid.contains("prod_ready --> canary: canary [R-8e]"), "{mermaid}");
    assert!(!mermaid.contains("test_deployed"), "{mermaid}");

    let mut sim = Sim::new(policy);
    sim.ok(&rm(), Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None });
    sim.reach_built();
    sim.step(StepKind::Deploy, Some("staging"));
    sim.advance(Stage::StagingDeployed);
    sim.qa_gates();
    sim.approve(&qa(), ApprovalId::QaSignoff, Role::QaLead);
    sim.advance(Stage::QaVerified);
    sim.evidence(GateId::DocsReviewed, 1.0, None);
    sim.approve(&po(), ApprovalId::Acceptance, Role::ProductOwner);
    sim.advance(Stage::Accepted);
    sim.pre_deploy_checks();
    sim.step(StepKind::Backup, Some("prod"));
    sim.step(StepKind::RestoreTest, Some("staging"));
    sim.advance(Stage::ProdReady);
    sim.step(StepKind::Deploy, Some("prod"));
    sim.advance(canary.clone());
    sim.advance(Stage::Deploying);
    assert!(sim.state.path.contains(&canary));
}

#[test]
fn a_booking_is_recorded_in_the_calendar_and_a_rebooking_replaces_it_r6a() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let start = ts("2026-11-28T18:00:00Z");
    let end = ts("2026-11-28T19:00:00Z");
    let events = sim.ok(&rm(), Action::Schedule { environment: env("prod"), start, end, busy: vec![] });
    assert_eq!(events[0].rule().as_str(), "R-6a");
    sim.ok(
        &rm(),
        Action::Schedule { environment: env("prod"), start: end, end: ts("2026-11-28T20:00:00Z"), busy: vec![] },
    );
    sim.ok(&rm(), Action::Schedule { environment: env("staging"), start, end, busy: vec![] });
    assert_eq!(sim.state.bookings.len(), 2, "one booking per environment");
    let refusal =
        sim.refused(&rm(), Action::Schedule { environment: env("prod"), start: end, end: start, busy: vec![] });
    assert_eq!(refusal.rule.as_str(), "R-6a");
}

#[test]
fn dependencies_need_a_name_and_a_version_r7f() {
    let mut sim = Sim::new(Policy::default());
    let mut p = plan(ReleaseKind::Minor);
    p.dependencies = vec![Dependency { name: "payments-gateway".into(), version: "".into() }];
    let refusal = sim.refused(&rm(), Action::Plan { plan: p.clone(), last_release: None });
    assert_eq!(refusal.rule.as_str(), "R-7f");
    p.dependencies[0].version = "2.4.1".into();
    sim.ok(&rm(), Action::Plan { plan: p, last_release: None });
    assert_eq!(sim.state.plan.as_ref().expect("plan").dependencies[0].version, "2.4.1");
}

#[test]
fn verification_starts_only_after_the_prod_deployment_succeeded_r8e() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_prod_ready();
    sim.advance(Stage::Deploying);
    let refusal = sim.refused(&de(), Action::Advance { to: Stage::Verifying });
    assert_eq!(refusal.rule, RuleId::R_8E);
    assert!(refusal.to_string().contains("step `deploy` on prod is missing"), "{refusal}");
    sim.ok(
        &de(),
        Action::StartStep {
            step: StepKind::Deploy,
            environment: Some(env("prod")),
            target: None,
            key: "deploy:prod".into(),
            held: Vec::new(),
        },
    );
    assert!(sim.refused(&de(), Action::Advance { to: Stage::Verifying }).to_string().contains("is running"));
    sim.ok(&de(), Action::FinishStep { key: "deploy:prod".into(), outcome: StepOutcome::ok("2 targets"), log: vec![] });
    let events = sim.ok(&de(), Action::Advance { to: Stage::Verifying });
    assert_eq!(events[0].rule(), RuleId::R_8E);
}

#[test]
fn production_is_deployed_only_from_the_stage_whose_way_forward_needs_it_r3() {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let start = |key: &str, env_name: &str| Action::StartStep {
        step: StepKind::Deploy,
        environment: Some(env(env_name)),
        target: None,
        key: key.into(),
        held: Vec::new(),
    };
    let refusal = sim.refused(&de(), start("deploy:prod#1", "prod"));
    assert_eq!(refusal.rule.as_str(), "R-3");
    assert!(refusal.to_string().contains("only possible in stage deploying"), "{refusal}");
    // A per-target step is held to the same rule.
    let per_target = Action::StartStep {
        step: StepKind::Deploy,
        environment: Some(env("prod")),
        target: Some("web-1".into()),
        key: "deploy:prod#1/web-1".into(),
        held: Vec::new(),
    };
    sim.refused(&de(), per_target);
    // Non-production environments are not gated this way (dev is a sandbox).
    sim.ok(&de(), start("deploy:dev#1", "dev"));
}

/// What "a step failed in this run" means for every surface (exit 5, a binding's error).
mod failed_since {
    use shipwarden::machine::{Event, apply};
    use shipwarden::*;

    fn started(key: &str) -> Event {
        Event::StepStarted {
            key: key.into(),
            step: shipwarden::StepKind::Deploy,
            environment: Some("staging".parse().expect("env")),
            target: Some("staging-1".into()),
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn finished(key: &str, ok: bool) -> Event {
        let outcome = if ok { StepOutcome::ok("done") } else { StepOutcome::failed("exited 1", ok) };
        Event::StepFinished { key: key.into(), outcome, log: Vec::new(), at: jiff::Timestamp::UNIX_EPOCH }
    }

    #[test]
    fn a_step_retried_to_success_is_not_a_failure_but_one_left_failed_is_r8e() {
        let before = ReleaseState::default();
        let events = [
            started("deploy:staging:staging-1#1"),
            finished("deploy:staging:staging-1#1", false),
            started("deploy:staging:staging-1#1/2"),
            finished("deploy:staging:staging-1#1/2", true),
        ];
        let after = events.iter().fold(ReleaseState::default(), apply);
        assert!(after.failed_since(&before).is_empty());
        let failing = [started("deploy:staging:staging-1#2"), finished("deploy:staging:staging-1#2", false)];
        let later = failing.iter().fold(after.clone(), apply);
        let failed = later.failed_since(&after);
        assert_eq!(failed.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["deploy:staging:staging-1#2"]);
        // A failure already recorded before the run is not this run's.
        assert!(later.failed_since(&later).is_empty());
    }
}

#[test]
fn evidence_outside_its_units_range_is_refused_naming_the_field_and_range_r7g() {
    // Issue #18: `--value 1e308` passed the coverage gate (a ratio).
    let mut sim = Sim::planned(ReleaseKind::Minor);
    let cases = [
        (GateId::Coverage, 1e308, "within 0..=1"),
        (GateId::Coverage, -0.5, "within 0..=1"),
        // Issue #20: 93 for a ratio was stored as 9,300 %; it is refused with the likely meaning.
        (GateId::Coverage, 93.0, "did you mean 0.93?"),
        (GateId::CriticalBugs, -1.0, "0 or more (a count)"),
        (GateId::P95Latency, -5.0, "0 or more (milliseconds)"),
    ];
    for (gate, value, range) in cases {
        let refusal = sim.refused(&ci(), Action::RecordEvidence(Evidence::new(gate.clone(), value, "ci")));
        assert_eq!(refusal.unmet[0].rule.as_str(), "R-7g", "{refusal}");
        let text = refusal.to_string();
        assert!(text.contains("value") && text.contains(range) && text.contains(gate.as_str()), "{text}");
    }
    sim.ok(&ci(), Action::RecordEvidence(Evidence::new(GateId::Coverage, 0.93, "lcov.info")));
    sim.ok(&ci(), Action::RecordEvidence(Evidence::new(GateId::CriticalBugs, 0.0, "jira")));
}
