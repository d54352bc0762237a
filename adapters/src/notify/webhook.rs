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
}

#[async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        let mut body = serde_json::json!({
            "key": notice.key,
            "release": notice.release.to_string(),
            "subject": notice.subject,
            "body": notice.body,
            "audience": notice.audience.iter().map(Audience::as_str).collect::<Vec<_>>(),
            "sent_by": "shipwarden",
        });
        if let Some(ask) = &notice.ask {
            // The approval asked for (issue #23), for a receiver that lets people answer.
            body["ask"] = serde_json::to_value(ask).unwrap_or_default();
        }
        let body = body.to_string();
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
        let reply = crate::rest::send(&self.name, "send", request.body(body)).await?;
        if reply.ok() {
            return Ok(());
        }
        let hint = if matches!(reply.status, 401 | 403) { "check the receiver's secret" } else { "" };
        Err(crate::rest::status_error(&self.name, "send", "the receiver", &reply, hint))
    }
}
