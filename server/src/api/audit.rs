//! A release's record: its history and audit export, the verification of
//! its hash chain (R-9d), its notes (R-9b) and its signed evidence bundle;
//! and across projects: the calendar and the duties that are due.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use shipwarden::ports::ReleaseQuery;
use shipwarden::{ReleaseId, calendar};
use shipwarden_bindings::error::ErrorDoc;
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiPath, ApiQuery};
use super::releases::{parse, release_of, to_json};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, Project};

/// A text answer with its media type.
fn text(media_type: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    response
}

/// `GET /v1/releases/{id}/history`: how to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// `json` (an array, default) or `jsonl` (the audit export: one envelope a line, as `shipwarden audit --export jsonl`).
    pub format: Option<String>,
}

/// The release's audit trail: every event with its actor, rule, time and chain hash.
#[utoipa::path(
    get,
    path = "/v1/releases/{id}/history",
    tag = "audit",
    params(("id" = String, Path, description = "The release"), HistoryQuery),
    responses(
        (status = 200, description = "The envelopes in order (`Envelope`: sequence, at, actor, rule, event, prev, hash), as a JSON array or JSON lines", body = Vec<Object>),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn history(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Response, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let history = project.manager.history(&release).await?;
    if history.is_empty() {
        return Err(ApiError::not_found(format!("no release `{release}`")));
    }
    match q.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(to_json(&history)?).into_response()),
        "jsonl" => {
            let mut out = String::new();
            for e in &history {
                out.push_str(&to_json(e)?.to_string());
                out.push('\n');
            }
            Ok(text("application/jsonl", out))
        }
        other => Err(ApiError::invalid(format!("format `{other}`: use `json` or `jsonl`"))),
    }
}

/// `GET /v1/releases/{id}/audit`: what is known from outside the store.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The head hash the chain must end at, known from elsewhere (a ticket, the notes).
    pub head: Option<String>,
}

/// A release's audit trail, verified.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditReport {
    /// Always true: a trail that does not verify is a problem (`INTEGRITY`).
    pub verified: bool,
    /// How many events.
    pub events: usize,
    /// The chain's head hash.
    pub head: String,
    /// How many signed checkpoints match the chain.
    pub checkpoints: usize,
    /// The sequence of the newest signed checkpoint.
    pub anchored_at: Option<u64>,
    /// Events after it, not covered by a signature yet.
    pub unanchored_events: u64,
    /// Keys that signed checkpoints without being configured as trusted.
    pub unpinned_keys: Vec<String>,
}

/// Verifies the release's hash chain, its signed checkpoints and its listing row (R-9d).
#[utoipa::path(
    get,
    path = "/v1/releases/{id}/audit",
    tag = "audit",
    params(("id" = String, Path, description = "The release"), VerifyQuery),
    responses(
        (status = 200, description = "The trail verifies", body = AuditReport),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 500, description = "The trail does not verify (`INTEGRITY`, with the release and the sequence)", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<VerifyQuery>,
) -> Result<Json<AuditReport>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let head: Option<shipwarden::audit::ChainHash> = q.head.as_deref().map(|h| parse("head", h)).transpose()?;
    let evidence = &project.loaded.config.evidence;
    let trusted: Vec<String> = evidence.public_key.iter().chain(&evidence.trusted_keys).cloned().collect();
    let (history, report) =
        shipwarden_adapters::anchor::verify_release(&project.manager, &release, &trusted, head.as_ref())
            .await
            .map_err(|e| ApiError::doc(ErrorDoc::verify(e)))?;
    if history.is_empty() {
        return Err(ApiError::not_found(format!("no release `{release}`")));
    }
    Ok(Json(AuditReport {
        verified: true,
        events: history.len(),
        head: report.head.to_string(),
        checkpoints: report.checkpoints,
        anchored_at: report.anchored_at,
        unanchored_events: report.unanchored_events,
        unpinned_keys: report.unpinned_keys,
    }))
}

/// `GET /v1/releases/{id}/notes`: how to answer.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotesQuery {
    /// `markdown` (default, `text/markdown`) or `json` (`{"release", "markdown"}`).
    pub format: Option<String>,
}

