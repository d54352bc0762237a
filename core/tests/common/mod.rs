//! A small driver for tests: folds accepted commands into a state, like the
//! engine will, and steps a release through the default lifecycle.
#![allow(dead_code)]

use jiff::Timestamp;
use shipwarden::*;

pub fn ts(text: &str) -> Timestamp {
    text.parse().expect("timestamp literal")
}

/// Saturday 2026-11-28 10:00 UTC: outside the default Mon–Fri blackout.
pub fn saturday() -> Timestamp {
    ts("2026-11-28T10:00:00Z")
}

pub fn env(name: &str) -> EnvName {
    EnvName::new(name).expect("env literal")
}

pub fn rm() -> Actor {
    Actor::new("rita", [Role::ReleaseManager])
}
pub fn po() -> Actor {
    Actor::new("paul", [Role::ProductOwner])
}
pub fn qa() -> Actor {
    Actor::new("quinn", [Role::QaLead])
}
pub fn de() -> Actor {
    Actor::new("dana", [Role::DeploymentEngineer])
}
pub fn cto() -> Actor {
    Actor::new("carla", [Role::Cto])
}
pub fn ci() -> Actor {
    Actor::new("ci-bot", [])
}

pub fn plan(kind: ReleaseKind) -> Plan {
    let mut plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), kind);
    plan.scope = vec!["SHOP-12".parse().expect("key"), "#45".parse().expect("key")];
    if kind == ReleaseKind::Emergency {
        plan.hotfix = Some(Hotfix {
            ticket: "SHOP-99".parse().expect("key"),
            summary: "HOTFIX: checkout fails for EU cards".into(),
            justification: "payments down for 30% of customers".into(),
        });
    }
    plan
}

pub struct Sim {
    pub policy: Policy,
    pub state: ReleaseState,
    pub events: Vec<Event>,
    pub now: Timestamp,
    steps: u32,
}

impl Sim {
    pub fn new(policy: Policy) -> Self {
        Self { policy, state: ReleaseState::default(), events: Vec::new(), now: saturday(), steps: 0 }
    }

    pub fn planned(kind: ReleaseKind) -> Self {
        let mut sim = Sim::new(Policy::default());
        sim.ok(&rm(), Action::Plan { plan: plan(kind), last_release: None });
        sim
    }

    pub fn run(&mut self, actor: &Actor, action: Action) -> Result<Vec<Event>, Refusal> {
        let events = decide(&self.state, &Command::new(actor, action), &self.policy, self.now)?;
        for e in &events {
            self.state = apply(std::mem::take(&mut self.state), e);
            self.events.push(e.clone());
        }
        Ok(events)
    }

    #[track_caller]
    pub fn ok(&mut self, actor: &Actor, action: Action) -> Vec<Event> {
        match self.run(actor, action) {
            Ok(events) => events,
            Err(refusal) => panic!("unexpected refusal: {refusal}"),
        }
    }

    #[track_caller]
    pub fn refused(&mut self, actor: &Actor, action: Action) -> Refusal {
        let before = self.state.clone();
        match self.run(actor, action) {
            Ok(events) => panic!("expected a refusal, got {events:?}"),
            Err(refusal) => {
                assert_eq!(self.state, before, "a refusal must not change the state");
                refusal
            }
        }
    }

    pub fn stage(&self) -> Stage {
        self.state.stage.clone().expect("planned")
    }

    pub fn approve(&mut self, actor: &Actor, approval: ApprovalId, role: Role) {
        self.ok(actor, Action::Approve { approval, role, channel: Channel::TicketComment, comment: "ok".into() });
    }

    pub fn advance(&mut self, to: Stage) {
        self.ok(&de(), Action::Advance { to });
    }

    pub fn evidence(&mut self, gate: GateId, value: f64, environment: Option<&str>) {
        let mut e = Evidence::new(gate, value, "test-report");
        e.environment = environment.map(env);
        self.ok(&ci(), Action::RecordEvidence(e));
    }

