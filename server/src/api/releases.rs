//! Releases: plan, status, approvals and rejections, the list.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shipwarden::ports::{ReleaseQuery, ReleaseSummary};
use shipwarden::{ApprovalId, Channel, Hotfix, Plan, ReleaseId, ReleaseKind, Role, Version};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, Project};

/// The release `id` names and the project it belongs to, if the caller may see it (else 404).
pub(crate) fn release_of<'a>(
    state: &'a AppState,
    caller: &crate::Verified,
    id: &str,
) -> Result<(ReleaseId, &'a Project), ApiError> {
    let release: ReleaseId = parse("id", id)?;
    let project = state.project_of(&release, caller)?;
    Ok((release, project))
}

/// A value as JSON (engine types serialize infallibly in practice; a failure is a 500 problem).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(value).map_err(|e| {
        let mut error = ApiError::invalid(format!("cannot write the answer: {e}"));
        error.status = StatusCode::INTERNAL_SERVER_ERROR;
        error
    })
}

/// A value of the request that does not parse: 400 naming the field.
pub(crate) fn parse<T: std::str::FromStr<Err = shipwarden::ParseError>>(
    field: &str,
    text: &str,
) -> Result<T, ApiError> {
    text.parse().map_err(|e: shipwarden::ParseError| ApiError::invalid(format!("{field}: {e}")))
}

/// `POST /v1/projects/{project}/releases`: what to plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// The version (`1.4.0`).
    pub version: String,
    /// `major`, `minor`, `patch` or `emergency`.
    pub kind: String,
    /// The tickets in scope; without, the ticket keys since the last release tag (R-4a).
    #[serde(default)]
    pub tickets: Vec<String>,
    /// The release id (default `<project>-<version>`).
    pub id: Option<String>,
    /// The planned release date (`2026-12-01`).
    pub target_date: Option<String>,
    /// Plan a version that is not newer than the last release (a backport), for this reason; kept in the audit (R-4c).
    pub override_version: Option<String>,
    /// Emergency: the hotfix ticket, what is broken and why it cannot wait (R-5b).
    pub hotfix: Option<HotfixBody>,
    /// External dependencies, each a name and the version it must have (R-7f).
    #[serde(default)]
    pub dependencies: Vec<DependencyBody>,
}

/// An external dependency (R-7f).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyBody {
    /// Its name (`payments-gateway`).
    pub name: String,
    /// The version it must have (`2.4.1`, `>=2.4, <3`).
    pub version: String,
}

/// An emergency's details (R-5b).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HotfixBody {
    /// The HOTFIX ticket (`SHOP-99`).
    pub ticket: String,
    /// What is broken.
    #[serde(default)]
    pub summary: String,
    /// Why it cannot wait for the normal path.
    #[serde(default)]
    pub justification: String,
}

