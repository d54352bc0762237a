//! Who calls, verified: a request's `Authorization: Bearer …` is handed to
//! each [`Verify`] in turn (OIDC tokens, API tokens); the first that
//! recognises it says who it is. The identity becomes the actor's proof
//! ([`shipwarden::Proof::Oidc`], [`shipwarden::Proof::Token`]), so the
//! policy's `[identity]` judges it like any other (R-2d).
//!
//! The web console's session cookie stands for a bearer token (issue #22):
//! the session holds the identity its sign-in verified.
//!
//! What a caller may do is decided here in one place: [`Caller`] requires
//! the [`Scope`] of the request's method (`read` for `GET`/`HEAD`, `write`
//! for the rest); roles are the policy's (the engine refuses, 403) and which
//! projects a caller sees is [`crate::state::Project::visible_to`] (404).

pub mod oidc;
pub mod tokens;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use shipwarden::Proof;
use shipwarden_adapters::config::ConfigError;

pub use oidc::OidcVerifier;
pub use tokens::TokenVerifier;

use crate::error::ApiError;
use crate::state::AppState;

/// A caller whose identity a [`Verify`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The shipwarden user (a key of `[users]`).
    pub user: String,
    /// The groups the identity provider says the user is in.
    pub groups: BTreeSet<String>,
    /// How the identity was established.
    pub proof: Proof,
    /// What an API token may do (`read`, `write`, …); `None`: whatever the user may.
    pub scopes: Option<BTreeSet<String>>,
}

/// The routes answered without identity, all in this one list: the API's
/// description, liveness and readiness, and the metrics scrape. Every other
/// route takes a [`Caller`] (the authorization tests check each route of the
/// OpenAPI document that is not listed here). The web console's page, assets
/// and sign-in (`/console/…`, [`crate::console`]) are outside the API and its
/// document: they answer anyone, and `/console/session` and `/console/logout`
/// take the console's own session. `/slack/interactivity` ([`crate::slack`]) is
/// outside too: Slack authenticates it by its request signature.
pub const PUBLIC_PATHS: &[&str] = &["/openapi.json", "/healthz", "/readyz", "/metrics"];

/// What a request needs a caller to be allowed: an API token carries
/// scopes; an OIDC identity has them all (its roles still apply).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Reading: every `GET` and `HEAD` route. Granted by `read`, `write` and `admin`.
    Read,
    /// Changing: every other method (plan, approve, evidence, deploy, …). Granted by `write` and `admin`.
    Write,
    /// Administering the server (reserved; granted only by `admin`).
    Admin,
}

impl Scope {
    /// The scope a request with `method` needs.
    pub fn of(method: &Method) -> Scope {
        if method == Method::GET || method == Method::HEAD { Scope::Read } else { Scope::Write }
    }

    /// Its name (`read`, `write`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// Whether a token with the scope named `granted` may do what this scope covers.
    pub fn granted_by(self, granted: &str) -> bool {
        match self {
            Scope::Read => matches!(granted, "read" | "write" | "admin"),
            Scope::Write => matches!(granted, "write" | "admin"),
            Scope::Admin => granted == "admin",
        }
    }
}

impl Verified {
    /// Whether this caller may do what `scope` covers.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.as_ref().is_none_or(|granted| granted.iter().any(|g| scope.granted_by(g)))
    }
}

impl Caller {
    /// 403 unless the caller may do what `scope` covers.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token's scopes do not include `{}` (needed for this request)",
                scope.as_str()
            )))
        }
    }
}

/// Why a bearer token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is malformed, expired, for another audience, badly signed, revoked, …
    #[error("{0}")]
    Invalid(String),
    /// The verifier could not check it now (the identity provider is down): retryable.
    #[error("cannot verify the token now: {0}")]
    Unavailable(String),
}

/// Checks bearer tokens of one kind.
#[async_trait::async_trait]
pub trait Verify: Send + Sync {
    /// Who `token` belongs to; `Ok(None)` when it is not this verifier's kind
    /// (the next one is asked).
    async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError>;
}

