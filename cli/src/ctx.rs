//! What a verb that works on the project needs: the loaded configuration, the
//! release manager built from it, who acts, and how to print.

use std::path::PathBuf;

use anstream::println;
use jiff::Timestamp;
use shipwarden::engine::ReleaseManager;
use shipwarden::machine::ReleaseState;
use shipwarden::{Actor, ParseError, Policy, ReleaseId};
use shipwarden_adapters::ticketing::local::LocalTicketing;

use crate::CliError;
use crate::config::Loaded;
use crate::output::{self, WAIT, paint};

/// What a verb needs to do its work.
pub struct Ctx {
    /// `shipwarden.toml`, read.
    pub loaded: Loaded,
    /// The release manager with the configured adapters.
    pub manager: ReleaseManager,
    /// shipwarden's own tickets, when the store is SQLite.
    pub tickets: Option<LocalTicketing>,
    /// `--as`.
    pub user: Option<String>,
    /// `--json`.
    pub json: bool,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--at` (only with `--dry-run`): when the dry run decides.
    pub at: Option<Timestamp>,
}

impl Ctx {
    /// Who acts: `--as`, else `$USER`, as a user of the configuration.
    pub fn actor(&self) -> Result<Actor, CliError> {
        let user = self.user.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_default();
        Ok(self.loaded.actor(&user)?)
    }

    /// shipwarden's own tickets.
    pub fn tickets(&self) -> Result<&LocalTicketing, CliError> {
        self.tickets.as_ref().ok_or_else(|| CliError::usage("shipwarden's own tickets live in the SQLite store"))
    }

    /// A release's state.
    pub async fn state(&self, release: &ReleaseId) -> Result<ReleaseState, CliError> {
        Ok(self.manager.status(release).await?.state)
    }

    /// Whom to call now, as the engine says after `outcome` (R-2e).
    pub fn escalate(&self, outcome: &shipwarden::engine::RunOutcome) {
        if self.json {
            return;
        }
        for e in self.manager.escalation_for(outcome) {
            let phone = e.phone.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
            println!("{} escalate (R-2e): {} ({}) <{}>{phone}", paint(WAIT, "!"), e.name, e.role, e.email);
        }
    }

    /// Prints the state as JSON, or `line`.
    pub fn done(&self, state: &ReleaseState, line: String) {
        if self.json {
            output::json(state);
        } else {
            println!("{line}");
        }
    }
}

/// Parses a name, version or kind; a bad one is a usage error.
pub fn parse<T: std::str::FromStr<Err = ParseError>>(s: &str) -> Result<T, CliError> {
    s.parse().map_err(|e: ParseError| CliError::usage(e.to_string()))
}

/// A time: RFC 3339 (`2026-11-28T10:00:00Z`), or a local `2026-11-28 10:00`
/// in the policy's time zone. `flag` names the option in the error.
pub fn parse_time(flag: &str, text: &str, policy: &Policy) -> Result<Timestamp, CliError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let civil: jiff::civil::DateTime = text.replace(' ', "T").parse().map_err(|e| {
        CliError::usage(format!("{flag} `{text}`: {e}; use 2026-11-28T10:00:00Z or a local `2026-11-28 10:00`"))
    })?;
    civil.to_zoned_datetime(policy.time_zone()).map(|z| z.timestamp()).map_err(|e| CliError::usage(e.to_string()))
}

/// Writes `text` to `output`, or prints it.
pub fn write_or_print(output: &Option<PathBuf>, text: &str) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| CliError::usage(format!("{}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