/// Plans a release (R-1a).
#[utoipa::path(
    post,
    path = "/v1/projects/{project}/releases",
    tag = "releases",
    params(("project" = String, Path, description = "The project")),
    request_body = PlanBody,
    responses(
        (status = 201, description = "The planned release's state (the engine's `ReleaseState`, documented as an object: its stage, plan, approvals, gate results, steps, bookings)", body = Object),
        (status = 400, description = "A malformed body or value", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn plan(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(project): ApiPath<String>,
    ApiJson(body): ApiJson<PlanBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let project = state.project(&project, &caller)?;
    let version: Version = parse("version", &body.version)?;
    let kind: ReleaseKind = parse("kind", &body.kind)?;
    let id = match &body.id {
        Some(id) => parse("id", id)?,
        None => ReleaseId::for_version(&project.name, &version).map_err(|e| ApiError::invalid(e.to_string()))?,
    };
    let mut plan = Plan::new(id, project.name.clone(), version, kind);
    plan.scope = body.tickets.iter().map(|t| parse("tickets", t)).collect::<Result<_, _>>()?;
    plan.version_override = body.override_version;
    plan.dependencies =
        body.dependencies.into_iter().map(|d| shipwarden::Dependency { name: d.name, version: d.version }).collect();
    if let Some(d) = &body.target_date {
        plan.target_date = Some(d.parse().map_err(|e| ApiError::invalid(format!("target_date `{d}`: {e}")))?);
    }
    if let Some(h) = body.hotfix {
        plan.hotfix = Some(Hotfix {
            ticket: parse("hotfix.ticket", &h.ticket)?,
            summary: h.summary,
            justification: h.justification,
        });
    }
    let actor = project.actor(&caller, &state.settings);
    let released = project.manager.plan(&actor, plan).await?;
    Ok((StatusCode::CREATED, Json(to_json(&*released)?)))
}

/// A release's stage, approvals, gates, steps, and what each way forward still needs.
#[utoipa::path(
    get,
    path = "/v1/releases/{id}",
    tag = "releases",
    params(("id" = String, Path, description = "The release (`shop-1.4.0`)")),
    responses(
        (status = 200, description = "The release's status (the engine's `ReleaseStatus`, documented as an object: its state, and what each way forward still needs)", body = Object),
        (status = 400, description = "A malformed id", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (release, project) = release_of(&state, &caller, &id)?;
    let status = project.manager.status(&release).await?;
    Ok(Json(to_json(&status)?))
}

/// `POST /v1/releases/{id}/approvals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The approval (`scope`, `qa_signoff`, `acceptance`, `emergency`).
    pub approval: String,
    /// The role approving (default: the first of the caller's the policy accepts).
    pub role: Option<String>,
    /// Where it was given (`cli`, `api`, `email`, `chat`, `ticket_comment`; default `cli`, and `api` through the web console's session).
    pub channel: Option<String>,
    /// A comment, kept in the audit trail.
    #[serde(default)]
    pub comment: String,
}

/// `POST /v1/releases/{id}/rejections`: the same fields as an approval, the comment being the reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// The approval rejected (`scope`, `qa_signoff`, `acceptance`, `emergency`).
    pub approval: String,
    /// The role rejecting (default: the first of the caller's the policy accepts for the approval).
    pub role: Option<String>,
    /// Where it was given (`cli`, `api`, `email`, `chat`, `ticket_comment`; default `cli`, and `api` through the web console's session).
    pub channel: Option<String>,
    /// The reason, required (an empty or missing one is refused by R-2c); kept in the audit trail.
    #[serde(default)]
    pub comment: String,
}

/// What an approval and a rejection both resolve before calling the engine:
/// the release, its project, the caller as actor, and the approval, role and
/// channel the request names or defaults to.
struct ApprovalCall<'a> {
    release: ReleaseId,
    project: &'a Project,
    actor: shipwarden::Actor,
    approval: ApprovalId,
    role: Role,
    channel: Channel,
}

impl<'a> ApprovalCall<'a> {
    /// Resolves the request: 404 for a release the caller may not see, 400 for
    /// a value that does not parse, 403 when the caller holds no role that may
    /// give the approval. The channel defaults to `api` through the console's
    /// session and `cli` otherwise.
    fn resolve(
        state: &'a AppState,
        caller: &crate::Verified,
        via_console: bool,
        id: &str,
        approval: &str,
        role: Option<&str>,
        channel: Option<&str>,
    ) -> Result<Self, ApiError> {
        let (release, project) = release_of(state, caller, id)?;
        let actor = project.actor(caller, &state.settings);
        let approval: ApprovalId = parse("approval", approval)?;
        let explicit = role.map(|r| parse::<Role>("role", r)).transpose()?;
        let role = project
            .manager
            .policy()
            .approval_role(&actor, &approval, explicit)
            .map_err(|e| ApiError::forbidden(e.to_string()))?;
        let default = if via_console { "api" } else { "cli" };
        let channel: Channel = parse("channel", channel.unwrap_or(default))?;
        Ok(ApprovalCall { release, project, actor, approval, role, channel })
    }
}

