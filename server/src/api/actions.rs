//! What people and the procedure do to a release: evidence (values and CI's
//! report files), advance, schedule, override, deploy, verify, rollback,
//! cancel, resolve, report a step. Each handler mirrors its CLI verb
//! (`cli/src/verbs/*.rs`) around one engine call.
//!
//! The calls that run steps (advance, deploy, verify, rollback) run in a task
//! of their own: a request that times out, or a client that goes away, never
//! stops a step half done; the release goes on and `GET /v1/releases/{id}` shows it.

use std::future::Future;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shipwarden::engine::{ReleaseManager, RunOutcome};
use shipwarden::machine::Evidence;
use shipwarden::{EnvName, GateId, ReleaseId, Stage, StepKind, StepOutcome};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::releases::{parse, release_of, to_json};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Runs `work` in a task of its own and waits for it: dropping the wait (a
/// timeout, a closed connection) leaves the work running to its end.
async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::spawn(work).await.map_err(|e| {
        let mut error = ApiError::invalid(format!("the engine call stopped: {e}"));
        error.status = StatusCode::INTERNAL_SERVER_ERROR;
        error
    })?
}

/// The steps the procedure runs by itself (advance, deploy, verify) are
/// recorded as the engine's automation, not as the caller: only someone who
/// holds a role in the project may start them; a reader (`[server.projects.NAME]
/// readers`) may not (403, code `FORBIDDEN`).
fn may_drive(state: &AppState, project: &crate::state::Project, caller: &crate::Verified) -> Result<(), ApiError> {
    if project.actor(caller, &state.settings).roles.is_empty() {
        return Err(ApiError::forbidden(format!(
            "`{}` holds no role in project `{}`: only its users start its steps",
            caller.user, project.name
        )));
    }
    Ok(())
}

/// Where a run stopped, and the release's stage after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunResult {
    /// The engine's `RunOutcome`, documented as an object: `outcome` is `reached`,
    /// `waiting`, `failed` (with `error`, the failed step's `StepError`), `rolled_back`
    /// or `final`; a waiting or failed run says its `stage` and `refusal` (rule, unmet requirements).
    #[schema(value_type = Object)]
    pub outcome: RunOutcome,
    /// The stage the release is in now.
    pub stage: Option<String>,
}

async fn run_result(
    manager: &ReleaseManager,
    release: &ReleaseId,
    outcome: RunOutcome,
) -> Result<Json<RunResult>, ApiError> {
    let after = manager.state(release).await?;
    Ok(Json(RunResult { outcome, stage: after.stage.as_ref().map(ToString::to_string) }))
}

/// `POST /v1/releases/{id}/evidence`: a measured value for a gate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// The gate (`coverage`, `p95_latency`, `critical_bugs`, `docs_reviewed`, …).
    pub gate: String,
    /// The measured value, in the gate's unit.
    pub value: f64,
    /// The environment measured.
    pub environment: Option<String>,
    /// Where the value comes from (default: `reported by <user>`).
    pub source: Option<String>,
}

