//! The engine over in-memory ports: a release driven by `run` from plan to
//! close, with people supplying approvals and evidence in between; retries,
//! rollbacks, leases and concurrent drivers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::engine::{EngineError, ReleaseManager, RunOutcome};
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;

fn ts(text: &str) -> jiff::Timestamp {
    text.parse().expect("ts")
}
fn env(name: &str) -> EnvName {
    name.parse().expect("env")
}
fn rm() -> Actor {
    Actor::new("rita", [Role::ReleaseManager])
}
fn po() -> Actor {
    Actor::new("paul", [Role::ProductOwner])
}
fn qa() -> Actor {
    Actor::new("quinn", [Role::QaLead])
}
fn ci() -> Actor {
    Actor::new("ci", [])
}
fn cto() -> Actor {
    Actor::new("carla", [Role::Cto])
}

struct World {
    manager: ReleaseManager,
    store: Arc<MemoryStore>,
    clock: Arc<ManualClock>,
    targets: BTreeMap<String, Vec<Arc<MemoryTarget>>>,
    backup: Arc<MemoryBackup>,
    notifier: Arc<RecordingNotifier>,
    notes: Arc<MemoryNotes>,
    ticketing: Arc<MemoryTicketing>,
    vcs: Arc<MemoryVcs>,
    smoke: Arc<StaticProbe>,
    _dir: tempfile::TempDir,
}

fn world(per_env: usize) -> World {
    world_with(per_env, Policy::default())
}

fn world_with(per_env: usize, policy: Policy) -> World {
    world_full(per_env, policy, |_| {})
}

/// A world whose ports `extra` adds to (migrators, dependency probes, monitors).
fn world_full(per_env: usize, policy: Policy, extra: impl FnOnce(&mut engine::Ports)) -> World {
    world_configured(per_env, policy, extra, engine::EngineConfig::default())
}

/// [`world_full`] with the engine's own settings.
fn world_configured(
    per_env: usize,
    policy: Policy,
    extra: impl FnOnce(&mut engine::Ports),
    config: engine::EngineConfig,
) -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(ts("2026-11-28T10:00:00Z"))); // a Saturday
    let backup = Arc::new(MemoryBackup::new());
    let notifier = Arc::new(RecordingNotifier::new());
    let notes = Arc::new(MemoryNotes::new());
    let ticketing = Arc::new(MemoryTicketing::new());
    for (key, kind, severity) in [("SHOP-12", "Story", None), ("SHOP-13", "Bug", Some("low"))] {
        ticketing.insert(Ticket {
            key: key.parse().expect("key"),
            summary: key.into(),
            status: "Open".into(),
            kind: kind.into(),
            severity: severity.map(Into::into),
        });
    }
    let commit = |sha: &str, subject: &str| Commit {
        sha: sha.into(),
        subject: subject.into(),
        body: String::new(),
        author: "dev".into(),
        parents: 1,
    };
    let vcs = Arc::new(MemoryVcs::new(
        vec![commit("c2c2c2c2", "SHOP-12: checkout"), commit("c1c1c1c1", "Fix #45: login")],
        vec!["main".into()],
    ));
    let smoke = Arc::new(StaticProbe::new("smoke https://shop/health", &[(GateId::ResponseTime, 85.0)]));
    let checks = Arc::new(StaticProbe::new(
        "host",
        &[
            (GateId::Cpu, 30.0),
            (GateId::Memory, 40.0),
            (GateId::DiskFree, 50.0),
            (GateId::TlsDaysLeft, 60.0),
            (GateId::DbConnectivity, 1.0),
            (GateId::Network, 1.0),
        ],
    ));
    let mut ports = engine::Ports {
        vcs: Some(vcs.clone()),
        ticketing: Some(ticketing.clone()),
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(dir.path(), vec![("shop.jar".into(), b"jar bytes".to_vec())]))),
        backup: Some(backup.clone()),
        notes: Some(notes.clone()),
        notifiers: vec![notifier.clone()],
        ..Default::default()
    };
    let mut targets = BTreeMap::new();
    for e in ["staging", "test", "prod"] {
        let list: Vec<Arc<MemoryTarget>> =
            (1..=per_env).map(|i| Arc::new(MemoryTarget::new(format!("{e}-{i}")))).collect();
        ports.targets.insert(env(e), list.iter().map(|t| t.clone() as Arc<dyn DeployTarget>).collect());
        targets.insert(e.to_owned(), list);
    }
    ports.checks.insert(env("prod"), vec![checks]);
    ports.smoke.insert(env("prod"), vec![smoke.clone()]);
    extra(&mut ports);
    let mut policy = policy;
    policy.retry.initial_backoff = jiff::SignedDuration::from_millis(1);
    let manager =
        ReleaseManager::builder(store.clone()).policy(policy).clock(clock.clone()).ports(ports).config(config).build();
    World { manager, store, clock, targets, backup, notifier, notes, ticketing, vcs, smoke, _dir: dir }
}

fn plan(kind: ReleaseKind) -> Plan {
    let mut plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), kind);
    plan.scope = vec!["SHOP-12".parse().expect("key"), "SHOP-13".parse().expect("key")];
    if kind == ReleaseKind::Emergency {
        plan.hotfix = Some(Hotfix {
            ticket: "SHOP-99".parse().expect("key"),
            summary: "HOTFIX: card payments".into(),
            justification: "outage".into(),
        });
    }
    plan
}

fn id() -> ReleaseId {
    "shop-1.4.0".parse().expect("id")
}

/// What the release waits for after a run that stopped waiting, or on a failed step.
fn waiting(outcome: RunOutcome) -> engine::Waiting {
    match outcome {
        RunOutcome::Waiting(w) | RunOutcome::Failed(engine::Failure { waiting: w, .. }) => w,
        other => panic!("expected waiting, got {other:?}"),
    }
}

async fn approve(w: &World, actor: &Actor, approval: ApprovalId, role: Role) {
    approve_on(w, &id(), actor, approval, role).await;
}

async fn approve_on(w: &World, release: &ReleaseId, actor: &Actor, approval: ApprovalId, role: Role) {
    w.manager.approve(release, actor, approval, role, Channel::TicketComment, "ok").await.expect("approve");
}

async fn evidence(w: &World, gate: GateId, value: f64) {
    evidence_on(w, &id(), gate, value).await;
}

async fn evidence_on(w: &World, release: &ReleaseId, gate: GateId, value: f64) {
    w.manager.record_evidence(release, &ci(), Evidence::new(gate, value, "ci")).await.expect("evidence");
}

/// Drives a minor release to `accepted`, as people and `run` would.
async fn to_accepted(w: &World) {
    to_accepted_plan(w, plan(ReleaseKind::Minor)).await;
}

/// Drives `plan` to `accepted`, as people and `run` would.
async fn to_accepted_plan(w: &World, plan: Plan) {
    let id = || plan.release.clone();
    w.manager.plan(&rm(), plan.clone()).await.expect("plan");
    assert_eq!(waiting(w.manager.run(&id(), None).await.expect("run")).stage, Stage::Planned);
    approve_on(w, &plan.release, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::StagingDeployed);
    let text = wait.refusal.to_string();
    assert!(
        text.contains("approval `qa_signoff`")
            && text.contains("gate `coverage`")
            && text.contains("gate `p95_latency`"),
        "{text}"
    );
    assert!(!text.contains("critical_bugs"), "bugs were asked of the ticketing system: {text}");
    evidence_on(w, &plan.release, GateId::Coverage, 0.93).await;
    evidence_on(w, &plan.release, GateId::P95Latency, 150.0).await;
    approve_on(w, &plan.release, &qa(), ApprovalId::QaSignoff, Role::QaLead).await;
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::QaVerified);
    assert!(wait.refusal.to_string().contains("step `integration_tests` on staging is missing"), "{}", wait.refusal);
    w.manager
        .report_step(&id(), &qa(), StepKind::IntegrationTests, Some(env("staging")), StepOutcome::ok("312 passed"))
        .await
        .expect("report");
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::IntegrationTested);
    assert!(wait.refusal.to_string().contains("step `demo` on test is missing"), "{}", wait.refusal);
    w.manager
        .report_step(&id(), &po(), StepKind::Demo, Some(env("test")), StepOutcome::ok("demoed to sales"))
        .await
        .expect("report");
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::TestDeployed);
    evidence_on(w, &plan.release, GateId::DocsReviewed, 1.0).await;
    approve_on(w, &plan.release, &po(), ApprovalId::Acceptance, Role::ProductOwner).await;
}