/// The verified caller of a request: a handler that takes one is answered
/// 401 without a valid bearer token or console session cookie (`sw_session`;
/// a bearer token wins when both are sent), 403 when the caller's token lacks
/// the scope of the request's method ([`Scope::of`]), and 403 when a
/// state-changing request made with the cookie lacks the session's
/// `X-CSRF-Token` or comes from another `Origin` (see [`crate::console`]).
#[derive(Debug, Clone)]
pub struct Caller(pub Verified);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            caller.require(Scope::of(&parts.method))?;
            return Ok(caller.clone());
        }
        let Some(header) = parts.headers.get(header::AUTHORIZATION) else {
            // The console's session cookie, in place of a bearer token (which wins when both are sent).
            if let Some(verified) = crate::console::caller_from_cookie(parts, state)? {
                let caller = Caller(verified);
                parts.extensions.insert(caller.clone());
                parts.extensions.insert(crate::console::ViaConsole);
                caller.require(Scope::of(&parts.method))?;
                return Ok(caller);
            }
            return Err(ApiError::unauthenticated(
                "send `Authorization: Bearer <token>` (an OIDC token or an API token), or sign in at /console/",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthenticated("the Authorization header is not `Bearer <token>`"))?;
        let caller = Caller(state.verify(token).await?);
        parts.extensions.insert(caller.clone());
        caller.require(Scope::of(&parts.method))?;
        Ok(caller)
    }
}

/// The verifiers of the projects' stores: API tokens in each project's store
/// (OIDC tokens, when `[server.oidc]` is set, are added by
/// [`AppState::with_oidc`], which also keeps the verifier for the console's sign-in).
pub async fn verifiers_from(state: &AppState) -> Result<Vec<Arc<dyn Verify>>, ConfigError> {
    let mut stores = Vec::new();
    for project in state.projects.values() {
        stores.push(shipwarden_adapters::tokens::TokenStore::open(&project.loaded).await?);
    }
    Ok(vec![Arc::new(TokenVerifier::new(stores))])
}

impl AppState {
    /// Who `token` belongs to, asked of each verifier in turn.
    pub async fn verify(&self, token: &str) -> Result<Verified, ApiError> {
        for verifier in &self.verifiers {
            match verifier.verify(token).await {
                Ok(Some(v)) => return Ok(v),
                Ok(None) => continue,
                Err(AuthError::Invalid(why)) => return Err(ApiError::unauthenticated(why)),
                Err(e @ AuthError::Unavailable(_)) => {
                    let mut doc = shipwarden_bindings::error::ErrorDoc::new(
                        shipwarden::engine::ErrorCode::Adapter,
                        e.to_string(),
                        true,
                    );
                    doc.port = Some("identity".into());
                    return Err(ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, doc));
                }
            }
        }
        Err(ApiError::unauthenticated("the bearer token is not one this server accepts"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_scopes(scopes: Option<&[&str]>) -> Verified {
        Verified {
            user: "ci".into(),
            groups: BTreeSet::new(),
            proof: Proof::Token { id: "t".into() },
            scopes: scopes.map(|s| s.iter().map(|x| (*x).to_owned()).collect()),
        }
    }

    #[test]
    fn reading_needs_read_changing_needs_write_and_oidc_identities_have_every_scope() {
        assert_eq!(Scope::of(&Method::GET), Scope::Read);
        assert_eq!(Scope::of(&Method::HEAD), Scope::Read);
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(Scope::of(&m), Scope::Write);
        }
        let read = with_scopes(Some(&["read"]));
        assert!(read.allows(Scope::Read) && !read.allows(Scope::Write) && !read.allows(Scope::Admin));
        let write = with_scopes(Some(&["write"]));
        assert!(write.allows(Scope::Read) && write.allows(Scope::Write) && !write.allows(Scope::Admin));
        let admin = with_scopes(Some(&["admin"]));
        assert!(admin.allows(Scope::Read) && admin.allows(Scope::Write) && admin.allows(Scope::Admin));
        assert!(!with_scopes(Some(&[])).allows(Scope::Read));
        assert!(with_scopes(None).allows(Scope::Admin));
        let denied = Caller(read).require(Scope::Write).expect_err("denied");
        assert_eq!(denied.status, axum::http::StatusCode::FORBIDDEN);
    }
}
