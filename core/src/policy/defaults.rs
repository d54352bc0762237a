//! The procedure's own rules and numbers, as the default policy. This file is
//! the only place they are written; the engine reads them from the policy.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use jiff::civil::time;

use super::*;
use crate::model::{ApprovalId as A, GateId as G, ReleaseKind, Role as R, Stage as S, StepKind as K, Threshold, Unit};
use crate::rule::RuleId;

fn env(name: &str) -> EnvName {
    EnvName::trusted(name)
}

fn gate(gate: G, environment: Option<&str>) -> GateRequirement {
    GateRequirement { gate, environment: environment.map(env) }
}

fn step(step: K, environment: Option<&str>) -> StepRequirement {
    StepRequirement { step, environment: environment.map(env) }
}

fn transition(from: S, to: S, rule: RuleId) -> Transition {
    Transition {
        from,
        to,
        rule,
        enabled: true,
        kinds: Vec::new(),
        emergency: false,
        by: Vec::new(),
        approvals: Vec::new(),
        gates: Vec::new(),
        steps: Vec::new(),
        needs_artifact: false,
        window: None,
        deadline: None,
    }
}

/// The pre-deployment checks of R-8a for one environment, then the release's
/// own: migrations rehearsed (R-7e), dependencies as verified (R-7f), the
/// artifacts' version equal to the tag (R-8d).
fn pre_deploy_checks(environment: &str) -> Vec<GateRequirement> {
    [G::Cpu, G::Memory, G::DiskFree, G::TlsDaysLeft, G::DbConnectivity, G::Network]
        .into_iter()
        .map(|g| gate(g, Some(environment)))
        .chain([G::MigrationsRehearsed, G::DependencyDrift, G::ArtifactVersion].map(|g| gate(g, None)))
        .collect()
}

fn default_transitions() -> BTreeMap<String, Transition> {
    let mut t = BTreeMap::new();
    t.insert(
        "scope_approval".into(),
        Transition { approvals: vec![A::Scope], ..transition(S::Planned, S::ScopeApproved, RuleId::R_2B) },
    );
    t.insert(
        "build".into(),
        Transition {
            steps: vec![step(K::Build, None), step(K::PublishArtifact, None), step(K::Tag, None)],
            gates: vec![gate(G::UntrackedCommits, None), gate(G::UnreviewedPulls, None)],
            needs_artifact: true,
            ..transition(S::ScopeApproved, S::Built, RuleId::R_8B)
        },
    );
    t.insert(
        "staging_deployment".into(),
        Transition {
            steps: vec![step(K::Deploy, Some("staging"))],
            ..transition(S::Built, S::StagingDeployed, RuleId::R_3)
        },
    );
    t.insert(
        "qa_verification".into(),
        Transition {
            approvals: vec![A::QaSignoff],
            gates: vec![gate(G::Coverage, None), gate(G::CriticalBugs, None), gate(G::P95Latency, None)],
            ..transition(S::StagingDeployed, S::QaVerified, RuleId::R_7A)
        },
    );
    t.insert(
        "integration_testing".into(),
        Transition {
            steps: vec![step(K::IntegrationTests, Some("staging"))],
            ..transition(S::QaVerified, S::IntegrationTested, RuleId::R_3)
        },
    );
    t.insert(
        "test_deployment".into(),
        Transition {
            steps: vec![step(K::Deploy, Some("test")), step(K::Demo, Some("test"))],
            ..transition(S::IntegrationTested, S::TestDeployed, RuleId::R_3)
        },
    );
    t.insert(
        "acceptance".into(),
        Transition {
            approvals: vec![A::Acceptance],
            gates: vec![gate(G::DocsReviewed, None)],
            ..transition(S::TestDeployed, S::Accepted, RuleId::R_2B)
        },
    );
    t.insert(
        "prod_readiness".into(),
        Transition {
            gates: pre_deploy_checks("prod"),
            steps: vec![step(K::Backup, Some("prod")), step(K::RestoreTest, Some("staging"))],
            ..transition(S::Accepted, S::ProdReady, RuleId::R_8A)
        },
    );
    t.insert(
        "emergency_fast_track".into(),
        Transition {
            kinds: vec![ReleaseKind::Emergency],
            emergency: true,
            approvals: vec![A::Emergency],
            gates: pre_deploy_checks("prod"),
            steps: vec![step(K::Backup, Some("prod"))],
            ..transition(S::Built, S::ProdReady, RuleId::R_5A)
        },
    );
    t.insert(
        "prod_deployment".into(),
        Transition { window: Some(env("prod")), ..transition(S::ProdReady, S::Deploying, RuleId::R_6B) },
    );
    t.insert(
        "prod_verification".into(),
        Transition {
            steps: vec![step(K::Deploy, Some("prod"))],
            ..transition(S::Deploying, S::Verifying, RuleId::R_8E)
        },
    );
    t.insert(
        "release".into(),
        Transition {
            steps: vec![step(K::SmokeTest, Some("prod"))],
            gates: vec![gate(G::ResponseTime, Some("prod"))],
            deadline: Some("smoke_tests".into()),
            ..transition(S::Verifying, S::Released, RuleId::R_8F)
        },
    );
    t
}

