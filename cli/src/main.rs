//! The `shipwarden` command line: every step of a release from a terminal
//! or a CI job, with the same rules as the library.
//!
//! Exit codes: 0 done; 2 bad input or usage; 3 refused by policy; 4 conflict
//! with another driver; 5 an outside system failed after retries.

mod changes;
mod commands;
mod config;
mod demo;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use shipwarden::engine::EngineError;
use shipwarden::{Problem, Refusal};

/// Why a command did not do what was asked; each has its exit code.
#[derive(Debug)]
pub enum CliError {
    /// Bad input or usage (2).
    Usage(String),
    /// The configuration or policy has problems (2).
    Problems(Vec<Problem>),
    /// Refused by policy (3).
    Refused(Refusal),
    /// Another driver changed the release or holds its lease (4).
    Conflict(String),
    /// An outside system failed after retries (5).
    Outside(String),
}

impl CliError {
    /// Bad input.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    /// An outside system failed.
    pub fn outside(e: impl std::fmt::Display) -> Self {
        CliError::Outside(e.to_string())
    }

    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Problems(_) => 2,
            CliError::Refused(_) => 3,
            CliError::Conflict(_) => 4,
            CliError::Outside(_) => 5,
        }
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Refused(r) => CliError::Refused(r),
            EngineError::Conflict(_) | EngineError::Busy(_) => CliError::Conflict(e.to_string()),
            EngineError::NotFound(_) => CliError::Usage(e.to_string()),
            other => CliError::Outside(other.to_string()),
        }
    }
}

impl From<shipwarden::ParseError> for CliError {
    fn from(e: shipwarden::ParseError) -> Self {
        CliError::Usage(e.to_string())
    }
}

/// shipwarden: your release procedure, enforced, recorded and resumable.
#[derive(Parser, Debug)]
#[command(name = "shipwarden", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, env = "SHIPWARDEN_CONFIG", default_value = "shipwarden.toml")]
    pub config: PathBuf,
    /// Who is acting (a name under [users] in the configuration).
    #[arg(long = "as", global = true, env = "SHIPWARDEN_USER", value_name = "USER")]
    pub user: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show what would happen and change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// What to do.
    #[command(subcommand)]
    pub verb: Verb,
}

/// The verbs.
#[derive(Subcommand, Debug)]
pub enum Verb {
    /// Write a commented shipwarden.toml.
    Init(commands::InitArgs),
    /// Plan a release (R-1a).
    Plan(commands::PlanArgs),
    /// Approve a stage of a release (R-2b, R-2c).
    Approve(commands::ApproveArgs),
    /// Record evidence for a gate: a value, an LCOV file, or an HTTP measurement.
    Evidence(commands::EvidenceCmd),
    /// Report a step people did (integration tests, a demo).
    Report(commands::ReportArgs),
    /// Run every automatic step, up to the next human decision or a stage.
    Advance(commands::AdvanceArgs),
    /// Book a deployment window (R-6a, R-6e).
    Schedule(commands::ScheduleArgs),
    /// Deploy a release to an environment's targets (R-8e).
    Deploy(commands::DeployArgs),
    /// Run the smoke tests of a release in production; release it or roll it back (R-8f, R-8g).
    Verify(ReleaseArg),
    /// Roll a release back (R-8g).
    Rollback(commands::ReasonArgs),
    /// Cancel a release.
    Cancel(commands::ReasonArgs),
    /// A release's stage, approvals, gates, steps, and what each way forward still needs.
    Status(ReleaseArg),
    /// List releases.
    List(commands::ListArgs),
    /// A release's audit trail: verify its hash chain, export it (R-9d).
    Audit(commands::AuditArgs),
    /// Release notes (R-9b): a planned release's, or the repository's history by release tag.
    Notes(changes::NotesArgs),
    /// Commits since the last release (R-4a).
    #[command(subcommand)]
    Changes(changes::ChangesVerb),
    /// Versions (R-4e).
    #[command(subcommand)]
    Version(changes::VersionVerb),
    /// Blackouts, maintenance windows, freezes and booked deployments.
    Calendar(commands::CalendarArgs),
    /// Environment settings (R-9c).
    #[command(subcommand)]
    Env(commands::EnvVerb),
    /// Perform every duty that is due (notices, reminders), each once; for cron or a timer (R-5c, R-6d).
    Tick(commands::TickArgs),
    /// Perform duties as they come due until SIGTERM or Ctrl-C (R-5c, R-6d).
    Watch(commands::WatchArgs),
    /// shipwarden's own tickets (when no Jira is configured).
    #[command(subcommand)]
    Ticket(commands::TicketVerb),
    /// The policy in force.
    #[command(subcommand)]
    Policy(commands::PolicyVerb),
    /// A whole release on this machine: three scenarios with a sample app, in under a minute.
    Demo(demo::DemoArgs),
    /// The demo's app, hosts and build (used by the demo's commands).
    #[command(hide = true, subcommand)]
    DemoHelper(demo::HelperVerb),
}

/// A release.
#[derive(Args, Debug)]
pub struct ReleaseArg {
    /// The release (`shop-1.4.0`).
    pub release: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHIPWARDEN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Verb::DemoHelper(helper) = &cli.verb {
        return demo::helper(helper);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(5);
        }
    };
    let json = cli.json;
    match runtime.block_on(commands::run(cli, None)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e, json);
            ExitCode::from(e.code())
        }
    }
}
