//! One-time approve and reject links from mailed approval requests (issue
//! #23, R-2b, R-2c, R-2d): `GET /v1/links/{token}` describes a link and
//! changes nothing; `POST /v1/links/{token}` confirms it.
//!
//! A link ([`shipwarden_adapters::links`]) is signed with `[approval_links]
//! secret_env`, names one user, one approval, a verdict, and the release as
//! the mail saw it (its stage and when it entered it: the chain head cannot
//! be bound, sending the mail appends events). Confirming is refused, with
//! nothing recorded and a problem naming the rule, when the signature does
//! not verify (403), the link expired (410), the caller is not the link's
//! user (403), the link was used already (409: each approval or rejection
//! recorded through a link ends its comment with `(email link <id>)`), or
//! the release moved on (409). Otherwise the engine records the approval or
//! the rejection with channel `email` and the caller's verified proof (the
//! console session's OIDC proof), so the audit and the evidence bundle carry
//! it. Two confirmations racing are settled by the engine: the same person
//! cannot give the same approval twice (R-2d).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shipwarden::{ApprovalId, Channel, ReleaseId, ReleaseState};
use shipwarden_adapters::links::{LinkClaims, LinkError, Verdict, comment_mark};
use utoipa::ToSchema;

use axum::extract::Path;
use axum::extract::rejection::PathRejection;

use super::extract::ApiJson;
use super::releases::{parse, to_json};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, Project};

/// The longest reason a rejection through a link may give.
pub const MAX_REASON: usize = 2000;

/// What a link does, and whether it can still be used.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    /// The release (`shop-1.4.0`).
    pub release: String,
    /// The project.
    pub project: String,
    /// The approval (`qa_signoff`).
    pub approval: String,
    /// `approve` or `reject`.
    pub verdict: String,
    /// The user the link was mailed to: only they may use it.
    pub user: String,
    /// The stage the release waited in when the link was made.
    pub stage: String,
    /// When the link expires (RFC 3339).
    pub expires: String,
    /// Whether confirming it now would be recorded.
    pub usable: bool,
    /// When not: the problem confirming would be answered with.
    #[schema(value_type = Option<Object>)]
    pub refusal: Option<serde_json::Value>,
}

/// `POST /v1/links/{token}`: a reason, required for a reject link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// Why (required to reject, R-2c; optional to approve), kept in the audit trail.
    pub reason: Option<String>,
}

/// A link whose signature verified, its release and project, and whether it may be used by the caller now.
struct Checked<'a> {
    claims: LinkClaims,
    release: ReleaseId,
    approval: ApprovalId,
    project: &'a Project,
    usable: Result<(), ApiError>,
}

/// The token of the path: longer than other path values (a signed payload),
/// so read here, bounded by [`shipwarden_adapters::links::MAX_TOKEN`].
fn token_of(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(token) = path.map_err(|e| ApiError::invalid(format!("token: {e}")))?;
    if token.len() > shipwarden_adapters::links::MAX_TOKEN {
        return Err(ApiError::invalid(format!("token: at most {} bytes", shipwarden_adapters::links::MAX_TOKEN)));
    }
    Ok(token)
}

/// A refusal of a link by `rule` (`R-2c`, `R-2d`), answered with `status`:
/// code `REFUSED`, the rule in the problem's `rule`, nothing recorded.
fn refused(status: StatusCode, rule: &str, message: String) -> ApiError {
    let mut doc = shipwarden_bindings::error::ErrorDoc::new(shipwarden::engine::ErrorCode::Refused, message, false);
    doc.rule = Some(rule.to_owned());
    ApiError::new(status, doc)
}

/// Verifies `token` and finds what stands against using it now.
async fn check<'a>(state: &'a AppState, caller: &crate::Verified, token: &str) -> Result<Checked<'a>, ApiError> {
    let Some(key) = &state.links else {
        return Err(ApiError::not_found("approval links are not configured here: see [approval_links]"));
    };
    let claims = key.verify(token).map_err(|e| match e {
        LinkError::BadSignature => refused(StatusCode::FORBIDDEN, "R-2d", format!("refused by R-2d: {e}")),
        other => ApiError::invalid(format!("refused by R-2d: {other}")),
    })?;
    let release: ReleaseId = parse("release", &claims.release)?;
    let approval: ApprovalId = parse("approval", &claims.approval)?;
    let project = state.project_of(&release, caller)?;
    let now = jiff::Timestamp::now();
    let current = project.manager.state(&release).await?;
    let usable = usable(&claims, caller, &current, now);
    Ok(Checked { claims, release, approval, project, usable })
}

