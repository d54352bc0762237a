//! Key rotation at the real OpenID provider (issue #21): a token signed with a
//! key the verifier has not seen makes it fetch the JWKS once more, and then
//! verifies; tokens signed with the previous key still verify. In a test
//! binary of its own, because it changes the provider every other test uses.

mod auth_common;

use std::time::Duration;

use auth_common::{issuer, jwt_part, oidc_token};
use shipwarden_server::Verify;
use shipwarden_server::auth::OidcVerifier;

#[tokio::test]
async fn a_rotated_signing_key_verifies_after_one_jwks_refetch() {
    let Some(issuer) = issuer() else { return };
    let verifier =
        OidcVerifier::new(&issuer, "shipwarden").expect("verifier").with_refetch_interval(Duration::from_millis(200));
    let before = oidc_token(&issuer, "rita", "urn:shipwarden", false).await;
    assert_eq!(verifier.verify(&before).await.expect("valid").expect("jwt").user, "rita");
    assert_eq!(verifier.fetches(), 1);

    let rotated: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/__test/rotate"))
        .send()
        .await
        .expect("rotate")
        .json()
        .await
        .expect("json");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after = oidc_token(&issuer, "paul", "urn:shipwarden", false).await;
    assert_eq!(jwt_part(&after, 0)["kid"], rotated["kid"]);
    assert_ne!(jwt_part(&after, 0)["kid"], jwt_part(&before, 0)["kid"]);
    assert_eq!(verifier.verify(&after).await.expect("valid after a refetch").expect("jwt").user, "paul");
    assert_eq!(verifier.fetches(), 2, "one refetch for the new key");
    // The previous key is still published: its tokens still verify, without another fetch.
    assert_eq!(verifier.verify(&before).await.expect("still valid").expect("jwt").user, "rita");
    assert_eq!(verifier.fetches(), 2);
}
