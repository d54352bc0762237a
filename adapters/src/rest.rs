//! What every REST adapter shares: sending a request, reading the reply, and
//! turning an HTTP status into the port's error kinds the same way everywhere
//! — 5xx, 408 and connection errors retryable, 429 rate limited with its
//! `Retry-After`, other 4xx not retried — with the system, the operation and
//! the status in the message. Request URLs stay out of messages: some
//! (Slack's webhooks) carry a token in their path.

use std::time::Duration;

use shipwarden::ports::{ErrorKind, PortError};

/// A reply, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After`, in seconds, when given.
    pub retry_after: Option<Duration>,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.text).unwrap_or(serde_json::Value::Null)
    }

    /// True for 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `request`; a reply of any status is `Ok`, a transport failure is a retryable error.
pub(crate) async fn send(port: &str, operation: &str, request: reqwest::RequestBuilder) -> Result<Reply, PortError> {
    let response = request.send().await.map_err(|e| {
        let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
        PortError::new(port, operation, kind, e.without_url().to_string())
    })?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let text = response.text().await.map_err(|e| {
        let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Unavailable };
        PortError::new(port, operation, kind, format!("reading the reply: {}", e.without_url()))
    })?;
    Ok(Reply { status, retry_after, text })
}

/// The error for a reply that is not a success: `system answered <status>: <detail>`.
pub(crate) fn status_error(port: &str, operation: &str, system: &str, reply: &Reply, detail: &str) -> PortError {
    let status = reply.status;
    let kind = match status {
        429 => ErrorKind::RateLimited,
        408 => ErrorKind::Timeout,
        500..=599 => ErrorKind::Unavailable,
        404 | 410 => ErrorKind::NotFound,
        400 | 422 => ErrorKind::Invalid,
        _ => ErrorKind::Rejected,
    };
    let detail = if detail.is_empty() { String::new() } else { format!(": {detail}") };
    let mut error = PortError::new(port, operation, kind, format!("{system} answered {status}{detail}"));
    error.retry_after = reply.retry_after;
    error
}

/// Sends `request` and fails unless the reply is a success; `detail` picks
/// the system's own error messages out of the reply's JSON for the error.
pub(crate) async fn send_ok(
    port: &str,
    operation: &str,
    system: &str,
    request: reqwest::RequestBuilder,
    detail: impl Fn(&serde_json::Value) -> Vec<String>,
) -> Result<Reply, PortError> {
    let reply = send(port, operation, request).await?;
    if reply.ok() {
        return Ok(reply);
    }
    let messages = detail(&reply.json());
    Err(status_error(port, operation, system, &reply, &messages.join("; ")))
}
