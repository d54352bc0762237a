//! `shipwarden rollback`: rolls a release back (R-8g), signed when
//! `[identity]` wants a verified proof (R-2d).

use clap::Args;
use shipwarden::machine::Action;
use shipwarden::{IdentityAction, ReleaseId};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{self, GOOD, STAGE, paint};
use crate::signing::{self, SignArgs};

/// `rollback`.
#[derive(Args, Debug)]
pub struct RollbackArgs {
    /// The release.
    pub release: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// How the rollback proves who begins it (issue #19).
    #[command(flatten)]
    pub signing: SignArgs,
}

/// Rolls the release back.
pub async fn run(ctx: &Ctx, a: RollbackArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let actor = ctx.actor()?;
    let Some(actor) = signing::acting(ctx, &a.signing, actor, IdentityAction::Rollback, &release, &a.reason).await?
    else {
        return Ok(());
    };
    if ctx.dry_run {
        return dry_run::action(ctx, &release, &actor, Action::BeginRollback { reason: a.reason }).await;
    }
    let state =
        output::watch(&ctx.manager, &release, ctx.json, ctx.manager.rollback(&release, &actor, &a.reason)).await?;
    ctx.done(
        &state,
        format!(
            "{} {release} rolled back to {} ({})",
            paint(GOOD, "✓"),
            paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str())),
            actor.proof
        ),
    );
    Ok(())
}
