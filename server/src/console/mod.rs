//! The web console (issue #22): a single-page app under `/console/`, built
//! into `console/dist/` and embedded in the binary ([`assets`]), on the public
//! API, signed in through the OpenID provider of `[server.oidc]` by the
//! server itself (authorization code + PKCE, the "backend for frontend"
//! pattern: the browser never holds a token, only the HttpOnly `sw_session`
//! cookie, see [`signin`]).
//!
//! With the cookie, every `/v1/*` request is the session's user
//! ([`crate::auth::Caller`]); every request other than `GET`/`HEAD` must also
//! send `X-CSRF-Token` (the session's, compared in constant time) and, when
//! it sends an `Origin`, the console's own ([`Console::check_csrf`]).
//! Sessions live in memory ([`session::Sessions`]): one console replica, or
//! sticky sessions; a restart signs everyone out.

pub mod assets;
pub mod session;
pub mod signin;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::routing::{get, post};
use secrecy::ExposeSecret;
use shipwarden_adapters::config::ConsoleConfig;

use crate::auth::Verified;
use crate::error::ApiError;
use crate::state::AppState;
pub use session::{Session, Sessions};

/// The default length of a console session.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// The header a state-changing request sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The console's settings and its sessions.
#[derive(Debug)]
pub struct Console {
    config: Option<ConsoleConfig>,
    /// The sessions and pending sign-ins.
    pub sessions: Sessions,
    default_url: OnceLock<String>,
    ttl: Duration,
}

impl Console {
    /// The console of `[server.console]` (none: served, but nobody can sign in).
    pub fn new(config: Option<&ConsoleConfig>) -> Self {
        let ttl = config
            .and_then(|c| c.session_ttl.as_deref())
            .and_then(|t| t.parse::<jiff::SignedDuration>().ok())
            .and_then(|d| Duration::try_from(d).ok())
            .filter(|d| !d.is_zero())
            .map_or(DEFAULT_SESSION_TTL, |d| d.min(ConsoleConfig::MAX_SESSION_TTL));
        Console { config: config.cloned(), sessions: Sessions::default(), default_url: OnceLock::new(), ttl }
    }

    /// `[server.console]`, if configured.
    pub fn config(&self) -> Option<&ConsoleConfig> {
        self.config.as_ref()
    }

