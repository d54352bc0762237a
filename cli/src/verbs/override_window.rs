//! `shipwarden override`: overrides blackout windows and freezes for a
//! release, with a reason (R-6b), signed when `[identity]` wants a verified
//! proof (R-2d).

use clap::Args;
use shipwarden::machine::Action;
use shipwarden::{IdentityAction, ReleaseId};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{GOOD, paint};
use crate::signing::{self, SignArgs};

/// `override`.
#[derive(Args, Debug)]
pub struct OverrideArgs {
    /// The release.
    pub release: String,
    /// Why the windows must be overridden.
    #[arg(long)]
    pub reason: String,
    /// How the override proves who gives it (issue #19).
    #[command(flatten)]
    pub signing: SignArgs,
}

/// Records the override.
pub async fn run(ctx: &Ctx, a: OverrideArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let actor = ctx.actor()?;
    let Some(actor) =
        signing::acting(ctx, &a.signing, actor, IdentityAction::OverrideWindow, &release, &a.reason).await?
    else {
        return Ok(());
    };
    if ctx.dry_run {
        return dry_run::action(ctx, &release, &actor, Action::OverrideWindow { reason: a.reason }).await;
    }
    let state = ctx.manager.override_window(&release, &actor, &a.reason).await?;
    ctx.done(
        &state,
        format!(
            "{} {release}: windows and freezes overridden by {} ({}): {}",
            paint(GOOD, "✓"),
            actor.user,
            actor.proof,
            a.reason
        ),
    );
    Ok(())
}
