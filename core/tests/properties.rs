//! Property tests: random command sequences never reach a state the policy
//! forbids; `apply` is deterministic; serde round-trips; parsers never panic.

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use shipwarden::policy::Policy;
use shipwarden::*;

/// People with fixed roles; a command may claim a role its actor lacks.
fn people() -> Vec<Actor> {
    vec![
        Actor::new("rita", [Role::ReleaseManager]),
        Actor::new("paul", [Role::ProductOwner]),
        Actor::new("petra", [Role::ProductOwner, Role::ReleaseManager]),
        Actor::new("quinn", [Role::QaLead]),
        Actor::new("dana", [Role::DeploymentEngineer]),
        Actor::new("tom", [Role::TechLead]),
        Actor::new("carla", [Role::Cto]),
        Actor::new("bot", []),
    ]
}

fn policy() -> Policy {
    let mut p = Policy::default();
    p.calendar.time_zone = "Europe/Berlin".into();
    p
}

#[derive(Debug, Clone)]
enum Op {
    /// Record what the current stage's transitions ask for, with values that may fail.
    Satisfy {
        actor: usize,
        pass: bool,
    },
    Approve {
        actor: usize,
        approval: usize,
        role: usize,
    },
    Reject {
        actor: usize,
        approval: usize,
        role: usize,
    },
    Evidence {
        gate: usize,
        value: f64,
        env: Option<usize>,
    },
    Advance {
        actor: usize,
        to: usize,
    },
    /// Advance to one of the stages the policy leads to from here.
    AdvanceNext {
        actor: usize,
        choice: usize,
    },
    Rollback {
        actor: usize,
    },
    FinishRollback {
        actor: usize,
        ok: bool,
    },
    Cancel {
        actor: usize,
        really: bool,
    },
    Override {
        actor: usize,
    },
    Close {
        actor: usize,
    },
    Wait {
        minutes: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..8usize, prop::bool::weighted(0.85)).prop_map(|(actor, pass)| Op::Satisfy { actor, pass }),
        2 => (0..8usize, 0..5usize, 0..7usize).prop_map(|(actor, approval, role)| Op::Approve { actor, approval, role }),
        1 => (0..8usize, 0..5usize, 0..7usize).prop_map(|(actor, approval, role)| Op::Reject { actor, approval, role }),
        2 => (0..13usize, -10.0..300.0f64, prop::option::of(0..5usize)).prop_map(|(gate, value, env)| Op::Evidence { gate, value, env }),
        2 => (0..8usize, 0..17usize).prop_map(|(actor, to)| Op::Advance { actor, to }),
        8 => (0..8usize, 0..4usize).prop_map(|(actor, choice)| Op::AdvanceNext { actor, choice }),
        1 => (0..8usize).prop_map(|actor| Op::Rollback { actor }),
        1 => (0..8usize, any::<bool>()).prop_map(|(actor, ok)| Op::FinishRollback { actor, ok }),
        1 => (0..8usize, prop::bool::weighted(0.05)).prop_map(|(actor, really)| Op::Cancel { actor, really }),
        1 => (0..8usize).prop_map(|actor| Op::Override { actor }),
        1 => (0..8usize).prop_map(|actor| Op::Close { actor }),
        3 => (0..3000i64).prop_map(|minutes| Op::Wait { minutes }),
    ]
}

fn pick<T: Clone>(items: &[T], i: usize) -> T {
    items[i % items.len()].clone()
}

fn stages() -> Vec<Stage> {
    let mut s = Stage::BUILT_IN.to_vec();
    s.push(Stage::Custom("canary".into()));
    s
}

fn envs() -> Vec<EnvName> {
    ["dev", "staging", "test", "prod", "qa"].iter().map(|e| e.parse().expect("env")).collect()
}

struct Run {
    policy: Policy,
    state: ReleaseState,
    events: Vec<Event>,
    now: Timestamp,
    keys: u32,
}

