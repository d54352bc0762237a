//! `shipwarden rollback`: rolls a release back (R-8g).

use shipwarden::ReleaseId;
use shipwarden::machine::Action;

use super::ReasonArgs;
use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{self, GOOD, STAGE, paint};

/// Rolls the release back.
pub async fn run(ctx: &Ctx, a: ReasonArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    if ctx.dry_run {
        return dry_run::action(ctx, &release, &actor, Action::BeginRollback { reason: a.reason }).await;
    }
    let state =
        output::watch(&ctx.manager, &release, ctx.json, ctx.manager.rollback(&release, &actor, &a.reason)).await?;
    ctx.done(
        &state,
        format!(
            "{} {release} rolled back to {}",
            paint(GOOD, "✓"),
            paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str()))
        ),
    );
    Ok(())
}
