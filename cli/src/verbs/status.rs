//! `shipwarden status`: a release's stage, approvals, gates, steps, and what
//! each way forward still needs.

use shipwarden::ReleaseId;

use super::ReleaseArg;
use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::output;

/// Prints the release's status, its findings and its pending duties.
pub async fn run(ctx: &Ctx, a: ReleaseArg) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let status = ctx.manager.status(&release).await?;
    if ctx.json {
        output::json(&status);
    } else {
        let now = ctx.manager.clock().now();
        let duties = shipwarden::duties::pending(&status.state, ctx.manager.policy(), now);
        output::status(&status, &duties, now);
    }
    Ok(())
}
