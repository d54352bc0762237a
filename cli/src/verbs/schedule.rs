//! `shipwarden schedule`: books a deployment window (R-6a, R-6e).

use clap::Args;
use jiff::SignedDuration;
use shipwarden::machine::Action;
use shipwarden::{EnvName, ReleaseId, calendar};

use crate::CliError;
use crate::ctx::{Ctx, parse, parse_time};
use crate::dry_run;
use crate::output::{GOOD, paint};

/// `schedule`.
#[derive(Args, Debug)]
pub struct ScheduleArgs {
    /// The release.
    pub release: String,
    /// The environment.
    #[arg(long)]
    pub env: String,
    /// Start: `2026-11-28T10:00:00Z`, or a local time in the policy's zone (`2026-11-28 10:00`).
    #[arg(long)]
    pub start: String,
    /// How long (`1h`, `30m`).
    #[arg(long, default_value = "1h")]
    pub duration: String,
}

/// Books the window.
pub async fn run(ctx: &Ctx, a: ScheduleArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let env: EnvName = parse(&a.env)?;
    let start = parse_time("--start", &a.start, ctx.manager.policy())?;
    let length: SignedDuration =
        a.duration.parse().map_err(|e| CliError::usage(format!("--duration `{}`: {e}", a.duration)))?;
    let end = start.checked_add(length).map_err(|e| CliError::usage(e.to_string()))?;
    if ctx.dry_run {
        let action = Action::Schedule { environment: env, start, end, busy: Vec::new() };
        return dry_run::action(ctx, &release, &actor, action).await;
    }
    let state = ctx.manager.schedule(&release, &actor, env.clone(), start, end).await?;
    let cal = calendar::Calendar::new(ctx.manager.policy());
    ctx.done(
        &state,
        format!("{} booked {release} on {env}: {} to {}", paint(GOOD, "✓"), cal.local(start), cal.local(end)),
    );
    Ok(())
}
