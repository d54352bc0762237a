use crate::machine::Refusal;
use crate::model::ReleaseId;
use crate::ports::{PortError, StoreError};

/// Why an engine operation did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The policy refused: the refusal names the rule and every unmet requirement.
    #[error(transparent)]
    Refused(Refusal),
    /// Another driver kept winning the race to append; nothing was lost.
    #[error("release {0} is being changed by another driver; reload and try again")]
    Conflict(ReleaseId),
    /// Another driver holds a lease for too long (a deployment in progress).
    #[error("`{0}` is held by another driver")]
    Busy(String),
    /// No such release.
    #[error("no release {0}")]
    NotFound(ReleaseId),
    /// An outside system failed, after retries where they could help.
    #[error(transparent)]
    Port(#[from] PortError),
    /// The event store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        EngineError::Store(e)
    }
}

impl EngineError {
    /// True when the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            EngineError::Refused(_) | EngineError::NotFound(_) => false,
            EngineError::Conflict(_) | EngineError::Busy(_) => true,
            EngineError::Port(e) => e.retryable,
            EngineError::Store(e) => e.is_retryable(),
        }
    }

    /// The stable code a program matches on, the same in the CLI and both bindings.
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Refused(_) => ErrorCode::Refused,
            EngineError::Conflict(_) | EngineError::Busy(_) => ErrorCode::Conflict,
            EngineError::NotFound(_) => ErrorCode::NotFound,
            EngineError::Port(_) => ErrorCode::Adapter,
            // A stored chain that does not verify was tampered with (R-9d).
            EngineError::Store(StoreError::Corrupt { .. }) => ErrorCode::Integrity,
            EngineError::Store(_) => ErrorCode::Adapter,
        }
    }

    /// The refusal, if the policy refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            EngineError::Refused(r) => Some(r),
            _ => None,
        }
    }
}

/// What kind of failure an error is, as a stable code: the CLI's exit codes
/// and the bindings' exception classes are chosen by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The policy refused (a rule and what is unmet).
    Refused,
    /// Another driver changed the release or holds its lease; try again.
    Conflict,
    /// An outside system (a port, the event store) failed.
    Adapter,
    /// The configuration has problems.
    Config,
    /// An argument is not valid.
    InvalidInput,
    /// No such release.
    NotFound,
    /// The audit trail or a bundle does not verify (R-9d).
    Integrity,
}

impl ErrorCode {
    /// The code as written: `REFUSED`, `INVALID_INPUT`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Refused => "REFUSED",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Adapter => "ADAPTER",
            ErrorCode::Config => "CONFIG",
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Integrity => "INTEGRITY",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
