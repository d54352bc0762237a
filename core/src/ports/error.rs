use std::fmt;
use std::time::Duration;

/// What kind of failure a port met, so programs can match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The system is down or unreachable (connection refused, 5xx).
    Unavailable,
    /// The call took too long.
    Timeout,
    /// The system asked us to slow down (429).
    RateLimited,
    /// The thing asked for does not exist.
    NotFound,
    /// The system refused the request (4xx, authentication, a failed check).
    Rejected,
    /// The data received or sent is invalid (a checksum mismatch, a bad reply).
    Invalid,
    /// Anything else.
    Other,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::NotFound => "not found",
            ErrorKind::Rejected => "rejected",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Other => "failed",
        };
        f.write_str(text)
    }
}

/// A port's failure: which system, which operation, what kind, whether a
/// retry can help, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{port} {operation}: {kind}: {message}{}", if *.retryable { " (retryable)" } else { "" })]
pub struct PortError {
    /// The port or adapter, e.g. `deploy-target web-1`, `artifact-store oci`.
    pub port: String,
    /// The operation, e.g. `deploy`, `put`.
    pub operation: String,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// True when trying again can help.
    pub retryable: bool,
    /// When the system said when to come back (HTTP `Retry-After`).
    pub retry_after: Option<Duration>,
    /// What happened, for people.
    pub message: String,
    /// The underlying error, if any.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl PortError {
    /// A failure of `kind`; retryable for unavailable, timeout and rate-limited.
    pub fn new(
        port: impl Into<String>,
        operation: impl Into<String>,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> Self {
        let retryable = matches!(kind, ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::RateLimited);
        Self {
            port: port.into(),
            operation: operation.into(),
            kind,
            retryable,
            retry_after: None,
            message: message.into(),
            source: None,
        }
    }

    /// A failure that a retry can help with.
    pub fn temporary(port: impl Into<String>, operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(port, operation, ErrorKind::Unavailable, message)
    }

    /// A failure that a retry cannot help with.
    pub fn permanent(port: impl Into<String>, operation: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(port, operation, ErrorKind::Rejected, message)
    }

    /// Attaches the underlying error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Overrides whether a retry can help.
    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    /// Records when the system asked to be called again.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }
}
