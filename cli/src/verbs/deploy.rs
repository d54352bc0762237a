//! `shipwarden deploy`: a release to an environment's targets (R-8e).

use clap::Args;
use shipwarden::machine::StepOutcome;
use shipwarden::{EnvName, ReleaseId};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{self, GOOD, paint};

/// `deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The release.
    pub release: String,
    /// The environment.
    #[arg(long)]
    pub env: String,
}

/// Deploys; a failed deployment is exit 5.
pub async fn run(ctx: &Ctx, a: DeployArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let env: EnvName = parse(&a.env)?;
    if ctx.dry_run {
        return dry_run::deploy(ctx, &release, &env).await;
    }
    let outcome = output::watch(&ctx.manager, &release, ctx.json, ctx.manager.deploy(&release, &env)).await?;
    let state = ctx.state(&release).await?;
    match outcome {
        StepOutcome::Succeeded { detail, .. } => {
            ctx.done(&state, format!("{} deployed {release} to {env}: {detail}", paint(GOOD, "✓")));
            Ok(())
        }
        StepOutcome::Failed { error, .. } => {
            if ctx.json {
                output::json(&state);
            }
            Err(CliError::Failed(format!("deploying {release} to {env} failed: {error}")))
        }
    }
}
