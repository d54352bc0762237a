//! The routes. Each handler: who calls ([`Caller`]), which project they may
//! see, one engine call, its answer as JSON (or a problem document).

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
}
