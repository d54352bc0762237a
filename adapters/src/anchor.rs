//! Checkpoint signatures checked with Ed25519 (ring), for
//! [`verify_anchored`](shipwarden::audit::verify_anchored) (R-9d): the same
//! algorithm and key as the evidence bundle's.

use ring::signature::{ED25519, UnparsedPublicKey};

/// Checks Ed25519 signatures given as hex; any other algorithm fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ed25519Check;

impl shipwarden::audit::SignatureCheck for Ed25519Check {
    fn check(&self, algorithm: &str, public_key: &str, message: &[u8], signature: &str) -> bool {
        if algorithm != "ed25519" {
            return false;
        }
        let (Ok(public), Ok(value)) = (hex::decode(public_key.trim()), hex::decode(signature.trim())) else {
            return false;
        };
        UnparsedPublicKey::new(&ED25519, public).verify(message, &value).is_ok()
    }
}
