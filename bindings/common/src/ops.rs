//! Operations whose binding-facing behaviour is more than one engine call,
//! written once for both bindings.

use std::sync::Arc;

use shipwarden::engine::{ReleaseManager, StepError};
use shipwarden::{EnvName, ReleaseId, ReleaseState, StepKind, StepOutcome};

use crate::ErrorDoc;

/// Deploys `release` to `environment` and returns the release after it; a
/// deployment that failed is an error (`ADAPTER`, kind `step_failed`) with
/// the failed step's port error, never a normal return (issue #20, R-8g).
pub async fn deploy(
    manager: &ReleaseManager,
    release: &ReleaseId,
    environment: &EnvName,
) -> Result<Arc<ReleaseState>, ErrorDoc> {
    let before = manager.state(release).await.map_err(ErrorDoc::engine)?;
    let outcome = manager.deploy(release, environment).await.map_err(ErrorDoc::engine)?;
    let after = manager.state(release).await.map_err(ErrorDoc::engine)?;
    if outcome.succeeded() {
        return Ok(after);
    }
    let error = StepError::of(&after.failed_since(&before)).unwrap_or_else(|| StepError {
        step: StepKind::Deploy,
        environment: Some(environment.clone()),
        target: None,
        port: "engine".into(),
        operation: "deploy".into(),
        cause: match &outcome {
            StepOutcome::Failed { error, .. } => error.clone(),
            StepOutcome::Succeeded { detail, .. } => detail.clone(),
        },
        retryable: false,
    });
    Err(ErrorDoc::step(error))
}
