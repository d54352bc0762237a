//! A release whose smoke test asks a real Prometheus (`scripts/test` starts
//! it, scraping every second a port this test serves): the new version's p95
//! is 2.5 s, the policy's limit is 200 ms, so verification fails and the
//! engine rolls production back at once instead of waiting for the deadline
//! (R-8f, R-8g).

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipwarden::engine::ReleaseManager;
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;
use shipwarden_adapters::probes::prometheus::PrometheusProbe;
use shipwarden_e2e::{drive_version, server_env};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const P95: &str = "shop_request_duration_p95_seconds{env=\"{environment}\"}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p95_above_the_limit_in_prometheus_rolls_production_back_r8f_r8g() {
    let Some(url) = server_env("SHIPWARDEN_TEST_PROMETHEUS_URL") else { return };
    let port: u16 = server_env("SHIPWARDEN_TEST_PROMETHEUS_TARGET_PORT").and_then(|p| p.parse().ok()).expect("port");
    // The service Prometheus scrapes: after the deployment, its p95 is 2.5 s.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the target port is free");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let body = "# TYPE shop_request_duration_p95_seconds gauge\nshop_request_duration_p95_seconds 2.5\n";
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
    let probe =
        PrometheusProbe::new(&url, Duration::from_secs(5)).expect("probe").query(GateId::ResponseTime, P95, 1000.0);
    let prod: EnvName = "prod".parse().expect("env");
    let start = Instant::now();
    while !probe.check(&prod).await.is_ok_and(|m| m.iter().any(|m| m.value == 2500.0)) {
        assert!(start.elapsed() < Duration::from_secs(30), "Prometheus never scraped the service");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let env = |name: &str| -> EnvName { name.parse().expect("env") };
    let prod_targets = [Arc::new(MemoryTarget::new("prod-1")), Arc::new(MemoryTarget::new("prod-2"))];
    let mut ports = shipwarden::engine::Ports {
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(dir.path(), vec![("app.tar".into(), b"app".to_vec())]))),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(Arc::new(MemoryNotes::new())),
        notifiers: vec![Arc::new(RecordingNotifier::new())],
        ..Default::default()
    };
    ports.targets.insert(env("staging"), vec![Arc::new(MemoryTarget::new("staging-1"))]);
    ports.targets.insert(env("test"), vec![Arc::new(MemoryTarget::new("test-1"))]);
    ports.targets.insert(env("prod"), prod_targets.iter().map(|t| t.clone() as Arc<dyn DeployTarget>).collect());
    ports.smoke.insert(prod.clone(), vec![Arc::new(probe)]);
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().expect("time")));
    let manager = ReleaseManager::builder(Arc::new(MemoryStore::new())).clock(clock).ports(ports).build();

    let version = Version::new(4, 0, 0);
    let stage = drive_version(&manager, "shop", &version).await.expect("drive");
    assert_eq!(stage, Stage::RolledBack);
    let id = ReleaseId::for_version("shop", &version).expect("id");
    let state = manager.state(&id).await.expect("state");
    let reason = state.rollback_reason.clone().unwrap_or_default();
    assert!(reason.contains("response_time") && reason.contains("2500"), "{reason}");
    let result = state.gate_results.iter().find(|r| r.gate == GateId::ResponseTime).expect("smoke evidence");
    assert!(result.source.starts_with("prometheus http://127.0.0.1:"), "{}", result.source);
    for t in &prod_targets {
        assert_eq!(t.calls().iter().filter(|c| c.operation == "rollback").count(), 1, "{} rolled back", t.name());
    }
}
