//! One error document for every failure a binding call reports: the stable
//! code ([`ErrorCode`], chosen by the engine) and the facts a program
//! branches on. Node encodes it as JSON for `index.cjs`; Python sets the
//! exception's attributes from it.

use serde::Serialize;
use shipwarden::engine::{EngineError, ErrorCode, StepError};
use shipwarden::ports::{PortError, StoreError};
use shipwarden::{Refusal, RoleChoiceError};
use shipwarden_adapters::anchor::VerifyError;
use shipwarden_adapters::config::ConfigError;

/// One unmet requirement of a refusal, flattened for scripts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmetDoc {
    /// The rule (`R-5a`).
    pub rule: String,
    /// The kind (`approval`, `gate`, `step`, `step_in_doubt`, …).
    pub requirement: String,
    /// As people read it.
    pub message: String,
    /// The approval missing.
    pub approval: Option<String>,
    /// The roles that may give it.
    pub roles: Vec<String>,
    /// The gate.
    pub gate: Option<String>,
    /// Who: the person who rejected the approval, for `rejected` requirements
    /// (R-2b); the person concerned, for `duplicate_approval`,
    /// `duplicate_rejection` and `separation_of_duties` ones.
    pub user: Option<String>,
    /// Why the approval was rejected, for `rejected` requirements (R-2b).
    pub reason: Option<String>,
    /// The step: its kind for `step` requirements, its key for `step_in_doubt` ones.
    pub step: Option<String>,
    /// What is known, for `step_in_doubt` requirements.
    pub detail: Option<String>,
    /// The environment concerned.
    pub environment: Option<String>,
}

impl From<&shipwarden::Unmet> for UnmetDoc {
    fn from(u: &shipwarden::Unmet) -> Self {
        let fields = serde_json::to_value(u).unwrap_or_default();
        let field = |name: &str| fields.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let (step, detail) = match &u.requirement {
            shipwarden::Requirement::StepInDoubt { key, detail, .. } => (Some(key.clone()), Some(detail.clone())),
            _ => (field("step"), None),
        };
        UnmetDoc {
            rule: u.rule.to_string(),
            requirement: field("requirement").unwrap_or_default(),
            message: u.requirement.to_string(),
            approval: field("approval"),
            roles: fields
                .get("roles")
                .and_then(|r| r.as_array())
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            gate: field("gate"),
            user: field("user"),
            reason: field("reason"),
            step,
            detail,
            environment: field("environment"),
        }
    }
}

/// One configuration problem: where (a key path) and what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProblemDoc {
    /// The key path (`environments.prod.targets[0].deploy`); empty for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// A failure of a binding call, as both bindings report it.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDoc {
    /// The stable code.
    pub code: ErrorCode,
    /// As people read it.
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
    /// For `REFUSED`: the rule of the first unmet requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For `REFUSED`: the stage the release was in (`null` when it has none yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<Option<String>>,
    /// For `REFUSED`: what was attempted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempted: Option<String>,
    /// For `REFUSED`: every unmet requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmet: Option<Vec<UnmetDoc>>,
    /// For `REFUSED`: the refusal itself (for bindings that return it as a typed object).
    #[serde(skip)]
    pub refusal: Option<Refusal>,
    /// For `ADAPTER`: the port (`deploy-target web-1`, `event-store`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// For `ADAPTER`: the operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// For `ADAPTER`: the kind of failure (`timeout`, `unavailable`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For `ADAPTER`: the chain of causes, outermost first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causes: Option<Vec<String>>,
    /// For `CONFIG`: every problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<ProblemDoc>>,
    /// For `INTEGRITY`: the release whose trail does not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// For `INTEGRITY`: the sequence the disagreement is at (`null` when at none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<Option<u64>>,
    /// For `ADAPTER` of kind `step_failed`: the step that failed (its
    /// environment, target, port, operation, cause, and whether to retry).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepError>,
}

fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = e.source();
    while let Some(s) = next {
        out.push(s.to_string());
        next = s.source();
    }
    out
}

impl ErrorDoc {
    /// A document with only a code, a message and whether to retry.
    pub fn new(code: ErrorCode, message: impl std::fmt::Display, retryable: bool) -> Self {
        ErrorDoc {
            code,
            message: message.to_string(),
            retryable,
            rule: None,
            stage: None,
            attempted: None,
            unmet: None,
            refusal: None,
            port: None,
            operation: None,
            kind: None,
            causes: None,
            problems: None,
            release: None,
            sequence: None,
            step: None,
        }
    }

    /// A bad argument.
    pub fn invalid(message: impl std::fmt::Display) -> Self {
        ErrorDoc::new(ErrorCode::InvalidInput, message, false)
    }

