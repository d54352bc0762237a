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
        /// `Bug`, `Story`, `Task` (any case).
        #[arg(long, default_value = "Story", value_parser = kind)]
        kind: String,
        /// For bugs: `critical`, `high`, `medium`, `low` (any case).
        #[arg(long, value_parser = severity)]
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

/// The kinds of ticket `ticket new` files.
pub const KINDS: [&str; 3] = ["Bug", "Story", "Task"];

/// The severities of a bug; R-7b blocks on the policy's (by default `critical` and `high`).
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// `text` as one of `known` (any case), or a usage error listing them.
fn one_of(what: &str, text: &str, known: &[&str]) -> Result<String, String> {
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(text.trim()))
        .map(|k| (*k).to_owned())
        .ok_or_else(|| format!("unknown {what} `{text}`; expected one of {}", known.join(", ")))
}

fn kind(text: &str) -> Result<String, String> {
    one_of("kind", text, &KINDS)
}

fn severity(text: &str) -> Result<String, String> {
    one_of("severity", text, &SEVERITIES)
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
