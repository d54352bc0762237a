//! HTTP health and latency (R-8a, R-8f): `n` requests to a URL; the probe
//! fails when any answer has an unexpected status, and otherwise reports
//! the 95th percentile latency as the gate it is configured for
//! (`response_time` for smoke tests, `p95_latency` for performance tests).

use std::time::{Duration, Instant};

use async_trait::async_trait;
use shipwarden::ports::{ErrorKind, Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};

/// Requests a URL `n` times and reports the p95 latency in milliseconds.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    name: String,
    url: String,
    requests: u32,
    expect_status: u16,
    timeout: Duration,
    gate: GateId,
    target: Option<String>,
}

/// The `q` quantile (0..=1) of `samples`, by the nearest-rank method.
pub fn percentile(samples: &mut [f64], q: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * samples.len() as f64).ceil() as usize;
    Some(samples[rank.clamp(1, samples.len()) - 1])
}

fn client(timeout: Duration) -> Result<reqwest::Client, PortError> {
    crate::tls_client::http_client(timeout).map_err(|e| PortError::new("probe http", "setup", ErrorKind::Invalid, e))
}

impl HttpProbe {
    /// A smoke test of `url`: 10 requests, each expected to answer 200 within 10 s,
    /// reported as the `response_time` gate.
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            name: format!("GET {url}"),
            url,
            requests: 10,
            expect_status: 200,
            timeout: Duration::from_secs(10),
            gate: GateId::ResponseTime,
            target: None,
        }
    }

    /// How many requests to send (at least one).
    pub fn with_requests(mut self, n: u32) -> Self {
        self.requests = n.max(1);
        self
    }

    /// The status every answer must have.
    pub fn expect_status(mut self, status: u16) -> Self {
        self.expect_status = status;
        self
    }

    /// How long one request may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The gate the p95 is evidence for (`p95_latency` for a performance test).
    pub fn as_gate(mut self, gate: GateId) -> Self {
        self.gate = gate;
        self
    }

    /// The target the measurement is for.
    pub fn for_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Sends the requests; returns the latencies in milliseconds.
    pub async fn sample(&self) -> Result<Vec<f64>, PortError> {
        let client = client(self.timeout)?;
        let mut samples = Vec::with_capacity(self.requests as usize);
        for _ in 0..self.requests {
            let started = Instant::now();
            let response = client.get(&self.url).send().await.map_err(|e| {
                let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
                PortError::new("probe http", "get", kind, format!("GET {}: {e}", self.url))
            })?;
            let status = response.status().as_u16();
            // The whole body counts: a slow body is a slow answer.
            let _ = response.bytes().await;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            if status != self.expect_status {
                let kind = if status >= 500 { ErrorKind::Unavailable } else { ErrorKind::Rejected };
                return Err(PortError::new(
                    "probe http",
                    "get",
                    kind,
                    format!("GET {} answered {status}, expected {}", self.url, self.expect_status),
                ));
            }
        }
        Ok(samples)
    }
}

#[async_trait]
impl Probe for HttpProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let mut samples = self.sample().await?;
        let n = samples.len();
        let p95 = percentile(&mut samples, 0.95).unwrap_or_default();
        let p95 = (p95 * 10.0).round() / 10.0;
        Ok(vec![Measurement {
            gate: self.gate.clone(),
            value: p95,
            target: self.target.clone(),
            source: format!("GET {}: {n} requests, all {}, p95 {p95} ms", self.url, self.expect_status),
        }])
    }
}
