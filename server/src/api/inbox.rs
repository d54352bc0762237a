//! Who the caller is (`/v1/me`) and what waits for them (`/v1/inbox`): the
//! approvals, evidence and reported steps the caller's roles can give,
//! across the releases they may see (issue #22). Whether the caller can
//! give one is the engine's answer ([`ReleaseManager::preview`]), never a
//! rule restated here.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use shipwarden::engine::ReleaseManager;
use shipwarden::machine::{Action, Command, Evidence, Requirement, Unmet};
use shipwarden::ports::{ReleaseQuery, ReleaseSummary};
use shipwarden::{Actor, ApprovalId, Channel, ReleaseId, Stage};
use utoipa::ToSchema;

use super::releases::to_json;
use crate::auth::Caller;
use crate::console::signin::{ProjectRoles, projects_of};
use crate::error::ApiError;
use crate::state::{AppState, Project};

/// `GET /v1/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The shipwarden user.
    pub user: String,
    /// How the identity was established (the engine's `Proof`: `{"kind": "oidc", "issuer", "subject"}`, `{"kind": "token", "id"}`, …).
    #[schema(value_type = Object)]
    pub proof: serde_json::Value,
    /// The projects the caller may see, with their roles in each (empty for a reader).
    pub projects: Vec<ProjectRoles>,
}

/// Who the caller is, how that was established, and their roles in each project they may see.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "people",
    responses((status = 200, description = "The caller", body = Me)),
    security(("bearer" = []))
)]
pub async fn me(State(state): State<Arc<AppState>>, Caller(caller): Caller) -> Result<Json<Me>, ApiError> {
    Ok(Json(Me { user: caller.user.clone(), proof: to_json(&caller.proof)?, projects: projects_of(&state, &caller) }))
}

/// One thing the caller can give that a release waits for.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxItem {
    /// The release.
    pub release: String,
    /// Its project.
    pub project: String,
    /// Its version.
    pub version: String,
    /// Its kind.
    pub kind: String,
    /// Its stage now.
    pub stage: String,
    /// The stage the requirement leads to.
    pub to: String,
    /// The unmet requirement, exactly as the release's status shows it in `next`
    /// (`{"rule": "R-2b", "requirement": "approval", "approval": "qa_signoff", "roles": [...], "needed": 1, "have": 0}`).
    #[schema(value_type = Object)]
    pub unmet: serde_json::Value,
    /// For an approval, its rejections that still stand (R-2b), oldest first; absent for a gate or a step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejections: Option<Vec<StandingRejection>>,
}

/// A rejection of an approval that still stands: who, in which role, why and when (R-2b).
#[derive(Debug, Serialize, ToSchema)]
pub struct StandingRejection {
    /// Who rejected it.
    pub user: String,
    /// In which role.
    pub role: String,
    /// Why (the rejection's comment).
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// One unmet requirement the caller can supply, the stage it leads to, and
/// (for an approval) the rejections of it that still stand.
struct Waiting {
    to: Stage,
    unmet: Unmet,
    rejections: Option<Vec<StandingRejection>>,
}

/// `GET /v1/inbox`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// What waits for the caller, newest release first.
    pub items: Vec<InboxItem>,
}

/// What waits for the caller: the approvals, evidence and reported steps they can give.
///
/// For every release the caller may see that is not in a final stage, each
/// unmet requirement they can supply. An approval whose
/// roles include one of theirs, not given by them yet, that the engine would
/// accept from them (separation of duties, identity proofs) — of the ways
/// forward and of the path ahead, since an approval may be given before its
/// stage; a gate nothing measured yet and a step people report (status
/// `missing`) of the ways forward, when the caller holds a role in the
/// project and the engine would record it from them. An approval's item
/// carries the rejections of it that still stand (R-2b), so a page can say
/// who rejected it and why; a standing rejection of the caller's own that
/// alone blocks an approval others gave is an item too (requirement
/// `rejected`): only its author lifts it, by approving.
#[utoipa::path(
    get,
    path = "/v1/inbox",
    tag = "people",
    responses((status = 200, description = "What waits for the caller", body = Inbox)),
    security(("bearer" = []))
)]
pub async fn inbox(State(state): State<Arc<AppState>>, Caller(caller): Caller) -> Result<Json<Inbox>, ApiError> {
    let mut items = Vec::new();
    let mut releases: Vec<(&Project, ReleaseSummary)> = Vec::new();
    for project in state.visible(&caller) {
        let query = ReleaseQuery { project: Some(project.name.clone()), ..Default::default() };
        let listing = project.manager.list_checked(&query).await?;
        let policy = project.manager.policy();
        releases.extend(listing.releases.into_iter().filter(|r| !policy.is_final(&r.stage)).map(|r| (project, r)));
    }
    releases.sort_by(|(_, a), (_, b)| {
        b.planned_at.cmp(&a.planned_at).then_with(|| a.release.as_str().cmp(b.release.as_str()))
    });
    for (project, summary) in releases {
        let actor = project.actor(&caller, &state.settings);
        for Waiting { to, unmet, rejections } in waiting_for(&project.manager, &summary.release, &actor).await? {
            items.push(InboxItem {
                release: summary.release.to_string(),
                project: summary.project.clone(),
                version: summary.version.to_string(),
                kind: summary.kind.to_string(),
                stage: summary.stage.to_string(),
                to: to.to_string(),
                unmet: to_json(&unmet)?,
                rejections,
            });
        }
    }
    Ok(Json(Inbox { items }))
}

