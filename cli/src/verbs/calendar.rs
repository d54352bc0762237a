//! `shipwarden calendar`: blackouts, maintenance windows, freezes and booked deployments.

use std::path::PathBuf;

use anstream::println;
use clap::Args;
use jiff::SignedDuration;
use shipwarden::ports::ReleaseQuery;
use shipwarden::{EnvName, calendar};

use crate::CliError;
use crate::ctx::{Ctx, write_or_print};
use crate::output::{self, BAD, BOLD, GOOD, paint};

/// `calendar`.
#[derive(Args, Debug)]
pub struct CalendarArgs {
    /// How many days from now.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// Print iCalendar (RFC 5545) instead of a table.
    #[arg(long)]
    pub ics: bool,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Prints the calendar, or writes it as iCalendar.
pub async fn run(ctx: &Ctx, a: CalendarArgs) -> Result<(), CliError> {
    let now = ctx.manager.clock().now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * i64::from(a.days)))
        .map_err(|e| CliError::usage(e.to_string()))?;
    let bookings: Vec<_> =
        ctx.manager.list(&ReleaseQuery::default()).await?.into_iter().flat_map(|s| s.bookings).collect();
    let cal = calendar::Calendar::new(ctx.manager.policy());
    let occurrences = cal.occurrences(&bookings, now, until);
    if a.ics {
        write_or_print(&a.output, &calendar::to_ics(&occurrences, now))?;
        if let Some(p) = &a.output {
            anstream::eprintln!("{} {} events written to {}", paint(GOOD, "✓"), occurrences.len(), p.display());
        }
        return Ok(());
    }
    if ctx.json {
        output::json(&occurrences);
        return Ok(());
    }
    for o in &occurrences {
        let envs: Vec<&str> = o.environments.iter().map(EnvName::as_str).collect();
        let kind = format!("{:?}", o.kind).to_lowercase();
        println!(
            "{} – {}  {:<12} {} ({})",
            cal.local(o.start),
            cal.local(o.end),
            kind,
            paint(BOLD, &o.name),
            envs.join(", ")
        );
        for c in &o.conflicts {
            println!("    {} {c}", paint(BAD, "conflict:"));
        }
    }
    Ok(())
}
