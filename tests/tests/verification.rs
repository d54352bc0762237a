//! Releases judged by the evidence of real systems before production:
//! database migrations rehearsed on the real PostgreSQL `scripts/test`
//! starts (R-7e, R-8b), and the external dependencies production runs,
//! read from HTTP endpoints (R-7f, R-8d).

use std::sync::{Arc, Mutex};

use shipwarden::engine::ReleaseManager;
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;
use shipwarden_adapters::migrate::postgres::PgMigrator;
use shipwarden_adapters::probes::dependencies::HttpDependencies;
use shipwarden_e2e::{Act, Driven, drive_plan, faulty_server, memory_ports, new_database, psql, server_env};

fn env(name: &str) -> EnvName {
    name.parse().expect("env")
}

/// Memory ports for everything but what the test brings, and production's one target.
fn ports(dir: &std::path::Path) -> (shipwarden::engine::Ports, Vec<Arc<MemoryTarget>>) {
    let prod = vec![Arc::new(MemoryTarget::new("prod-1"))];
    (memory_ports(dir, prod.iter().map(|t| t.clone() as Arc<dyn DeployTarget>).collect()), prod)
}

fn manager(ports: shipwarden::engine::Ports) -> ReleaseManager {
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().expect("time")));
    ReleaseManager::builder(Arc::new(MemoryStore::new())).clock(clock).ports(ports).build()
}