/// The unmet requirements of `release` that `actor` can supply, with the stage each leads to.
async fn waiting_for(manager: &ReleaseManager, release: &ReleaseId, actor: &Actor) -> Result<Vec<Waiting>, ApiError> {
    let status = match manager.status(release).await {
        Ok(status) => status,
        // Gone between the listing and now: nothing waits.
        Err(shipwarden::engine::EngineError::NotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let (Some(stage), Some(plan)) = (&status.state.stage, &status.state.plan) else { return Ok(Vec::new()) };
    let policy = manager.policy();
    let mut found: Vec<(Stage, Unmet)> = Vec::new();
    for (to, refusal) in &status.next {
        for unmet in refusal.iter().flat_map(|r| &r.unmet) {
            if can_supply(manager, release, actor, unmet).await? {
                found.push((to.clone(), unmet.clone()));
            }
        }
    }
    // Approvals further along the path the engine would take: the core judges
    // the transition as if the release stood at its start (approvals count
    // whatever the stage they were given in).
    let ways: Vec<Stage> = status.next.iter().map(|(to, _)| to.clone()).collect();
    let now = jiff::Timestamp::now();
    let nobody = Actor::new("shipwarden", []);
    for (_, t) in policy.path_ahead(stage, plan.kind) {
        if ways.contains(&t.to) || &t.from == stage || t.approvals.is_empty() {
            continue;
        }
        let mut there = status.state.clone();
        there.stage = Some(t.from.clone());
        let command = Command::new(&nobody, Action::Advance { to: t.to.clone() });
        let Err(refusal) = shipwarden::machine::decide(&there, &command, policy, now) else { continue };
        let approvals =
            |u: &&Unmet| matches!(u.requirement, Requirement::Approval { .. } | Requirement::Rejected { .. });
        for unmet in refusal.unmet.iter().filter(approvals) {
            let listed = found.iter().any(|(_, u)| u == unmet);
            if !listed && can_supply(manager, release, actor, unmet).await? {
                found.push((t.to.clone(), unmet.clone()));
            }
        }
    }
    // A rejection the caller can lift is listed on its own only when the approval
    // itself is not (others gave it): else the approval's item names the rejection.
    let asked: Vec<ApprovalId> = found
        .iter()
        .filter_map(|(_, u)| match &u.requirement {
            Requirement::Approval { approval, .. } => Some(approval.clone()),
            _ => None,
        })
        .collect();
    found
        .retain(|(_, u)| !matches!(&u.requirement, Requirement::Rejected { approval, .. } if asked.contains(approval)));
    Ok(found
        .into_iter()
        .map(|(to, unmet)| {
            let rejections = standing_rejections(&status.state, &unmet);
            Waiting { to, unmet, rejections }
        })
        .collect())
}

/// For an approval requirement, the rejections of it by one of its roles that still stand.
fn standing_rejections(state: &shipwarden::ReleaseState, unmet: &Unmet) -> Option<Vec<StandingRejection>> {
    let Requirement::Approval { approval, roles, .. } = &unmet.requirement else { return None };
    let standing = state.standing_rejections(approval, roles);
    Some(
        standing
            .into_iter()
            .map(|r| StandingRejection {
                user: r.user.clone(),
                role: r.role.to_string(),
                reason: r.comment.clone(),
                at: r.at.to_string(),
            })
            .collect(),
    )
}

/// Whether `actor` can supply `unmet` now, as the engine judges it.
async fn can_supply(
    manager: &ReleaseManager,
    release: &ReleaseId,
    actor: &Actor,
    unmet: &Unmet,
) -> Result<bool, ApiError> {
    let action = match &unmet.requirement {
        Requirement::Approval { approval, roles, .. } => {
            if !roles.iter().any(|r| actor.has_role(r)) {
                return Ok(false);
            }
            let Ok(role) = manager.policy().approval_role(actor, approval, None) else { return Ok(false) };
            Action::Approve { approval: approval.clone(), role, channel: Channel::Api, comment: String::new() }
        }
        // Only its author lifts a rejection, by approving (R-2b).
        Requirement::Rejected { approval, user, role, .. } if user == &actor.user => Action::Approve {
            approval: approval.clone(),
            role: role.clone(),
            channel: Channel::Api,
            comment: String::new(),
        },
        Requirement::Gate { gate, environment, measured: None, .. } if !actor.roles.is_empty() => {
            let mut evidence = Evidence::new(gate.clone(), 0.0, format!("reported by {}", actor.user));
            if let Some(env) = environment {
                evidence = evidence.in_env(env.clone());
            }
            Action::RecordEvidence(evidence)
        }
        Requirement::Step { step, environment, status, .. } if status == "missing" && !actor.roles.is_empty() => {
            Action::StartStep {
                step: step.clone(),
                environment: environment.clone(),
                target: None,
                key: format!("inbox:{step}"),
                held: Vec::new(),
            }
        }
        _ => return Ok(false),
    };
    match manager.preview(release, actor, action, None).await {
        Ok(_) => Ok(true),
        Err(shipwarden::engine::EngineError::Refused(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}
