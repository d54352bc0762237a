//! Notices as signed JSON POSTs to any URL (R-9a), so any chat or platform
//! can receive release events.
//!
//! The body is the notice as JSON (`key`, `release`, `subject`, `body`,
//! `audience`, `sent_by`). Headers: `X-Shipwarden-Event: notice`,
//! `X-Shipwarden-Delivery: <key>` (receivers drop repeats: notices are
//! delivered at least once), and, with a secret, `X-Shipwarden-Signature:
//! sha256=<hex>`, the HMAC-SHA256 of the exact body bytes, as GitHub signs
//! its webhooks. Failures: 5xx and connection errors are retryable, 429 is
//! rate limited with `Retry-After`, other 4xx are not retried; each error
//! names the system, the operation and the status. The secret lives in a
//! `secrecy` type and is never in errors or `Debug`.

use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use shipwarden::ports::{Audience, ErrorKind, Notice, Notifier, PortError};

/// POSTs each notice to one URL.
pub struct WebhookNotifier {
    name: String,
    url: String,
    secret: Option<SecretString>,
    client: reqwest::Client,
}

impl std::fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("signed", &self.secret.is_some())
            .finish_non_exhaustive()
    }
}

/// The `X-Shipwarden-Signature` value of `body` under `secret`: `sha256=` and the hex HMAC-SHA256.
pub fn signature(secret: &SecretString, body: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl WebhookNotifier {
    /// Notices to `url`, signed with `secret` when there is one; `timeout` bounds each POST.
    ///
    /// # Errors
    /// When the URL holds credentials (put them in the secret) or the HTTP client cannot be built.
    pub fn new(url: impl Into<String>, secret: Option<SecretString>, timeout: Duration) -> Result<Self, PortError> {
        let url = url.into();
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url.as_str()));
        let authority = rest.split('/').next().unwrap_or_default();
        if let Some((_, host)) = authority.rsplit_once('@') {
            let name = format!("webhook {scheme}://{host}");
            return Err(PortError::new(name, "setup", ErrorKind::Invalid, "the URL must not hold credentials"));
        }
        // The query string may carry a token (Slack-style URLs): names and errors show the path only.
        let name = format!("webhook {}", url.split('?').next().unwrap_or(&url));
        let client = crate::tls_client::http_client(timeout)
            .map_err(|e| PortError::new(name.clone(), "setup", ErrorKind::Invalid, e))?;
        Ok(Self { name, url, secret, client })
    }

    fn fail(&self, kind: ErrorKind, message: impl Into<String>) -> PortError {
        PortError::new(self.name.clone(), "send", kind, message)
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        let body = serde_json::json!({
            "key": notice.key,
            "release": notice.release.to_string(),
            "subject": notice.subject,
            "body": notice.body,
            "audience": notice.audience.iter().map(Audience::as_str).collect::<Vec<_>>(),
            "sent_by": "shipwarden",
        })
        .to_string();
        let mut request = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("shipwarden/", env!("CARGO_PKG_VERSION")))
            .header("X-Shipwarden-Event", "notice")
            .header("X-Shipwarden-Delivery", &notice.key);
        if let Some(secret) = &self.secret {
            request = request.header("X-Shipwarden-Signature", signature(secret, body.as_bytes()));
        }
        let response = request.body(body).send().await.map_err(|e| {
            let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
            // Without the URL: its query may carry a token. The secret is only ever in the HMAC.
            self.fail(kind, e.without_url().to_string())
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        match status {
            200..=299 => Ok(()),
            429 => {
                let mut e = self.fail(ErrorKind::RateLimited, "answered 429 Too Many Requests");
                e.retry_after = retry_after.map(Duration::from_secs);
                Err(e)
            }
            408 => Err(self.fail(ErrorKind::Timeout, "answered 408 Request Timeout")),
            500..=599 => {
                let mut e = self.fail(ErrorKind::Unavailable, format!("answered {status}"));
                e.retry_after = retry_after.map(Duration::from_secs);
                Err(e)
            }
            401 | 403 => Err(self.fail(ErrorKind::Rejected, format!("answered {status}: check the receiver's secret"))),
            404 | 410 => Err(self.fail(ErrorKind::NotFound, format!("answered {status}"))),
            _ => Err(self.fail(ErrorKind::Rejected, format!("answered {status}"))),
        }
    }
}