/// Records a value as evidence for a gate.
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/evidence",
    tag = "evidence",
    params(("id" = String, Path, description = "The release")),
    request_body = EvidenceBody,
    responses(
        (status = 200, description = "The release's state after it (`ReleaseState`, an object)", body = Object),
        (status = 400, description = "A malformed body or value", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn evidence(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<EvidenceBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let gate: GateId = parse("gate", &body.gate)?;
    if !body.value.is_finite() {
        return Err(ApiError::invalid("value: must be a finite number"));
    }
    let source = body.source.unwrap_or_else(|| format!("reported by {}", actor.user));
    let mut evidence = Evidence::new(gate, body.value, source);
    if let Some(e) = &body.environment {
        evidence = evidence.in_env(parse("environment", e)?);
    }
    let after = project.manager.record_evidence(&release, &actor, evidence).await?;
    Ok(Json(to_json(&*after)?))
}

/// `POST /v1/releases/{id}/evidence/files`: which report the body is.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// `coverage` (LCOV, Cobertura or JaCoCo XML), `junit` (JUnit XML) or `perf` (JMeter `.jtl` CSV/XML, k6 JSON summary).
    pub format: String,
    /// The environment measured.
    pub environment: Option<String>,
    /// Where the values come from (default: the file's own description).
    pub source: Option<String>,
}

/// Records the evidence in one of CI's report files, read by the same
/// importers as the CLI and the bindings (R-7a, R-7c, R-7g); the body is the
/// file as it is, at most `[server] max_upload_bytes`.
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/evidence/files",
    tag = "evidence",
    params(("id" = String, Path, description = "The release"), UploadQuery),
    request_body(content = Vec<u8>, description = "The report file, as it is", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The release's state after the evidence (`ReleaseState`, an object)", body = Object),
        (status = 400, description = "Not a report of that format (the problem names the line), or an unknown format", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than `[server] max_upload_bytes`", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn evidence_file(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    q: Result<ApiQuery<UploadQuery>, ApiError>,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    use shipwarden_adapters::evidence::gates::{Reports, from_reports};
    let (release, project) = release_of(&state, &caller, &id)?;
    // The query is judged after the release: who may not see it learns nothing from a 400.
    let ApiQuery(q) = q?;
    let actor = project.actor(&caller, &state.settings);
    let env: Option<EnvName> = q.environment.as_deref().map(|e| parse("environment", e)).transpose()?;
    let limit = crate::hardening::Limits::of(&state.settings).upload;
    let file = receive(body, limit).await?;
    let path = file.path().to_path_buf();
    let reports = match q.format.as_str() {
        "coverage" => Reports { coverage: Some(path), ..Default::default() },
        "junit" => Reports { junit: Some(path), ..Default::default() },
        "perf" => Reports { perf: Some(path), ..Default::default() },
        other => return Err(ApiError::invalid(format!("format `{other}`: use `coverage`, `junit` or `perf`"))),
    };
    let policy = project.manager.policy().clone();
    let imported = tokio::task::spawn_blocking(move || from_reports(&reports, &policy))
        .await
        .map_err(|e| ApiError::invalid(format!("the import stopped: {e}")))?
        .map_err(|e| ApiError::invalid(e.to_string().replace(&file.path().display().to_string(), "upload")))?;
    let mut after = project.manager.state(&release).await?;
    for mut evidence in imported {
        if let Some(e) = &env {
            evidence = evidence.in_env(e.clone());
        }
        evidence.source = match &q.source {
            Some(s) => s.clone(),
            None => evidence.source.replace(&file.path().display().to_string(), "upload"),
        };
        after = project.manager.record_evidence(&release, &actor, evidence).await?;
    }
    Ok(Json(to_json(&*after)?))
}

/// The request body written to a temporary file, refused past `limit` bytes
/// (whatever `Content-Length` said, chunked or not).
async fn receive(body: Body, limit: u64) -> Result<tempfile::NamedTempFile, ApiError> {
    use http_body_util::BodyExt;
    use std::io::Write;
    let io = |e: std::io::Error| {
        let mut error = ApiError::invalid(format!("cannot keep the upload: {e}"));
        error.status = StatusCode::INTERNAL_SERVER_ERROR;
        error
    };
    let mut file = tempfile::NamedTempFile::new().map_err(io)?;
    let mut body = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    let mut received = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                super::extract::status_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the upload is larger than `[server] max_upload_bytes` ({limit} bytes)"),
                )
            } else {
                ApiError::invalid(format!("the upload did not arrive whole: {e}"))
            }
        })?;
        if let Ok(data) = frame.into_data() {
            received += data.len() as u64;
            file.write_all(&data).map_err(io)?;
        }
    }
    if received == 0 {
        return Err(ApiError::invalid("the upload is empty: send the report file as the body"));
    }
    file.flush().map_err(io)?;
    Ok(file)
}

/// `POST /v1/releases/{id}/advance`.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBody {
    /// Stop at this stage (default: as far as the procedure goes without people).
    pub until: Option<String>,
}

