//! Releases watched through a real Prometheus (`scripts/test` starts it,
//! scraping every second a port this test serves). The new version's p95 is
//! 2.5 s; the policy's limit is 200 ms.
//!
//! 1. As a smoke test's measurement: verification fails and the engine rolls
//!    production back at once instead of waiting for the deadline (R-8f, R-8g).
//! 2. As a monitor: the service turns slow when the new version is deployed;
//!    the breach, sustained through the verification window, rolls
//!    production back (R-8e, R-8g).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use shipwarden::engine::ReleaseManager;
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;
use shipwarden_adapters::probes::prometheus::PrometheusProbe;
use shipwarden_e2e::{drive_version, memory_ports, server_env};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const P95: &str = "shop_request_duration_p95_seconds{env=\"{environment}\"}";

fn env(name: &str) -> EnvName {
    name.parse().expect("env")
}

/// Serves the metric on the port Prometheus scrapes: 2.5 s when `slow`, else 50 ms.
async fn serve(port: u16, slow: Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the target port is free");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let slow = slow.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let value = if slow.load(Ordering::SeqCst) { "2.5" } else { "0.05" };
                let body = format!(
                    "# TYPE shop_request_duration_p95_seconds gauge\nshop_request_duration_p95_seconds {value}\n"
                );
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
}

/// Waits until Prometheus has scraped the value `ms`.
async fn until_scraped(probe: &PrometheusProbe, ms: f64) {
    let start = Instant::now();
    while !probe.check(&env("prod")).await.is_ok_and(|m| m.iter().any(|m| m.value == ms)) {
        assert!(start.elapsed() < Duration::from_secs(30), "Prometheus never scraped {ms} ms");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A production host whose new version is slow: deploying it turns the service slow, rolling back fast.
struct SlowRelease {
    inner: MemoryTarget,
    slow: Arc<AtomicBool>,
}

#[async_trait]
impl DeployTarget for SlowRelease {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        let done = self.inner.deploy(request, log).await?;
        self.slow.store(true, Ordering::SeqCst);
        Ok(done)
    }
    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let done = self.inner.rollback(request, log).await?;
        self.slow.store(false, Ordering::SeqCst);
        Ok(done)
    }
    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        self.inner.status(key).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_p95_above_the_limit_in_prometheus_rolls_production_back_r8e_r8f_r8g() {
    let Some(url) = server_env("SHIPWARDEN_TEST_PROMETHEUS_URL") else { return };
    let port: u16 = server_env("SHIPWARDEN_TEST_PROMETHEUS_TARGET_PORT").and_then(|p| p.parse().ok()).expect("port");
    let slow = Arc::new(AtomicBool::new(true));
    serve(port, slow.clone()).await;
    let probe =
        || PrometheusProbe::new(&url, Duration::from_secs(5)).expect("probe").query(GateId::ResponseTime, P95, 1000.0);
    until_scraped(&probe(), 2500.0).await;

    // 1. The smoke test measures 2.5 s: rolled back at once (R-8f).
    let dir = tempfile::tempdir().expect("tempdir");
    let prod_targets = [Arc::new(MemoryTarget::new("prod-1")), Arc::new(MemoryTarget::new("prod-2"))];
    let prod: Vec<Arc<dyn DeployTarget>> = prod_targets.iter().map(|t| t.clone() as Arc<dyn DeployTarget>).collect();
    let mut ports1 = memory_ports(dir.path(), prod);
    ports1.smoke.insert(env("prod"), vec![Arc::new(probe())]);
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().expect("time")));
    let manager = ReleaseManager::builder(Arc::new(MemoryStore::new())).clock(clock).ports(ports1).build();
    let version = Version::new(4, 0, 0);
    assert_eq!(drive_version(&manager, "shop", &version).await.expect("drive"), Stage::RolledBack);
    let id = ReleaseId::for_version("shop", &version).expect("id");
    let state = manager.state(&id).await.expect("state");
    let reason = state.rollback_reason.clone().unwrap_or_default();
    assert!(reason.contains("response_time") && reason.contains("2500"), "{reason}");
    let result = state.gate_results.iter().find(|r| r.gate == GateId::ResponseTime).expect("smoke evidence");
    assert!(result.source.starts_with("prometheus http://127.0.0.1:"), "{}", result.source);
    for t in &prod_targets {
        assert_eq!(t.calls().iter().filter(|c| c.operation == "rollback").count(), 1, "{} rolled back", t.name());
    }

    // 2. Healthy until the new version is out; then slow through the verification window (R-8e).
    slow.store(false, Ordering::SeqCst);
    until_scraped(&probe(), 50.0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let host = Arc::new(SlowRelease { inner: MemoryTarget::new("prod-1"), slow: slow.clone() });
    let mut ports2 = memory_ports(dir.path(), vec![host.clone() as Arc<dyn DeployTarget>]);
    ports2.monitors.insert(env("prod"), vec![Arc::new(probe())]);
    let mut policy = Policy::default();
    policy.monitoring.interval = jiff::SignedDuration::from_millis(500);
    policy.monitoring.sustained = jiff::SignedDuration::from_secs(1);
    policy.monitoring.verification_window = jiff::SignedDuration::from_secs(30);
    // Real time (sleeps wait, Prometheus scrapes meanwhile), on a Saturday outside the blackout.
    let clock = Arc::new(ShiftedClock::starting_at("2026-11-28T10:00:00Z".parse().expect("time")));
    let manager =
        ReleaseManager::builder(Arc::new(MemoryStore::new())).policy(policy).clock(clock).ports(ports2).build();
    let version = Version::new(4, 1, 0);
    let started = Instant::now();
    assert_eq!(drive_version(&manager, "shop", &version).await.expect("drive"), Stage::RolledBack);
    assert!(started.elapsed() < Duration::from_secs(30), "stopped before the window ended");
    let id = ReleaseId::for_version("shop", &version).expect("id");
    let state = manager.state(&id).await.expect("state");
    let reason = state.rollback_reason.clone().unwrap_or_default();
    assert!(
        reason.contains("response_time on 127.0.0.1:")
            && reason.contains("in prod measured 2500 ms, required < 200 ms, for 1 s (R-8e)")
            && state.findings.iter().any(|f| f.rule == shipwarden::RuleId::R_8E),
        "{reason}"
    );
    let window = state.steps.iter().find(|s| s.key.starts_with("monitor:verify:prod#")).expect("window watched");
    assert!(window.log.iter().any(|l| l.text.contains("= 50 ms")), "healthy samples first: {:?}", window.log);
    assert!(window.log.iter().any(|l| l.text.contains("= 2500 ms (breach: required < 200 ms)")));
    assert!(!slow.load(Ordering::SeqCst), "the rollback put the fast version back");
    assert!(!state.steps.iter().any(|s| s.step == StepKind::SmokeTest));
}
