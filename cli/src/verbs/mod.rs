//! The verbs, one module each: its clap arguments and its execution. Each
//! reads `shipwarden.toml`, builds the release manager with the configured
//! adapters ([`Ctx`]), and does one thing; `--dry-run` goes through
//! [`crate::dry_run`]; `--json` prints what scripts read.

pub mod advance;
pub mod anchor;
pub mod approve;
pub mod audit;
pub mod calendar;
pub mod cancel;
pub mod deploy;
pub mod env;
pub mod evidence;
pub mod init;
pub mod list;
pub mod notes;
pub mod override_window;
pub mod plan;
pub mod policy;
pub mod report;
pub mod resolve;
pub mod rollback;
pub mod schedule;
pub mod serve;
pub mod status;
pub mod tick;
pub mod ticket;
pub mod token;
pub mod verify;
pub mod watch;

use std::sync::Arc;

use clap::{Args, Subcommand};
use shipwarden::ports::Clock;

use crate::changes;
use crate::ctx::{self, Ctx};
use crate::{Cli, CliError};

/// The verbs.
#[derive(Subcommand, Debug)]
pub enum Verb {
    /// Write a commented shipwarden.toml.
    Init(init::InitArgs),
    /// Plan a release (R-1a).
    Plan(plan::PlanArgs),
    /// Approve a stage of a release (R-2b, R-2c).
    Approve(approve::ApproveArgs),
    /// Reject an approval with a reason: it blocks the stage until you approve (R-2b, R-2c).
    Reject(approve::RejectArgs),
    /// Record evidence for a gate: a value, an LCOV file, or an HTTP measurement.
    Evidence(evidence::EvidenceCmd),
    /// Report a step people did (integration tests, a demo).
    Report(report::ReportArgs),
    /// Run every automatic step, up to the next human decision or a stage.
    Advance(advance::AdvanceArgs),
    /// Book a deployment window (R-6a, R-6e).
    Schedule(schedule::ScheduleArgs),
    /// Override blackout windows and freezes for a release, with a reason (R-6b).
    Override(override_window::OverrideArgs),
    /// Deploy a release to an environment's targets (R-8e).
    Deploy(deploy::DeployArgs),
    /// Run the smoke tests of a release in production; release it or roll it back (R-8f, R-8g).
    Verify(ReleaseArg),
    /// Roll a release back (R-8g).
    Rollback(rollback::RollbackArgs),
    /// Cancel a release.
    Cancel(ReasonArgs),
    /// Say how a step in doubt ended, after checking its target (R-9d).
    Resolve(resolve::ResolveArgs),
    /// A release's stage, approvals, gates, steps, and what each way forward still needs.
    Status(ReleaseArg),
    /// List releases.
    List(list::ListArgs),
    /// A release's audit trail: verify its hash chain, export it (R-9d).
    Audit(audit::AuditArgs),
    /// Release notes (R-9b): a planned release's, or the repository's history by release tag.
    Notes(changes::NotesArgs),
    /// Commits since the last release (R-4a).
    #[command(subcommand)]
    Changes(changes::ChangesVerb),
    /// Versions (R-4e).
    #[command(subcommand)]
    Version(changes::VersionVerb),
    /// Blackouts, maintenance windows, freezes and booked deployments.
    Calendar(calendar::CalendarArgs),
    /// Environment settings (R-9c).
    #[command(subcommand)]
    Env(env::EnvVerb),
    /// Perform every duty that is due (notices, reminders), each once; for cron or a timer (R-5c, R-6d).
    Tick(tick::TickArgs),
    /// Perform duties as they come due until SIGTERM or Ctrl-C (R-5c, R-6d).
    Watch(watch::WatchArgs),
    /// shipwarden's own tickets (when no Jira is configured).
    #[command(subcommand)]
    Ticket(ticket::TicketVerb),
    /// The policy in force.
    #[command(subcommand)]
    Policy(policy::PolicyVerb),
    /// Serve the procedure over HTTP: the API, identity, live events, background work (issue #21).
    Serve(serve::ServeArgs),
    /// API tokens for CI and bots calling `serve`: create (shown once), list, revoke (issue #21).
    #[command(subcommand)]
    Token(token::TokenVerb),
}

/// A release.
#[derive(Args, Debug)]
pub struct ReleaseArg {
    /// The release (`shop-1.4.0`).
    pub release: String,
}