    /// Runs a step to success under a fresh key.
    pub fn step(&mut self, step: StepKind, environment: Option<&str>) {
        self.finished_step(step, environment, StepOutcome::ok("done"));
    }

    pub fn fail_step(&mut self, step: StepKind, environment: Option<&str>) {
        self.finished_step(step, environment, StepOutcome::failed("boom", false));
    }

    /// Starts a step under a fresh key and finishes it with `outcome`.
    fn finished_step(&mut self, step: StepKind, environment: Option<&str>, outcome: StepOutcome) {
        self.steps += 1;
        let key = format!("{step}-{}", self.steps);
        let start = Action::StartStep {
            step,
            environment: environment.map(env),
            target: None,
            key: key.clone(),
            held: Vec::new(),
        };
        self.ok(&de(), start);
        self.ok(&de(), Action::FinishStep { key, outcome, log: vec![] });
    }

    pub fn artifact(&mut self) {
        let version = self.state.plan.as_ref().expect("planned").version.clone();
        self.ok(&ci(), Action::RecordArtifact(ArtifactRef::new("shop.jar", version, Sha256::of(b"jar"), 3)));
    }

    pub fn reach_built(&mut self) {
        self.approve(&po(), ApprovalId::Scope, Role::ProductOwner);
        self.advance(Stage::ScopeApproved);
        self.step(StepKind::Build, None);
        self.step(StepKind::PublishArtifact, None);
        self.step(StepKind::Tag, None);
        self.artifact();
        self.evidence(GateId::UntrackedCommits, 0.0, None);
        self.evidence(GateId::UnreviewedPulls, 0.0, None);
        self.advance(Stage::Built);
    }

    pub fn qa_gates(&mut self) {
        self.evidence(GateId::Coverage, 0.93, None);
        self.evidence(GateId::CriticalBugs, 0.0, None);
        self.evidence(GateId::P95Latency, 140.0, None);
    }

    pub fn pre_deploy_checks(&mut self) {
        for (gate, value) in [
            (GateId::Cpu, 35.0),
            (GateId::Memory, 50.0),
            (GateId::DiskFree, 40.0),
            (GateId::TlsDaysLeft, 60.0),
            (GateId::DbConnectivity, 1.0),
            (GateId::Network, 1.0),
        ] {
            self.evidence(gate, value, Some("prod"));
        }
        // The release's own checks before production (R-7e, R-7f, R-8d).
        for (gate, value) in
            [(GateId::MigrationsRehearsed, 1.0), (GateId::DependencyDrift, 0.0), (GateId::ArtifactVersion, 1.0)]
        {
            self.evidence(gate, value, None);
        }
    }

    pub fn reach_accepted(&mut self) {
        self.reach_built();
        self.step(StepKind::Deploy, Some("staging"));
        self.advance(Stage::StagingDeployed);
        self.qa_gates();
        self.approve(&qa(), ApprovalId::QaSignoff, Role::QaLead);
        self.advance(Stage::QaVerified);
        self.step(StepKind::IntegrationTests, Some("staging"));
        self.advance(Stage::IntegrationTested);
        self.step(StepKind::Deploy, Some("test"));
        self.step(StepKind::Demo, Some("test"));
        self.advance(Stage::TestDeployed);
        self.evidence(GateId::DocsReviewed, 1.0, None);
        self.approve(&po(), ApprovalId::Acceptance, Role::ProductOwner);
        self.advance(Stage::Accepted);
    }

    pub fn reach_prod_ready(&mut self) {
        self.reach_accepted();
        self.pre_deploy_checks();
        self.step(StepKind::Backup, Some("prod"));
        self.step(StepKind::RestoreTest, Some("staging"));
        self.advance(Stage::ProdReady);
    }

    pub fn reach_verifying(&mut self) {
        self.advance(Stage::Deploying);
        self.step(StepKind::Deploy, Some("prod"));
        self.advance(Stage::Verifying);
    }
}