/// Approves a stage of a release as the caller (R-2b, R-2c).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/approvals",
    tag = "releases",
    params(("id" = String, Path, description = "The release")),
    request_body = ApproveBody,
    responses(
        (status = 200, description = "The release's state after the approval (`ReleaseState`, an object)", body = Object),
        (status = 400, description = "A malformed body or value", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller holds no role that may give this approval", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    console: Option<axum::Extension<crate::console::ViaConsole>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (approval, role, channel) = (body.approval.as_str(), body.role.as_deref(), body.channel.as_deref());
    let call = ApprovalCall::resolve(&state, &caller, console.is_some(), &id, approval, role, channel)?;
    let state = call
        .project
        .manager
        .approve(&call.release, &call.actor, call.approval, call.role, call.channel, &body.comment)
        .await?;
    Ok(Json(to_json(&*state)?))
}

/// Rejects an approval of a release as the caller, with a reason (R-2b, R-2c, R-2d): while it
/// stands, every transition needing the approval is refused with requirement `rejected`; the
/// same person approving later lifts it.
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/rejections",
    tag = "releases",
    params(("id" = String, Path, description = "The release")),
    request_body = RejectBody,
    responses(
        (status = 200, description = "The release's state after the rejection (`ReleaseState`, an object; see its `rejections`)", body = Object),
        (status = 400, description = "A malformed body or value", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller holds no role that may give this approval", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule (R-2c without a reason; R-2d a role not accepted, the plan's author, or a duplicate)", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn reject(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    console: Option<axum::Extension<crate::console::ViaConsole>>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<RejectBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (approval, role, channel) = (body.approval.as_str(), body.role.as_deref(), body.channel.as_deref());
    let call = ApprovalCall::resolve(&state, &caller, console.is_some(), &id, approval, role, channel)?;
    let state = call
        .project
        .manager
        .reject(&call.release, &call.actor, call.approval, call.role, call.channel, &body.comment)
        .await?;
    Ok(Json(to_json(&*state)?))
}

/// `GET /v1/releases`: which releases, and which page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this project.
    pub project: Option<String>,
    /// Only releases in this stage (`planned`, `in_qa`, …).
    pub stage: Option<String>,
    /// Only releases deployed to this environment.
    pub environment: Option<String>,
    /// Only releases of this kind (`major`, `minor`, `patch`, `emergency`).
    pub kind: Option<String>,
    /// At most this many (default 50, at most 500).
    pub limit: Option<u32>,
    /// Skip this many (from a previous page's `next_offset`).
    pub offset: Option<u32>,
}

/// One page of releases, newest planned first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReleasePage {
    /// The releases (the engine's `ReleaseSummary`: id, project, version, kind, stage, environments, bookings, holds, times, events).
    #[schema(value_type = Vec<Object>)]
    pub releases: Vec<ReleaseSummary>,
    /// The offset of the next page; absent on the last.
    pub next_offset: Option<u32>,
    /// How many listing rows disagree with their audit chains (listed as the chains say, R-9d).
    pub mismatches: usize,
}

/// Lists the releases of the projects the caller may see, as their audit chains say (R-9d).
#[utoipa::path(
    get,
    path = "/v1/releases",
    tag = "releases",
    params(ListQuery),
    responses(
        (status = 200, description = "One page of releases", body = ReleasePage),
        (status = 400, description = "A filter that does not parse", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such project the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ReleasePage>, ApiError> {
    let projects: Vec<&Project> = match &q.project {
        Some(name) => vec![state.project(name, &caller)?],
        None => state.visible(&caller).collect(),
    };
    let kind: Option<ReleaseKind> = q.kind.as_deref().map(|k| parse("kind", k)).transpose()?;
    let mut releases = Vec::new();
    let mut mismatches = 0;
    for project in projects {
        let query = ReleaseQuery {
            project: Some(project.name.clone()),
            stage: q.stage.as_deref().map(|s| parse("stage", s)).transpose()?,
            environment: q.environment.as_deref().map(|e| parse("environment", e)).transpose()?,
            ..Default::default()
        };
        let listing = project.manager.list_checked(&query).await?;
        mismatches += listing.mismatches.len();
        releases.extend(listing.releases.into_iter().filter(|r| kind.is_none_or(|k| r.kind == k)));
    }
    releases.sort_by(|a, b| b.planned_at.cmp(&a.planned_at).then_with(|| a.release.as_str().cmp(b.release.as_str())));
    let limit = q.limit.unwrap_or(50).clamp(1, 500) as usize;
    let offset = q.offset.unwrap_or(0) as usize;
    let total = releases.len();
    let page: Vec<ReleaseSummary> = releases.into_iter().skip(offset).take(limit).collect();
    let next = offset + page.len();
    let next_offset = (next < total).then(|| u32::try_from(next).unwrap_or(u32::MAX));
    Ok(Json(ReleasePage { releases: page, next_offset, mismatches }))
}
