//! Releases: plan, status, approvals.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use shipwarden::{ApprovalId, Channel, Plan, ReleaseId, ReleaseKind, Role, Version};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

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
}

/// Plans a release (R-1a).
#[utoipa::path(
    post,
    path = "/v1/projects/{project}/releases",
    tag = "releases",
    params(("project" = String, Path, description = "The project")),
    request_body = PlanBody,
    responses(
        (status = 201, description = "The planned release's state", body = Object),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn plan(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(project): Path<String>,
    Json(body): Json<PlanBody>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let project = state.project(&project, &caller)?;
    let version: Version = parse("version", &body.version)?;
    let kind: ReleaseKind = parse("kind", &body.kind)?;
    let id = ReleaseId::for_version(&project.name, &version).map_err(|e| ApiError::invalid(e.to_string()))?;
    let mut plan = Plan::new(id, project.name.clone(), version, kind);
    plan.scope = body.tickets.iter().map(|t| parse("tickets", t)).collect::<Result<_, _>>()?;
    let actor = project.actor(&caller, &state.settings);
    let released = project.manager.plan(&actor, plan).await?;
    Ok((StatusCode::CREATED, Json(serde_json::to_value(&*released).unwrap_or_default())))
}

/// A release's stage, approvals, gates, steps, and what each way forward still needs.
#[utoipa::path(
    get,
    path = "/v1/releases/{id}",
    tag = "releases",
    params(("id" = String, Path, description = "The release (`shop-1.4.0`)")),
    responses(
        (status = 200, description = "The release's status", body = Object),
        (status = 404, description = "No such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn status(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let release: ReleaseId = parse("id", &id)?;
    let project = state.project_of(&release, &caller)?;
    let status = project.manager.status(&release).await?;
    Ok(Json(serde_json::to_value(&status).unwrap_or_default()))
}

/// `POST /v1/releases/{id}/approvals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveBody {
    /// The approval (`scope`, `qa_signoff`, `acceptance`, `emergency`).
    pub approval: String,
    /// The role approving (default: the first of the caller's the policy accepts).
    pub role: Option<String>,
    /// Where it was given (default `web`... `cli`, `email`, `chat`, `ticket_comment`).
    pub channel: Option<String>,
    /// A comment, kept in the audit trail.
    #[serde(default)]
    pub comment: String,
}

/// Approves a stage of a release as the caller (R-2b, R-2c).
#[utoipa::path(
    post,
    path = "/v1/releases/{id}/approvals",
    tag = "releases",
    params(("id" = String, Path, description = "The release")),
    request_body = ApproveBody,
    responses(
        (status = 200, description = "The release's state after the approval", body = Object),
        (status = 422, description = "Refused by a rule", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn approve(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Json(body): Json<ApproveBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let release: ReleaseId = parse("id", &id)?;
    let project = state.project_of(&release, &caller)?;
    let actor = project.actor(&caller, &state.settings);
    let approval: ApprovalId = parse("approval", &body.approval)?;
    let explicit = body.role.as_deref().map(|r| parse::<Role>("role", r)).transpose()?;
    let role = project
        .manager
        .policy()
        .approval_role(&actor, &approval, explicit)
        .map_err(|e| ApiError::forbidden(e.to_string()))?;
    let channel: Channel = parse("channel", body.channel.as_deref().unwrap_or("cli"))?;
    let state = project.manager.approve(&release, &actor, approval, role, channel, &body.comment).await?;
    Ok(Json(serde_json::to_value(&*state).unwrap_or_default()))
}
