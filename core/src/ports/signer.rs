use async_trait::async_trait;

use super::PortError;

/// Signs release evidence bundles (R-9d): a key kept in a secret store, a
/// KMS or an HSM. The engine hands it the bundle's canonical bytes.
#[async_trait]
pub trait Signer: Send + Sync {
    /// The signature algorithm (`ed25519`).
    fn algorithm(&self) -> &str;

    /// The public key, as lowercase hex, for verifiers.
    fn public_key(&self) -> String;

    /// The signature of `message`, as lowercase hex.
    async fn sign(&self, message: &[u8]) -> Result<String, PortError>;
}
