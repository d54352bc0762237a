//! `/metrics` (Prometheus, OpenMetrics text), `/healthz` and `/readyz`
//! (issue #21, item 5).
//!
//! These three routes need no identity: a deployment exposes them only
//! internally (to its scraper and its orchestrator's probes).
//!
//! - `shipwarden_http_requests_total{method,route,status}` and
//!   `shipwarden_http_request_duration_seconds{method,route}`: every request,
//!   by the route's path template (never the raw path), by [`track`];
//! - `shipwarden_refusals_total{rule}`: problem responses with code `REFUSED`;
//! - `shipwarden_step_duration_seconds{step,outcome}`: steps this replica ran,
//!   from their `step_started` and `step_finished` events;
//! - `shipwarden_releases{project,stage}` and `shipwarden_leases_held{project,kind}`:
//!   read from the store at each scrape (so every replica reports the same).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use shipwarden::audit::Envelope;
use shipwarden::engine::ErrorCode;
use shipwarden::machine::Event;
use shipwarden::ports::ReleaseQuery;
use shipwarden_bindings::error::ErrorDoc;

use crate::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

/// The media type of `/metrics`.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// How long `/readyz` waits for the store.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest problem document read for the refusal counter.
const PROBLEM_LIMIT: usize = 256 * 1024;

/// `/metrics`, `/healthz`, `/readyz` (no identity needed).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/metrics", get(metrics)).route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    project: String,
    stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    step: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaseLabels {
    project: String,
    kind: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

fn step_histogram() -> Histogram {
    // 10 ms .. ~45 min
    Histogram::new(exponential_buckets(0.01, 2.5, 14))
}

/// The server's metrics (cheap to clone: one registry shared).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histograms<RouteLabels>,
    refusals: Family<RuleLabels, Counter>,
    releases: Family<StageLabels, Gauge>,
    steps: Histograms<StepLabels>,
    leases: Family<LeaseLabels, Gauge>,
    /// Steps started and not finished: (release, key) -> (step, started at).
    started: Mutex<HashMap<(String, String), (String, Timestamp)>>,
    /// One scrape at a time reads the store.
    scrape: tokio::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("shipwarden");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Histograms<RouteLabels> = Family::new_with_constructor(latency_histogram);
        let refusals = Family::<RuleLabels, Counter>::default();
        let releases = Family::<StageLabels, Gauge>::default();
        let steps: Histograms<StepLabels> = Family::new_with_constructor(step_histogram);
        let leases = Family::<LeaseLabels, Gauge>::default();
        registry.register("http_requests", "Requests answered, by route template, method and status", requests.clone());
        registry.register_with_unit(
            "http_request_duration",
            "Time to answer a request (to its headers, for streams), by route template and method",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        registry.register(
            "refusals",
            "Requests refused by a rule of the policy (code REFUSED), by rule",
            refusals.clone(),
        );
        registry.register("releases", "Releases in the store, by project and stage", releases.clone());
        registry.register_with_unit(
            "step_duration",
            "Steps this replica ran, from start to finish, by step and outcome",
            prometheus_client::registry::Unit::Seconds,
            steps.clone(),
        );
        registry.register(
            "leases_held",
            "Leases held now (any replica), by project and kind (env, release)",
            leases.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                latency,
                refusals,
                releases,
                steps,
                leases,
                started: Mutex::default(),
                scrape: tokio::sync::Mutex::new(()),
            }),
        }
    }
}

impl Metrics {
    /// Counts an envelope this replica appended: step durations.
    pub fn observe(&self, envelope: &Envelope) {
        let mut started = self.inner.started.lock().unwrap_or_else(|e| e.into_inner());
        match &envelope.event {
            Event::StepStarted { key, step, at, .. } => {
                started.insert((envelope.stream.clone(), key.clone()), (step.as_str().to_owned(), *at));
            }
            Event::StepFinished { key, outcome, at, .. } => {
                if let Some((step, since)) = started.remove(&(envelope.stream.clone(), key.clone())) {
                    let seconds = at.duration_since(since).as_secs_f64().max(0.0);
                    let outcome = serde_json::to_value(outcome)
                        .ok()
                        .and_then(|v| v.get("status").and_then(|s| s.as_str()).map(str::to_owned))
                        .unwrap_or_else(|| "unknown".to_owned());
                    self.inner.steps.get_or_create(&StepLabels { step, outcome }).observe(seconds);
                }
            }
            _ => {}
        }
    }

    fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_owned(), route.to_owned());
        self.inner
            .requests
            .get_or_create(&RequestLabels { method: method.clone(), route: route.clone(), status })
            .inc();
        self.inner.latency.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    fn refused(&self, rule: &str) {
        self.inner.refusals.get_or_create(&RuleLabels { rule: rule.to_owned() }).inc();
    }

    /// Reads the gauges from the store, then the whole registry as OpenMetrics text.
    pub async fn scrape(&self, state: &AppState) -> Result<String, ApiError> {
        let _one = self.inner.scrape.lock().await;
        let mut stages: HashMap<StageLabels, i64> = HashMap::new();
        let mut leases: HashMap<LeaseLabels, i64> = HashMap::new();
        let now = Timestamp::now();
        for project in state.projects.values() {
            let query = ReleaseQuery { project: Some(project.name.clone()), ..ReleaseQuery::default() };
            let releases = project.manager.list(&query).await?;
            let mut names: Vec<(&str, String)> =
                project.loaded.config.environments.keys().map(|env| ("env", format!("env:{env}"))).collect();
            for release in &releases {
                let stage = release.stage.as_str().to_owned();
                *stages.entry(StageLabels { project: project.name.clone(), stage: stage.clone() }).or_default() += 1;
                if !matches!(stage.as_str(), "closed" | "cancelled" | "rolled_back") {
                    names.push(("release", format!("release:{}", release.release)));
                }
            }
            for kind in ["env", "release"] {
                leases.insert(LeaseLabels { project: project.name.clone(), kind: kind.to_owned() }, 0);
            }
            for (kind, name) in names {
                if project.manager.lease(&name).await?.is_some_and(|l| l.expires_at > now) {
                    *leases.entry(LeaseLabels { project: project.name.clone(), kind: kind.to_owned() }).or_default() +=
                        1;
                }
            }
        }
        self.inner.releases.clear();
        for (labels, n) in stages {
            self.inner.releases.get_or_create(&labels).set(n);
        }
        self.inner.leases.clear();
        for (labels, n) in leases {
            self.inner.leases.get_or_create(&labels).set(n);
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.inner.registry)
            .map_err(|_| ApiError::doc(ErrorDoc::new(ErrorCode::Config, "cannot encode the metrics", false)))?;
        Ok(text)
    }
}

/// Middleware: counts every request by its route template and status, with
/// its latency; counts refusals by rule from problem documents.
pub async fn track(
    State(state): State<Arc<AppState>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    state.metrics.request(method.as_str(), &route, status.as_u16(), started.elapsed().as_secs_f64());
    let problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes() == PROBLEM_JSON.as_bytes());
    if !problem || !(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::FORBIDDEN) {
        return response;
    }
    // A problem document is small: read it for its code and rule, and pass it on.
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, PROBLEM_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::invalid("the problem document is too large").into_response(),
    };
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && doc.get("code").and_then(|c| c.as_str()) == Some("REFUSED")
    {
        state.metrics.refused(doc.get("rule").and_then(|r| r.as_str()).unwrap_or("none"));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The metrics (OpenMetrics text); no identity needed.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "The metrics, OpenMetrics text", content_type = "application/openmetrics-text", body = String))
)]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    // The step durations come from the live feed's subscription to the managers.
    state.live.feed(&state).await?;
    let text = state.metrics.scrape(&state).await?;
    let mut response = text.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS));
    Ok(response)
}

/// The process is alive; no identity needed.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    responses((status = 200, description = "Alive", body = Object))
)]
pub async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// Every project's store answers (a cheap read of one lease); 503 otherwise. No identity needed.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: every store answers", body = Object),
        (status = 503, description = "A store does not answer", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    for project in state.projects.values() {
        let why = match tokio::time::timeout(READY_TIMEOUT, project.manager.lease("readyz")).await {
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
        };
        let mut doc =
            ErrorDoc::new(ErrorCode::Adapter, format!("the store of `{}` is not ready: {why}", project.name), true);
        doc.port = Some("event-store".into());
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, doc));
    }
    Ok(axum::Json(serde_json::json!({"status": "ready"})))
}