fn approval(roles: Vec<R>, rule: RuleId) -> ApprovalRule {
    ApprovalRule { roles, count: 1, rule }
}

fn gate_rule(rule: RuleId, unit: Unit, threshold: Threshold, description: &str) -> GateRule {
    GateRule { rule, unit, threshold, description: description.into(), targets: BTreeMap::new() }
}

fn default_gates() -> BTreeMap<G, GateRule> {
    BTreeMap::from([
        (G::Coverage, gate_rule(RuleId::R_7A, Unit::Ratio, Threshold::AtLeast(0.90), "unit-test coverage")),
        (
            G::CriticalBugs,
            gate_rule(
                RuleId::R_7B,
                Unit::Count,
                Threshold::AtMost(0.0),
                "open critical or high-severity bugs in scope",
            ),
        ),
        (G::P95Latency, gate_rule(RuleId::R_7C, Unit::Millis, Threshold::Below(200.0), "performance test p95 latency")),
        // Judged when recorded; a policy requires them by naming them in a transition's gates.
        (
            G::ErrorRate,
            gate_rule(RuleId::R_7C, Unit::Ratio, Threshold::AtMost(0.01), "performance test requests that failed"),
        ),
        (
            G::TestFailures,
            gate_rule(RuleId::R_7A, Unit::Count, Threshold::AtMost(0.0), "failing test cases in the test report"),
        ),
        (
            G::DocsReviewed,
            gate_rule(RuleId::R_7D, Unit::Flag, Threshold::Equals(1.0), "documentation updated and reviewed"),
        ),
        (
            G::UnreviewedPulls,
            gate_rule(
                RuleId::R_4D,
                Unit::Count,
                Threshold::AtMost(0.0),
                "pull requests merged with fewer approving reviewers than the policy asks",
            ),
        ),
        (
            G::UntrackedCommits,
            gate_rule(
                RuleId::R_4A,
                Unit::Count,
                Threshold::AtMost(0.0),
                "commits since the last release without a ticket key",
            ),
        ),
        (G::Cpu, gate_rule(RuleId::R_8A, Unit::Percent, Threshold::Below(80.0), "host CPU use")),
        (G::Memory, gate_rule(RuleId::R_8A, Unit::Percent, Threshold::Below(70.0), "host memory use")),
        (G::DiskFree, gate_rule(RuleId::R_8A, Unit::Percent, Threshold::AtLeast(10.0), "free disk space")),
        (
            G::TlsDaysLeft,
            gate_rule(RuleId::R_8A, Unit::Days, Threshold::AtLeast(14.0), "days until the TLS certificate expires"),
        ),
        (
            G::DbConnectivity,
            gate_rule(RuleId::R_8A, Unit::Flag, Threshold::Equals(1.0), "database answers a test query"),
        ),
        (G::Network, gate_rule(RuleId::R_8A, Unit::Flag, Threshold::Equals(1.0), "target reachable over the network")),
        (G::ResponseTime, gate_rule(RuleId::R_8F, Unit::Millis, Threshold::Below(200.0), "smoke-test response time")),
        (
            G::MigrationsRehearsed,
            gate_rule(
                RuleId::R_7E,
                Unit::Flag,
                Threshold::Equals(1.0),
                "the release's migrations ran in staging with the same checksums and their rollback was tested there",
            ),
        ),
        (
            G::DependencyDrift,
            gate_rule(
                RuleId::R_7F,
                Unit::Count,
                Threshold::AtMost(0.0),
                "external dependencies missing in production, outside the plan, or not as staging was verified",
            ),
        ),
        (
            G::ArtifactVersion,
            gate_rule(RuleId::R_8D, Unit::Flag, Threshold::Equals(1.0), "the artifacts' version equals the git tag"),
        ),
    ])
}