/// Runs every automatic step up to the next human decision, a stage (`until`), or a failure.
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/advance",
    tag = "steps",
    params(("id" = String, Path, description = "The release")),
    request_body = AdvanceBody,
    responses(
        (status = 200, description = "Where the run stopped: reached, waiting (with the refusal), failed (with the step's error), rolled back, final", body = RunResult),
        (status = 403, description = "The caller holds no role in the project (a reader)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another driver holds the release", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn advance(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AdvanceBody>,
) -> Result<Json<RunResult>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    may_drive(&state, project, &caller)?;
    let until: Option<Stage> = body.until.as_deref().map(|s| parse("until", s)).transpose()?;
    let manager = project.manager.clone();
    detached(async move {
        let outcome = manager.run(&release, until).await?;
        run_result(&manager, &release, outcome).await
    })
    .await
}

/// `POST /v1/releases/{id}/bookings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// The environment.
    pub environment: String,
    /// Start: `2026-11-28T10:00:00Z`, or a local time in the policy's zone (`2026-11-28T10:00`).
    pub start: String,
    /// How long (`1h`, `30m`; default `1h`).
    pub duration: Option<String>,
}

/// Books a deployment window (R-6a, R-6e).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/bookings",
    tag = "schedule",
    params(("id" = String, Path, description = "The release")),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "The release's state after the booking (`ReleaseState`, an object)", body = Object),
        (status = 400, description = "A malformed body or time", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule (a blackout, a freeze, a clash)", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn schedule(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let env: EnvName = parse("environment", &body.environment)?;
    let start = parse_time("start", &body.start, project.manager.policy())?;
    let text = body.duration.as_deref().unwrap_or("1h");
    let length: jiff::SignedDuration =
        text.parse().map_err(|e| ApiError::invalid(format!("duration `{text}`: {e}")))?;
    if length.is_negative() || length.is_zero() {
        return Err(ApiError::invalid(format!("duration `{text}`: must be positive")));
    }
    let end = start.checked_add(length).map_err(|e| ApiError::invalid(format!("duration `{text}`: {e}")))?;
    let after = project.manager.schedule(&release, &actor, env, start, end).await?;
    Ok(Json(to_json(&*after)?))
}

/// An instant: RFC 3339, or a local date-time in the policy's zone (as the CLI reads it).
pub(crate) fn parse_time(field: &str, text: &str, policy: &shipwarden::Policy) -> Result<jiff::Timestamp, ApiError> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let civil: jiff::civil::DateTime = text.replace(' ', "T").parse().map_err(|e| {
        ApiError::invalid(format!("{field} `{text}`: {e}; use 2026-11-28T10:00:00Z or a local 2026-11-28T10:00"))
    })?;
    civil
        .to_zoned_datetime(policy.time_zone())
        .map(|z| z.timestamp())
        .map_err(|e| ApiError::invalid(format!("{field}: {e}")))
}

/// A reason, for an override, a rollback or a cancellation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Why; kept in the audit trail.
    pub reason: String,
}

fn reason(body: &ReasonBody) -> Result<&str, ApiError> {
    let r = body.reason.trim();
    if r.is_empty() {
        return Err(ApiError::invalid("reason: say why"));
    }
    Ok(r)
}