#[tokio::test]
async fn run_drives_a_release_from_plan_to_closed_through_real_steps_r3() {
    let w = world(3);
    let mut events = w.manager.subscribe();
    to_accepted(&w).await;
    let outcome = w.manager.run(&id(), None).await.expect("run");
    assert_eq!(outcome, RunOutcome::Final { stage: Stage::Closed });

    let history = w.manager.history(&id()).await.expect("history");
    assert!(shipwarden::audit::verify(&history).is_ok());
    let state = ReleaseState::from_events(history.iter().map(|e| &e.event));
    assert_eq!(state.path.last(), Some(&Stage::Closed));
    assert!(!state.path.contains(&Stage::RollingBack));
    // Each target deployed exactly once, with the release's version.
    for (name, list) in &w.targets {
        for t in list {
            let calls = t.calls();
            assert_eq!(calls.len(), 1, "{name}: {calls:?}");
            assert_eq!(calls[0].version, Some(Version::new(1, 4, 0)));
        }
    }
    // The built artifact was published and recorded with its digest (R-8b); the tag was pushed (R-4c).
    assert_eq!(state.artifacts.len(), 1);
    assert_eq!(state.artifacts[0].sha256, Sha256::of(b"jar bytes"));
    assert_eq!(w.vcs.created_tags()[0].name, "v1.4.0");
    // Backups taken and tested (R-8c), notes published (R-9b), people told (R-9a), ticket closed (R-9d).
    assert_eq!(w.backup.backups(), 1);
    // Notes from the commits, grouped and linked to their tickets (R-4b, R-9b).
    let notes = w.notes.notes(&id()).expect("notes");
    assert!(notes.contains("### Fixes\n\n- login #45 (c1c1c1c)"), "{notes}");
    assert!(notes.contains("- checkout SHOP-12 (c2c2c2c)"), "{notes}");
    assert!(w.notifier.sent().iter().any(|n| n.subject == "Released shop 1.4.0"));
    let ticket = w.ticketing.ticket(&"REL-1".parse().expect("key")).expect("release ticket");
    assert_eq!(ticket.status, "Done");
    assert!(w.ticketing.comments()[0].1.contains("shop 1.4.0 released"));
    // Gates measured by the engine carry their evidence (R-7g, R-8a, R-8f).
    let bugs = state.gate_results.iter().find(|r| r.gate == GateId::CriticalBugs).expect("bugs");
    assert_eq!((bugs.measured.value, bugs.source.as_str()), (0.0, "ticketing: no open bugs in scope"));
    assert!(state.gate_results.iter().any(|r| r.gate == GateId::ResponseTime && r.measured.value == 85.0));
    assert!(state.gate_results.iter().any(|r| r.gate == GateId::UntrackedCommits && r.measured.value == 0.0));
    // Step logs are recorded (R-8e), and subscribers saw every event.
    assert!(state.steps.iter().any(|s| s.log.iter().any(|l| l.text.contains("installing shop-1.4.0 1.4.0"))));
    let mut seen = 0;
    while events.try_recv().is_ok() {
        seen += 1;
    }
    assert_eq!(seen, history.len());
    // Listing finds it by project, stage and environment.
    let found = w
        .manager
        .list(&ReleaseQuery { project: Some("shop".into()), environment: Some(env("prod")), ..Default::default() })
        .await
        .expect("list");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].stage, Stage::Closed);
}

#[tokio::test]
async fn running_until_a_stage_the_policy_does_not_declare_is_refused_and_runs_nothing_r3() {
    // Issue #20: `until="staging-deployed"` (a typo) ran the release on to prod_ready.
    let w = world(1);
    to_accepted(&w).await;
    let before = w.manager.history(&id()).await.expect("history").len();
    let err =
        w.manager.run(&id(), Some("staging-deployed".parse().expect("a stage name"))).await.expect_err("unknown stage");
    let refusal = err.refusal().expect("a refusal");
    assert_eq!(refusal.unmet[0].rule.as_str(), "R-3", "{refusal}");
    let text = refusal.to_string();
    assert!(text.contains("unknown stage `staging-deployed`") && text.contains("staging_deployed"), "{text}");
    assert_eq!(w.manager.history(&id()).await.expect("history").len(), before, "nothing ran");
}

#[tokio::test]
async fn the_prod_rollout_deploys_the_canary_first_r8e() {
    let w = world(4);
    to_accepted(&w).await;
    w.manager.run(&id(), None).await.expect("run");
    let state = ReleaseState::from_events(w.manager.history(&id()).await.expect("h").iter().map(|e| &e.event));
    let prod_starts: Vec<&str> = state
        .steps
        .iter()
        .filter(|s| s.step == StepKind::Deploy && s.environment == Some(env("prod")) && s.target.is_some())
        .map(|s| s.target.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(prod_starts[0], "prod-1", "the canary goes first: {prod_starts:?}");
    let canary_done =
        state.steps.iter().find(|s| s.target.as_deref() == Some("prod-1")).and_then(|s| s.finished_at).expect("canary");
    for s in state
        .steps
        .iter()
        .filter(|s| s.environment == Some(env("prod")) && s.target.is_some() && s.target.as_deref() != Some("prod-1"))
    {
        assert!(s.started_at >= canary_done, "{} started before the canary finished", s.key);
    }
}

#[tokio::test]
async fn retryable_failures_are_retried_with_backoff_and_each_attempt_recorded() {
    let w = world(2);
    to_accepted(&w).await;
    w.targets["prod"][1].fail_next(2, true);
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let state = ReleaseState::from_events(w.manager.history(&id()).await.expect("h").iter().map(|e| &e.event));
    let attempts: Vec<&str> =
        state.steps.iter().filter(|s| s.target.as_deref() == Some("prod-2")).map(|s| s.key.as_str()).collect();
    assert_eq!(attempts, ["deploy:prod:prod-2#1", "deploy:prod:prod-2#1/2", "deploy:prod:prod-2#1/3"]);
    assert_eq!(w.targets["prod"][1].calls().len(), 1, "only the third attempt reached the target");
}

#[tokio::test]
async fn a_failed_prod_deployment_rolls_back_every_deployed_target_restores_the_database_and_notifies_r8g() {
    let w = world(3);
    to_accepted(&w).await;
    w.targets["prod"][2].fail_next(1, false);
    let outcome = w.manager.run(&id(), None).await.expect("run");
    let RunOutcome::RolledBack { reason, error } = outcome else { panic!("expected a rollback, got {outcome:?}") };
    assert!(reason.contains("prod-3"), "{reason}");
    // The rollback names the port call that caused it (issue #20).
    let error = error.expect("the port error behind the rollback");
    assert_eq!((error.port.as_str(), error.operation.as_str()), ("deploy-target prod-3", "deploy"), "{error}");
    let state = ReleaseState::from_events(w.manager.history(&id()).await.expect("h").iter().map(|e| &e.event));
    assert_eq!(state.stage, Some(Stage::RolledBack));
    for t in &w.targets["prod"][..2] {
        let ops: Vec<&str> = t.calls().iter().map(|c| c.operation).collect();
        assert_eq!(ops, ["deploy", "rollback"], "{}", t.name());
    }
    assert!(w.targets["prod"][2].calls().is_empty(), "the failed target was never deployed");
    assert_eq!(w.backup.restores().len(), 1, "the database was restored once");
    assert!(w.notifier.sent().iter().any(|n| n.subject == "Rollback on prod"));
    // Running again does nothing twice.
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::RolledBack });
    assert_eq!(w.backup.restores().len(), 1);
}

#[tokio::test]
async fn a_failed_smoke_test_rolls_back_r8f_r8g() {
    let w = world(2);
    to_accepted(&w).await;
    w.smoke.fail_next(1, false);
    let outcome = w.manager.run(&id(), None).await.expect("run");
    assert!(
        matches!(&outcome, RunOutcome::RolledBack { reason, .. } if reason.contains("smoke_test on prod failed")),
        "{outcome:?}"
    );
    for t in &w.targets["prod"] {
        assert_eq!(t.calls().iter().filter(|c| c.operation == "rollback").count(), 1);
    }
}

#[tokio::test]
async fn verify_releases_a_release_whose_smoke_tests_pass_and_refuses_other_stages_r8f() {
    let w = world(1);
    to_accepted(&w).await;
    let err = w.manager.verify(&id()).await.expect_err("not verifying yet");
    assert_eq!(err.refusal().expect("refusal").rule, RuleId::R_8F);
    assert_eq!(
        w.manager.run(&id(), Some(Stage::Verifying)).await.expect("run"),
        RunOutcome::Reached { stage: Stage::Verifying }
    );
    assert_eq!(w.manager.verify(&id()).await.expect("verify"), RunOutcome::Reached { stage: Stage::Released });
}