    /// How long a session lasts (`session_ttl`).
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Sets the base URL used when `url` is not configured from the address
    /// the server listens on (`http://127.0.0.1:8080`; an unspecified address
    /// such as `0.0.0.0` stands for loopback: set `url` to serve the console
    /// to other machines). The first call wins.
    pub fn listening_on(&self, addr: std::net::SocketAddr, tls: bool) {
        let ip = match addr.ip() {
            std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let scheme = if tls { "https" } else { "http" };
        let _ = self.default_url.set(format!("{scheme}://{}", std::net::SocketAddr::new(ip, addr.port())));
    }

    /// The console's public base URL, without a trailing `/`.
    pub fn base_url(&self) -> Option<String> {
        let configured = self.config.as_ref().and_then(|c| c.url.clone());
        configured.or_else(|| self.default_url.get().cloned()).map(|u| u.trim_end_matches('/').to_owned())
    }

    /// The console's origin (`https://releases.example.com`): its base URL's scheme, host and port.
    pub fn origin(&self) -> Option<String> {
        let base = self.base_url()?;
        let (scheme, rest) = base.split_once("://")?;
        let authority = rest.split('/').next().unwrap_or(rest);
        Some(format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
    }

    /// The session of the request's `sw_session` cookie; `Ok(None)` without the cookie.
    /// A cookie whose session ended is 401, naming where to sign in again.
    pub fn session_of(&self, parts: &Parts) -> Result<Option<Session>, ApiError> {
        let raw_cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .any(|h| h.as_bytes().windows(b"sw_session=".len()).any(|w| w == b"sw_session="));
        match session::cookie(&parts.headers, session::SESSION_COOKIE) {
            Some(id) => match self.sessions.get(id) {
                Some(s) => Ok(Some(s)),
                None => Err(ApiError::unauthenticated(
                    "the console session has ended or is not known here: sign in again at /console/login",
                )),
            },
            None if raw_cookie => Err(ApiError::unauthenticated(
                "the `sw_session` cookie is not a session id: sign in again at /console/login",
            )),
            None => Ok(None),
        }
    }

    /// For a request other than `GET`/`HEAD` made with the session cookie:
    /// 403 unless it sends the session's `X-CSRF-Token` and, if it sends an
    /// `Origin`, the console's own.
    pub fn check_csrf(&self, parts: &Parts, session: &Session) -> Result<(), ApiError> {
        if parts.method == Method::GET || parts.method == Method::HEAD {
            return Ok(());
        }
        let sent = parts.headers.get(CSRF_HEADER).and_then(|h| h.to_str().ok());
        match sent {
            None => {
                return Err(ApiError::forbidden(
                    "CSRF: a request made with the console's session cookie must send `X-CSRF-Token` (from GET /console/session)",
                ));
            }
            Some(token) if !session::same(token, session.csrf.expose_secret()) => {
                return Err(ApiError::forbidden("CSRF: the `X-CSRF-Token` is not this session's"));
            }
            Some(_) => {}
        }
        if let Some(origin) = parts.headers.get(header::ORIGIN) {
            let own = self.origin();
            let matches = origin.to_str().ok().zip(own.as_deref()).is_some_and(|(o, own)| o.eq_ignore_ascii_case(own));
            if !matches {
                return Err(ApiError::forbidden(
                    "CSRF: a request made with the console's session cookie must come from the console's own origin",
                ));
            }
        }
        Ok(())
    }
}

/// Marks a request whose caller came through the console's session cookie
/// (a request extension the [`crate::auth::Caller`] extractor sets): an
/// approval given there defaults to the `api` channel, not `cli`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViaConsole;

/// The caller of a request that sends the console's session cookie (and no
/// bearer token), CSRF checked; `Ok(None)` without the cookie.
pub(crate) fn caller_from_cookie(parts: &Parts, state: &Arc<AppState>) -> Result<Option<Verified>, ApiError> {
    let Some(session) = state.console.session_of(parts)? else { return Ok(None) };
    state.console.check_csrf(parts, &session)?;
    Ok(Some(session.verified))
}

/// The console's routes: the app, its assets, sign-in and sign-out.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(to_slash))
        .route("/console/", get(assets::index))
        .route("/console/login", get(signin::login))
        .route("/console/callback", get(signin::callback))
        .route("/console/session", get(signin::session))
        .route("/console/logout", post(signin::logout))
        .route("/console/assets/", get(assets::no_asset))
        .route("/console/assets/{*name}", get(assets::asset))
        .route("/console/{*path}", get(assets::index))
}

/// `GET /console`: 308 to `/console/`.
async fn to_slash() -> axum::response::Redirect {
    axum::response::Redirect::permanent("/console/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_is_the_listening_address_with_loopback_for_any() {
        let console = Console::new(None);
        console.listening_on("0.0.0.0:8080".parse().expect("addr"), false);
        assert_eq!(console.base_url().as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(console.origin().as_deref(), Some("http://127.0.0.1:8080"));
        let configured = ConsoleConfig { url: Some("https://Releases.example.com/".into()), ..Default::default() };
        let console = Console::new(Some(&configured));
        console.listening_on("[::]:8443".parse().expect("addr"), true);
        assert_eq!(console.base_url().as_deref(), Some("https://Releases.example.com"));
        assert_eq!(console.origin().as_deref(), Some("https://releases.example.com"));
        assert_eq!(console.ttl(), DEFAULT_SESSION_TTL);
        let short = ConsoleConfig { session_ttl: Some("30m".into()), ..Default::default() };
        assert_eq!(Console::new(Some(&short)).ttl(), Duration::from_secs(1800));
    }
}
