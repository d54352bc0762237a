//! Why a command did not do what was asked, and the exit code of each case.

use shipwarden::engine::{EngineError, ErrorCode};
use shipwarden::{Problem, Refusal};

/// Why a command did not do what was asked; each has its exit code ([`CliError::code`]).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input or usage (2).
    #[error("{0}")]
    Usage(String),
    /// The configuration or policy has problems (2).
    #[error("{} problems in the configuration", .0.len())]
    Problems(Vec<Problem>),
    /// Refused by a rule (3).
    #[error("refused by {}: {}", .0.rule, .0.attempted)]
    Refused(Refusal),
    /// Another driver changed the release or holds its lease (4).
    #[error("{0}")]
    Conflict(String),
    /// An outside system failed after retries (5).
    #[error("{0}")]
    Outside(String),
    /// A step failed, or the release was rolled back (5).
    #[error("{0}")]
    Failed(String),
    /// An integrity check failed: a tampered audit chain, a bad evidence bundle (6).
    #[error("{0}")]
    Integrity(String),
}

impl CliError {
    /// Bad input.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// An outside system failed.
    pub fn outside(e: impl std::fmt::Display) -> Self {
        CliError::Outside(e.to_string())
    }

    /// The process's exit code: 2 usage, 3 refused, 4 conflict, 5 failed, 6 integrity.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Problems(_) => 2,
            CliError::Refused(_) => 3,
            CliError::Conflict(_) => 4,
            CliError::Outside(_) | CliError::Failed(_) => 5,
            CliError::Integrity(_) => 6,
        }
    }

    /// The kind, as `--json` prints it in `error`.
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Problems(_) => "invalid",
            CliError::Refused(_) => "refused",
            CliError::Conflict(_) => "conflict",
            CliError::Outside(_) => "outside_failure",
            CliError::Failed(_) => "failed",
            CliError::Integrity(_) => "integrity",
        }
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        match (e.code(), e) {
            (_, EngineError::Refused(r)) => CliError::Refused(r),
            (ErrorCode::Conflict, e) => CliError::Conflict(e.to_string()),
            (ErrorCode::NotFound | ErrorCode::InvalidInput | ErrorCode::Config, e) => CliError::Usage(e.to_string()),
            (ErrorCode::Integrity, e) => CliError::Integrity(e.to_string()),
            (_, e) => CliError::Outside(e.to_string()),
        }
    }
}

impl From<shipwarden::ParseError> for CliError {
    fn from(e: shipwarden::ParseError) -> Self {
        CliError::Usage(e.to_string())
    }
}
