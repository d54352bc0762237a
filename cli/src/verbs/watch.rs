//! `shipwarden watch`: duties as they come due, until SIGTERM or Ctrl-C (R-5c, R-6d).

use anstream::println;
use clap::Args;
use jiff::SignedDuration;

use crate::CliError;
use crate::ctx::Ctx;
use crate::output::{BAD, paint};

/// `watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Time between ticks (`30s`, `5m`).
    #[arg(long, default_value = "1m")]
    pub every: String,
}

/// Ticks until SIGTERM or SIGINT; a signal during a tick lets the tick finish.
pub async fn run(ctx: &Ctx, a: WatchArgs) -> Result<(), CliError> {
    let every: SignedDuration = a
        .every
        .parse()
        .map_err(|e| CliError::usage(format!("--every {}: expected a duration like 30s or 5m: {e}", a.every)))?;
    if every <= SignedDuration::ZERO {
        return Err(CliError::usage("--every must be positive"));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::Outside(format!("cannot watch for SIGTERM: {e}")))?;
    eprintln!("watching for duties every {}; stop with Ctrl-C or SIGTERM", a.every);
    loop {
        match ctx.manager.run_due(ctx.manager.clock().now()).await {
            Ok(done) => {
                for r in &done {
                    println!("{}", super::tick::duty_line(r));
                }
            }
            // A store or port that is down now may be up at the next tick.
            Err(e) => eprintln!("{} {e}", paint(BAD, "tick failed:")),
        }
        tokio::select! {
            () = tokio::time::sleep(every.unsigned_abs()) => {}
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    eprintln!("stopped");
    Ok(())
}