#[tokio::test]
async fn a_smoke_test_past_its_deadline_rolls_back_r8f() {
    let w = world(1);
    to_accepted(&w).await;
    assert_eq!(
        w.manager.run(&id(), Some(Stage::Verifying)).await.expect("run"),
        RunOutcome::Reached { stage: Stage::Verifying }
    );
    w.clock.advance(Duration::from_secs(11 * 60));
    let outcome = w.manager.run(&id(), None).await.expect("run");
    assert!(
        matches!(&outcome, RunOutcome::RolledBack { reason, .. } if reason.contains("deadline `smoke_tests` of 10m passed")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_failed_staging_deployment_is_undone_and_the_run_says_it_failed_r8g() {
    let w = world(2);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    w.targets["staging"][1].fail_next(1, false);
    let outcome = w.manager.run(&id(), None).await.expect("run");
    // The run says it failed, and which port call failed it (issue #20), not merely "waiting".
    let RunOutcome::Failed(failure) = outcome else { panic!("expected a failure, got {outcome:?}") };
    let error = &failure.error;
    assert_eq!(
        (error.port.as_str(), error.operation.as_str(), error.retryable),
        ("deploy-target staging-2", "deploy", false),
        "{error}"
    );
    assert_eq!((error.step.clone(), error.target.as_deref()), (StepKind::Deploy, Some("staging-2")));
    assert!(error.cause.contains("injected failure"), "{error}");
    assert!(!failure.waiting.failed.is_empty());
    assert!(w.manager.escalation_for(&RunOutcome::Failed(failure.clone())).is_empty(), "no contacts configured");
    let wait = failure.waiting;
    assert_eq!(wait.stage, Stage::Built);
    assert!(wait.refusal.to_string().contains("step `deploy` on staging is failed"), "{}", wait.refusal);
    assert_eq!(w.targets["staging"][0].calls().iter().map(|c| c.operation).collect::<Vec<_>>(), ["deploy", "rollback"]);
    // A second run deploys again, as deployment #2.
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::StagingDeployed);
    assert_eq!(w.targets["staging"][1].calls()[0].key, format!("{}:deploy:staging:staging-2#2", id()));
}

#[tokio::test]
async fn an_emergency_waits_for_the_cto_then_skips_staging_and_test_r5a() {
    let w = world(2);
    w.manager.plan(&rm(), plan(ReleaseKind::Emergency)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!((wait.stage, wait.refusal.rule.as_str()), (Stage::Built, "R-5a"));
    approve(&w, &cto(), ApprovalId::Emergency, Role::Cto).await;
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    assert!(w.targets["staging"].iter().chain(&w.targets["test"]).all(|t| t.calls().is_empty()));
    assert!(w.notifier.sent().iter().any(|n| n.audience.contains(&Audience::Stakeholders)));
}

#[tokio::test]
async fn refusals_reach_the_caller_with_their_rule_r2d() {
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    let err = w
        .manager
        .approve(&id(), &qa(), ApprovalId::Scope, Role::ProductOwner, Channel::Cli, "")
        .await
        .expect_err("refused");
    assert_eq!(err.refusal().expect("refusal").rule, RuleId::R_2D);
    assert!(!err.is_retryable());
    let status = w.manager.status(&id()).await.expect("status");
    assert_eq!(status.next.len(), 1);
    assert!(status.next[0].1.as_ref().expect("blocked").to_string().contains("approval `scope`"));
    assert!(matches!(w.manager.status(&"nope-1.0.0".parse().expect("id")).await, Err(EngineError::NotFound(_))));
}

#[tokio::test]
async fn a_version_not_newer_than_the_last_release_in_the_store_is_refused_r4c() {
    let w = world(1);
    to_accepted(&w).await;
    w.manager.run(&id(), None).await.expect("run");
    let mut older = plan(ReleaseKind::Patch);
    older.release = "shop-1.3.9".parse().expect("id");
    older.version = Version::new(1, 3, 9);
    let err = w.manager.plan(&rm(), older).await.expect_err("older");
    assert_eq!(err.refusal().expect("refusal").rule, RuleId::R_4C);
}

/// A target that records how many deployments run on it at once.
struct Exclusive {
    active: AtomicUsize,
    max: AtomicUsize,
}

#[async_trait]
impl DeployTarget for Exclusive {
    fn name(&self) -> &str {
        "shared-host"
    }
    async fn deploy(&self, _request: &DeployRequest, _log: &LogSink) -> Result<String, PortError> {
        let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(30)).await;
        self.active.fetch_sub(1, Ordering::SeqCst);
        Ok("ok".into())
    }
    async fn rollback(&self, _request: &RollbackRequest, _log: &LogSink) -> Result<String, PortError> {
        Ok("ok".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_releases_never_deploy_one_environment_at_once_r6e() {
    let store = Arc::new(MemoryStore::new());
    let target = Arc::new(Exclusive { active: AtomicUsize::new(0), max: AtomicUsize::new(0) });
    let manager = ReleaseManager::builder(store).target(env("staging"), target.clone()).build();
    let mut ids = Vec::new();
    for i in 0..4 {
        let mut p = plan(ReleaseKind::Minor);
        p.project = format!("svc{i}");
        p.release = format!("svc{i}-1.4.0").parse().expect("id");
        ids.push(p.release.clone());
        manager.plan(&rm(), p).await.expect("plan");
    }
    let runs = ids.iter().map(|id| {
        let (manager, id) = (manager.clone(), id.clone());
        tokio::spawn(async move { manager.deploy(&id, &env("staging")).await })
    });
    for r in runs.collect::<Vec<_>>() {
        assert!(r.await.expect("join").expect("deploy").succeeded());
    }
    assert_eq!(target.max.load(Ordering::SeqCst), 1, "deployments to staging overlapped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_drivers_append_every_transition_exactly_once() {
    let w = world(3);
    to_accepted(&w).await;
    let drivers: Vec<_> = (0..8)
        .map(|_| {
            let manager = w.manager.clone();
            tokio::spawn(async move { manager.run(&id(), None).await })
        })
        .collect();
    for d in drivers {
        assert_eq!(d.await.expect("join").expect("run"), RunOutcome::Final { stage: Stage::Closed });
    }
    let history = w.manager.history(&id()).await.expect("h");
    assert!(shipwarden::audit::verify(&history).is_ok());
    let state = ReleaseState::from_events(history.iter().map(|e| &e.event));
    let mut seen = std::collections::BTreeSet::new();
    for s in &state.path {
        assert!(seen.insert(s.clone()), "stage {s} entered twice: {:?}", state.path);
    }
    for t in w.targets.values().flatten() {
        assert_eq!(t.calls().len(), 1, "{} deployed {} times", t.name(), t.calls().len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn independent_managers_on_one_store_lose_no_update() {
    // Two managers (as two processes would be) race to record evidence and approvals.
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    let other = ReleaseManager::builder(w.store.clone()).build();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let m = if i % 2 == 0 { w.manager.clone() } else { other.clone() };
        tasks.push(tokio::spawn(async move {
            m.record_evidence(
                &id(),
                &ci(),
                Evidence::new(GateId::Coverage, 0.5 + f64::from(i) / 100.0, format!("run {i}")),
            )
            .await
        }));
    }
    for t in tasks {
        t.await.expect("join").expect("recorded");
    }
    let state = ReleaseState::from_events(w.manager.history(&id()).await.expect("h").iter().map(|e| &e.event));
    assert_eq!(state.gate_results.len(), 20, "no update lost");
}

#[tokio::test]
async fn an_unfinished_step_is_resolved_by_asking_the_port_not_by_calling_again() {
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    w.manager.run(&id(), Some(Stage::Built)).await.expect("run");
    // A process recorded the start of the staging deployment, deployed, and died.
    let de = Actor::new("shipwarden", [Role::DeploymentEngineer]);
    for (target, key) in [(None, "deploy:staging#1"), (Some("staging-1"), "deploy:staging:staging-1#1")] {
        let action = Action::StartStep {
            step: StepKind::Deploy,
            environment: Some(env("staging")),
            target: target.map(Into::into),
            key: key.into(),
            held: Vec::new(),
        };
        w.manager.execute(&id(), &de, action).await.expect("start");
    }
    let request = DeployRequest {
        release: id(),
        version: Version::new(1, 4, 0),
        environment: env("staging"),
        artifacts: vec![],
        // The port's key: the release, then the step's key (unique across releases).
        key: format!("{}:deploy:staging:staging-1#1", id()),
    };
    w.targets["staging"][0].deploy(&request, &LogSink::default()).await.expect("deploy");
    // A new manager (a new process) picks the release up.
    let resumed = ReleaseManager::builder(w.store.clone())
        .clock(w.clock.clone())
        .target(env("staging"), w.targets["staging"][0].clone())
        .build();
    let wait = waiting(resumed.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::StagingDeployed);
    assert_eq!(w.targets["staging"][0].calls().len(), 1, "the target was asked, not deployed again");
    let state = ReleaseState::from_events(resumed.history(&id()).await.expect("h").iter().map(|e| &e.event));
    let step = state.step("deploy:staging:staging-1#1").expect("step");
    assert!(step.log.iter().any(|l| l.text.contains("resolved after a restart")), "{:?}", step.log);
}

#[tokio::test]
async fn pull_requests_merged_with_too_few_reviewers_block_the_build_r4d() {
    let commit = |subject: &str| Commit {
        sha: "d".repeat(40),
        subject: subject.into(),
        body: String::new(),
        author: "dev".into(),
        parents: 1,
    };
    let vcs = Arc::new(MemoryVcs::new(
        vec![commit("SHOP-12: checkout (#7)"), commit("SHOP-13: login (#8)"), commit("SHOP-14: search (#9)")],
        vec!["main".into()],
    ));
    let ticketing = Arc::new(MemoryTicketing::new());
    ticketing.set_reviewers(7, 2);
    ticketing.set_reviewers(8, 0);
    // #9: the host does not tell; it is not counted against the release.
    let ports = engine::Ports { vcs: Some(vcs), ticketing: Some(ticketing.clone()), ..Default::default() };
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new(ts("2026-11-28T10:00:00Z")));
    let manager = ReleaseManager::builder(store).clock(clock).ports(ports).build();
    manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    manager.approve(&id(), &po(), ApprovalId::Scope, Role::ProductOwner, Channel::Api, "ok").await.expect("approve");
    let wait = waiting(manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::ScopeApproved);
    assert!(wait.refusal.to_string().contains("gate `unreviewed_pulls` measured 1"), "{}", wait.refusal);
    let state = manager.state(&id()).await.expect("state");
    let result = state.gate_results.iter().find(|r| r.gate == GateId::UnreviewedPulls).expect("measured");
    assert_eq!(result.source, "vcs host: too few approving reviewers: #8 (0 of 1)");
    // Reviewed since: measured again, the build goes on.
    ticketing.set_reviewers(8, 1);
    manager.record_evidence(&id(), &ci(), Evidence::new(GateId::UnreviewedPulls, 0.0, "re-checked")).await.expect("ok");
    let state = manager.state(&id()).await.expect("state");
    assert!(state.gate_results.iter().any(|r| r.gate == GateId::UnreviewedPulls && r.measured.value == 0.0));
}

#[tokio::test]
async fn a_smoke_test_that_measures_a_failing_value_rolls_back_at_once_r8f_r8g() {
    let w = world(1);
    to_accepted(&w).await;
    w.smoke.set(vec![Measurement {
        gate: GateId::ResponseTime,
        value: 2500.0,
        target: None,
        source: "smoke https://shop/health".into(),
    }]);
    let outcome = w.manager.run(&id(), None).await.expect("run");
    assert!(
        matches!(&outcome, RunOutcome::RolledBack { reason, .. }
            if reason.contains("smoke test failed") && reason.contains("response_time") && reason.contains("2500")),
        "{outcome:?}"
    );
    assert_eq!(w.targets["prod"][0].calls().iter().filter(|c| c.operation == "rollback").count(), 1);
}

// ---------------------------------------------------------------- migrations, dependencies, monitoring (#9)

const SCRIPTS: [(&str, &str, Option<&str>); 2] = [
    ("0001_orders", "create table orders (id int)", Some("drop table orders")),
    ("0002_total", "alter table orders add total int", Some("alter table orders drop total")),
];

async fn state_of(w: &World) -> ReleaseState {
    (*w.manager.state(&id()).await.expect("state")).clone()
}

/// A world whose `envs` migrate their databases with `migrator`.
fn migrating_world(migrator: &Arc<MemoryMigrator>, envs: &[&str]) -> World {
    let (m, envs) = (migrator.clone(), envs.iter().map(|e| env(e)).collect::<Vec<_>>());
    world_full(1, Policy::default(), move |p| {
        for e in envs {
            p.migrators.insert(e, m.clone());
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_in_staging_with_a_rollback_test_before_production_r7e_r8b() {
    let migrator = Arc::new(MemoryMigrator::new(&SCRIPTS));
    let w = migrating_world(&migrator, &["staging", "prod"]);
    to_accepted(&w).await;
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    assert_eq!(migrator.applied(&env("staging")), ["0001_orders", "0002_total"]);
    assert_eq!(migrator.applied(&env("prod")), ["0001_orders", "0002_total"]);
    let state = state_of(&w).await;
    let kinds: Vec<(String, bool)> = state
        .steps
        .iter()
        .filter(|s| matches!(s.step, StepKind::Migrate | StepKind::MigrationRollbackTest))
        .map(|s| (s.key.clone(), s.outcome.as_ref().is_some_and(StepOutcome::succeeded)))
        .collect();
    assert_eq!(
        kinds,
        [
            ("migrate:staging#1".to_owned(), true),
            ("migration-rollback-test:staging#1".to_owned(), true),
            ("migrate:prod#1".to_owned(), true)
        ]
    );
    let gate = state.gate_results.iter().find(|r| r.gate == GateId::MigrationsRehearsed).expect("measured");
    assert!(gate.passed && gate.source.contains("ran in staging and were reverted and re-applied"), "{}", gate.source);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_rollback_rehearsal_refuses_production_r7e() {
    let migrator = Arc::new(MemoryMigrator::new(&SCRIPTS));
    migrator.fail_down("0002_total");
    let w = migrating_world(&migrator, &["staging", "prod"]);
    to_accepted(&w).await;
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::Accepted);
    let unmet = wait.refusal.unmet.iter().find(|u| u.rule.as_str() == "R-7e").expect("R-7e unmet");
    assert!(unmet.requirement.to_string().contains("gate `migrations_rehearsed` measured no"), "{}", wait.refusal);
    let state = state_of(&w).await;
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::MigrationsRehearsed).expect("measured");
    assert!(
        gate.source.contains("the rollback test in staging failed")
            && gate.source.contains("rollback of 0002_total failed"),
        "{}",
        gate.source
    );
    assert!(migrator.applied(&env("prod")).is_empty(), "nothing ran in production");
    assert_eq!(migrator.applied(&env("staging")).len(), 2, "staging was left migrated");
    assert!(w.targets["prod"][0].calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_stops_the_staging_deployment_r8b() {
    let migrator = Arc::new(MemoryMigrator::new(&SCRIPTS));
    migrator.fail_up("0002_total");
    let w = migrating_world(&migrator, &["staging"]);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    let outcome = w.manager.run(&id(), None).await.expect("run");
    let RunOutcome::Failed(failure) = &outcome else { panic!("the run failed: {outcome:?}") };
    assert!(failure.error.cause.contains("0002_total failed"), "{}", failure.error);
    let wait = waiting(outcome);
    assert_eq!(wait.stage, Stage::Built);
    assert!(wait.refusal.to_string().contains("step `deploy` on staging"), "{}", wait.refusal);
    assert!(w.targets["staging"][0].calls().is_empty(), "no target deployed after a failed migration");
    let state = state_of(&w).await;
    let deploy = state.steps.iter().find(|s| s.key == "deploy:staging#1").expect("deploy step");
    assert!(
        matches!(&deploy.outcome, Some(StepOutcome::Failed { error, .. }) if error.contains("database migration on staging failed") && error.contains("0002_total failed")),
        "{:?}",
        deploy.outcome
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_refuses_migrations_that_changed_since_staging_r7e() {
    let migrator = Arc::new(MemoryMigrator::new(&SCRIPTS));
    let w = migrating_world(&migrator, &["staging", "prod"]);
    to_accepted(&w).await;
    migrator.replace(&[
        SCRIPTS[0],
        ("0002_total", "alter table orders add total bigint", Some("alter table orders drop total")),
    ]);
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert!(wait.refusal.to_string().contains("migrations_rehearsed"), "{}", wait.refusal);
    let state = state_of(&w).await;
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::MigrationsRehearsed).expect("measured");
    assert!(gate.source.contains("staging ran other migrations: 0002_total changed"), "{}", gate.source);
    assert!(migrator.applied(&env("prod")).is_empty());
    assert!(w.targets["prod"][0].calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_migrations_changed_after_the_readiness_check_are_refused_and_rolled_back_r7e() {
    let migrator = Arc::new(MemoryMigrator::new(&SCRIPTS));
    let w = migrating_world(&migrator, &["staging", "prod"]);
    to_accepted(&w).await;
    let reached = w.manager.run(&id(), Some(Stage::ProdReady)).await.expect("run");
    assert_eq!(reached, RunOutcome::Reached { stage: Stage::ProdReady });
    migrator.replace(&[SCRIPTS[0]]);
    let outcome = w.manager.run(&id(), None).await.expect("run");
    let RunOutcome::RolledBack { reason, .. } = outcome else { panic!("expected a rollback, got {outcome:?}") };
    assert!(
        reason.contains("production migrations refused: staging ran other migrations: 0002_total is gone (R-7e)"),
        "{reason}"
    );
    let finding = state_of(&w).await.findings.into_iter().find(|f| f.key == "migrate:prod#1").expect("a finding");
    assert_eq!(finding.rule, RuleId::R_7E, "the verdict is a finding with its rule: {finding:?}");
    assert!(migrator.applied(&env("prod")).is_empty());
    assert!(w.targets["prod"][0].calls().is_empty(), "no target deployed after a refused migration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dependency_drift_refuses_production_until_it_is_fixed_r7f_r8d() {
    let deps = Arc::new(MemoryDependencies::new());
    deps.set(&env("staging"), &[("payments", "2.4.1"), ("search", "8.1")]);
    deps.set(&env("prod"), &[("payments", "2.3.0"), ("search", "8.1")]);
    let d = deps.clone();
    let w = world_full(1, Policy::default(), move |p| {
        for e in ["staging", "prod"] {
            p.dependencies.insert(env(e), vec![d.clone()]);
        }
    });
    let mut plan = plan(ReleaseKind::Minor);
    plan.dependencies = vec![Dependency { name: "payments".into(), version: ">=2.4, <3".into() }];
    w.manager.plan(&rm(), plan).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    w.manager.run(&id(), None).await.expect("run");
    let state = state_of(&w).await;
    let reading = state.steps.iter().find(|s| s.key == "dependencies:staging#1").expect("staging read");
    assert!(
        matches!(&reading.outcome, Some(StepOutcome::Succeeded { detail, .. }) if detail == "staging runs payments 2.4.1, search 8.1")
    );
    // The rest of the lifecycle, as people would.
    evidence(&w, GateId::Coverage, 0.93).await;
    evidence(&w, GateId::P95Latency, 150.0).await;
    approve(&w, &qa(), ApprovalId::QaSignoff, Role::QaLead).await;
    w.manager.run(&id(), None).await.expect("run");
    w.manager
        .report_step(&id(), &qa(), StepKind::IntegrationTests, Some(env("staging")), StepOutcome::ok("ok"))
        .await
        .expect("r");
    w.manager.run(&id(), None).await.expect("run");
    w.manager.report_step(&id(), &po(), StepKind::Demo, Some(env("test")), StepOutcome::ok("ok")).await.expect("r");
    w.manager.run(&id(), None).await.expect("run");
    evidence(&w, GateId::DocsReviewed, 1.0).await;
    approve(&w, &po(), ApprovalId::Acceptance, Role::ProductOwner).await;
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::Accepted);
    let unmet = wait.refusal.unmet.iter().find(|u| u.rule.as_str() == "R-7f").expect("R-7f unmet");
    assert!(unmet.requirement.to_string().contains("gate `dependency_drift` measured 2"), "{}", wait.refusal);
    let state = state_of(&w).await;
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::DependencyDrift).expect("measured");
    assert_eq!(
        gate.source,
        "dependencies: payments 2.3.0 in prod does not satisfy the plan's >=2.4, <3; \
         payments: prod runs 2.3.0, staging was verified with 2.4.1"
    );
    assert!(w.targets["prod"][0].calls().is_empty());
    // Production upgraded: measured again, the release goes out.
    deps.set(&env("prod"), &[("payments", "2.4.1"), ("search", "8.1")]);
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_tag_is_gone_is_refused_before_production_r8d() {
    let w = world(1);
    to_accepted(&w).await;
    w.vcs.delete_tag("v1.4.0");
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    let unmet = wait.refusal.unmet.iter().find(|u| u.rule.as_str() == "R-8d").expect("R-8d unmet");
    assert!(unmet.requirement.to_string().contains("gate `artifact_version` measured no"), "{}", wait.refusal);
    let state = state_of(&w).await;
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::ArtifactVersion).expect("measured");
    assert_eq!(gate.source, "artifacts: the repository has no tag v1.4.0");
}

/// A monitoring probe that reports the values it is scripted with, one per
/// sample, then the last one; before it is armed, a healthy value.
struct Scripted {
    gate: GateId,
    values: std::sync::Mutex<Option<std::collections::VecDeque<f64>>>,
    last: std::sync::Mutex<f64>,
}

impl Scripted {
    fn new(gate: GateId, healthy: f64) -> Self {
        Self { gate, values: std::sync::Mutex::new(None), last: std::sync::Mutex::new(healthy) }
    }
    fn arm(&self, values: &[f64]) {
        *self.values.lock().expect("lock") = Some(values.iter().copied().collect());
    }
}

#[async_trait]
impl Probe for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let mut last = self.last.lock().expect("lock");
        if let Some(next) = self.values.lock().expect("lock").as_mut().and_then(|v| v.pop_front()) {
            *last = next;
        }
        Ok(vec![Measurement { gate: self.gate.clone(), value: *last, target: None, source: "scripted".into() }])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breach_while_production_deploys_stops_and_rolls_back_r8e_r8g() {
    let probe = Arc::new(StaticProbe::new("host-monitor", &[(GateId::Cpu, 97.0)]));
    let p2 = probe.clone();
    let mut policy = Policy::default();
    policy.monitoring.sustained = jiff::SignedDuration::ZERO;
    let w = world_full(2, policy, move |p| {
        p.monitors.insert(env("prod"), vec![p2.clone()]);
    });
    to_accepted(&w).await;
    let outcome = w.manager.run(&id(), None).await.expect("run");
    let RunOutcome::RolledBack { reason, .. } = outcome else { panic!("expected a rollback, got {outcome:?}") };
    assert!(reason.contains("cpu in prod measured 97.0 %, required < 80.0 %, for 0 s (R-8e)"), "{reason}");
    let findings = state_of(&w).await.findings;
    assert!(findings.iter().any(|f| f.key == "monitor:prod#1" && f.rule == RuleId::R_8E), "{findings:?}");
    assert!(
        w.targets["prod"].iter().all(|t| t.calls().is_empty()),
        "the first samples are taken before the first target: nothing was deployed"
    );
    let state = state_of(&w).await;
    let monitor = state.steps.iter().find(|s| s.key == "monitor:prod#1").expect("monitor step");
    assert!(matches!(monitor.outcome, Some(StepOutcome::Failed { .. })));
    assert!(monitor.log.iter().any(|l| l.text.contains("host-monitor: cpu = 97.0 % (breach: required < 80.0 %)")));
    assert_eq!(w.backup.restores().len(), 1, "the database was restored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_window_tolerates_a_short_breach_r8e() {
    let probe = Arc::new(Scripted::new(GateId::ResponseTime, 90.0));
    let p2 = probe.clone();
    let w = world_full(1, Policy::default(), move |p| {
        p.monitors.insert(env("prod"), vec![p2.clone()]);
    });
    to_accepted(&w).await;
    assert_eq!(
        w.manager.run(&id(), Some(Stage::Verifying)).await.expect("run"),
        RunOutcome::Reached { stage: Stage::Verifying }
    );
    // 15 s apart: breaching for 30 s, then healthy — shorter than the 60 s that counts.
    probe.arm(&[450.0, 450.0, 450.0, 120.0]);
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let state = state_of(&w).await;
    let window = state.steps.iter().find(|s| s.key == "monitor:verify:prod#1").expect("window watched");
    let samples = window.outcome.as_ref().and_then(StepOutcome::output).and_then(|o| o.as_array()).expect("samples");
    assert_eq!(samples.len(), 21, "5 minutes sampled every 15 s");
    assert_eq!(samples.iter().filter(|s| s["passed"] == false).count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sustained_breach_in_the_verification_window_rolls_back_r8e_r8g() {
    let probe = Arc::new(Scripted::new(GateId::ResponseTime, 90.0));
    let p2 = probe.clone();
    let w = world_full(1, Policy::default(), move |p| {
        p.monitors.insert(env("prod"), vec![p2.clone()]);
    });
    to_accepted(&w).await;
    w.manager.run(&id(), Some(Stage::Verifying)).await.expect("run");
    probe.arm(&[120.0, 450.0]);
    let outcome = w.manager.run(&id(), None).await.expect("run");
    let RunOutcome::RolledBack { reason, .. } = outcome else { panic!("expected a rollback, got {outcome:?}") };
    assert!(reason.contains("response_time in prod measured 450 ms, required < 200 ms, for 60 s (R-8e)"), "{reason}");
    let findings = state_of(&w).await.findings;
    assert!(findings.iter().any(|f| f.rule == RuleId::R_8E && f.detail.contains("450 ms")), "{findings:?}");
    assert_eq!(w.targets["prod"][0].calls().iter().filter(|c| c.operation == "rollback").count(), 1);
    let state = state_of(&w).await;
    assert!(!state.steps.iter().any(|s| s.step == StepKind::SmokeTest), "no smoke test after a failed window");
}

// ---------------------------------------------------------------- duties (#10)

#[tokio::test]
async fn the_advance_notice_goes_out_once_24_hours_before_the_deployment_r6d() {
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    let (start, end) = (ts("2026-12-05T10:00:00Z"), ts("2026-12-05T11:00:00Z"));
    w.manager.schedule(&id(), &rm(), env("prod"), start, end).await.expect("book");
    assert!(w.manager.due(ts("2026-12-04T09:59:00Z")).await.expect("due").is_empty(), "not yet 24 h before");
    let due = w.manager.due(ts("2026-12-04T10:00:00Z")).await.expect("due");
    let kinds: Vec<shipwarden::duties::DutyKind> = due.iter().map(|(_, d)| d.kind).collect();
    assert_eq!(
        kinds,
        [shipwarden::duties::DutyKind::AdvanceNotice, shipwarden::duties::DutyKind::StakeholderNotice],
        "teams, and stakeholders of a minor release's user-facing changes"
    );
    w.clock.set(ts("2026-12-04T10:05:00Z"));
    let done = w.manager.run_due(w.clock.now()).await.expect("run due");
    assert_eq!(done.len(), 2);
    assert!(done.iter().all(|r| r.outcome.succeeded() && !r.missed));
    let sent = w.notifier.sent();
    let notice = sent.iter().find(|n| n.audience == [Audience::Teams]).expect("teams notice");
    assert_eq!(notice.subject, "Scheduled: shop 1.4.0 to prod on 2026-12-05 10:00 UTC");
    assert!(notice.body.contains("Tickets: SHOP-12, SHOP-13"), "{}", notice.body);
    assert!(notice.key.ends_with(":duty:advance-notice:prod:20261205T1000Z#1"), "{}", notice.key);
    // Exactly once: later ticks find nothing due.
    w.clock.set(ts("2026-12-04T12:00:00Z"));
    assert!(w.manager.run_due(w.clock.now()).await.expect("again").is_empty());
    assert_eq!(w.notifier.sent().len(), 2);
    let state = w.manager.state(&id()).await.expect("state");
    assert!(state.findings.is_empty());
}

#[tokio::test]
async fn a_missed_emergency_notice_is_a_finding_and_keeps_the_release_open_r5c() {
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Emergency)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    approve(&w, &cto(), ApprovalId::Emergency, Role::Cto).await;
    // The chat system is down from the moment production is deployed: nothing can be sent.
    w.notifier.fail_next(1000, false);
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::Released);
    let unmet = wait.refusal.unmet.iter().find(|u| u.rule.as_str() == "R-5c").expect("the notice is still due");
    assert!(unmet.requirement.to_string().contains("Emergency deployment: shop 1.4.0 on prod (SHOP-99)"), "{unmet:?}");
    // Two hours later the chat system is back; the tick sends the notice late and records the finding.
    w.notifier.fail_next(0, false);
    w.clock.advance(Duration::from_secs(2 * 3600));
    let done = w.manager.run_due(w.clock.now()).await.expect("tick");
    assert_eq!(done.len(), 1);
    assert!(done[0].missed && done[0].outcome.succeeded(), "{done:?}");
    let state = w.manager.state(&id()).await.expect("state");
    assert_eq!(state.findings.len(), 1);
    let finding = &state.findings[0];
    assert_eq!((finding.key.as_str(), finding.rule.as_str()), ("emergency-notice:prod", "R-5c"));
    assert!(finding.detail.contains("not done by its deadline"), "{}", finding.detail);
    let notice = w.notifier.sent().into_iter().find(|n| n.subject.starts_with("Emergency deployment")).expect("sent");
    assert!(notice.audience.contains(&Audience::Teams) && notice.body.contains("Justification: outage"));
    // Nothing is due any more: the release closes, and the finding stays in its audit trail.
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    assert!(w.manager.run_due(w.clock.now()).await.expect("tick").is_empty());
    let history = w.manager.history(&id()).await.expect("history");
    assert!(history.iter().any(|e| e.event.name() == "finding_recorded" && e.event.rule().as_str() == "R-5c"));
}

#[tokio::test]
async fn an_emergency_notice_on_time_is_no_finding_r5c() {
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Emergency)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    approve(&w, &cto(), ApprovalId::Emergency, Role::Cto).await;
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let emergency: Vec<_> =
        w.notifier.sent().into_iter().filter(|n| n.subject.starts_with("Emergency deployment")).collect();
    assert_eq!(emergency.len(), 1, "sent once, as soon as production was deployed");
    assert!(w.manager.state(&id()).await.expect("state").findings.is_empty());
}

#[tokio::test]
async fn approvals_are_reminded_after_a_day_and_expire_after_a_week_r2b() {
    let w = world(1);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    w.clock.advance(Duration::from_secs(23 * 3600));
    assert!(w.manager.run_due(w.clock.now()).await.expect("tick").is_empty());
    w.clock.advance(Duration::from_secs(3600));
    let done = w.manager.run_due(w.clock.now()).await.expect("tick");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].duty.subject, "Waiting for approval: shop 1.4.0 needs `scope`");
    assert!(w.manager.run_due(w.clock.now()).await.expect("tick").is_empty(), "reminded once");
    // Approved, then left for eight days: the approval no longer counts, and people are told.
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    w.clock.advance(Duration::from_secs(8 * 24 * 3600));
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::Planned);
    assert!(
        wait.refusal.to_string().contains("approval `scope` needs 1 from product_owner; has 0"),
        "{}",
        wait.refusal
    );
    let expired = w.notifier.sent().into_iter().find(|n| n.subject.starts_with("Approval expired")).expect("told");
    assert!(
        expired.body.contains("paul's `scope` approval") && expired.body.contains("older than 7 days"),
        "{}",
        expired.body
    );
    // Given again, it counts.
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    assert_ne!(waiting(w.manager.run(&id(), None).await.expect("run")).stage, Stage::Planned);
}

// ---------------------------------------------------------------- settings (#10)

struct Settings(std::sync::Mutex<BTreeMap<String, BTreeMap<String, String>>>);

#[async_trait]
impl SettingsSource for Settings {
    fn name(&self) -> &str {
        "memory settings"
    }
    async fn settings(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError> {
        Ok(self.0.lock().expect("lock").get(environment.as_str()).cloned().unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_deployment_records_changed_settings_without_secret_values_r9c() {
    let values = |pw: &str, extra: Option<(&str, &str)>| {
        let mut m =
            BTreeMap::from([("DB_PASSWORD".to_owned(), pw.to_owned()), ("LOG_LEVEL".to_owned(), "info".to_owned())]);
        if let Some((k, v)) = extra {
            m.insert(k.to_owned(), v.to_owned());
        }
        m
    };
    let settings = Arc::new(Settings(std::sync::Mutex::new(BTreeMap::from([
        ("staging".to_owned(), values("staging-s3cret", None)),
        ("test".to_owned(), values("test-s3cret", None)),
        ("prod".to_owned(), values("hunter2", None)),
    ]))));
    let s2 = settings.clone();
    let w = world_full(1, Policy::default(), move |p| {
        for e in ["staging", "test", "prod"] {
            p.settings.insert(env(e), s2.clone());
        }
    });
    to_accepted(&w).await;
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let detail = |state: &ReleaseState, key: &str| match state
        .steps
        .iter()
        .find(|s| s.key == key)
        .and_then(|s| s.outcome.clone())
    {
        Some(StepOutcome::Succeeded { detail, .. }) => detail,
        other => panic!("{key}: {other:?}"),
    };
    let state = w.manager.state(&id()).await.expect("state");
    assert_eq!(detail(&state, "settings:prod#1"), "prod: first record, 2 settings (1 secret values not recorded)");

    // The next release: the password rotated and a flag added in production.
    settings.0.lock().expect("lock").insert("prod".into(), values("correct horse", Some(("FEATURE_X", "on"))));
    let mut next = plan(ReleaseKind::Minor);
    next.release = "shop-1.5.0".parse().expect("id");
    next.version = Version::new(1, 5, 0);
    w.manager.plan(&rm(), next).await.expect("plan");
    let id2: ReleaseId = "shop-1.5.0".parse().expect("id");
    let _ = w.manager.run(&id2, None).await.expect("run");
    w.manager.deploy(&id2, &env("staging")).await.expect("staging");
    let state2 = w.manager.state(&id2).await.expect("state");
    assert_eq!(detail(&state2, "settings:staging#1"), "staging: no settings changed (1 secret values not recorded)");
    // Production's change is found against the last release's record of production.
    let text = {
        use shipwarden::settings::Snapshot;
        let before: Snapshot = serde_json::from_value(
            state
                .steps
                .iter()
                .find(|s| s.key == "settings:prod#1")
                .and_then(|s| s.outcome.as_ref()?.output().cloned())
                .expect("out")["snapshot"]
                .clone(),
        )
        .expect("snapshot");
        let now = Snapshot::of(
            &env("prod"),
            &values("correct horse", Some(("FEATURE_X", "on"))),
            shipwarden::settings::looks_secret,
        );
        now.diff(&before).to_string()
    };
    assert_eq!(text, "added FEATURE_X; changed DB_PASSWORD");
    // No secret value in any record of either release: events, bundle, notes, notices.
    for release in [id(), id2.clone()] {
        let history = serde_json::to_string(&w.manager.history(&release).await.expect("history")).expect("json");
        for secret in ["hunter2", "correct horse", "staging-s3cret", "test-s3cret"] {
            assert!(!history.contains(secret), "{secret} in {release}'s records");
        }
    }
    let bundle = serde_json::to_string(&w.manager.evidence_bundle(&id()).await.expect("bundle")).expect("json");
    assert!(!bundle.contains("hunter2"));
    assert!(w.notifier.sent().iter().all(|n| !n.body.contains("hunter2")));
}

// ------------------------------------------------------------------ #17: rules back into core

#[tokio::test]
async fn a_version_not_newer_than_the_newest_release_tag_is_refused_unless_overridden_r4c() {
    let w = world(1);
    // The repository already released 1.5.0: planning 1.4.0 would tag v1.4.0 after it.
    w.vcs.create_tag("v1.5.0", "shop 1.5.0", "c2c2c2c2").await.expect("tag");
    let err = w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect_err("older than the tag");
    let refusal = err.refusal().expect("a refusal");
    assert_eq!(refusal.rule, RuleId::R_4C);
    assert!(refusal.to_string().contains("1.4.0 is not newer than the last release 1.5.0"), "{refusal}");
    assert!(w.manager.history(&id()).await.expect("history").is_empty(), "nothing recorded");
    // A dry run gives the same answer, from the same context.
    let action = Action::Plan { plan: plan(ReleaseKind::Minor), last_release: None };
    let preview = w.manager.preview(&id(), &rm(), action, None).await;
    assert_eq!(preview.expect_err("refused").refusal(), Some(refusal));

    // A backport with a reason is allowed, and the reason is in the audit.
    let mut backport = plan(ReleaseKind::Minor);
    backport.version_override = Some("backport of the checkout fix to the 1.4 line".into());
    w.manager.plan(&rm(), backport).await.expect("overridden");
    let history = w.manager.history(&id()).await.expect("history");
    let Some(Event::Planned { plan, .. }) = history.first().map(|e| &e.event) else { panic!("{history:?}") };
    assert_eq!(plan.version_override.as_deref(), Some("backport of the checkout fix to the 1.4 line"));
}

#[tokio::test]
async fn a_plan_without_scope_takes_the_ticket_keys_since_the_last_tag_through_the_vcs_port_r4a() {
    let w = world(1);
    let mut p = plan(ReleaseKind::Minor);
    p.scope.clear();
    let state = w.manager.plan(&rm(), p).await.expect("plan");
    let scope: Vec<String> = state.plan.as_ref().expect("plan").scope.iter().map(ToString::to_string).collect();
    assert_eq!(scope, ["#45", "SHOP-12"], "oldest first, each once");
}

#[tokio::test]
async fn a_refusal_for_open_bugs_names_each_ticket_r7b() {
    let w = world(1);
    w.ticketing.insert(Ticket {
        key: "SHOP-13".parse().expect("key"),
        summary: "cart empties itself".into(),
        status: "Open".into(),
        kind: "Bug".into(),
        severity: Some("critical".into()),
    });
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    let wait = waiting(w.manager.run(&id(), None).await.expect("run"));
    assert_eq!(wait.stage, Stage::StagingDeployed);
    let bugs = wait
        .refusal
        .unmet
        .iter()
        .find(|u| matches!(&u.requirement, Requirement::Gate { gate: GateId::CriticalBugs, .. }))
        .expect("the bug gate is unmet");
    assert_eq!(bugs.rule, RuleId::R_7B);
    assert!(bugs.to_string().contains("SHOP-13 (critical)"), "{bugs}");
}

fn looping_policy() -> Policy {
    let mut policy = Policy::default();
    let back = policy.transitions["scope_approval"].clone();
    policy.transitions.insert(
        "back_to_planning".into(),
        policy::Transition { from: Stage::ScopeApproved, to: Stage::Planned, approvals: Vec::new(), ..back },
    );
    policy
}

#[tokio::test]
async fn a_cyclic_policy_is_refused_and_a_run_stops_where_the_graph_loops_r3() {
    let policy = looping_policy();
    let problems = policy.validate().expect_err("a cycle").problems;
    assert!(
        problems.iter().any(|p| p.message.contains("form a cycle") && p.message.contains("back_to_planning")),
        "{problems:?}"
    );
    // An embedder that skips validation still gets a run that ends, and says why.
    let w = world_with(1, policy);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    let release = id();
    let run = tokio::time::timeout(Duration::from_secs(20), w.manager.run(&release, None));
    let wait = waiting(run.await.expect("the run ends").expect("run"));
    assert_eq!(wait.refusal.rule, RuleId::R_3);
    assert!(wait.refusal.to_string().contains("stage graph loops"), "{}", wait.refusal);
    let events = w.manager.history(&id()).await.expect("history").len();
    assert!(events < 20, "the run stopped after one round, not {events} events");
}

/// What ran on a target: (release, what, when).
type Ran = Arc<std::sync::Mutex<Vec<(String, &'static str, std::time::Instant)>>>;

/// A target that writes what ran on it, and when, into a shared timeline.
struct Timeline {
    name: String,
    log: Ran,
}

impl Timeline {
    fn note(&self, release: &ReleaseId, what: &'static str) {
        self.log.lock().expect("log").push((release.to_string(), what, std::time::Instant::now()));
    }
}

#[async_trait]
impl DeployTarget for Timeline {
    fn name(&self) -> &str {
        &self.name
    }
    async fn deploy(&self, request: &DeployRequest, _log: &LogSink) -> Result<String, PortError> {
        self.note(&request.release, "deploy start");
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.note(&request.release, "deploy end");
        Ok("deployed".into())
    }
    async fn rollback(&self, request: &RollbackRequest, _log: &LogSink) -> Result<String, PortError> {
        self.note(&request.release, "rollback start");
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.note(&request.release, "rollback end");
        Ok("rolled back".into())
    }
}

/// A smoke test whose first run is slow and fails; later runs pass.
struct SlowFirstSmoke {
    runs: AtomicUsize,
    started: tokio::sync::Notify,
}

#[async_trait]
impl Probe for SlowFirstSmoke {
    fn name(&self) -> &str {
        "smoke"
    }
    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let first = self.runs.fetch_add(1, Ordering::SeqCst) == 0;
        if first {
            self.started.notify_one();
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        let value = if first { 5_000.0 } else { 80.0 };
        Ok(vec![Measurement { gate: GateId::ResponseTime, value, target: None, source: "smoke".into() }])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_environment_is_held_until_the_verification_of_its_deployment_ends_r6e() {
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let smoke = Arc::new(SlowFirstSmoke { runs: AtomicUsize::new(0), started: tokio::sync::Notify::new() });
    let (target_log, probe) = (log.clone(), smoke.clone());
    let w = world_full(1, Policy::default(), move |ports| {
        let target = Arc::new(Timeline { name: "prod-1".into(), log: target_log });
        ports.targets.insert(env("prod"), vec![target]);
        ports.smoke.insert(env("prod"), vec![probe]);
    });
    let first = plan(ReleaseKind::Minor);
    let mut second = plan(ReleaseKind::Minor);
    second.release = "shop-1.5.0".parse().expect("id");
    second.version = Version::new(1, 5, 0);
    to_accepted_plan(&w, first.clone()).await;
    to_accepted_plan(&w, second.clone()).await;

    // The first release deploys production and starts its (slow, failing) smoke test.
    let manager = w.manager.clone();
    let first_run = tokio::spawn(async move { manager.run(&id(), None).await });
    smoke.started.notified().await;
    // Meanwhile the second may not deploy there: production is held (R-6e).
    let wait = waiting(w.manager.run(&second.release, None).await.expect("run"));
    assert_eq!(wait.stage, Stage::Deploying);
    let held = wait
        .refusal
        .unmet
        .iter()
        .find(|u| matches!(&u.requirement, Requirement::EnvironmentHeld { by, .. } if by == &id()))
        .unwrap_or_else(|| panic!("the refusal names the holder: {}", wait.refusal));
    assert_eq!(held.rule, RuleId::R_6E);
    let outcome = first_run.await.expect("join").expect("run");
    assert!(matches!(outcome, RunOutcome::RolledBack { .. }), "{outcome:?}");
    // Now free: the second deploys after the first's rollback ended, and passes.
    let outcome = w.manager.run(&second.release, None).await.expect("run");
    assert_eq!(outcome, RunOutcome::Final { stage: Stage::Closed });

    let log = log.lock().expect("log").clone();
    let lines: Vec<String> = log.iter().map(|(r, what, _)| format!("{r} {what}")).collect();
    assert_eq!(
        lines,
        [
            "shop-1.4.0 deploy start",
            "shop-1.4.0 deploy end",
            "shop-1.4.0 rollback start",
            "shop-1.4.0 rollback end",
            "shop-1.5.0 deploy start",
            "shop-1.5.0 deploy end",
        ],
        "what ran on prod-1, in order"
    );
}

#[test]
fn preview_is_the_decision_of_the_real_call_without_recording_it_r3() {
    // For a random sequence of commands, each preview names exactly the
    // events the real call then appends (or the same refusal), and records nothing.
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    let actors = [rm(), po(), qa(), ci(), cto()];
    let approvals = [ApprovalId::Scope, ApprovalId::QaSignoff, ApprovalId::Acceptance, ApprovalId::Emergency];
    let roles = [Role::ProductOwner, Role::QaLead, Role::Cto, Role::ReleaseManager];
    let stages = [Stage::ScopeApproved, Stage::Built, Stage::StagingDeployed, Stage::QaVerified, Stage::Released];
    let gates = [GateId::Coverage, GateId::P95Latency, GateId::DocsReviewed, GateId::CriticalBugs];
    let op = (0..6u8, 0..5usize, 0..4usize, 0..4usize, 0..5usize, -1.0..300.0f64);
    let mut runner = TestRunner::new(Config { cases: 24, failure_persistence: None, ..Config::default() });
    let result = runner.run(&prop::collection::vec(op, 1..12), |ops| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let w = world(1);
            w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
            for (kind, a, b, c, d, value) in ops {
                let actor = &actors[a];
                let action = match kind {
                    0 => Action::Approve {
                        approval: approvals[b].clone(),
                        role: roles[c].clone(),
                        channel: Channel::Chat,
                        comment: "ok".into(),
                    },
                    1 => Action::RecordEvidence(Evidence::new(gates[b].clone(), value, "ci")),
                    2 => Action::Advance { to: stages[d].clone() },
                    3 => Action::Schedule {
                        environment: env(["staging", "prod", "test", "qa"][b]),
                        start: ts("2026-11-29T02:00:00Z"),
                        end: ts("2026-11-29T03:00:00Z"),
                        busy: Vec::new(),
                    },
                    4 => Action::Cancel { reason: if c == 0 { String::new() } else { "dropped".into() } },
                    _ => Action::OverrideWindow { reason: "incident".into() },
                };
                let before = w.manager.history(&id()).await.expect("history").len();
                let previewed = w.manager.preview(&id(), actor, action.clone(), None).await;
                prop_assert_eq!(
                    w.manager.history(&id()).await.expect("history").len(),
                    before,
                    "a preview records nothing"
                );
                let real = w.manager.execute(&id(), actor, action).await;
                let history = w.manager.history(&id()).await.expect("history");
                let appended: Vec<Event> = history[before..].iter().map(|e| e.event.clone()).collect();
                match (previewed, real) {
                    (Ok(events), Ok(_)) => prop_assert_eq!(events, appended),
                    (Err(p), Err(r)) => {
                        prop_assert_eq!(p.refusal(), r.refusal());
                        prop_assert!(appended.is_empty());
                    }
                    (p, r) => prop_assert!(false, "preview {:?} but real {:?}", p, r.map(|_| ())),
                }
            }
            Ok(())
        })
    });
    result.expect("preview and the real call agree");
}

/// A smoke test that never answers.
struct Hanging;

#[async_trait]
impl Probe for Hanging {
    fn name(&self) -> &str {
        "hanging smoke test"
    }
    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn the_engine_stops_smoke_tests_at_the_policy_deadline_and_rolls_back_r8f_r8g() {
    let mut policy = Policy::default();
    policy.deadlines.smoke_tests = jiff::SignedDuration::from_millis(300);
    let w = world_full(1, policy, |ports| {
        ports.smoke.insert(env("prod"), vec![Arc::new(Hanging)]);
    });
    to_accepted(&w).await;
    let release = id();
    let run = tokio::time::timeout(Duration::from_secs(30), w.manager.run(&release, None));
    let outcome = run.await.expect("the deadline ends the smoke test, not the probe").expect("run");
    let RunOutcome::RolledBack { reason, .. } = outcome else { panic!("expected a rollback, got {outcome:?}") };
    assert!(reason.contains("deadline `smoke_tests`") && reason.contains("R-8f"), "{reason}");
}

/// Signs with a stand-in: the message's length, so checkpoints exist without a key (the format is
/// what is tested here; signatures are tested with real keys in the adapters and the CLI).
struct StandInSigner;

#[async_trait]
impl Signer for StandInSigner {
    fn algorithm(&self) -> &str {
        "stand-in"
    }
    fn public_key(&self) -> String {
        "00".into()
    }
    async fn sign(&self, message: &[u8]) -> Result<String, PortError> {
        Ok(format!("{:x}", message.len()))
    }
}

/// Publishes notes, but cannot keep chain heads.
struct HeadlessNotes;

#[async_trait]
impl NotesPublisher for HeadlessNotes {
    async fn publish(&self, release: &ReleaseId, _version: &Version, _markdown: &str) -> Result<String, PortError> {
        Ok(format!("memory://notes/{release}"))
    }
    async fn publish_heads(&self, _release: &ReleaseId, _heads: &[u8]) -> Result<Option<String>, PortError> {
        Err(PortError::new("notes headless", "publish heads", ErrorKind::Unavailable, "the wiki is down"))
    }
}

fn publishing() -> engine::EngineConfig {
    use shipwarden::audit::HeadDestination;
    engine::EngineConfig {
        publish_heads: vec![HeadDestination::Notes, HeadDestination::Ticket],
        ..engine::EngineConfig::default()
    }
}

#[tokio::test]
async fn signed_heads_go_to_the_notes_at_every_checkpoint_and_to_the_release_ticket_at_close_r9d() {
    let w = world_configured(1, Policy::default(), |p| p.signer = Some(Arc::new(StandInSigner)), publishing());
    to_accepted(&w).await;
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let history = w.manager.history(&id()).await.expect("history");
    let file = w.notes.file("shop-1.4.0.heads.json").expect("the heads beside the notes");
    let heads = shipwarden::audit::PublishedHeads::read(&String::from_utf8_lossy(&file)).expect("heads");
    assert_eq!(heads.checkpoints, w.manager.checkpoints(&id()).await.expect("checkpoints"));
    let close = heads.newest().expect("a checkpoint");
    assert_eq!((close.stage.clone(), close.sequence), (Stage::Closed, history.len() as u64));
    let comments = w.ticketing.comments();
    let (key, comment) = comments.iter().find(|(_, c)| c.contains("signed chain head")).expect("a ticket comment");
    assert_eq!(key.to_string(), "REL-1");
    assert!(comment.contains(close.head.as_str()), "{comment}");
    assert!(w.manager.take_unpublished().is_empty());
}

#[tokio::test]
async fn a_head_the_notes_cannot_keep_never_blocks_the_close_and_is_reported_r9d() {
    let w = world_configured(
        1,
        Policy::default(),
        |p| {
            p.signer = Some(Arc::new(StandInSigner));
            p.notes = Some(Arc::new(HeadlessNotes));
        },
        publishing(),
    );
    to_accepted(&w).await;
    assert_eq!(w.manager.run(&id(), None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let unpublished = w.manager.take_unpublished();
    assert!(!unpublished.is_empty());
    assert!(unpublished.iter().all(|u| u.destination == shipwarden::audit::HeadDestination::Notes));
    let text = unpublished[0].to_string();
    assert!(text.contains("the wiki is down") && text.contains("shipwarden audit shop-1.4.0 --publish"), "{text}");
    // The ticket still got the close; the retry reports the notes' failure as retryable.
    assert!(w.ticketing.comments().iter().any(|(_, c)| c.contains("signed chain head")));
    let retry = w.manager.publish_heads(&id()).await.expect_err("the notes are still down");
    assert!(retry.to_string().contains("the wiki is down"), "{retry}");
    assert!(w.manager.take_unpublished().is_empty(), "taken once");
}

#[tokio::test]
async fn an_approval_request_reaches_the_notifiers_with_what_it_asks_once_r2b() {
    let mut policy = Policy::default();
    policy.duties.approval_requests = true;
    let w = world_with(1, policy);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    let done = w.manager.run_due(w.clock.now()).await.expect("tick");
    assert_eq!(done.len(), 1, "{done:?}");
    let sent = w.notifier.sent();
    let request = sent.iter().find(|n| n.subject == "Approval needed: `scope` of shop 1.4.0").expect("asked");
    let ask = request.ask.as_ref().expect("the notice carries the ask");
    assert_eq!((ask.approval.clone(), ask.have, ask.needed), (ApprovalId::Scope, 0, 1));
    assert!(w.manager.run_due(w.clock.now()).await.expect("tick").is_empty(), "asked once");
}

#[tokio::test]
async fn reminders_and_expiries_ask_through_the_same_channels_once_each_r2b() {
    let mut policy = Policy::default();
    policy.duties.approval_requests = true;
    let w = world_with(1, policy);
    w.manager.plan(&rm(), plan(ReleaseKind::Minor)).await.expect("plan");
    w.manager.run_due(w.clock.now()).await.expect("tick");
    // A day later: the reminder carries the same ask (Slack buttons, mailed links), once.
    w.clock.advance(Duration::from_secs(24 * 3600));
    w.manager.run_due(w.clock.now()).await.expect("tick");
    w.manager.run_due(w.clock.now()).await.expect("tick");
    let asked =
        |prefix: &str| w.notifier.sent().into_iter().filter(|n| n.subject.starts_with(prefix)).collect::<Vec<_>>();
    assert_eq!(asked("Approval needed").len(), 1, "asked once");
    let reminders = asked("Waiting for approval");
    assert_eq!(reminders.len(), 1, "reminded once");
    assert_eq!(reminders[0].ask.as_ref().map(|a| a.approval.clone()), Some(ApprovalId::Scope));
    // Approved, then eight days: the expiry asks again, once.
    approve(&w, &po(), ApprovalId::Scope, Role::ProductOwner).await;
    w.clock.advance(Duration::from_secs(8 * 24 * 3600));
    w.manager.run_due(w.clock.now()).await.expect("tick");
    w.manager.run_due(w.clock.now()).await.expect("tick");
    let expired = asked("Approval expired");
    assert_eq!(expired.len(), 1, "told once");
    let ask = expired[0].ask.as_ref().expect("the expiry asks for the approval again");
    assert_eq!((ask.approval.clone(), ask.have), (ApprovalId::Scope, 0));
}