impl Run {
    fn exec(&mut self, actor: &Actor, action: Action) -> bool {
        match decide(&self.state, &Command::new(actor, action), &self.policy, self.now) {
            Ok(events) => {
                for e in events {
                    self.state = apply(std::mem::take(&mut self.state), &e);
                    self.events.push(e);
                }
                true
            }
            Err(refusal) => {
                assert!(!refusal.unmet.is_empty(), "a refusal names at least one unmet requirement");
                assert!(RuleId::ALL.contains(&refusal.rule), "a refusal names a rule: {refusal}");
                false
            }
        }
    }

    fn satisfy(&mut self, actor: &Actor, pass: bool) {
        let Some(stage) = self.state.stage.clone() else {
            return;
        };
        let transitions: Vec<_> = self.policy.transitions_from(&stage).map(|(_, t)| t.clone()).collect();
        for t in transitions {
            for gate in &t.gates {
                let rule = &self.policy.gates[&gate.gate];
                let limit = rule.threshold.limit();
                let value = match (rule.threshold, pass) {
                    (Threshold::AtLeast(_) | Threshold::Above(_), true)
                    | (Threshold::AtMost(_) | Threshold::Below(_), false) => limit + 1.0,
                    (Threshold::AtLeast(_) | Threshold::Above(_), false)
                    | (Threshold::AtMost(_) | Threshold::Below(_), true) => (limit - 1.0).max(0.0),
                    (Threshold::Equals(_), true) => limit,
                    (Threshold::Equals(_), false) => limit + 1.0,
                };
                let value = if rule.unit == Unit::Ratio { value.min(1.0) } else { value };
                let mut e = Evidence::new(gate.gate.clone(), value, "prop");
                e.environment = gate.environment.clone();
                self.exec(actor, Action::RecordEvidence(e));
            }
            for step in &t.steps {
                self.keys += 1;
                let key = format!("k{}", self.keys);
                self.exec(
                    actor,
                    Action::StartStep {
                        step: step.step.clone(),
                        environment: step.environment.clone(),
                        target: None,
                        key: key.clone(),
                        held: Vec::new(),
                    },
                );
                let outcome = if pass { StepOutcome::ok("ok") } else { StepOutcome::failed("x", true) };
                self.exec(actor, Action::FinishStep { key, outcome, log: vec![] });
            }
            if t.needs_artifact {
                let version = self.state.plan.as_ref().map(|p| p.version.clone()).unwrap_or(Version::new(0, 0, 1));
                self.exec(actor, Action::RecordArtifact(ArtifactRef::new("app.zip", version, Sha256::of(b"a"), 1)));
            }
            for approval in &t.approvals {
                // Someone holding an allowed role, chosen by the actor index; may be the author.
                let roles = self.policy.approvals[approval].roles.clone();
                let people = people();
                let holders: Vec<&Actor> = people.iter().filter(|p| roles.iter().any(|r| p.has_role(r))).collect();
                let approver = holders[people.iter().position(|p| p.user == actor.user).unwrap_or(0) % holders.len()];
                if let Some(role) = roles.iter().find(|r| approver.has_role(r)) {
                    self.exec(
                        approver,
                        Action::Approve {
                            approval: approval.clone(),
                            role: role.clone(),
                            channel: Channel::Chat,
                            comment: String::new(),
                        },
                    );
                }
            }
        }
    }
}