fn stages() -> Vec<StageDef> {
    let finals = [S::RolledBack, S::Cancelled, S::Closed];
    S::BUILT_IN.iter().map(|s| StageDef { name: s.clone(), terminal: finals.contains(s) }).collect()
}

const WEEKDAYS: [Day; 5] = [Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri];

impl Default for Policy {
    /// The procedure: "Deployment & Release Management Procedure", as data.
    fn default() -> Self {
        Policy {
            environments: vec![
                EnvironmentPolicy { name: env("dev"), production: false, rollout: Rollout::default() },
                EnvironmentPolicy { name: env("staging"), production: false, rollout: Rollout::default() },
                EnvironmentPolicy { name: env("test"), production: false, rollout: Rollout::default() },
                EnvironmentPolicy {
                    name: env("prod"),
                    production: true,
                    rollout: Rollout { canary: 1, concurrency: 10 },
                },
            ],
            roles: R::BUILT_IN.to_vec(),
            separation_of_duties: true,
            stages: stages(),
            lifecycle: Lifecycle {
                initial: S::Planned,
                plan_roles: vec![R::ReleaseManager, R::TechLead, R::Cto],
                cancelled: S::Cancelled,
                cancel_roles: vec![R::ReleaseManager, R::ProductOwner, R::Cto],
                rollback_from: vec![S::Deploying, S::Verifying, S::Released],
                rollback_roles: vec![R::DeploymentEngineer, R::ReleaseManager, R::TechLead, R::Cto],
                rolling_back: S::RollingBack,
                rolled_back: S::RolledBack,
                close_from: vec![S::Released],
                closed: S::Closed,
            },
            transitions: default_transitions(),
            approvals: BTreeMap::from([
                (A::Scope, approval(vec![R::ProductOwner], RuleId::R_2B)),
                (A::QaSignoff, approval(vec![R::QaLead], RuleId::R_2B)),
                (A::Acceptance, approval(vec![R::ProductOwner], RuleId::R_2B)),
                (A::Emergency, approval(vec![R::Cto, R::TechLead], RuleId::R_5A)),
            ]),
            gates: default_gates(),
            emergency: EmergencyPolicy {
                ticket_prefix: "HOTFIX".into(),
                approval: A::Emergency,
                overrides_blackout: true,
            },
            calendar: CalendarPolicy {
                time_zone: "UTC".into(),
                blackouts: vec![WeeklyWindow {
                    name: "peak-hours".into(),
                    environments: vec![env("prod")],
                    days: WEEKDAYS.to_vec(),
                    start: time(9, 0, 0, 0),
                    end: time(17, 0, 0, 0),
                    required_for: Vec::new(),
                }],
                maintenance: vec![WeeklyWindow {
                    name: "sunday-maintenance".into(),
                    environments: vec![env("prod")],
                    days: vec![Day::Sun],
                    start: time(2, 0, 0, 0),
                    end: time(4, 0, 0, 0),
                    required_for: vec![ReleaseKind::Major],
                }],
                freezes: Vec::new(),
                override_roles: vec![R::Cto],
            },
            deadlines: Deadlines {
                smoke_tests: SignedDuration::from_mins(10),
                emergency_notice: SignedDuration::from_hours(1),
                advance_notice: SignedDuration::from_hours(24),
            },
            vcs: VcsPolicy {
                tag_prefix: "v".into(),
                main_branch: "main".into(),
                develop_branch: "develop".into(),
                release_branch_prefix: "release/v".into(),
                min_reviewers: 1,
                exempt_types: Vec::new(),
                exempt_authors: Vec::new(),
                merge_commits: MergeCommits::Skip,
                commit_url: None,
            },
            retry: RetryPolicy {
                attempts: 3,
                initial_backoff: SignedDuration::from_secs(1),
                max_backoff: SignedDuration::from_secs(30),
                multiplier: 2.0,
            },
            tickets: TicketPolicy {
                blocking_severities: vec!["critical".into(), "high".into()],
                url: None,
                issue_url: None,
            },
            monitoring: MonitoringPolicy::default(),
            duties: DutyPolicy::default(),
            identity: super::IdentityPolicy::default(),
        }
    }
}