/// A planned release's notes, in Markdown (R-9b).
#[utoipa::path(
    get,
    path = "/v1/releases/{id}/notes",
    tag = "audit",
    params(("id" = String, Path, description = "The release"), NotesQuery),
    responses(
        (status = 200, description = "The notes", body = String, content_type = "text/markdown"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn notes(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<NotesQuery>,
) -> Result<Response, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let markdown = project.manager.notes(&release).await?;
    match q.format.as_deref().unwrap_or("markdown") {
        "markdown" => Ok(text("text/markdown; charset=utf-8", markdown)),
        "json" => Ok(Json(serde_json::json!({ "release": release, "markdown": markdown })).into_response()),
        other => Err(ApiError::invalid(format!("format `{other}`: use `markdown` or `json`"))),
    }
}

/// The release's signed evidence bundle: plan, approvals, gates, artifacts, commits, steps, audit chain (R-9d).
#[utoipa::path(
    get,
    path = "/v1/releases/{id}/evidence/bundle",
    tag = "evidence",
    params(("id" = String, Path, description = "The release")),
    responses(
        (status = 200, description = "The bundle and its signature (`SignedBundle`, an object; unsigned without `[evidence] signing_key_env`)", body = Object),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn bundle(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let signed = project.manager.evidence_bundle(&release).await?;
    let mut response = Json(to_json(&signed)?).into_response();
    let disposition = format!("attachment; filename=\"{}.evidence.json\"", release.as_str());
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /v1/calendar` and `GET /v1/duties`: which projects.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// Only this project (default: every project the caller may see).
    pub project: Option<String>,
    /// How many days from now (default 14, at most 3660); calendar only.
    pub days: Option<u32>,
    /// `json` (default) or `ics` (iCalendar, RFC 5545); calendar only.
    pub format: Option<String>,
}

fn chosen<'a>(
    state: &'a AppState,
    caller: &'a crate::Verified,
    project: Option<&str>,
) -> Result<Vec<&'a Project>, ApiError> {
    match project {
        Some(name) => Ok(vec![state.project(name, caller)?]),
        None => Ok(state.visible(caller).collect()),
    }
}

/// Blackouts, maintenance windows, freezes and booked deployments of the coming days, with their conflicts.
#[utoipa::path(
    get,
    path = "/v1/calendar",
    tag = "schedule",
    params(CalendarQuery),
    responses(
        (status = 200, description = "The occurrences (`Occurrence`: name, kind, start, end, environments, conflicts), or iCalendar with `format=ics`", body = Vec<Object>),
        (status = 404, description = "No such project the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn calendar(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<Response, ApiError> {
    let days = q.days.unwrap_or(14);
    if days > 3660 {
        return Err(ApiError::invalid("days: at most 3660"));
    }
    let format = q.format.as_deref().unwrap_or("json");
    if format != "json" && format != "ics" {
        return Err(ApiError::invalid(format!("format `{format}`: use `json` or `ics`")));
    }
    let mut occurrences = Vec::new();
    let mut now = jiff::Timestamp::now();
    for project in chosen(&state, &caller, q.project.as_deref())? {
        now = project.manager.clock().now();
        let until = now
            .checked_add(SignedDuration::from_hours(24 * i64::from(days)))
            .map_err(|e| ApiError::invalid(format!("days: {e}")))?;
        let query = ReleaseQuery { project: Some(project.name.clone()), ..Default::default() };
        let bookings: Vec<_> = project.manager.list(&query).await?.into_iter().flat_map(|s| s.bookings).collect();
        let cal = calendar::Calendar::new(project.manager.policy());
        occurrences.extend(cal.occurrences(&bookings, now, until));
    }
    occurrences.sort_by_key(|o| o.start);
    occurrences.dedup();
    if format == "ics" {
        return Ok(text("text/calendar; charset=utf-8", calendar::to_ics(&occurrences, now)));
    }
    Ok(Json(to_json(&occurrences)?).into_response())
}

/// One duty that is due.
#[derive(Debug, Serialize, ToSchema)]
pub struct DueDuty {
    /// The release it belongs to.
    pub release: String,
    /// The duty (`Duty`: key, subject, rule, due_at, deadline, …), documented as an object.
    #[schema(value_type = Object)]
    pub duty: shipwarden::duties::Duty,
}

/// The duties that are due now (notices, reminders: R-5c, R-6d), by due time; the server's background driver performs them.
#[utoipa::path(
    get,
    path = "/v1/duties",
    tag = "schedule",
    params(CalendarQuery),
    responses(
        (status = 200, description = "The duties due now", body = Vec<DueDuty>),
        (status = 404, description = "No such project the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn duties(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<Json<Vec<DueDuty>>, ApiError> {
    let mut out = Vec::new();
    for project in chosen(&state, &caller, q.project.as_deref())? {
        let now = project.manager.clock().now();
        for (release, duty) in project.manager.due(now).await? {
            // Projects may share one store: each duty is listed with its own project only.
            if owner(&state, &release) == Some(project.name.as_str()) {
                out.push(DueDuty { release: release.to_string(), duty });
            }
        }
    }
    out.sort_by(|a, b| (a.duty.due_at, &a.release).cmp(&(b.duty.due_at, &b.release)));
    Ok(Json(out))
}

/// The project whose name is the longest prefix of `release` (as [`AppState::project_of`] finds it).
fn owner<'a>(state: &'a AppState, release: &ReleaseId) -> Option<&'a str> {
    state
        .projects
        .keys()
        .filter(|p| release.as_str().strip_prefix(p.as_str()).is_some_and(|rest| rest.starts_with('-')))
        .max_by_key(|p| p.len())
        .map(String::as_str)
}