/// Checks the invariants after every accepted command, independently of `decide`.
fn check(run: &Run, people: &[Actor]) {
    let state = &run.state;
    let policy = &run.policy;
    let Some(plan) = &state.plan else { return };
    let stage = state.stage.clone().expect("a planned release has a stage");
    assert!(policy.stage(&stage).is_some(), "stage {stage} is declared");
    // Every approval was given by someone holding the role, for an approval that allows it, not the author.
    for a in &state.approvals {
        let person = people.iter().find(|p| p.user == a.user).expect("known person");
        assert!(person.has_role(&a.role), "{} approved as {} without holding it", a.user, a.role);
        assert!(policy.approvals[&a.approval].roles.contains(&a.role));
        assert_ne!(Some(&a.user), state.author.as_ref(), "separation of duties");
    }
    // Staging and test are skipped only by emergency releases with a CTO/tech-lead approval.
    if state.path.contains(&Stage::ProdReady) && !state.path.contains(&Stage::Accepted) {
        assert_eq!(plan.kind, ReleaseKind::Emergency, "only emergencies skip staging");
        assert!(
            state
                .approvals
                .iter()
                .any(|a| a.approval == ApprovalId::Emergency && matches!(a.role, Role::Cto | Role::TechLead))
        );
        assert!(
            plan.hotfix.as_ref().is_some_and(|h| h.summary.starts_with("HOTFIX") && !h.justification.trim().is_empty())
        );
    }
    // No transition that needs an approval was taken while a rejection of it stood (R-2b).
    let mut before = ReleaseState::default();
    for e in &run.events {
        if let Event::Advanced { transition, .. } = e {
            for approval in &policy.transitions[transition.as_str()].approvals {
                let roles = &policy.approvals[approval].roles;
                assert!(
                    before.standing_rejections(approval, roles).is_empty(),
                    "{transition} taken over a rejection of {approval}"
                );
            }
        }
        before = apply(before, e);
    }
    // Every stage change follows the policy graph.
    for w in state.path.windows(2) {
        let (from, to) = (&w[0], &w[1]);
        let lifecycle = &policy.lifecycle;
        let legal = policy.transitions_from(from).any(|(_, t)| &t.to == to)
            || (to == &lifecycle.rolling_back && lifecycle.rollback_from.contains(from))
            || (from == &lifecycle.rolling_back && to == &lifecycle.rolled_back)
            || (to == &lifecycle.cancelled && !policy.is_final(from))
            || (to == &lifecycle.closed && lifecycle.close_from.contains(from));
        assert!(legal, "illegal move {from} -> {to}");
        assert!(!policy.is_final(from), "left final stage {from}");
    }
    // The production deployment never starts in the Berlin weekday blackout,
    // unless an emergency approval or an explicit override covers it.
    for e in &run.events {
        if let Event::Advanced { to: Stage::Deploying, at, .. } = e {
            let local = at.to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Berlin").expect("tz"));
            let weekday = local.weekday().to_monday_one_offset() <= 5;
            let in_blackout = weekday && (9..17).contains(&local.hour());
            let covered = plan.kind == ReleaseKind::Emergency || !state.overrides.is_empty();
            assert!(!in_blackout || covered, "deployed at {local} inside the blackout");
            if plan.kind == ReleaseKind::Major && state.overrides.is_empty() {
                let sunday_night = local.weekday().to_monday_one_offset() == 7 && (2..4).contains(&local.hour());
                assert!(sunday_night, "a major release deployed outside maintenance at {local}");
            }
        }
    }
}

