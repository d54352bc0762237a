//! The Prometheus probe against a real Prometheus (`scripts/test` starts
//! Debian's `prometheus`, scraping every second a port this test serves):
//! instant and range PromQL over the HTTP API, values scaled into the gate's
//! unit, `{environment}` in queries, and refused queries (R-8a, R-8f).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shipwarden::ports::{ErrorKind, Probe};
use shipwarden::{EnvName, GateId};
use shipwarden_adapters::probes::prometheus::PrometheusProbe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const P95: &str = "shop_request_duration_p95_seconds{env=\"{environment}\", route=\"/checkout\"}";

/// Serves `/metrics` in Prometheus' text format with the p95 gauge set to `value` (seconds, as f64 bits).
async fn serve_metrics(port: u16, value: Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the target port is free");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let value = value.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let p95 = f64::from_bits(value.load(Ordering::SeqCst));
                let body = format!(
                    "# HELP shop_request_duration_p95_seconds p95 request latency\n\
                     # TYPE shop_request_duration_p95_seconds gauge\n\
                     shop_request_duration_p95_seconds{{route=\"/checkout\"}} {p95}\n"
                );
                let reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(reply.as_bytes()).await;
            });
        }
    });
}

fn prod() -> EnvName {
    "prod".parse().expect("env")
}

/// Asks until the probe measures `expected` (Prometheus scrapes every second), for at most 30 s.
async fn measured(probe: &PrometheusProbe, expected: f64) -> Vec<shipwarden::ports::Measurement> {
    let start = Instant::now();
    loop {
        let last = probe.check(&prod()).await;
        if let Ok(m) = &last
            && m.iter().any(|m| (m.value - expected).abs() < 1e-6)
        {
            return m.clone();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "Prometheus never showed {expected}: {last:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_reads_what_prometheus_scrapes_instant_and_range_r8f() {
    let Some(url) = common::server_env("SHIPWARDEN_TEST_PROMETHEUS_URL") else { return };
    let port: u16 =
        common::server_env("SHIPWARDEN_TEST_PROMETHEUS_TARGET_PORT").and_then(|p| p.parse().ok()).expect("port");
    let value = Arc::new(AtomicU64::new(0.12f64.to_bits()));
    serve_metrics(port, value.clone()).await;
    let probe =
        PrometheusProbe::new(&url, Duration::from_secs(5)).expect("probe").query(GateId::ResponseTime, P95, 1000.0);

    // 0.12 s is 120 ms for the response_time gate; the series' instance is the target.
    let m = measured(&probe, 120.0).await;
    assert_eq!(m[0].gate, GateId::ResponseTime);
    assert_eq!(m[0].target.as_deref(), Some(format!("127.0.0.1:{port}").as_str()));
    assert!(m[0].source.contains("env=\"prod\""), "{{environment}} was filled in: {}", m[0].source);
    let before = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;

    // The service gets slow: the next scrapes show it.
    value.store(2.5f64.to_bits(), Ordering::SeqCst);
    measured(&probe, 2500.0).await;
    // The window ends a step past now: evaluation steps fall on start + k s, and the newest sample may be
    // younger than the last step before `now`.
    let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0 + 1.0;
    let series = probe.range(&prod(), P95, 1000.0, before - 5.0, now, Duration::from_secs(1)).await.expect("range");
    let values: Vec<f64> = series.iter().flat_map(|s| s.samples.iter().map(|(_, v)| *v)).collect();
    assert!(values.contains(&120.0) && values.contains(&2500.0), "the window holds both: {values:?}");

    // Another environment has no such series: nothing measured is an error, not a pass.
    let err = probe.check(&"staging".parse().expect("env")).await.expect_err("no series");
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.to_string().contains("returned no series"), "{err}");
}

#[tokio::test]
async fn a_query_prometheus_cannot_parse_is_not_retried_and_a_down_server_is() {
    let Some(url) = common::server_env("SHIPWARDEN_TEST_PROMETHEUS_URL") else { return };
    let bad = PrometheusProbe::new(&url, Duration::from_secs(5)).expect("probe").query(GateId::Cpu, "rate(", 1.0);
    let err = bad.check(&prod()).await.expect_err("bad_data");
    assert!(!err.retryable, "{err}");
    assert!(err.to_string().contains("Prometheus answered 400: bad_data"), "{err}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let probe = PrometheusProbe::new(down, Duration::from_secs(2)).expect("probe").query(GateId::Cpu, "up", 1.0);
    let err = probe.check(&prod()).await.expect_err("down");
    assert!(err.retryable, "{err}");
    let token = PrometheusProbe::new(&url, Duration::from_secs(2))
        .expect("probe")
        .with_token(secrecy::SecretString::from("glc_prometheus_secret".to_owned()));
    assert!(!format!("{token:?}").contains("glc_prometheus_secret"));
}
