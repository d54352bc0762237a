//! The `shipwarden` command line: every step of a release from a terminal
//! or a CI job, with the same rules as the library.
//!
//! The library holds the parser ([`Cli`]), one module per verb under
//! [`verbs`], and [`run`], which executes one parsed command line; the
//! `shipwarden` binary is [`main`] and nothing else.
//!
//! Exit codes (see [`CliError::code`]):
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | done: `advance --to` reached its stage; without `--to`, it moved on, nothing failed, and the release waits for people or time |
//! | 2 | bad input, usage or configuration |
//! | 3 | refused by a rule: the rule and every unmet requirement are printed (`advance` that could not move, or short of `--to`) |
//! | 4 | another driver holds the release or the environment |
//! | 5 | a step failed (its error printed) or the release rolled back, or an outside system failed after retries |
//! | 6 | an integrity failure: a tampered audit chain, a bad evidence bundle |
//!
//! Logging goes to standard error: `-v` (info), `-vv` (debug), `-vvv`
//! (trace) for shipwarden's crates; otherwise `SHIPWARDEN_LOG` or `RUST_LOG`
//! as `tracing` filter directives (`shipwarden=debug,sqlx=warn`).

pub mod changes;
pub mod config;
pub mod ctx;
pub mod dry_run;
pub mod error;
pub mod logging;
pub mod output;
pub mod signing;
pub mod verbs;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use shipwarden::ports::Clock;

pub use error::CliError;
pub use verbs::{ReleaseArg, Verb};

/// shipwarden: your release procedure, enforced, recorded and resumable.
#[derive(Parser, Debug)]
#[command(
    name = "shipwarden",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "SHIPWARDEN_CONFIG", default_value = "shipwarden.toml")]
    pub config: PathBuf,
    /// Who is acting: a name under `users` in the configuration.
    #[arg(
        long = "as",
        global = true,
        env = "SHIPWARDEN_USER",
        value_name = "USER",
        help = "Who is acting (a name under [users] in the configuration)"
    )]
    pub user: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show what would happen and change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// With --dry-run: decide as if it were this time (`2026-11-28T10:00:00Z`, or a local `2026-11-28 10:00` in the policy's zone).
    #[arg(long, global = true, value_name = "TIME")]
    pub at: Option<String>,
    /// Log to standard error: -v info, -vv debug, -vvv trace (overrides SHIPWARDEN_LOG and RUST_LOG).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub verb: Verb,
}

const AFTER_HELP: &str = "\
Exit codes:
  0  done (advance: reached --to; without it, nothing failed and it waits for people or time)
  2  bad input, usage or configuration
  3  refused by a rule: the rule and every unmet requirement are printed
  4  another driver holds the release or the environment
  5  a step failed, the release rolled back, or an outside system failed after retries
  6  integrity failure: a tampered audit chain, a bad evidence bundle

Logging, to standard error: -v info, -vv debug, -vvv trace for shipwarden's crates;
  without -v, SHIPWARDEN_LOG or else RUST_LOG as filter directives (shipwarden=debug).";

/// Runs one parsed command line; `clock` replaces the system clock (the demo's).
pub async fn run(cli: Cli, clock: Option<Arc<dyn Clock>>) -> Result<(), CliError> {
    if cli.at.is_some() && !cli.dry_run {
        return Err(CliError::usage("--at only goes with --dry-run: it says when the dry run decides"));
    }
    verbs::dispatch(cli, clock).await
}

/// The `shipwarden` binary: parses the process's arguments, sets up logging,
/// runs, prints the error, and returns its exit code.
pub fn main() -> ExitCode {
    main_from(std::env::args_os())
}

/// [`main`] with these arguments (the first is the program's name).
pub fn main_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let e = CliError::outside(format!("cannot start: {e}"));
            output::error(&e, cli.json);
            return ExitCode::from(e.code());
        }
    };
    let json = cli.json;
    match runtime.block_on(run(cli, None)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e, json);
            ExitCode::from(e.code())
        }
    }
}
