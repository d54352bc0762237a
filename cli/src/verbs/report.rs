//! `shipwarden report`: a step people did (integration tests, a demo).

use clap::Args;
use shipwarden::machine::{Action, StepOutcome};
use shipwarden::{EnvName, ReleaseId, StepKind};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{self, BOLD, GOOD, paint};

/// `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The release.
    pub release: String,
    /// The step (`integration_tests`, `demo`, `tag`, ...).
    pub step: String,
    /// The environment it ran in.
    #[arg(long)]
    pub env: Option<String>,
    /// It failed.
    #[arg(long)]
    pub failed: bool,
    /// What happened.
    #[arg(long, default_value = "done")]
    pub detail: String,
}

/// Records the step people did.
pub async fn run(ctx: &Ctx, a: ReportArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let step: StepKind = parse(&a.step)?;
    let env: Option<EnvName> = a.env.as_deref().map(parse).transpose()?;
    let outcome = if a.failed { StepOutcome::failed(&a.detail, false) } else { StepOutcome::ok(&a.detail) };
    if ctx.dry_run {
        let key = format!("report:{step}:{}#dry-run", env.as_ref().map_or("-", |e| e.as_str()));
        let action = Action::StartStep { step, environment: env, target: None, key, held: Vec::new() };
        return dry_run::action(ctx, &release, &actor, action).await;
    }
    let state = ctx.manager.report_step(&release, &actor, step.clone(), env.clone(), outcome).await?;
    let place = env.map(|e| format!(" in {e}")).unwrap_or_default();
    let mark = if a.failed { paint(output::BAD, "✗") } else { paint(GOOD, "✓") };
    ctx.done(&state, format!("{mark} {} reported {}{place}: {}", actor.user, paint(BOLD, step), a.detail));
    Ok(())
}