    /// A port that failed.
    pub fn port(e: &PortError) -> Self {
        ErrorDoc {
            port: Some(e.port.clone()),
            operation: Some(e.operation.clone()),
            kind: Some(e.kind.to_string()),
            causes: Some(causes(e)),
            ..ErrorDoc::new(ErrorCode::Adapter, e, e.retryable)
        }
    }

    fn store(code: ErrorCode, e: &StoreError) -> Self {
        let mut doc = ErrorDoc::new(code, e, e.is_retryable());
        if let StoreError::Corrupt { stream, .. } = e {
            doc.release = Some(stream.to_string());
            doc.sequence = Some(None);
        }
        if code == ErrorCode::Adapter {
            doc.port = Some("event-store".into());
            doc.operation = Some("store".into());
            doc.kind = Some("store".into());
            doc.causes = Some(causes(e));
        }
        doc
    }

    /// An engine error, classified by [`EngineError::code`].
    pub fn engine(e: EngineError) -> Self {
        let code = e.code();
        match e {
            EngineError::Refused(r) => ErrorDoc {
                rule: Some(r.rule.to_string()),
                stage: Some(r.stage.as_ref().map(ToString::to_string)),
                attempted: Some(r.attempted.clone()),
                unmet: Some(r.unmet.iter().map(UnmetDoc::from).collect()),
                ..ErrorDoc::new(code, &r, false)
            }
            .with_refusal(r),
            EngineError::Port(p) => ErrorDoc::port(&p),
            EngineError::Store(s) => ErrorDoc::store(code, &s),
            other => ErrorDoc::new(code, &other, other.is_retryable()),
        }
    }

    fn with_refusal(mut self, r: Refusal) -> Self {
        self.refusal = Some(r);
        self
    }

    /// A configuration error: problems with key paths, or a port or store that could not be set up.
    pub fn config(e: ConfigError) -> Self {
        let problems = |list: Vec<ProblemDoc>, message: String| ErrorDoc {
            problems: Some(list),
            ..ErrorDoc::new(ErrorCode::Config, message, false)
        };
        match e {
            ConfigError::Problems(list) => {
                let message = ConfigError::Problems(list.clone()).to_string();
                problems(list.into_iter().map(|p| ProblemDoc { path: p.path, message: p.message }).collect(), message)
            }
            ConfigError::Invalid(m) => problems(vec![ProblemDoc { path: String::new(), message: m.clone() }], m),
            ConfigError::Port(p) => ErrorDoc::port(&p),
            ConfigError::Store(s) => ErrorDoc::engine(EngineError::Store(s)),
            other => problems(Vec::new(), other.to_string()),
        }
    }

    /// An audit trail that does not verify (R-9d), or the engine error that kept it from being read.
    pub fn verify(e: VerifyError) -> Self {
        match e {
            VerifyError::Engine(e) => ErrorDoc::engine(e),
            VerifyError::Integrity { ref release, sequence, .. } => ErrorDoc {
                release: Some(release.to_string()),
                sequence: Some(sequence),
                ..ErrorDoc::new(ErrorCode::Integrity, &e, false)
            },
            other => ErrorDoc::new(ErrorCode::Integrity, other, false),
        }
    }

    /// A trail or bundle that does not verify (R-9d), at no particular sequence.
    pub fn integrity(message: impl std::fmt::Display, release: Option<String>) -> Self {
        ErrorDoc { release, sequence: Some(None), ..ErrorDoc::new(ErrorCode::Integrity, message, false) }
    }

    /// A step that failed at a port (a direct deployment whose target failed, issue #20).
    pub fn step(e: StepError) -> Self {
        ErrorDoc {
            port: Some(e.port.clone()),
            operation: Some(e.operation.clone()),
            kind: Some("step_failed".into()),
            causes: Some(vec![e.cause.clone()]),
            ..ErrorDoc::new(ErrorCode::Adapter, &e, e.retryable)
        }
        .with_step(e)
    }

    fn with_step(mut self, e: StepError) -> Self {
        self.step = Some(e);
        self
    }

    /// No role could be chosen for an approval (R-2c).
    pub fn role(e: &RoleChoiceError) -> Self {
        ErrorDoc::invalid(e)
    }

    /// The document as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"code": self.code, "message": self.message}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_written_as_the_bindings_match_it() {
        let all = [
            (ErrorCode::Refused, "REFUSED"),
            (ErrorCode::Conflict, "CONFLICT"),
            (ErrorCode::Adapter, "ADAPTER"),
            (ErrorCode::Config, "CONFIG"),
            (ErrorCode::InvalidInput, "INVALID_INPUT"),
            (ErrorCode::NotFound, "NOT_FOUND"),
            (ErrorCode::Integrity, "INTEGRITY"),
        ];
        for (code, text) in all {
            assert_eq!(code.as_str(), text);
            assert_eq!(ErrorDoc::new(code, "m", false).to_json()["code"], text);
        }
    }
}
