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

    /// The refusal, if the policy refused.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            EngineError::Refused(r) => Some(r),
            _ => None,
        }
    }
}
