//! A project's stage graph as the console draws it (issue #22): the stages
//! in the policy's order, each enabled transition with what it requires,
//! the calendar's time zone and the environments.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::ApiPath;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A transition between two stages.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransitionView {
    /// Its name in the policy (`qa_verification`).
    pub name: String,
    /// The stage it leaves.
    pub from: String,
    /// The stage it enters.
    pub to: String,
    /// The rule it enforces first (`R-7a`).
    pub rule: String,
    /// The release kinds that may take it (empty: every kind).
    pub kinds: Vec<String>,
    /// The gates that must have passed.
    pub gates: Vec<String>,
    /// The approvals it needs.
    pub approvals: Vec<String>,
    /// The steps that must have succeeded.
    pub steps: Vec<String>,
}

/// An environment.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnvironmentView {
    /// Its name.
    pub name: String,
    /// Whether it is production.
    pub production: bool,
}

/// `GET /v1/projects/{project}/policy`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyView {
    /// The project.
    pub project: String,
    /// The stages, in the policy's order.
    pub stages: Vec<String>,
    /// The enabled transitions, in the order a release goes (by the stage each leaves).
    pub transitions: Vec<TransitionView>,
    /// The time zone windows are read in.
    pub time_zone: String,
    /// The environments, in promotion order.
    pub environments: Vec<EnvironmentView>,
}

/// A project's stage graph: stages, transitions and what each requires, time zone, environments.
#[utoipa::path(
    get,
    path = "/v1/projects/{project}/policy",
    tag = "releases",
    params(("project" = String, Path, description = "The project")),
    responses(
        (status = 200, description = "The project's stage graph", body = PolicyView),
        (status = 404, description = "No such project the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn policy(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    ApiPath(project): ApiPath<String>,
) -> Result<Json<PolicyView>, ApiError> {
    let project = state.project(&project, &caller)?;
    let policy = project.manager.policy();
    let order = |stage: &shipwarden::Stage| policy.stages.iter().position(|s| &s.name == stage);
    let mut transitions: Vec<_> = policy.transitions.iter().filter(|(_, t)| t.enabled).collect();
    // In the order a release goes: by the stage each leaves, then by name.
    transitions.sort_by_key(|(name, t)| (order(&t.from), order(&t.to), name.as_str()));
    Ok(Json(PolicyView {
        project: project.name.clone(),
        stages: policy.stages.iter().map(|s| s.name.to_string()).collect(),
        transitions: transitions
            .into_iter()
            .map(|(name, t)| TransitionView {
                name: name.clone(),
                from: t.from.to_string(),
                to: t.to.to_string(),
                rule: t.rule.to_string(),
                kinds: t.kinds.iter().map(ToString::to_string).collect(),
                gates: t.gates.iter().map(|g| g.gate.to_string()).collect(),
                approvals: t.approvals.iter().map(ToString::to_string).collect(),
                steps: t.steps.iter().map(|s| s.step.to_string()).collect(),
            })
            .collect(),
        time_zone: policy.calendar.time_zone.clone(),
        environments: policy
            .environments
            .iter()
            .map(|e| EnvironmentView { name: e.name.to_string(), production: e.production })
            .collect(),
    }))
}