fn kinds() -> impl Strategy<Value = ReleaseKind> {
    prop_oneof![
        Just(ReleaseKind::Major),
        Just(ReleaseKind::Minor),
        Just(ReleaseKind::Patch),
        Just(ReleaseKind::Emergency)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_command_sequences_never_reach_a_forbidden_state(kind in kinds(), ops in prop::collection::vec(op(), 1..120), start in 0i64..(14 * 24 * 60)) {
        let people = people();
        let mut plan = Plan::new("app-2.0.0".parse().expect("id"), "app", Version::new(2, 0, 0), kind);
        if kind == ReleaseKind::Emergency {
            plan.hotfix = Some(Hotfix { ticket: "APP-1".parse().expect("key"), summary: "HOTFIX: crash".into(), justification: "outage".into() });
        }
        let now = "2026-11-23T00:00:00Z".parse::<Timestamp>().expect("ts") + SignedDuration::from_mins(start);
        let mut run = Run { policy: policy(), state: ReleaseState::default(), events: Vec::new(), now, keys: 0 };
        let planned = run.exec(&people[0], Action::Plan { plan, last_release: None });
        prop_assert!(planned, "the plan is accepted");
        for op in ops {
            let was_final = run.state.stage.as_ref().is_some_and(|s| run.policy.is_final(s));
            let before = run.events.len();
            match op {
                Op::Satisfy { actor, pass } => run.satisfy(&pick(&people, actor), pass),
                Op::Approve { actor, approval, role } => {
                    let approval = pick(&[ApprovalId::Scope, ApprovalId::QaSignoff, ApprovalId::Acceptance, ApprovalId::Emergency, ApprovalId::Custom("x".into())], approval);
                    let role = pick(Role::BUILT_IN, role);
                    run.exec(&pick(&people, actor), Action::Approve { approval, role, channel: Channel::Email, comment: String::new() });
                }
                Op::Reject { actor, approval, role } => {
                    let approval = pick(&[ApprovalId::Scope, ApprovalId::QaSignoff, ApprovalId::Acceptance, ApprovalId::Emergency], approval);
                    let role = pick(Role::BUILT_IN, role);
                    run.exec(&pick(&people, actor), Action::Reject { approval, role, channel: Channel::Chat, comment: "prop".into() });
                }
                Op::Evidence { gate, value, env } => {
                    let mut e = Evidence::new(pick(GateId::BUILT_IN, gate), value, "prop");
                    e.environment = env.map(|i| pick(&envs(), i));
                    run.exec(&people[7], Action::RecordEvidence(e));
                }
                Op::Advance { actor, to } => { run.exec(&pick(&people, actor), Action::Advance { to: pick(&stages(), to) }); }
                Op::Rollback { actor } => { run.exec(&pick(&people, actor), Action::BeginRollback { reason: "prop".into() }); }
                Op::FinishRollback { actor, ok } => { run.exec(&pick(&people, actor), Action::FinishRollback { succeeded: ok, detail: String::new() }); }
                Op::AdvanceNext { actor, choice } => {
                    let next: Vec<Stage> = run.state.stage.as_ref().map(|s| run.policy.transitions_from(s).map(|(_, t)| t.to.clone()).collect()).unwrap_or_default();
                    if !next.is_empty() {
                        run.exec(&pick(&people, actor), Action::Advance { to: pick(&next, choice) });
                    }
                }
                Op::Cancel { actor, really } => { if really { run.exec(&pick(&people, actor), Action::Cancel { reason: "prop".into() }); } }
                Op::Override { actor } => { run.exec(&pick(&people, actor), Action::OverrideWindow { reason: "prop".into() }); }
                Op::Close { actor } => { run.exec(&pick(&people, actor), Action::Close { summary: "prop".into() }); }
                Op::Wait { minutes } => run.now += SignedDuration::from_mins(minutes),
            }
            if was_final {
                prop_assert_eq!(run.events.len(), before, "a final release accepted a command");
            }
            check(&run, &people);
        }
        // apply is deterministic: folding the log again gives the same state.
        prop_assert_eq!(ReleaseState::from_events(&run.events), run.state.clone());
        prop_assert_eq!(ReleaseState::from_events(&run.events), ReleaseState::from_events(&run.events));
        // Every event and the state survive a JSON round trip.
        for e in &run.events {
            let back: Event = serde_json::from_str(&serde_json::to_string(e).expect("json")).expect("parse");
            prop_assert_eq!(&back, e);
        }
        let state: ReleaseState = serde_json::from_str(&serde_json::to_string(&run.state).expect("json")).expect("parse");
        prop_assert_eq!(state, run.state.clone());
        // The sealed log still verifies after storage as JSON (floats included).
        let sealed = shipwarden::audit::Envelope::seal_all("app-2.0.0", None, run.now, "prop", run.events.clone());
        let stored: Vec<shipwarden::audit::Envelope> = serde_json::from_str(&serde_json::to_string(&sealed).expect("json")).expect("parse");
        prop_assert!(shipwarden::audit::verify(&stored).is_ok());
        if std::env::var_os("SHIPWARDEN_PROP_STATS").is_some() {
            eprintln!("STAT {:?} {}", kind, run.state.path.last().map(|s| s.to_string()).unwrap_or_default());
        }
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in "\\PC{0,40}") {
        let _ = text.parse::<Version>();
        let _ = text.parse::<TicketKey>();
        let _ = text.parse::<Stage>();
        let _ = text.parse::<Role>();
        let _ = text.parse::<GateId>();
        let _ = text.parse::<ApprovalId>();
        let _ = text.parse::<StepKind>();
        let _ = text.parse::<EnvName>();
        let _ = text.parse::<ReleaseId>();
        let _ = text.parse::<Sha256>();
        let _ = text.parse::<Channel>();
        let _ = text.parse::<ReleaseKind>();
        let _ = Version::from_tag(&text, "v");
        let _ = Policy::from_toml_str(&text);
        let _ = Policy::from_toml_str(&format!("[deadlines]\nsmoke_tests = {text:?}\n"));
        let _ = Policy::from_toml_str(&format!("[calendar]\ntime_zone = {text:?}\n"));
    }

    #[test]
    fn policy_toml_that_almost_fits_never_panics(section in "(gates|approvals|transitions|calendar|lifecycle|deadlines|vcs|stages|roles)", key in "[a-z_]{1,12}", value in "(1|-1|\"x\"|true|\\[\\]|\\{\\}|1e400|\"09:00\"|\"10m\")") {
        let _ = Policy::from_toml_str(&format!("[{section}]\n{key} = {value}\n"));
        let _ = Policy::from_toml_str(&format!("{section} = {value}\n"));
        let _ = Policy::from_toml_str(&format!("[{section}.{key}]\nfrom = {value}\nto = {value}\nrule = {value}\nthreshold = {value}\n"));
    }

    #[test]
    fn valid_ticket_keys_round_trip(project in "[A-Z][A-Z0-9]{1,8}", number in 0u64..10_000_000) {
        let text = format!("{project}-{number}");
        let key: TicketKey = text.parse().expect("valid key");
        prop_assert_eq!(key.to_string(), text);
        prop_assert_eq!(format!("#{number}").parse::<TicketKey>().expect("issue").to_string(), format!("#{number}"));
        let json = serde_json::to_string(&key).expect("json");
        prop_assert_eq!(serde_json::from_str::<TicketKey>(&json).expect("parse"), key);
    }

    #[test]
    fn valid_versions_round_trip(major in 0u64..1000, minor in 0u64..1000, patch in 0u64..1000, pre in prop::option::of("[a-z]{1,5}\\.[1-9][0-9]{0,2}")) {
        let text = match &pre { Some(p) => format!("{major}.{minor}.{patch}-{p}"), None => format!("{major}.{minor}.{patch}") };
        let v: Version = text.parse().expect("semver");
        prop_assert_eq!(v.to_string(), text.clone());
        prop_assert_eq!(Version::from_tag(&v.tag("v"), "v").expect("tag"), v.clone());
        prop_assert_eq!(v.is_prerelease(), pre.is_some());
        prop_assert_eq!(serde_json::from_str::<Version>(&serde_json::to_string(&v).expect("json")).expect("parse"), v);
    }

    #[test]
    fn names_round_trip(name in "[a-z][a-z0-9_-]{0,20}") {
        for parsed in [name.parse::<Stage>().map(|s| s.to_string()), name.parse::<Role>().map(|s| s.to_string()), name.parse::<GateId>().map(|s| s.to_string())] {
            prop_assert_eq!(parsed.expect("valid name"), name.clone());
        }
        let stage: Stage = name.parse().expect("stage");
        prop_assert_eq!(serde_json::from_str::<Stage>(&serde_json::to_string(&stage).expect("json")).expect("parse"), stage);
    }
}
