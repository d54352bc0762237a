//! Measurements from Prometheus (R-8a, R-8e, R-8f), through its HTTP API
//! (<https://prometheus.io/docs/prometheus/latest/querying/api/>): the
//! numbers the team's dashboards already show (Grafana reads the same data).
//!
//! Each query is PromQL that yields one value per series (`{environment}` in
//! it is replaced by the environment's name) and is evidence for one gate,
//! times a scale (`1000` turns Prometheus' seconds into the gate's ms):
//!
//! ```text
//! histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{env="{environment}"}[1m])))
//!   → response_time, scale 1000
//! ```
//!
//! [`Probe::check`] runs every query as an instant query
//! (`GET /api/v1/query`) and reports one measurement per series (its
//! `instance` as the target). [`PrometheusProbe::range`] runs a range query
//! (`GET /api/v1/query_range`) for the samples of a window, which is how
//! watching a deployment asks "above the limit for how long".
//!
//! Failures: 5xx, 429 and connection errors are retryable; `bad_data`
//! (a query Prometheus cannot parse) and other 4xx are not; a query that
//! returns no series is an error — nothing was measured. A bearer token
//! (Grafana Cloud, a proxy) comes from an environment variable into a
//! `secrecy` type and is never in errors or `Debug`.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shipwarden::ports::{ErrorKind, Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};

use crate::rest::{send, status_error};

/// A PromQL query that is evidence for a gate.
#[derive(Debug, Clone)]
pub struct PromQuery {
    /// The gate.
    pub gate: GateId,
    /// The PromQL; `{environment}` is replaced by the environment's name.
    pub query: String,
    /// Each value is multiplied by this (`1000`: seconds to ms).
    pub scale: f64,
}

/// One series of a range query: its labels and its (unix seconds, value) samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The series' labels (`instance`, `job`, …).
    pub labels: serde_json::Map<String, serde_json::Value>,
    /// The samples, oldest first, values scaled.
    pub samples: Vec<(f64, f64)>,
}

/// Gates measured by PromQL queries against one Prometheus.
pub struct PrometheusProbe {
    name: String,
    base: String,
    queries: Vec<PromQuery>,
    token: Option<SecretString>,
    client: reqwest::Client,
}

impl std::fmt::Debug for PrometheusProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusProbe")
            .field("name", &self.name)
            .field("base", &self.base)
            .field("queries", &self.queries)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

impl PrometheusProbe {
    /// Queries against the Prometheus at `base` (`http://prometheus:9090`), each under `timeout`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base: impl Into<String>, timeout: Duration) -> Result<Self, PortError> {
        let base = base.into().trim_end_matches('/').to_owned();
        let name = format!("prometheus {base}");
        let client = crate::tls_client::http_client(timeout)
            .map_err(|e| PortError::new(&name, "setup", ErrorKind::Invalid, e))?;
        Ok(Self { name, base, queries: Vec::new(), token: None, client })
    }

    /// Adds a query that is evidence for `gate`, each value times `scale`.
    pub fn query(mut self, gate: GateId, promql: impl Into<String>, scale: f64) -> Self {
        self.queries.push(PromQuery { gate, query: promql.into(), scale });
        self
    }

    /// Sends `Authorization: Bearer <token>` (a proxy, Grafana Cloud).
    pub fn with_token(mut self, token: SecretString) -> Self {
        self.token = Some(token);
        self
    }

    fn fail(&self, operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.name.clone(), operation, kind, message)
    }

    /// Calls an API endpoint; returns `data` of a `success` answer.
    async fn api(
        &self,
        operation: &str,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<serde_json::Value, PortError> {
        let mut request = self.client.get(format!("{}{path}", self.base)).query(params);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        let reply = send(&self.name, operation, request).await?;
        let body = reply.json();
        if !reply.ok() {
            let detail = format!(
                "{}: {}",
                body["errorType"].as_str().unwrap_or("error"),
                body["error"].as_str().unwrap_or_default()
            );
            return Err(status_error(&self.name, operation, "Prometheus", &reply, &detail));
        }
        if body["status"] != "success" {
            return Err(self.fail(operation, ErrorKind::Invalid, format!("Prometheus answered {}", reply.text)));
        }
        Ok(body["data"].clone())
    }

    fn value(&self, operation: &str, pair: &serde_json::Value, scale: f64) -> Result<(f64, f64), PortError> {
        let at = pair[0].as_f64().ok_or_else(|| self.fail(operation, ErrorKind::Invalid, "a sample without a time"))?;
        let text =
            pair[1].as_str().ok_or_else(|| self.fail(operation, ErrorKind::Invalid, "a sample without a value"))?;
        // Prometheus writes NaN and ±Inf as strings too.
        let value: f64 =
            text.parse().map_err(|_| self.fail(operation, ErrorKind::Invalid, format!("value {text:?}")))?;
        Ok((at, value * scale))
    }

    /// Every query's value now, one measurement per series.
    ///
    /// # Errors
    /// When Prometheus cannot be asked, refuses a query, or a query returns no series.
    pub async fn instant(&self, environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let mut out = Vec::new();
        for q in &self.queries {
            let promql = q.query.replace("{environment}", environment.as_str());
            let data = self.api("query", "/api/v1/query", &[("query", promql.clone())]).await?;
            let result = match data["resultType"].as_str() {
                Some("vector") => data["result"].as_array().cloned().unwrap_or_default(),
                Some("scalar") => vec![serde_json::json!({ "metric": {}, "value": data["result"] })],
                other => {
                    return Err(self.fail(
                        "query",
                        ErrorKind::Invalid,
                        format!("`{promql}` gave a {other:?}, not a vector"),
                    ));
                }
            };
            if result.is_empty() {
                return Err(self.fail(
                    "query",
                    ErrorKind::Invalid,
                    format!("`{promql}` returned no series: nothing measured"),
                ));
            }
            for series in &result {
                let (_, value) = self.value("query", &series["value"], q.scale)?;
                if value.is_nan() {
                    return Err(self.fail("query", ErrorKind::Invalid, format!("`{promql}` is NaN (no traffic?)")));
                }
                out.push(Measurement {
                    gate: q.gate.clone(),
                    value,
                    target: series["metric"]["instance"].as_str().map(str::to_owned),
                    source: format!("prometheus {}: {promql}", self.base),
                });
            }
        }
        Ok(out)
    }

    /// The samples of `promql` (`{environment}` replaced) between `start` and `end` (unix seconds), every `step`.
    ///
    /// # Errors
    /// When Prometheus cannot be asked or refuses the query.
    pub async fn range(
        &self,
        environment: &EnvName,
        promql: &str,
        scale: f64,
        start: f64,
        end: f64,
        step: Duration,
    ) -> Result<Vec<Series>, PortError> {
        let promql = promql.replace("{environment}", environment.as_str());
        let params = [
            ("query", promql.clone()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{}s", step.as_secs_f64().max(0.001))),
        ];
        let data = self.api("query_range", "/api/v1/query_range", &params).await?;
        let mut out = Vec::new();
        for series in data["result"].as_array().into_iter().flatten() {
            let samples = series["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|pair| self.value("query_range", pair, scale))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Series { labels: series["metric"].as_object().cloned().unwrap_or_default(), samples });
        }
        Ok(out)
    }
}

#[async_trait]
impl Probe for PrometheusProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        self.instant(environment).await
    }
}
