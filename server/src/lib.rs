//! `shipwarden serve`: the release procedure as a multi-user HTTP service
//! (issue #21). Every route is a few lines of conversion around one call of
//! the engine ([`shipwarden::engine::ReleaseManager`]): no rule lives here.
//!
//! - [`state::AppState`]: the projects served (one `shipwarden.toml` each,
//!   usually sharing one PostgreSQL store) and who may see them;
//! - [`auth`]: who calls, verified (OIDC bearer tokens, API tokens), never asserted;
//! - [`error::ApiError`]: every failure as `application/problem+json` (RFC 9457)
//!   with the codes of the bindings (`REFUSED`, `CONFLICT`, …);
//! - [`api`]: the routes, described by [`openapi::ApiDoc`] (OpenAPI 3.1);
//! - [`live`]: server-sent events of every appended event and log line;
//! - [`metrics`]: `/metrics` (Prometheus), `/healthz`, `/readyz`.

pub mod api;
pub mod auth;
pub mod error;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod state;

use std::future::Future;
use std::sync::Arc;

pub use auth::{AuthError, Caller, Verified, Verify};
pub use error::ApiError;
pub use state::{AppState, Project};

/// The whole service as an axum router over `state`.
pub fn router(state: Arc<AppState>) -> axum::Router {
    api::routes()
        .merge(live::routes())
        .merge(metrics::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .with_state(state)
}

/// Serves `state` on `listener` until `shutdown` completes; requests in
/// flight are finished first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The live feed starts now, so that the step metrics count from the start.
    if let Err(e) = state.live.feed(&state).await {
        tracing::warn!(code = e.code(), "live feed not started: {}", e.doc.message);
    }
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
