//! `shipwarden advance`: every automatic step, up to the next human decision,
//! a stage (`--to`), or a failure; its exit code says which (see the crate's
//! table).

use clap::Args;
use shipwarden::engine::RunOutcome;
use shipwarden::machine::{LogStream, ReleaseState, StepOutcome};
use shipwarden::{ReleaseId, Stage};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output;

/// `advance`.
#[derive(Args, Debug)]
pub struct AdvanceArgs {
    /// The release.
    pub release: String,
    /// Stop at this stage (default: go as far as possible).
    #[arg(long)]
    pub to: Option<String>,
}

/// Drives the release.
///
/// Exits 0 when it reached `--to` (or, without `--to`, moved on and waits for
/// people or time with nothing failed); 3 when refused where it stood (or
/// short of `--to`); 5 when a step failed in this run or it rolled back.
pub async fn run(ctx: &Ctx, a: AdvanceArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let to: Option<Stage> = a.to.as_deref().map(parse).transpose()?;
    if ctx.dry_run {
        return dry_run::advance(ctx, &release).await;
    }
    let before = ctx.manager.status(&release).await?;
    let outcome = output::watch(&ctx.manager, &release, ctx.json, ctx.manager.run(&release, to.clone())).await?;
    let after = ctx.state(&release).await?;
    let verdict = judge(&outcome, &before.state, &after, to.is_some());
    // A refusal prints itself, and JSON is one document: the outcome, or the error.
    if ctx.json {
        if verdict.is_ok() {
            output::json(&serde_json::json!({ "outcome": outcome, "stage": after.stage }));
        }
    } else if !matches!(verdict, Err(CliError::Refused(_))) {
        output::outcome(&outcome);
    }
    ctx.escalate(&outcome);
    verdict
}

/// What a run's outcome means for the exit code: a step that failed in the
/// run, or a rollback, is a failure (5); waiting where it stood, or short of
/// `--to`, is a refusal (3); anything else is done (0).
pub(crate) fn judge(
    outcome: &RunOutcome,
    before: &ReleaseState,
    after: &ReleaseState,
    to_asked: bool,
) -> Result<(), CliError> {
    match outcome {
        RunOutcome::RolledBack { reason, .. } => Err(CliError::Failed(format!("rolled back: {reason}"))),
        RunOutcome::Failed(shipwarden::engine::Failure { waiting: w, .. }) | RunOutcome::Waiting(w) => {
            if let Some(failed) = w.failed.last() {
                let error = match &failed.outcome {
                    Some(StepOutcome::Failed { error, .. }) => error.as_str(),
                    _ => "",
                };
                let mut message = format!("{} failed: {error}", output::step_name(failed));
                // What the step said on standard error last, where the error itself does not say it.
                let stderr: Vec<&str> = failed
                    .log
                    .iter()
                    .filter(|l| l.stream == LogStream::Stderr && !error.contains(l.text.as_str()))
                    .map(|l| l.text.as_str())
                    .collect();
                for line in &stderr[stderr.len().saturating_sub(5)..] {
                    message.push_str(&format!("\n  {line}"));
                }
                return Err(CliError::Failed(message));
            }
            if to_asked || after.stage == before.stage {
                return Err(CliError::Refused(w.refusal.clone()));
            }
            Ok(())
        }
        RunOutcome::Reached { .. } | RunOutcome::Final { .. } => Ok(()),
    }
}
