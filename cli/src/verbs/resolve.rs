//! `shipwarden resolve`: a person says how a step in doubt ended, after
//! checking its target (R-9d). A step is in doubt when its driver stopped
//! (a crash, `kill -9`) before recording the outcome and the target cannot
//! tell; the engine never runs it again by itself.

use clap::Args;
use shipwarden::ReleaseId;
use shipwarden::machine::Action;

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{GOOD, paint};

/// `resolve`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("how").required(true).args(["done", "failed"])))]
pub struct ResolveArgs {
    /// The release.
    pub release: String,
    /// The step's key, as `status` shows it (`deploy:prod:web-1#1`).
    pub step: String,
    /// The step's work is done (checked on the target).
    #[arg(long)]
    pub done: bool,
    /// The step failed (the target is not as the step would leave it); the release then undoes it.
    #[arg(long)]
    pub failed: bool,
    /// What was checked.
    #[arg(long)]
    pub reason: String,
}

/// Records the resolution.
pub async fn run(ctx: &Ctx, a: ResolveArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let done = a.done && !a.failed;
    if ctx.dry_run {
        let action = Action::ResolveStep { key: a.step.clone(), done, reason: a.reason.clone() };
        return dry_run::action(ctx, &release, &actor, action).await;
    }
    let state = ctx.manager.resolve(&release, &actor, &a.step, done, &a.reason).await?;
    let how = if done { "done" } else { "failed" };
    ctx.done(&state, format!("{} {} resolved {} as {how}: {}", paint(GOOD, "✓"), actor.user, a.step, a.reason));
    Ok(())
}
