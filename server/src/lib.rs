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
//! - [`hardening`]: body limits, timeouts, the rate limit per identity, CORS,
//!   security headers, TLS (rustls), problem documents for the HTTP layer's own refusals.
//! - [`live`]: server-sent events of every appended event and log line;
//! - [`metrics`]: `/metrics` (Prometheus), `/healthz`, `/readyz`;
//! - [`console`]: the web console at `/console/` (issue #22), its sign-in
//!   (OIDC authorization code + PKCE) and its session cookie.
//! - [`slack`]: approvals and rejections from Slack's buttons, verified by
//!   Slack's request signature (`/slack/interactivity`, issue #23).

pub mod api;
pub mod auth;
pub mod background;
pub mod console;
pub mod error;
pub mod hardening;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod slack;
pub mod state;

use std::future::Future;
use std::sync::Arc;

pub use auth::{AuthError, Caller, Verified, Verify};
pub use error::ApiError;
pub use state::{AppState, Project};

/// The whole service as an axum router over `state`, with the layers of [`hardening`].
pub fn router(state: Arc<AppState>) -> axum::Router {
    router_with(state, axum::Router::new())
}

/// The service with `streams` mounted beside the API and the live feed:
/// routes that answer for long (server-sent events) and are therefore exempt
/// from `[server] request_timeout`; every other layer (rate limit, CORS,
/// headers) applies, and every answer is counted by [`metrics::track`].
pub fn router_with(state: Arc<AppState>, streams: axum::Router<Arc<AppState>>) -> axum::Router {
    hardening::harden(
        api::routes().merge(metrics::routes()).merge(console::routes()).merge(slack::routes()),
        streams.merge(live::routes()),
        state.clone(),
    )
    .layer(axum::middleware::from_fn_with_state(state, metrics::track))
}

/// Serves `state` on `listener` until `shutdown` completes; requests in
/// flight are finished first.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        state.console.listening_on(addr, false);
    }
    start_feed(&state).await;
    let shutdown = closing_streams(state.clone(), shutdown);
    serve_app(listener, router(state), shutdown).await
}

/// `shutdown`, then every live stream ended: a graceful shutdown waits for
/// open connections, and a subscriber's would stay open for ever.
async fn closing_streams(state: Arc<AppState>, shutdown: impl Future<Output = ()> + Send + 'static) {
    shutdown.await;
    state.live.close();
}

/// Starts the live feed of `state` (so that the step metrics count from the start).
async fn start_feed(state: &Arc<AppState>) {
    if let Err(e) = state.live.feed(state).await {
        tracing::warn!(code = e.code(), "live feed not started: {}", e.doc.message);
    }
}

/// Serves `state` over TLS (rustls, see [`hardening::tls_config`]) on `listener` until `shutdown` completes.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        state.console.listening_on(addr, true);
    }
    start_feed(&state).await;
    let shutdown = closing_streams(state.clone(), shutdown);
    serve_app(hardening::TlsListener::new(listener, tls)?, router(state), shutdown).await
}

/// Serves `app` (a [`router`] or [`router_with`]) on `listener` (TCP, or a
/// [`hardening::TlsListener`]) with each request's [`hardening::Peer`] known.
pub async fn serve_app<L>(
    listener: L,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    hardening::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    axum::serve(listener, app.into_make_service_with_connect_info::<hardening::Peer>())
        .with_graceful_shutdown(shutdown)
        .await
}