/// Overrides blackout windows and freezes for the release, with a reason (R-6b).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/override",
    tag = "schedule",
    params(("id" = String, Path, description = "The release")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The release's state after the override (`ReleaseState`, an object)", body = Object),
        (status = 403, description = "The caller may not override", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn override_window(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let after = project.manager.override_window(&release, &actor, reason(&body)?).await?;
    Ok(Json(to_json(&*after)?))
}

/// `POST /v1/releases/{id}/deployments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployBody {
    /// The environment.
    pub environment: String,
}

/// Deploys the release to an environment's targets (R-8e); a failed
/// deployment is a problem (`ADAPTER`, kind `step_failed`, with the `step`'s error).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/deployments",
    tag = "steps",
    params(("id" = String, Path, description = "The release")),
    request_body = DeployBody,
    responses(
        (status = 200, description = "Deployed: the release's state after it (`ReleaseState`, an object)", body = Object),
        (status = 403, description = "The caller holds no role in the project (a reader)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another driver holds the release", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 502, description = "The deployment failed: the failed step's port, operation and cause", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn deploy(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DeployBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    may_drive(&state, project, &caller)?;
    let env: EnvName = parse("environment", &body.environment)?;
    let manager = project.manager.clone();
    detached(async move {
        let after = shipwarden_bindings::ops::deploy(&manager, &release, &env).await.map_err(ApiError::doc)?;
        Ok(Json(to_json(&*after)?))
    })
    .await
}

/// Runs the smoke tests in production: released (then on to the end, R-9), or rolled back (R-8f, R-8g).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/verification",
    tag = "steps",
    params(("id" = String, Path, description = "The release")),
    responses(
        (status = 200, description = "Where it stopped: final or reached when released, rolled back (with the cause), waiting, failed", body = RunResult),
        (status = 403, description = "The caller holds no role in the project (a reader)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another driver holds the release", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunResult>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    may_drive(&state, project, &caller)?;
    let manager = project.manager.clone();
    detached(async move {
        let outcome = match manager.verify(&release).await? {
            RunOutcome::Reached { .. } => manager.run(&release, None).await?,
            other => other,
        };
        run_result(&manager, &release, outcome).await
    })
    .await
}

/// Rolls the release back (R-8g).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/rollback",
    tag = "steps",
    params(("id" = String, Path, description = "The release")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The release's state after the rollback (`ReleaseState`, an object)", body = Object),
        (status = 403, description = "The caller may not roll back", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn rollback(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let why = reason(&body)?.to_owned();
    let manager = project.manager.clone();
    detached(async move {
        let after = manager.rollback(&release, &actor, &why).await?;
        Ok(Json(to_json(&*after)?))
    })
    .await
}

/// Cancels the release.
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/cancellation",
    tag = "releases",
    params(("id" = String, Path, description = "The release")),
    request_body = ReasonBody,
    responses(
        (status = 200, description = "The release's state after it (`ReleaseState`, an object)", body = Object),
        (status = 403, description = "The caller may not cancel", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let after = project.manager.cancel(&release, &actor, reason(&body)?).await?;
    Ok(Json(to_json(&*after)?))
}

/// `POST /v1/releases/{id}/resolutions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// The step's key, as the status shows it (`deploy:prod:web-1#1`).
    pub step: String,
    /// True: the step's work is done (checked on the target); false: it failed and the release undoes it.
    pub done: bool,
    /// What was checked.
    pub reason: String,
}

/// Says how a step in doubt ended, after checking its target (R-9d).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/resolutions",
    tag = "steps",
    params(("id" = String, Path, description = "The release")),
    request_body = ResolveBody,
    responses(
        (status = 200, description = "The release's state after it (`ReleaseState`, an object)", body = Object),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule (no such step in doubt)", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn resolve(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ResolveBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let why = reason(&ReasonBody { reason: body.reason })?.to_owned();
    let after = project.manager.resolve(&release, &actor, &body.step, body.done, &why).await?;
    Ok(Json(to_json(&*after)?))
}

/// `POST /v1/releases/{id}/reports`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The step (`integration_tests`, `demo`, `tag`, …).
    pub step: String,
    /// The environment it ran in.
    pub environment: Option<String>,
    /// True when it failed.
    #[serde(default)]
    pub failed: bool,
    /// What happened (default `done`).
    pub detail: Option<String>,
}

/// Records a step people did (integration tests, a demo).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/reports",
    tag = "steps",
    params(("id" = String, Path, description = "The release")),
    request_body = ReportBody,
    responses(
        (status = 200, description = "The release's state after it (`ReleaseState`, an object)", body = Object),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn report(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let actor = project.actor(&caller, &state.settings);
    let step: StepKind = parse("step", &body.step)?;
    let env: Option<EnvName> = body.environment.as_deref().map(|e| parse("environment", e)).transpose()?;
    let detail = body.detail.as_deref().unwrap_or("done");
    let outcome = if body.failed { StepOutcome::failed(detail, false) } else { StepOutcome::ok(detail) };
    let after = project.manager.report_step(&release, &actor, step, env, outcome).await?;
    Ok(Json(to_json(&*after)?))
}
