//! `shipwarden verify`: the smoke tests of a release in production; it is
//! released, or rolled back (R-8f, R-8g).

use shipwarden::ReleaseId;
use shipwarden::engine::RunOutcome;

use super::ReleaseArg;
use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output;

/// Verifies, then (released) runs the release to its end; a rollback or a
/// failed step is exit 5, waiting is a refusal (3).
pub async fn run(ctx: &Ctx, a: ReleaseArg) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    if ctx.dry_run {
        return dry_run::verify(ctx, &release).await;
    }
    let before = ctx.state(&release).await?;
    let verified = async {
        match ctx.manager.verify(&release).await? {
            // Released: publish the notes, tell people, close the ticket.
            RunOutcome::Reached { .. } => ctx.manager.run(&release, None).await,
            other => Ok(other),
        }
    };
    let outcome = output::watch(&ctx.manager, &release, ctx.json, verified).await?;
    if ctx.json {
        output::json(&outcome);
    } else {
        output::outcome(&outcome);
    }
    ctx.escalate(&outcome);
    let after = ctx.state(&release).await?;
    super::advance::judge(&outcome, &before, &after, true)
}
