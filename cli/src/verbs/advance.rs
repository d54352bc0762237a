//! `shipwarden advance`: every automatic step, up to the next human decision,
//! a stage (`--to`), or a failure; its exit code says which (see the crate's
//! table).

use clap::Args;
use shipwarden::engine::RunOutcome;
use shipwarden::machine::{LogStream, ReleaseState, StepOutcome, StepRecord};
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
    if matches!(outcome, RunOutcome::RolledBack { .. }) {
        ctx.escalate();
    }
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
        RunOutcome::RolledBack { reason } => Err(CliError::Failed(format!("rolled back: {reason}"))),
        RunOutcome::Waiting(w) => {
            if let Some(failed) = failed_in_run(before, after).last() {
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

/// The steps that finished failed during a run (between `before` and
/// `after`) and stayed failed: an attempt that a later attempt of the same
/// step retried to success is not one.
pub(crate) fn failed_in_run<'a>(before: &ReleaseState, after: &'a ReleaseState) -> Vec<&'a StepRecord> {
    let base = |key: &str| key.split('/').next().unwrap_or(key).to_owned();
    let finished_before =
        |i: usize, s: &StepRecord| before.steps.get(i).is_some_and(|b| b.key == s.key && b.outcome.is_some());
    after
        .steps
        .iter()
        .enumerate()
        .filter(|(i, s)| matches!(s.outcome, Some(StepOutcome::Failed { .. })) && !finished_before(*i, s))
        .filter(|(i, s)| {
            let key = base(&s.key);
            !after.steps[i + 1..]
                .iter()
                .any(|later| base(&later.key) == key && later.outcome.as_ref().is_some_and(StepOutcome::succeeded))
        })
        .map(|(_, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipwarden::machine::{Event, apply};

    fn started(key: &str) -> Event {
        Event::StepStarted {
            key: key.into(),
            step: shipwarden::StepKind::Deploy,
            environment: Some(parse("staging").expect("env")),
            target: Some("staging-1".into()),
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn finished(key: &str, ok: bool) -> Event {
        let outcome = if ok { StepOutcome::ok("done") } else { StepOutcome::failed("exited 1", ok) };
        Event::StepFinished { key: key.into(), outcome, log: Vec::new(), at: jiff::Timestamp::UNIX_EPOCH }
    }

    #[test]
    fn a_step_retried_to_success_is_not_a_failure_but_one_left_failed_is_r8e() {
        let before = ReleaseState::default();
        let events = [
            started("deploy:staging:staging-1#1"),
            finished("deploy:staging:staging-1#1", false),
            started("deploy:staging:staging-1#1/2"),
            finished("deploy:staging:staging-1#1/2", true),
        ];
        let after = events.iter().fold(ReleaseState::default(), apply);
        assert!(failed_in_run(&before, &after).is_empty());
        let failing = [started("deploy:staging:staging-1#2"), finished("deploy:staging:staging-1#2", false)];
        let later = failing.iter().fold(after.clone(), apply);
        let failed = failed_in_run(&after, &later);
        assert_eq!(failed.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["deploy:staging:staging-1#2"]);
        // A failure already recorded before the run is not this run's.
        assert!(failed_in_run(&later, &later).is_empty());
    }
}
