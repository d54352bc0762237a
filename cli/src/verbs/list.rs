//! `shipwarden list`: releases, as their audit chains say (R-9d).

use anstream::println;
use clap::Args;
use shipwarden::ports::ReleaseQuery;

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::output::{self, BOLD, DIM, STAGE, WAIT, paint};

/// `list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only this project.
    #[arg(long)]
    pub project: Option<String>,
    /// Only releases in this stage.
    #[arg(long)]
    pub stage: Option<String>,
}

/// Lists releases; listing rows that disagree with their chains are reported.
pub async fn run(ctx: &Ctx, a: ListArgs) -> Result<(), CliError> {
    let query = ReleaseQuery {
        project: a.project.clone(),
        stage: a.stage.as_deref().map(parse).transpose()?,
        ..Default::default()
    };
    let listing = ctx.manager.list_checked(&query).await?;
    // A row that disagrees with its chain (or is missing) is said on standard error, even with --json.
    for m in &listing.mismatches {
        anstream::eprintln!(
            "{} the listing row of {} does not match its audit chain (R-9d): {}; listed as the chain says",
            paint(WAIT, "!"),
            m.derived.release,
            m.describe()
        );
    }
    let releases = listing.releases;
    if ctx.json {
        output::json(&releases);
        return Ok(());
    }
    if releases.is_empty() {
        println!("no releases");
        return Ok(());
    }
    println!(
        "{}",
        paint(
            BOLD,
            format!(
                "{:<24} {:<10} {:<10} {:<18} {:>6}  {}",
                "RELEASE", "VERSION", "KIND", "STAGE", "EVENTS", "UPDATED"
            )
        )
    );
    for r in releases {
        println!(
            "{:<24} {:<10} {:<10} {} {:>6}  {}",
            r.release.as_str(),
            r.version.to_string(),
            r.kind.as_str(),
            paint(STAGE, format!("{:<18}", r.stage.as_str())),
            r.events,
            paint(DIM, r.updated_at.strftime("%Y-%m-%d %H:%M:%S"))
        );
    }
    Ok(())
}
