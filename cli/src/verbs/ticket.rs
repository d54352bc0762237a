//! `shipwarden ticket`: shipwarden's own tickets (when no Jira is configured).

use anstream::println;
use clap::Subcommand;
use shipwarden::TicketKey;

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{self, BOLD, GOOD, paint};

/// `ticket ...`.
#[derive(Subcommand, Debug)]
pub enum TicketVerb {
    /// File a ticket.
    New {
        /// Its summary.
        summary: String,
        /// `Bug`, `Story`, `Task`.
        #[arg(long, default_value = "Story")]
        kind: String,
        /// For bugs: `critical`, `high`, `medium`, `low`.
        #[arg(long)]
        severity: Option<String>,
    },
    /// List tickets.
    List {
        /// Only open ones.
        #[arg(long)]
        open: bool,
    },
    /// Close a ticket.
    Close {
        /// The ticket.
        key: String,
    },
    /// Comment on a ticket.
    Comment {
        /// The ticket.
        key: String,
        /// The comment.
        body: String,
    },
}

/// Files, lists, closes or comments on a ticket.
pub async fn run(ctx: &Ctx, verb: TicketVerb) -> Result<(), CliError> {
    let tickets = ctx.tickets()?;
    use shipwarden::ports::Ticketing as _;
    match verb {
        TicketVerb::New { summary, kind, severity } => {
            let prefix = ctx
                .loaded
                .config
                .project
                .ticket_prefix
                .clone()
                .unwrap_or_else(|| ctx.loaded.config.project.name.clone());
            if ctx.dry_run {
                dry_run::would(format!("file a {kind} in {prefix}: {summary}"));
                return Ok(());
            }
            let t = tickets.create(&prefix, &kind, &summary, severity.as_deref()).await.map_err(CliError::outside)?;
            if ctx.json {
                output::json(&t);
            } else {
                println!(
                    "{} filed {} ({}{}): {}",
                    paint(GOOD, "✓"),
                    paint(BOLD, &t.key),
                    t.kind,
                    t.severity.as_deref().map(|s| format!(", {s}")).unwrap_or_default(),
                    t.summary
                );
            }
        }
        TicketVerb::List { open } => {
            let all = tickets.list(open).await.map_err(CliError::outside)?;
            if ctx.json {
                output::json(&all);
            } else {
                for t in all {
                    println!(
                        "{:<10} {:<8} {:<8} {:<9} {}",
                        t.key.to_string(),
                        t.kind,
                        t.status,
                        t.severity.unwrap_or_default(),
                        t.summary
                    );
                }
            }
        }
        TicketVerb::Close { key } => {
            let key: TicketKey = parse(&key)?;
            if ctx.dry_run {
                dry_run::would(format!("close {key}"));
                return Ok(());
            }
            tickets.transition(&key, "Done").await.map_err(|e| CliError::usage(e.to_string()))?;
            println!("{} closed {key}", paint(GOOD, "✓"));
        }
        TicketVerb::Comment { key, body } => {
            let key: TicketKey = parse(&key)?;
            if ctx.dry_run {
                dry_run::would(format!("comment on {key}"));
                return Ok(());
            }
            tickets.comment(&key, &body).await.map_err(|e| CliError::usage(e.to_string()))?;
            println!("{} commented on {key}", paint(GOOD, "✓"));
        }
    }
    Ok(())
}
