//! TLS (R-8a "verify SSL certificates"): a handshake with the server,
//! verified against the system's roots or a given CA file, and the number
//! of days until the server's certificate expires.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use shipwarden::ports::{ErrorKind, Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};
use x509_cert::der::Decode;

/// Connects with TLS and reports the `tls_days_left` gate.
#[derive(Debug, Clone)]
pub struct TlsProbe {
    name: String,
    host: String,
    port: u16,
    server_name: String,
    ca_file: Option<PathBuf>,
    timeout: Duration,
    target: Option<String>,
}

fn fail(kind: ErrorKind, message: impl Into<String>) -> PortError {
    PortError::new("probe tls", "check", kind, message)
}

/// Seconds from the Unix epoch to the certificate's `notAfter`.
pub fn not_after(der: &[u8]) -> Result<i64, String> {
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("certificate: {e}"))?;
    let after = cert.tbs_certificate.validity.not_after.to_unix_duration();
    i64::try_from(after.as_secs()).map_err(|e| e.to_string())
}

impl TlsProbe {
    /// A probe of `host:port`, verifying the certificate for `host` against the system's roots.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        let host = host.into();
        Self {
            name: format!("tls {host}:{port}"),
            server_name: host.clone(),
            host,
            port,
            ca_file: None,
            timeout: Duration::from_secs(10),
            target: None,
        }
    }

    /// Trusts only the certificates in this PEM file (a private CA, a self-signed certificate).
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// The name the certificate must be valid for, when it is not the host connected to.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = name.into();
        self
    }

    /// How long the connection and handshake may take.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The target the measurement is for.
    pub fn for_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    fn config(&self) -> Result<rustls::ClientConfig, PortError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(ErrorKind::Invalid, e.to_string()))?;
        let config = match &self.ca_file {
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(path)
                    .map_err(|e| fail(ErrorKind::Invalid, format!("{}: {e}", path.display())))?;
                for cert in certs {
                    let cert = cert.map_err(|e| fail(ErrorKind::Invalid, format!("{}: {e}", path.display())))?;
                    roots.add(cert).map_err(|e| fail(ErrorKind::Invalid, format!("{}: {e}", path.display())))?;
                }
                builder.with_root_certificates(roots).with_no_client_auth()
            }
            None => crate::tls_client::platform_config().map_err(|e| fail(ErrorKind::Invalid, e))?,
        };
        Ok(config)
    }

    async fn handshake(&self) -> Result<Vec<u8>, String> {
        let config = self.config().map_err(|e| e.to_string())?;
        let name = ServerName::try_from(self.server_name.clone()).map_err(|e| e.to_string())?;
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        let (_, session) = tls.get_ref();
        let leaf = session.peer_certificates().and_then(|c| c.first()).ok_or("the server sent no certificate")?;
        Ok(leaf.as_ref().to_vec())
    }
}

#[async_trait]
impl Probe for TlsProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let address = format!("{}:{}", self.host, self.port);
        let outcome = tokio::time::timeout(self.timeout, self.handshake()).await;
        let (value, source) = match outcome {
            Ok(Ok(der)) => {
                let after = not_after(&der).map_err(|e| fail(ErrorKind::Invalid, format!("{address}: {e}")))?;
                let now = jiff::Timestamp::now().as_second();
                let days = ((after - now) as f64 / 86_400.0 * 10.0).floor() / 10.0;
                let expires = jiff::Timestamp::from_second(after).map(|t| t.to_string()).unwrap_or_default();
                (days, format!("tls {address}: certificate for {} valid until {expires}", self.server_name))
            }
            // A failed handshake is a failed gate with its reason, not a probe error.
            Ok(Err(e)) => (0.0, format!("tls {address}: {e}")),
            Err(_) => (0.0, format!("tls {address}: no handshake within {:?}", self.timeout)),
        };
        Ok(vec![Measurement { gate: GateId::TlsDaysLeft, value, target: self.target.clone(), source }])
    }
}
