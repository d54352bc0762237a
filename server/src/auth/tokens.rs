//! API tokens (`swt_<id>_<secret>`) for CI and bots, checked against the
//! project's store database ([`shipwarden_adapters::tokens::TokenStore`]):
//! an unknown, expired or revoked token is refused (401); a valid one acts as
//! its user, limited to its scopes, with [`Proof::Token`] naming its id.

use shipwarden::Proof;
use shipwarden_adapters::tokens::{TokenRejection, TokenStore};

use super::{AuthError, Verified, Verify};

/// Verifies API tokens against the token stores of the projects served
/// (one, when they share a PostgreSQL database).
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    stores: Vec<TokenStore>,
}

impl TokenVerifier {
    /// A verifier of the tokens in `stores`, asked in order.
    pub fn new(stores: Vec<TokenStore>) -> Self {
        TokenVerifier { stores }
    }
}

#[async_trait::async_trait]
impl Verify for TokenVerifier {
    async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError> {
        let now = jiff::Timestamp::now();
        let mut refused = None;
        for store in &self.stores {
            match store.check(token, now).await {
                Ok(None) => return Ok(None),
                // Another project's store may hold it.
                Ok(Some(Err(refusal @ TokenRejection::Unknown))) => refused = Some(refusal),
                Ok(Some(Err(refusal))) => return Err(AuthError::Invalid(refusal.to_string())),
                Ok(Some(Ok(info))) => {
                    return Ok(Some(Verified {
                        user: info.user,
                        groups: Default::default(),
                        proof: Proof::Token { id: info.id },
                        scopes: Some(info.scopes.into_iter().collect()),
                    }));
                }
                Err(e) => return Err(AuthError::Unavailable(e.to_string())),
            }
        }
        match refused {
            Some(refusal) => Err(AuthError::Invalid(refusal.to_string())),
            None => Ok(None),
        }
    }
}
