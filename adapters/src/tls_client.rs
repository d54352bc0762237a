//! The TLS client settings every HTTPS adapter shares: rustls with the ring
//! provider, verifying servers against the platform's trust store.

use std::sync::Arc;

/// A client configuration that trusts what the platform trusts.
pub(crate) fn platform_config() -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| e.to_string())?;
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// An HTTP client over [`platform_config`], with a timeout per request.
#[cfg(feature = "http")]
pub(crate) fn http_client(timeout: std::time::Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("shipwarden/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(platform_config()?)
        .build()
        .map_err(|e| e.to_string())
}
