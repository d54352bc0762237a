//! `shipwarden cancel`: cancels a release.

use shipwarden::ReleaseId;
use shipwarden::machine::Action;

use super::ReasonArgs;
use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{GOOD, paint};

/// Cancels the release.
pub async fn run(ctx: &Ctx, a: ReasonArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    if ctx.dry_run {
        return dry_run::action(ctx, &release, &actor, Action::Cancel { reason: a.reason }).await;
    }
    let state = ctx.manager.cancel(&release, &actor, &a.reason).await?;
    ctx.done(&state, format!("{} {release} cancelled: {}", paint(GOOD, "✓"), a.reason));
    Ok(())
}
