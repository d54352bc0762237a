//! `shipwarden policy show|check|graph`: the policy in force.

use std::path::Path;

use anstream::println;
use clap::Subcommand;
use shipwarden::Policy;

use crate::CliError;
use crate::output::{self, GOOD, paint};

/// `policy ...`.
#[derive(Subcommand, Debug)]
pub enum PolicyVerb {
    /// Print the policy in force (defaults plus shipwarden.toml's overrides), as TOML.
    Show,
    /// Check shipwarden.toml: every problem, with its path.
    Check,
    /// The lifecycle as a Mermaid graph.
    Graph,
}

/// Runs `policy ...`; works without a configuration file (the defaults).
pub fn run(path: &Path, verb: PolicyVerb, json: bool) -> Result<(), CliError> {
    let loaded = if path.exists() { Some(crate::config::read(path)?) } else { None };
    let policy = loaded.as_ref().map_or_else(Policy::default, |l| l.policy.clone());
    match verb {
        PolicyVerb::Show if json => output::json(&policy),
        PolicyVerb::Show => print!("{}", policy.to_toml()),
        PolicyVerb::Graph => print!("{}", policy.to_mermaid()),
        PolicyVerb::Check => {
            let Some(l) = loaded else {
                return Err(CliError::usage(format!("no {} to check; `shipwarden init` writes one", path.display())));
            };
            let warnings = l.warnings();
            if json {
                output::json(
                    &serde_json::json!({ "ok": true, "project": l.config.project.name, "warnings": warnings }),
                );
            } else {
                for w in &warnings {
                    println!("warning: {w}");
                }
                let c = &l.config;
                println!(
                    "{} {}: project {}, {} users, {} environments with targets, {} transitions, {} gates",
                    paint(GOOD, "✓"),
                    path.display(),
                    c.project.name,
                    c.users.len(),
                    c.environments.values().filter(|e| !e.targets.is_empty()).count(),
                    l.policy.transitions.len(),
                    l.policy.gates.len()
                );
            }
        }
    }
    Ok(())
}
