//! Who calls, verified: a request's `Authorization: Bearer …` is handed to
//! each [`Verify`] in turn (OIDC tokens, API tokens); the first that
//! recognises it says who it is. The identity becomes the actor's proof
//! ([`shipwarden::Proof::Oidc`], [`shipwarden::Proof::Token`]), so the
//! policy's `[identity]` judges it like any other (R-2d).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use shipwarden::Proof;

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
/// 401 without a valid bearer token.
#[derive(Debug, Clone)]
pub struct Caller(pub Verified);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthenticated("send `Authorization: Bearer <token>` (an OIDC token or an API token)")
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthenticated("the Authorization header is not `Bearer <token>`"))?;
        let caller = Caller(state.verify(token).await?);
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
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
