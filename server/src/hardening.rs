//! What stands between the network and the routes (issue #21, item 7): body
//! limits, request timeouts, a rate limit per identity, a CORS allow-list,
//! security headers, TLS (rustls), a request log that never holds a token,
//! and problem documents for every refusal of the HTTP layer itself.
//!
//! Every limit comes from `[server]`: `max_body_bytes` (default 1 MiB),
//! `max_upload_bytes` (64 MiB), `request_timeout` (`30s`), `rate_limit`
//! (50 requests a second per identity, with that burst), `cors_origins`
//! (none), `[server.tls] cert`/`key`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use shipwarden_adapters::config::ServerConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

use crate::auth::Caller;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

/// The limits `[server]` sets, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (`max_body_bytes`, default 1 MiB).
    pub body: usize,
    /// The largest uploaded evidence file, in bytes (`max_upload_bytes`, default 64 MiB).
    pub upload: u64,
    /// How long a request may take (`request_timeout`, default 30 s); streams are exempt.
    pub timeout: Duration,
    /// Requests a second per identity, and the burst (`rate_limit`, default 50).
    pub rate: u32,
}

impl Limits {
    /// The limits of `settings` (a value that does not parse was refused when the configuration was read).
    pub fn of(settings: &ServerConfig) -> Limits {
        let timeout = settings
            .request_timeout
            .as_deref()
            .and_then(|t| t.parse::<jiff::SignedDuration>().ok())
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or(Duration::from_secs(30));
        Limits {
            body: settings.max_body_bytes.and_then(|b| usize::try_from(b).ok()).unwrap_or(1 << 20),
            upload: settings.max_upload_bytes.unwrap_or(64 << 20),
            timeout,
            rate: settings.rate_limit.unwrap_or(50).max(1),
        }
    }
}

/// Who is on the other end of a connection: its address, and whether it came over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// The peer's address.
    pub addr: SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer { addr: *stream.remote_addr(), tls: false }
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer { addr: *stream.remote_addr(), tls: true }
    }
}

/// The API's routes (`api`, answered within the request timeout) and the
/// streams (`streams`: server-sent events, exempt from it), with every layer
/// of this module around them.
pub fn harden(
    api: axum::Router<Arc<AppState>>,
    streams: axum::Router<Arc<AppState>>,
    state: Arc<AppState>,
) -> axum::Router {
    let limits = Limits::of(&state.settings);
    let limiter = Arc::new(RateLimiter::new(limits.rate));
    let api = api.layer(axum::middleware::from_fn_with_state(limits.timeout, timeout));
    let mut app = api
        .merge(streams)
        .fallback(crate::api::extract::no_route)
        .method_not_allowed_fallback(crate::api::extract::wrong_method)
        .layer(axum::extract::DefaultBodyLimit::max(limits.body))
        .layer(axum::middleware::from_fn_with_state(limits, declared_length))
        .layer(axum::middleware::from_fn(request_log))
        .layer(axum::middleware::from_fn_with_state((state.clone(), limiter), rate_limit));
    if let Some(cors) = cors(&state.settings.cors_origins) {
        app = app.layer(cors);
    }
    app.layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::map_response(problems))
        .with_state(state)
}

/// `Access-Control-*` for the origins of `cors_origins` only; `None` (no CORS header at all) without any.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<HeaderValue> =
        origins.iter().filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()).collect();
    if allowed.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(allowed))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("last-event-id")])
            .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
            .max_age(Duration::from_secs(600)),
    )
}