/// `Ok` when `caller` may use the link on `current` at `now`; else the refusal.
fn usable(
    claims: &LinkClaims,
    caller: &crate::Verified,
    current: &ReleaseState,
    now: jiff::Timestamp,
) -> Result<(), ApiError> {
    let what = format!("this {} link for `{}` of {}", claims.verdict, claims.approval, claims.release);
    if caller.user != claims.user {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "R-2d",
            format!(
                "refused by R-2d: {what} was mailed to {}, and you are signed in as {}: only they may use it",
                claims.user, caller.user
            ),
        ));
    }
    if claims.expired(now.as_second()) {
        return Err(refused(
            StatusCode::GONE,
            "R-2c",
            format!(
                "refused by R-2c: {what} expired at {}; answer the next reminder or approve in the console",
                expires(claims)
            ),
        ));
    }
    let mark = comment_mark(&claims.id);
    if current.approvals.iter().chain(&current.rejections).any(|a| a.comment.ends_with(&mark)) {
        return Err(refused(
            StatusCode::CONFLICT,
            "R-2c",
            format!("refused by R-2c: {what} was used already (a link works once)"),
        ));
    }
    let stage = current.stage.as_ref().map(ToString::to_string).unwrap_or_default();
    let entered = current.stage.as_ref().and_then(|s| current.entered_at.get(s));
    if stage != claims.stage || entered != Some(&claims.entered) {
        return Err(refused(
            StatusCode::CONFLICT,
            "R-2c",
            format!(
                "refused by R-2c: the release moved on since the mail: it waited in {} (entered {}), it is now in {stage}{}; \
                 look at it in the console before deciding",
                claims.stage,
                claims.entered,
                entered.map(|t| format!(" (entered {t})")).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}

fn expires(claims: &LinkClaims) -> String {
    jiff::Timestamp::from_second(claims.exp).map_or_else(|_| claims.exp.to_string(), |t| t.to_string())
}

/// Describes an approval link: what confirming it would record, and whether it can (no state change).
#[utoipa::path(
    get,
    path = "/v1/links/{token}",
    tag = "releases",
    params(("token" = String, Path, description = "The link's token (the `t` of `/console/confirm?t=…`)")),
    responses(
        (status = 200, description = "What the link does and whether it can still be used", body = LinkView),
        (status = 400, description = "A malformed token", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "A signature that does not verify", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No approval links here, or no such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn describe(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    token: Result<Path<String>, PathRejection>,
) -> Result<Json<LinkView>, ApiError> {
    let token = token_of(token)?;
    let checked = check(&state, &caller, &token).await?;
    let c = &checked.claims;
    Ok(Json(LinkView {
        release: c.release.clone(),
        project: checked.project.name.clone(),
        approval: c.approval.clone(),
        verdict: c.verdict.to_string(),
        user: c.user.clone(),
        stage: c.stage.clone(),
        expires: expires(c),
        usable: checked.usable.is_ok(),
        refusal: checked.usable.err().map(|e| e.body()),
    }))
}

/// Confirms an approval link: records the approval or rejection it names, with channel `email`
/// and the caller's verified proof (R-2b, R-2c); refused, with nothing recorded, when it cannot be used.
#[utoipa::path(
    post,
    path = "/v1/links/{token}",
    tag = "releases",
    params(("token" = String, Path, description = "The link's token")),
    request_body = ConfirmBody,
    responses(
        (status = 200, description = "The release's state after the approval or rejection (`ReleaseState`, an object)", body = Object),
        (status = 400, description = "A malformed token or body; a reject link without a reason (R-2c)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "A signature that does not verify, a caller other than the link's user, or one holding no role for the approval (R-2d)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No approval links here, or no such release the caller may see", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The link was used already, or the release moved on since the mail (R-2c)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The link expired (R-2c)", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused by a rule of the engine (the author approving their own release, a duplicate)", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    token: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<ConfirmBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = token_of(token)?;
    let checked = check(&state, &caller, &token).await?;
    checked.usable?;
    let claims = &checked.claims;
    let reason = body.reason.as_deref().map(str::trim).unwrap_or_default();
    if reason.chars().count() > MAX_REASON {
        return Err(ApiError::invalid(format!("reason: at most {MAX_REASON} characters")));
    }
    let project = checked.project;
    let actor = project.actor(&caller, &state.settings);
    let role = project
        .manager
        .policy()
        .approval_role(&actor, &checked.approval, None)
        .map_err(|e| ApiError::forbidden(e.to_string()))?;
    let mark = comment_mark(&claims.id);
    let after = match claims.verdict {
        Verdict::Approve => {
            let comment = if reason.is_empty() { format!("approved {mark}") } else { format!("{reason} {mark}") };
            project.manager.approve(&checked.release, &actor, checked.approval, role, Channel::Email, &comment).await?
        }
        Verdict::Reject => {
            if reason.is_empty() {
                return Err(ApiError::invalid("refused by R-2c: a rejection needs a reason: say why in `reason`"));
            }
            let comment = format!("{reason} {mark}");
            project.manager.reject(&checked.release, &actor, checked.approval, role, Channel::Email, &comment).await?
        }
    };
    tracing::info!(release = %checked.release, user = %caller.user, verdict = %claims.verdict, "approval link confirmed");
    Ok(Json(to_json(&*after)?))
}