fn migrations(dir: &std::path::Path, down: &str) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join("0001_orders.up.sql"), "CREATE TABLE orders (id int PRIMARY KEY, total int);")
        .expect("write");
    std::fs::write(dir.join("0001_orders.down.sql"), down).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_rehearsed_in_staging_then_run_in_production_r7e_r8b() {
    let Some(server) = server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let (staging_db, prod_db) = (new_database(&server, "e2e_"), new_database(&server, "e2e_"));
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = dir.path().join("migrations");
    migrations(&scripts, "DROP TABLE orders;");
    let (mut ports, prod) = ports(dir.path());
    ports.migrators.insert(env("staging"), Arc::new(PgMigrator::new(&staging_db, None, &scripts).expect("runner")));
    ports.migrators.insert(env("prod"), Arc::new(PgMigrator::new(&prod_db, None, &scripts).expect("runner")));
    let manager = manager(ports);
    let version = Version::new(5, 0, 0);
    let driven = drive_plan(&manager, "shop", &version, |_| {}, |u| u.rule.as_str() == "R-7e").await.expect("drive");
    assert!(matches!(driven, Driven::Stage(Stage::Closed)), "{driven:?}");
    for db in [&staging_db, &prod_db] {
        assert_eq!(psql(db, "SELECT id FROM shipwarden_migrations"), "0001_orders");
        assert_eq!(psql(db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders'"), "1");
    }
    assert_eq!(prod[0].calls().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_rollback_script_fails_in_staging_is_refused_before_production_r7e() {
    let Some(server) = server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let (staging_db, prod_db) = (new_database(&server, "e2e_"), new_database(&server, "e2e_"));
    let dir = tempfile::tempdir().expect("tempdir");
    let scripts = dir.path().join("migrations");
    // The rollback script names a table that does not exist: PostgreSQL refuses it.
    migrations(&scripts, "DROP TABLE order_lines;");
    let (mut ports, prod) = ports(dir.path());
    ports.migrators.insert(env("staging"), Arc::new(PgMigrator::new(&staging_db, None, &scripts).expect("runner")));
    ports.migrators.insert(env("prod"), Arc::new(PgMigrator::new(&prod_db, None, &scripts).expect("runner")));
    let manager = manager(ports);
    let version = Version::new(5, 1, 0);
    let driven = drive_plan(&manager, "shop", &version, |_| {}, |u| u.rule.as_str() == "R-7e").await.expect("drive");
    let Driven::Stopped(waiting) = driven else { panic!("expected a refusal, got {driven:?}") };
    assert_eq!(waiting.stage, Stage::Accepted);
    let text = waiting.refusal.to_string();
    assert!(text.contains("gate `migrations_rehearsed` measured no"), "{text}");
    let id = ReleaseId::for_version("shop", &version).expect("id");
    let state = manager.state(&id).await.expect("state");
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::MigrationsRehearsed).expect("measured");
    assert!(
        gate.source.contains("the rollback test in staging failed")
            && gate.source.contains("0001_orders.down.sql failed")
            && gate.source.contains("order_lines"),
        "{}",
        gate.source
    );
    // Staging was left migrated; production was never touched.
    assert_eq!(psql(&staging_db, "SELECT id FROM shipwarden_migrations"), "0001_orders");
    assert_eq!(psql(&prod_db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders'"), "0");
    assert!(prod[0].calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_whose_production_dependencies_drifted_is_refused_until_they_match_r7f_r8d() {
    // What each environment runs, as its endpoint answers: production is behind.
    let running = Arc::new(Mutex::new(
        [
            ("staging", r#"{"payments": "2.4.1", "search": "8.1"}"#),
            ("prod", r#"{"payments": "2.3.0", "search": "8.1"}"#),
        ]
        .map(|(e, v)| (e.to_owned(), v.to_owned()))
        .to_vec(),
    ));
    let answers = running.clone();
    let (base, seen) = faulty_server(Arc::new(move |_, r| {
        let env = r.path.trim_start_matches('/').trim_end_matches("/versions");
        let found = answers.lock().expect("lock").iter().find(|(e, _)| e == env).map(|(_, v)| v.clone());
        match found {
            Some(body) => Act::Reply(200, body, vec![]),
            None => Act::Reply(404, "{}".into(), vec![]),
        }
    }))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut ports, prod) = ports(dir.path());
    for e in ["staging", "prod"] {
        let probe = HttpDependencies::new(&format!("{base}/{{environment}}/versions"));
        ports.dependencies.insert(env(e), vec![Arc::new(probe)]);
    }
    let manager = manager(ports);
    let version = Version::new(6, 0, 0);
    let plan_deps =
        |p: &mut Plan| p.dependencies = vec![Dependency { name: "payments".into(), version: "^2.4".into() }];
    let driven = drive_plan(&manager, "shop", &version, plan_deps, |u| u.rule.as_str() == "R-7f").await.expect("drive");
    let Driven::Stopped(waiting) = driven else { panic!("expected a refusal, got {driven:?}") };
    assert_eq!(waiting.stage, Stage::Accepted);
    assert!(waiting.refusal.to_string().contains("gate `dependency_drift` measured 2"), "{}", waiting.refusal);
    let id = ReleaseId::for_version("shop", &version).expect("id");
    let state = manager.state(&id).await.expect("state");
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::DependencyDrift).expect("measured");
    assert_eq!(
        gate.source,
        "dependencies: payments 2.3.0 in prod does not satisfy the plan's ^2.4; \
         payments: prod runs 2.3.0, staging was verified with 2.4.1"
    );
    assert!(prod[0].calls().is_empty());
    assert!(seen.lock().expect("lock").iter().any(|r| r.path == "/staging/versions"));

    // Production upgraded: measured again, the release goes out.
    running.lock().expect("lock")[1].1 = r#"{"payments": "2.4.1", "search": "8.1"}"#.into();
    let driven = drive_plan(&manager, "shop", &version, |_| {}, |_| false).await.expect("drive");
    assert!(matches!(driven, Driven::Stage(Stage::Closed)), "{driven:?}");
    let state = manager.state(&id).await.expect("state");
    let gate = state.gate_results.iter().rfind(|r| r.gate == GateId::DependencyDrift).expect("measured");
    assert_eq!(gate.source, "dependencies: prod runs payments 2.4.1, search 8.1 as verified in staging");
}
