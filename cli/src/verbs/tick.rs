//! `shipwarden tick`: every duty that is due (notices, reminders), each once (R-5c, R-6d).

use anstream::println;
use clap::Args;
use shipwarden::machine::StepOutcome;

use crate::CliError;
use crate::ctx::Ctx;
use crate::output::{self, BAD, DIM, GOOD, WAIT, paint};

/// `tick`.
#[derive(Args, Debug)]
pub struct TickArgs {
    /// Only list what is due; perform nothing.
    #[arg(long)]
    pub list: bool,
}

/// One line for a performed duty.
pub(crate) fn duty_line(r: &shipwarden::engine::DutyReport) -> String {
    let late = if r.missed {
        format!(" {}", paint(BAD, format!("(late: finding recorded, {})", r.duty.rule)))
    } else {
        String::new()
    };
    match &r.outcome {
        StepOutcome::Succeeded { detail, .. } => {
            format!("{} {} {}{late}  {}", paint(GOOD, "✓"), r.release, r.duty.subject, paint(DIM, detail))
        }
        StepOutcome::Failed { error, .. } => {
            format!("{} {} {}{late}  {error}", paint(BAD, "✗"), r.release, r.duty.subject)
        }
    }
}

/// Performs (or, with `--list`, lists) the duties that are due.
pub async fn run(ctx: &Ctx, a: TickArgs) -> Result<(), CliError> {
    let now = ctx.manager.clock().now();
    if a.list || ctx.dry_run {
        let due = ctx.manager.due(now).await?;
        if ctx.json {
            output::json(&due);
        } else if due.is_empty() {
            println!("nothing is due");
        } else {
            for (release, d) in due {
                let late = if d.missed(now) { paint(BAD, " (past its deadline)") } else { String::new() };
                println!("{} {release} {} [{}] due since {}{late}", paint(WAIT, "•"), d.subject, d.rule, d.due_at);
            }
        }
        return Ok(());
    }
    let done = ctx.manager.run_due(now).await?;
    if ctx.json {
        output::json(&done);
    } else if done.is_empty() {
        println!("nothing was due");
    } else {
        for r in &done {
            println!("{}", duty_line(r));
        }
    }
    if done.iter().any(|r| !r.outcome.succeeded()) {
        return Err(CliError::Outside("some duties could not be performed; the next tick tries them again".into()));
    }
    Ok(())
}
