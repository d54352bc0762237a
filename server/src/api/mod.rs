//! The routes. Each handler: who calls ([`Caller`](crate::auth::Caller)), which project they may
//! see, one engine call, its answer as JSON (or a problem document).

pub mod actions;
pub mod audit;
pub mod extract;
pub mod inbox;
pub mod links;
pub mod policy;
pub mod releases;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// Every route of the API (without state).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", get(crate::openapi::document))
        .route("/v1/projects/{project}/releases", post(releases::plan))
        .route("/v1/releases/{id}", get(releases::status))
        .route("/v1/releases/{id}/approvals", post(releases::approve))
        .route("/v1/releases/{id}/rejections", post(releases::reject))
        .route("/v1/releases", get(releases::list))
        .route("/v1/releases/{id}/evidence", post(actions::evidence))
        .route("/v1/releases/{id}/evidence/files", post(actions::evidence_file))
        .route("/v1/releases/{id}/evidence/bundle", get(audit::bundle))
        .route("/v1/releases/{id}/advance", post(actions::advance))
        .route("/v1/releases/{id}/bookings", post(actions::schedule))
        .route("/v1/releases/{id}/override", post(actions::override_window))
        .route("/v1/releases/{id}/deployments", post(actions::deploy))
        .route("/v1/releases/{id}/verification", post(actions::verify))
        .route("/v1/releases/{id}/rollback", post(actions::rollback))
        .route("/v1/releases/{id}/cancellation", post(actions::cancel))
        .route("/v1/releases/{id}/resolutions", post(actions::resolve))
        .route("/v1/releases/{id}/reports", post(actions::report))
        .route("/v1/releases/{id}/history", get(audit::history))
        .route("/v1/releases/{id}/audit", get(audit::audit))
        .route("/v1/releases/{id}/notes", get(audit::notes))
        .route("/v1/calendar", get(audit::calendar))
        .route("/v1/duties", get(audit::duties))
        .route("/v1/links/{token}", get(links::describe).post(links::confirm))
        .route("/v1/me", get(inbox::me))
        .route("/v1/inbox", get(inbox::inbox))
        .route("/v1/projects/{project}/policy", get(policy::policy))
}