/// `cancel`: a release and why.
#[derive(Args, Debug)]
pub struct ReasonArgs {
    /// The release.
    pub release: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

/// Whether the verb only reads the store: `status`, `list`, `audit`, a
/// release's `notes`, and `--print-statement` (the statement to sign).
fn reads_only(verb: &Verb) -> bool {
    match verb {
        Verb::Status(_) | Verb::List(_) | Verb::Notes(_) => true,
        // `audit --publish` may comment on a release ticket kept in the store's file.
        Verb::Audit(a) => !a.publish,
        Verb::Approve(a) => a.signing.print_statement,
        Verb::Reject(a) => a.signing.print_statement,
        Verb::Rollback(a) => a.signing.print_statement,
        Verb::Override(a) => a.signing.print_statement,
        Verb::Plan(a) => a.signing.print_statement,
        _ => false,
    }
}

/// Runs one verb: those that need no release manager first, then the rest with a [`Ctx`].
pub(crate) async fn dispatch(cli: Cli, clock: Option<Arc<dyn Clock>>) -> Result<(), CliError> {
    match cli.verb {
        Verb::Init(args) => return init::run(&cli.config, args, cli.dry_run),
        Verb::Policy(verb) => return policy::run(&cli.config, verb, cli.json),
        Verb::Serve(args) => return serve::run(&cli.config, args).await,
        Verb::Token(verb) => return token::run(&cli.config, verb, cli.user, cli.json).await,
        Verb::Notes(args) if args.release.is_none() => return changes::notes(&cli.config, &args),
        Verb::Changes(changes::ChangesVerb::Check { from }) => return changes::check(&cli.config, from, cli.json),
        Verb::Version(verb) => return changes::next(&cli.config, &verb, cli.json),
        // Neither needs the project's manager (nor its signing key).
        Verb::Evidence(evidence::EvidenceCmd { verb: Some(evidence::EvidenceVerb::Keygen), .. }) => {
            return evidence::keygen();
        }
        Verb::Evidence(evidence::EvidenceCmd { verb: Some(evidence::EvidenceVerb::Verify { file, key }), .. }) => {
            return evidence::verify_bundle(&cli.config, &file, key, cli.json);
        }
        _ => {}
    }
    // Each secret is read by the step that uses it, not by every command (R-2a).
    let mut loaded = crate::config::read(&cli.config)?.defer_secrets();
    if reads_only(&cli.verb) || cli.dry_run {
        // They work on a store the user may not write, can never change it, and create none (issue #18).
        loaded = loaded.read_only();
    }
    let at = cli.at.as_deref().map(|t| ctx::parse_time("--at", t, &loaded.policy)).transpose()?;
    if let Verb::Plan(a) = &cli.verb
        && !cli.dry_run
        && !a.signing.print_statement
        && !loaded.store_exists()
    {
        // The first plan of a project: a mistyped or refused one leaves no store behind (issue #18).
        let probe = crate::config::read(&cli.config)?.defer_secrets().read_only();
        let (manager, tickets) = probe.manager(clock.clone()).await?;
        let user = cli.user.clone();
        let ctx = Ctx { loaded: probe, manager, tickets, user, json: cli.json, dry_run: false, at: None };
        plan::check(&ctx, a).await?;
    }
    let (manager, tickets) = loaded.manager(clock).await?;
    let ctx = Ctx { loaded, manager, tickets, user: cli.user, json: cli.json, dry_run: cli.dry_run, at };
    let outcome = run_verb(&ctx, cli.verb).await;
    // A head not published never fails the command that signed it (R-9d): it is told, with the retry.
    for failed in ctx.manager.take_unpublished() {
        anstream::eprintln!("{} {failed}", crate::output::paint(crate::output::WAIT, "!"));
    }
    outcome
}

/// Runs a verb that needs the manager.
async fn run_verb(ctx: &Ctx, verb: Verb) -> Result<(), CliError> {
    match verb {
        Verb::Plan(a) => plan::run(ctx, a).await,
        Verb::Approve(a) => approve::run(ctx, a).await,
        Verb::Reject(a) => approve::reject(ctx, a).await,
        Verb::Evidence(evidence::EvidenceCmd { verb: Some(v), .. }) => evidence::bundle(ctx, v).await,
        Verb::Evidence(evidence::EvidenceCmd { record, .. }) => evidence::run(ctx, record).await,
        Verb::Report(a) => report::run(ctx, a).await,
        Verb::Advance(a) => advance::run(ctx, a).await,
        Verb::Schedule(a) => schedule::run(ctx, a).await,
        Verb::Override(a) => override_window::run(ctx, a).await,
        Verb::Deploy(a) => deploy::run(ctx, a).await,
        Verb::Verify(a) => verify::run(ctx, a).await,
        Verb::Rollback(a) => rollback::run(ctx, a).await,
        Verb::Cancel(a) => cancel::run(ctx, a).await,
        Verb::Resolve(a) => resolve::run(ctx, a).await,
        Verb::Status(a) => status::run(ctx, a).await,
        Verb::List(a) => list::run(ctx, a).await,
        Verb::Audit(a) => audit::run(ctx, a).await,
        Verb::Notes(a) => notes::run(ctx, a).await,
        Verb::Calendar(a) => calendar::run(ctx, a).await,
        Verb::Tick(a) => tick::run(ctx, a).await,
        Verb::Env(v) => env::run(ctx, v).await,
        Verb::Watch(a) => watch::run(ctx, a).await,
        Verb::Ticket(v) => ticket::run(ctx, v).await,
        Verb::Init(_) | Verb::Policy(_) | Verb::Changes(_) | Verb::Version(_) | Verb::Serve(_) | Verb::Token(_) => {
            Ok(())
        }
    }
}