/// `X-Content-Type-Options`, `Referrer-Policy`, `Content-Security-Policy`
/// (unless the route set its own), `Cache-Control: no-store` (likewise) on every answer; `Strict-Transport-Security` over TLS.
async fn security_headers(request: Request, next: Next) -> Response {
    let tls = request.extensions().get::<ConnectInfo<Peer>>().is_some_and(|ConnectInfo(p)| p.tls);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // The console's pages set their own (`console::assets::CSP`); the API's answers load nothing.
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    if tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// The routes that take an uploaded file (up to `max_upload_bytes`).
pub const UPLOAD_ROUTES: &[&str] = &["/v1/releases/{id}/evidence/files"];

/// Answers 413 before reading a body whose `Content-Length` is over the
/// limit (a client that declares more than it sends is not waited for).
/// Bodies without a length (chunked) are counted as they are read.
async fn declared_length(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let upload =
        request.extensions().get::<axum::extract::MatchedPath>().is_some_and(|m| UPLOAD_ROUTES.contains(&m.as_str()));
    let (limit, key) =
        if upload { (limits.upload, "max_upload_bytes") } else { (limits.body as u64, "max_body_bytes") };
    if declared.is_some_and(|d| d > limit) {
        return crate::api::extract::status_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than `[server] {key}` ({limit} bytes)"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Answers 503 (`TIMEOUT`, retryable) when the routes take longer than `request_timeout`.
///
/// The engine calls that run steps are detached from the request (see
/// [`crate::api::actions`]), so a timeout answers the client without stopping a step.
async fn timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let mut response = ApiError::http(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                format!(
                    "the request took longer than `[server] request_timeout` ({}s); what it started goes on: ask the release's status",
                    limit.as_secs_f64()
                ),
                true,
            )
            .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// A token bucket per identity: `rate` tokens a second, at most `rate` held.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Buckets of `rate` requests a second, each with a burst of `rate`.
    pub fn new(rate: u32) -> Self {
        RateLimiter { rate: f64::from(rate.max(1)), buckets: Mutex::default() }
    }

    /// Takes a token from `key`'s bucket; when it is empty, how long until it holds one.
    pub fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget identities whose buckets have refilled: they would start full anyway.
            let rate = self.rate;
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < rate);
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.rate, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.rate);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.rate))
        }
    }
}

/// The rate limit per identity: the verified user of a bearer token (the
/// verified caller is kept for the handler) or of the console's session
/// cookie, otherwise the peer's address.
async fn rate_limit(
    State((state, limiter)): State<(Arc<AppState>, Arc<RateLimiter>)>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    let mut key = None;
    if let Some(token) = token
        && let Ok(verified) = state.verify(&token).await
    {
        key = Some(format!("user:{}", verified.user));
        request.extensions_mut().insert(Caller(verified));
    } else if let Some(session) =
        crate::console::session::cookie(request.headers(), crate::console::session::SESSION_COOKIE)
            .and_then(|id| state.console.sessions.get(id))
    {
        // The console's session: its user's bucket (the Caller, and its CSRF check, come later).
        key = Some(format!("user:{}", session.verified.user));
    }
    let key = key.unwrap_or_else(|| match request.extensions().get::<ConnectInfo<Peer>>() {
        Some(ConnectInfo(peer)) => format!("ip:{}", peer.addr.ip()),
        None => "ip:unknown".to_owned(),
    });
    match limiter.take(&key, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let mut response = ApiError::http(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("more than `[server] rate_limit` requests a second; try again in {seconds}s"),
                true,
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

/// One line per request: method, route, status, time taken and the user.
/// Never a header, a query string or a body: no token or secret reaches the log.
async fn request_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |m| m.as_str().to_owned());
    let user = request.extensions().get::<Caller>().map(|c| c.0.user.clone());
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(
        target: "shipwarden_server::request",
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        user = user.as_deref().unwrap_or("-"),
        "request"
    );
    response
}

/// Every 4xx/5xx that is not a problem document yet (a layer's own answer)
/// becomes one, with the same status; an HTML page (the console's) stays one.
async fn problems(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Problem documents, and the pages made for people (the console's failed sign-in), stay as they are.
    let kept = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes() || v.as_bytes().starts_with(b"text/html"));
    if kept {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { text };
    let mut error = ApiError::invalid(message);
    error.status = status;
    let mut fresh = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().entry(name.clone()).or_insert(value.clone());
        }
    }
    fresh
}

/// Why TLS could not be set up from `[server.tls]`.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or holds nothing of its kind.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the certificate and key.
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A rustls server configuration (ring; HTTP/1.1) from PEM files: the certificate chain and its private key.
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let file = |path: &std::path::Path, e: &dyn std::fmt::Display| TlsError::File {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file(cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file(cert, &e))?;
    if chain.is_empty() {
        return Err(file(cert, &"no certificate in the file"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| file(key, &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A TCP listener whose connections are TLS: handshakes run in tasks of their
/// own (at most 10 s each), so a slow or silent client holds up no one.
pub struct TlsListener {
    local: SocketAddr,
    ready: tokio::sync::mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Accepts TLS connections on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(256);
        let tls = tokio_rustls::TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, addr) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(peer = %addr, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(peer = %addr, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { local, ready, acceptor })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
