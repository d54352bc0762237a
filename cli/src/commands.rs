//! The verbs. Each reads `shipwarden.toml`, builds the release manager with
//! the configured adapters, and does one thing; `--dry-run` runs the same
//! decision and changes nothing; `--json` prints what scripts read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anstream::println;
use clap::{Args, Subcommand};
use jiff::{SignedDuration, Timestamp};
use shipwarden::engine::{ReleaseManager, RunOutcome};
use shipwarden::machine::{Action, Command, Evidence, ReleaseState, StepOutcome, decide};
use shipwarden::ports::{Clock, ReleaseQuery, Vcs};
use shipwarden::*;
use shipwarden_adapters::probes::http::{HttpProbe, percentile};
use shipwarden_adapters::ticketing::local::LocalTicketing;

use crate::config::{self, Loaded};
use crate::output::{self, BAD, BOLD, DIM, GOOD, STAGE, WAIT, paint};
use crate::{Cli, CliError, ReleaseArg, Verb};

/// `init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// The project's name (default: this folder's name).
    #[arg(long)]
    pub project: Option<String>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// `plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The version (SemVer: `1.4.0`).
    pub version: String,
    /// `major`, `minor`, `patch` or `emergency`.
    #[arg(long, default_value = "minor")]
    pub kind: String,
    /// A ticket in scope (repeat); default: the ticket keys of the commits since the last release tag.
    #[arg(long = "ticket", value_name = "KEY")]
    pub tickets: Vec<String>,
    /// The release id (default: PROJECT-VERSION).
    #[arg(long)]
    pub id: Option<String>,
    /// Emergency: the HOTFIX ticket (R-5b).
    #[arg(long, value_name = "KEY")]
    pub hotfix: Option<String>,
    /// Emergency: what is broken.
    #[arg(long)]
    pub summary: Option<String>,
    /// Emergency: why it cannot wait for the normal path.
    #[arg(long)]
    pub justification: Option<String>,
    /// The planned release date (`2026-12-01`).
    #[arg(long)]
    pub target_date: Option<String>,
}

/// `approve`.
#[derive(Args, Debug)]
pub struct ApproveArgs {
    /// The release.
    pub release: String,
    /// The approval (`scope`, `qa_signoff`, `acceptance`, `emergency`).
    pub approval: String,
    /// The role approving (default: the first of yours the policy accepts).
    #[arg(long)]
    pub role: Option<String>,
    /// Where the approval was given (`cli`, `email`, `chat`, `ticket_comment`).
    #[arg(long, default_value = "cli")]
    pub channel: String,
    /// A comment, kept in the audit trail.
    #[arg(long, default_value = "")]
    pub comment: String,
}

/// `evidence`: record evidence for a release's gates, or make and verify evidence bundles.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvidenceCmd {
    /// Bundles.
    #[command(subcommand)]
    pub verb: Option<EvidenceVerb>,
    /// Evidence for a gate.
    #[command(flatten)]
    pub record: EvidenceArgs,
}

/// `evidence bundle|verify|keygen`.
#[derive(Subcommand, Debug)]
pub enum EvidenceVerb {
    /// Write a release's signed evidence bundle: plan, approvals, gates, artifacts, commits, steps, audit chain (R-9d).
    Bundle {
        /// The release.
        release: String,
        /// Write it here (default: stdout).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Check a bundle's signature, its audit chain, and that it says what the chain says (R-9d).
    Verify {
        /// The bundle (`shop-1.4.0.evidence.json`).
        file: PathBuf,
        /// The public key (hex) it must be signed with (default: `[evidence] public_key`).
        #[arg(long)]
        key: Option<String>,
    },
    /// Make a new Ed25519 signing key: the seed for a secret store, and its public key.
    Keygen,
}

/// Evidence for a gate.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("measure").required(true).multiple(true).args(["value", "lcov", "http", "coverage", "junit", "perf"])))]
pub struct EvidenceArgs {
    /// The release.
    #[arg(required = true)]
    pub release: Option<String>,
    /// The gate (`coverage`, `p95_latency`, `critical_bugs`, `docs_reviewed`, ...), for --value, --lcov, --http.
    pub gate: Option<String>,
    /// Coverage report (LCOV, Cobertura XML, JaCoCo XML): evidence for `coverage`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "lcov", "http"])]
    pub coverage: Option<PathBuf>,
    /// JUnit XML report: evidence for `test_failures`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "lcov", "http"])]
    pub junit: Option<PathBuf>,
    /// Performance results (JMeter .jtl as CSV or XML, k6 JSON summary): evidence for `p95_latency` and `error_rate`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["value", "lcov", "http"])]
    pub perf: Option<PathBuf>,
    /// The measured value, in the gate's unit.
    #[arg(long)]
    pub value: Option<f64>,
    /// Read line coverage from this LCOV file.
    #[arg(long, value_name = "FILE")]
    pub lcov: Option<PathBuf>,
    /// Measure the p95 latency of this URL.
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// Requests for --http.
    #[arg(long, default_value_t = 50)]
    pub requests: u32,
    /// The environment measured.
    #[arg(long)]
    pub env: Option<String>,
    /// Where the value comes from (default: the file or URL).
    #[arg(long)]
    pub source: Option<String>,
}

/// `report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The release.
    pub release: String,
    /// The step (`integration_tests`, `demo`, `tag`, ...).
    pub step: String,
    /// The environment it ran in.
    #[arg(long)]
    pub env: Option<String>,
    /// It failed.
    #[arg(long)]
    pub failed: bool,
    /// What happened.
    #[arg(long, default_value = "done")]
    pub detail: String,
}

/// `advance`.
#[derive(Args, Debug)]
pub struct AdvanceArgs {
    /// The release.
    pub release: String,
    /// Stop at this stage (default: go as far as possible).
    #[arg(long)]
    pub to: Option<String>,
}

/// `schedule`.
#[derive(Args, Debug)]
pub struct ScheduleArgs {
    /// The release.
    pub release: String,
    /// The environment.
    #[arg(long)]
    pub env: String,
    /// Start: `2026-11-28T10:00:00Z`, or a local time in the policy's zone (`2026-11-28 10:00`).
    #[arg(long)]
    pub start: String,
    /// How long (`1h`, `30m`).
    #[arg(long, default_value = "1h")]
    pub duration: String,
}

/// `deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The release.
    pub release: String,
    /// The environment.
    #[arg(long)]
    pub env: String,
}

/// `rollback`, `cancel`.
#[derive(Args, Debug)]
pub struct ReasonArgs {
    /// The release.
    pub release: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

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

/// `env`.
#[derive(Subcommand, Debug)]
pub enum EnvVerb {
    /// Keys only in one environment, and keys whose values differ; secret values are never shown (R-9c).
    Diff {
        /// The first environment (`staging`).
        from: String,
        /// The second environment (`prod`).
        to: String,
    },
}

/// `tick`.
#[derive(Args, Debug)]
pub struct TickArgs {
    /// Only list what is due; perform nothing.
    #[arg(long)]
    pub list: bool,
}

/// `watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// Time between ticks (`30s`, `5m`).
    #[arg(long, default_value = "1m")]
    pub every: String,
}

/// `audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// The release.
    pub release: String,
    /// Check the hash chain (R-9d).
    #[arg(long)]
    pub verify: bool,
    /// Export the trail (`jsonl`).
    #[arg(long, value_name = "FORMAT")]
    pub export: Option<String>,
    /// Write the export here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

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

/// What a verb needs to do its work.
struct Ctx {
    loaded: Loaded,
    manager: ReleaseManager,
    tickets: Option<LocalTicketing>,
    user: Option<String>,
    json: bool,
    dry_run: bool,
}

impl Ctx {
    fn actor(&self) -> Result<Actor, CliError> {
        let user = self.user.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_default();
        Ok(self.loaded.actor(&user)?)
    }

    fn tickets(&self) -> Result<&LocalTicketing, CliError> {
        self.tickets.as_ref().ok_or_else(|| CliError::usage("shipwarden's own tickets live in the SQLite store"))
    }

    async fn state(&self, release: &ReleaseId) -> Result<ReleaseState, CliError> {
        Ok(self.manager.status(release).await?.state)
    }

    /// The decision `action` would meet, shown; nothing is recorded.
    async fn preview(&self, state: &ReleaseState, actor: &Actor, action: Action) -> Result<(), CliError> {
        let command = Command::new(actor, action);
        let events =
            decide(state, &command, self.manager.policy(), self.manager.clock().now()).map_err(CliError::Refused)?;
        if self.json {
            output::json(&serde_json::json!({ "dry_run": true, "would_record": events }));
        } else {
            println!("{} would record:", paint(WAIT, "dry run:"));
            let mut steps = Default::default();
            for e in &events {
                if let Some(line) = output::event_line(e, &mut steps) {
                    println!("  {line}");
                }
            }
        }
        Ok(())
    }

    /// Whom to call now (R-2e).
    fn escalate(&self) {
        if self.json {
            return;
        }
        for e in &self.loaded.config.escalation {
            let phone = e.phone.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
            println!("{} escalate (R-2e): {} ({}) <{}>{phone}", paint(WAIT, "!"), e.name, e.role, e.email);
        }
    }

    fn done(&self, state: &ReleaseState, line: String) {
        if self.json {
            output::json(state);
        } else {
            println!("{line}");
        }
    }
}

fn parse<T: std::str::FromStr<Err = ParseError>>(s: &str) -> Result<T, CliError> {
    s.parse().map_err(|e: ParseError| CliError::usage(e.to_string()))
}

fn write_or_print(output: &Option<PathBuf>, text: &str) -> Result<(), CliError> {
    match output {
        Some(path) => std::fs::write(path, text).map_err(|e| CliError::usage(format!("{}: {e}", path.display()))),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Runs one command line; `clock` replaces the system clock (the demo's).
pub async fn run(cli: Cli, clock: Option<Arc<dyn Clock>>) -> Result<(), CliError> {
    match cli.verb {
        Verb::Init(args) => return init(&cli.config, args, cli.dry_run),
        Verb::Policy(verb) => return policy(&cli.config, verb, cli.json),
        Verb::Demo(args) => return crate::demo::run(args).await,
        Verb::Notes(args) if args.release.is_none() => return crate::changes::notes(&cli.config, &args),
        Verb::Changes(crate::changes::ChangesVerb::Check { from }) => {
            return crate::changes::check(&cli.config, from, cli.json);
        }
        Verb::Version(verb) => return crate::changes::next(&cli.config, &verb, cli.json),
        Verb::DemoHelper(_) => return Err(CliError::usage("internal command")),
        // Neither needs the project's manager (nor its signing key).
        Verb::Evidence(EvidenceCmd { verb: Some(EvidenceVerb::Keygen), .. }) => return keygen(),
        Verb::Evidence(EvidenceCmd { verb: Some(EvidenceVerb::Verify { file, key }), .. }) => {
            return verify_bundle(&cli.config, &file, key, cli.json);
        }
        _ => {}
    }
    // Each secret is read by the step that uses it, not by every command (R-2a).
    let loaded = Loaded::read(&cli.config)?.defer_secrets();
    let (manager, tickets) = loaded.manager(clock).await?;
    let ctx = Ctx { loaded, manager, tickets, user: cli.user, json: cli.json, dry_run: cli.dry_run };
    match cli.verb {
        Verb::Plan(a) => plan(&ctx, a).await,
        Verb::Approve(a) => approve(&ctx, a).await,
        Verb::Evidence(EvidenceCmd { verb: Some(v), .. }) => evidence_bundle(&ctx, v).await,
        Verb::Evidence(EvidenceCmd { record, .. }) => evidence(&ctx, record).await,
        Verb::Report(a) => report(&ctx, a).await,
        Verb::Advance(a) => advance(&ctx, a).await,
        Verb::Schedule(a) => schedule(&ctx, a).await,
        Verb::Deploy(a) => deploy(&ctx, a).await,
        Verb::Verify(a) => verify(&ctx, a).await,
        Verb::Rollback(a) => rollback(&ctx, a).await,
        Verb::Cancel(a) => cancel(&ctx, a).await,
        Verb::Status(a) => status(&ctx, a).await,
        Verb::List(a) => list(&ctx, a).await,
        Verb::Audit(a) => audit(&ctx, a).await,
        Verb::Notes(a) => notes(&ctx, a).await,
        Verb::Calendar(a) => calendar(&ctx, a).await,
        Verb::Tick(a) => tick(&ctx, a).await,
        Verb::Env(v) => env_verb(&ctx, v).await,
        Verb::Watch(a) => watch_duties(&ctx, a).await,
        Verb::Ticket(v) => ticket(&ctx, v).await,
        Verb::Init(_) | Verb::Policy(_) | Verb::Demo(_) | Verb::DemoHelper(_) | Verb::Changes(_) | Verb::Version(_) => {
            Ok(())
        }
    }
}

fn init(path: &Path, args: InitArgs, dry_run: bool) -> Result<(), CliError> {
    let project = args.project.unwrap_or_else(|| {
        std::env::current_dir()
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "app".into())
    });
    let text = config::template(&project);
    if dry_run {
        print!("{text}");
        return Ok(());
    }
    if path.exists() && !args.force {
        return Err(CliError::usage(format!("{} exists; pass --force to overwrite it", path.display())));
    }
    std::fs::write(path, &text).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    println!("{} wrote {}; check it with `shipwarden policy check`", paint(GOOD, "✓"), path.display());
    Ok(())
}

fn policy(path: &Path, verb: PolicyVerb, json: bool) -> Result<(), CliError> {
    let loaded = if path.exists() { Some(Loaded::read(path)?) } else { None };
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

async fn plan(ctx: &Ctx, a: PlanArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let version: Version = parse(&a.version)?;
    let kind: ReleaseKind = parse(&a.kind)?;
    let project = ctx.loaded.config.project.name.clone();
    let id = match &a.id {
        Some(id) => parse(id)?,
        None => ReleaseId::for_version(&project, &version)?,
    };
    let mut plan = Plan::new(id.clone(), project.clone(), version.clone(), kind);
    plan.scope = a.tickets.iter().map(|t| parse(t)).collect::<Result<_, _>>()?;
    if plan.scope.is_empty() {
        plan.scope = scope_from_git(ctx, &version).await?;
    }
    if let Some(d) = &a.target_date {
        plan.target_date = Some(d.parse().map_err(|e| CliError::usage(format!("--target-date `{d}`: {e}")))?);
    }
    if let Some(ticket) = &a.hotfix {
        plan.hotfix = Some(Hotfix {
            ticket: parse(ticket)?,
            summary: a.summary.clone().unwrap_or_default(),
            justification: a.justification.clone().unwrap_or_default(),
        });
    }
    if ctx.dry_run {
        let query = ReleaseQuery { project: Some(project), ..Default::default() };
        let released = [Stage::Released, Stage::Closed];
        let last = ctx
            .manager
            .list(&query)
            .await?
            .into_iter()
            .filter(|s| released.contains(&s.stage))
            .map(|s| s.version)
            .max();
        return ctx.preview(&ReleaseState::default(), &actor, Action::Plan { plan, last_release: last }).await;
    }
    let state = ctx.manager.plan(&actor, plan).await?;
    let scope = state
        .plan
        .as_ref()
        .map(|p| p.scope.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    ctx.done(
        &state,
        format!(
            "{} planned {} ({kind}) in {}; scope: {}",
            paint(GOOD, "✓"),
            paint(BOLD, &id),
            paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str())),
            if scope.is_empty() { "none".into() } else { scope }
        ),
    );
    Ok(())
}

/// The ticket keys in the commits since the newest release tag older than `version`.
async fn scope_from_git(ctx: &Ctx, version: &Version) -> Result<Vec<TicketKey>, CliError> {
    let repo = ctx.loaded.path(&ctx.loaded.config.project.repository);
    if !repo.join(".git").exists() {
        return Ok(Vec::new());
    }
    let git = shipwarden_adapters::vcs::git::GitRepo::new(repo);
    let tags = git.tags().await.map_err(CliError::outside)?;
    let last = shipwarden::changes::last_release_tag(&tags, &ctx.manager.policy().vcs.tag_prefix, version);
    let commits = git.commits_since(last.as_ref().map(|(_, n)| n.as_str())).await.map_err(CliError::outside)?;
    let mut keys: Vec<TicketKey> = Vec::new();
    for c in commits.into_iter().rev() {
        for k in shipwarden::changes::parse_owned(c).tickets {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    Ok(keys)
}

async fn approve(ctx: &Ctx, a: ApproveArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let approval: ApprovalId = parse(&a.approval)?;
    let role: Role = match &a.role {
        Some(r) => parse(r)?,
        None => {
            let accepted = ctx.manager.policy().approvals.get(&approval).map(|r| r.roles.clone()).unwrap_or_default();
            accepted
                .iter()
                .find(|r| actor.has_role(r))
                .cloned()
                .or_else(|| actor.roles.iter().next().cloned())
                .ok_or_else(|| CliError::usage(format!("{} holds no role", actor.user)))?
        }
    };
    let channel: Channel = parse(&a.channel)?;
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        return ctx.preview(&state, &actor, Action::Approve { approval, role, channel, comment: a.comment }).await;
    }
    let state = ctx.manager.approve(&release, &actor, approval.clone(), role.clone(), channel, &a.comment).await?;
    let email = ctx
        .loaded
        .config
        .users
        .get(&actor.user)
        .and_then(|u| u.email.as_deref())
        .map(|e| format!(" <{e}>"))
        .unwrap_or_default();
    ctx.done(
        &state,
        format!("{} {}{email} approved {} as {}", paint(GOOD, "✓"), actor.user, paint(BOLD, &approval), role),
    );
    Ok(())
}

/// The evidence in CI's report files (`--coverage`, `--junit`, `--perf`), one gate value each; and
/// for each request label the policy gives its own p95 threshold, that label's p95 (R-7c).
fn imported(a: &EvidenceArgs, policy: &shipwarden::Policy) -> Result<Vec<Evidence>, CliError> {
    use shipwarden_adapters::evidence::{coverage, junit, perf};
    let bad = |e: shipwarden_adapters::evidence::ImportError| CliError::usage(e.to_string());
    let round = |v: f64, places: i32| (v * 10f64.powi(places)).round() / 10f64.powi(places);
    let mut out = Vec::new();
    if let Some(file) = &a.coverage {
        let c = coverage::read(file).map_err(bad)?;
        let source = format!("{} {}: {} of {} lines", c.format, file.display(), c.covered, c.lines);
        out.push(Evidence::new(GateId::Coverage, round(c.ratio(), 4), source));
    }
    if let Some(file) = &a.junit {
        let r = junit::read(file).map_err(bad)?;
        let mut source = format!(
            "junit {}: {} tests, {} failures, {} errors, {} skipped",
            file.display(),
            r.tests,
            r.failures,
            r.errors,
            r.skipped
        );
        if !r.failed.is_empty() {
            source.push_str(&format!("; failing: {}", r.failed.join(", ")));
        }
        out.push(Evidence::new(GateId::TestFailures, r.failing() as f64, source));
    }
    if let Some(file) = &a.perf {
        let r = perf::read(file).map_err(bad)?;
        let o = &r.overall;
        let worst: Vec<String> = {
            let mut labels: Vec<(&String, &perf::LatencyStats)> = r.by_label.iter().collect();
            labels.sort_by(|x, y| y.1.p95.total_cmp(&x.1.p95));
            labels.iter().take(5).map(|(l, s)| format!("{l} p95 {} ms", round(s.p95, 1))).collect()
        };
        let mut source = format!(
            "{} {}: {} samples, p50 {} ms, p95 {} ms{}, {} errors",
            r.format,
            file.display(),
            o.samples,
            round(o.p50, 1),
            round(o.p95, 1),
            o.p99.map_or(String::new(), |p| format!(", p99 {} ms", round(p, 1))),
            o.errors
        );
        if let Some(t) = o.throughput {
            source.push_str(&format!(", {} req/s", round(t, 1)));
        }
        if !worst.is_empty() {
            source.push_str(&format!("; slowest labels: {}", worst.join(", ")));
        }
        out.push(Evidence::new(GateId::P95Latency, round(o.p95, 1), source.clone()));
        out.push(Evidence::new(GateId::ErrorRate, round(o.error_rate(), 6), source));
        let labelled = policy.gates.get(&GateId::P95Latency).map(|g| g.targets.keys().collect::<Vec<_>>());
        for label in labelled.unwrap_or_default() {
            match r.by_label.get(label) {
                Some(s) => {
                    let source = format!(
                        "{} {}: label {label}: {} samples, p95 {} ms, {} errors",
                        r.format,
                        file.display(),
                        s.samples,
                        round(s.p95, 1),
                        s.errors
                    );
                    out.push(Evidence::new(GateId::P95Latency, round(s.p95, 1), source).on_target(label.clone()));
                }
                None => {
                    return Err(CliError::usage(format!(
                        "the policy sets a p95 threshold for request label `{label}`, but {} has no samples for it",
                        file.display()
                    )));
                }
            }
        }
    }
    Ok(out)
}

async fn evidence_bundle(ctx: &Ctx, verb: EvidenceVerb) -> Result<(), CliError> {
    match verb {
        EvidenceVerb::Bundle { release, output } => {
            let release: ReleaseId = parse(&release)?;
            let signed = ctx.manager.evidence_bundle(&release).await?;
            let text = serde_json::to_string_pretty(&signed).map_err(|e| CliError::Outside(e.to_string()))?;
            write_or_print(&output, &format!("{text}\n"))?;
            if signed.signature.is_none() {
                eprintln!("{} not signed: set [evidence] signing_key_env to sign bundles", paint(WAIT, "!"));
            }
            Ok(())
        }
        EvidenceVerb::Verify { .. } | EvidenceVerb::Keygen => {
            Err(CliError::usage("internal: dispatched before loading"))
        }
    }
}

/// `evidence verify`: the config is read only for `[evidence] public_key`, when there is one.
fn verify_bundle(config: &Path, file: &Path, key: Option<String>, json: bool) -> Result<(), CliError> {
    use shipwarden_adapters::bundle::verify;
    let text = std::fs::read_to_string(file).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    let signed: shipwarden::bundle::SignedBundle = serde_json::from_str(&text)
        .map_err(|e| CliError::usage(format!("{}: not an evidence bundle: {e}", file.display())))?;
    let pinned = if config.exists() { Loaded::read(config)?.config.evidence.public_key } else { None };
    let expected = key.or(pinned);
    match verify(&signed, expected.as_deref()) {
        Ok(v) => {
            if json {
                output::json(&serde_json::json!({
                    "verified": true, "release": v.release, "head": v.head, "events": v.events, "public_key": v.public_key
                }));
            } else {
                println!(
                    "{} {} verified: {} events, chain head {}, signed by ed25519 {}",
                    paint(GOOD, "✓"),
                    v.release,
                    v.events,
                    v.head,
                    v.public_key
                );
            }
            Ok(())
        }
        Err(e) => Err(CliError::Refused(shipwarden::machine::Refusal {
            rule: RuleId::R_9D,
            stage: None,
            attempted: "verify evidence bundle".into(),
            unmet: vec![shipwarden::machine::Unmet {
                rule: RuleId::R_9D,
                requirement: shipwarden::machine::Requirement::Input {
                    field: file.display().to_string(),
                    problem: e.to_string(),
                },
            }],
        })),
    }
}

/// `evidence keygen`: the seed on stdout (for a secret store), the public key on stderr.
fn keygen() -> Result<(), CliError> {
    use shipwarden_adapters::bundle::Ed25519Signer;
    let outside = |e: shipwarden::ports::PortError| CliError::Outside(e.to_string());
    let seed = Ed25519Signer::generate_seed_hex().map_err(outside)?;
    let signer = Ed25519Signer::from_seed_hex(&seed).map_err(outside)?;
    println!("{}", secrecy::ExposeSecret::expose_secret(&seed));
    eprintln!(
        "the line above is the signing key: keep it in a secret store and name its variable in [evidence] signing_key_env\npublic key (for [evidence] public_key): {}",
        shipwarden::ports::Signer::public_key(&signer)
    );
    Ok(())
}

async fn evidence(ctx: &Ctx, a: EvidenceArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(a.release.as_deref().unwrap_or_default())?;
    if a.coverage.is_some() || a.junit.is_some() || a.perf.is_some() {
        if a.gate.is_some() {
            return Err(CliError::usage("--coverage, --junit and --perf name their gates: leave out the gate"));
        }
        let env: Option<EnvName> = a.env.as_deref().map(parse).transpose()?;
        let mut state = ctx.state(&release).await?;
        let mut lines = Vec::new();
        for mut evidence in imported(&a, ctx.manager.policy())? {
            if let Some(e) = &env {
                evidence = evidence.in_env(e.clone());
            }
            if let Some(source) = &a.source {
                evidence.source = source.clone();
            }
            if ctx.dry_run {
                ctx.preview(&state, &actor, Action::RecordEvidence(evidence)).await?;
                continue;
            }
            state = (*ctx.manager.record_evidence(&release, &actor, evidence).await?).clone();
            if let Some(g) = state.gate_results.last() {
                lines.push(
                    output::event_line(
                        &shipwarden::machine::Event::EvidenceRecorded(g.clone()),
                        &mut Default::default(),
                    )
                    .unwrap_or_default(),
                );
            }
        }
        if !ctx.dry_run {
            ctx.done(&state, lines.join("\n"));
        }
        return Ok(());
    }
    let Some(gate) = &a.gate else { return Err(CliError::usage("name the gate for --value, --lcov or --http")) };
    let gate: GateId = parse(gate)?;
    let (value, source) = if let Some(v) = a.value {
        (v, a.source.clone().unwrap_or_else(|| format!("reported by {}", actor.user)))
    } else if let Some(file) = &a.lcov {
        let text = std::fs::read_to_string(file).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
        let c = shipwarden::evidence::lcov(&text)?;
        let ratio = (c.ratio() * 10_000.0).round() / 10_000.0;
        (ratio, a.source.clone().unwrap_or_else(|| format!("lcov {}: {} of {} lines", file.display(), c.hit, c.found)))
    } else if let Some(url) = &a.http {
        let mut samples = HttpProbe::new(url).with_requests(a.requests).sample().await.map_err(CliError::outside)?;
        let p95 = (percentile(&mut samples, 0.95).unwrap_or_default() * 10.0).round() / 10.0;
        (p95, a.source.clone().unwrap_or_else(|| format!("GET {url}: p95 of {} requests", a.requests)))
    } else {
        return Err(CliError::usage("give --value, --lcov or --http"));
    };
    let mut evidence = Evidence::new(gate, value, source);
    if let Some(e) = &a.env {
        evidence = evidence.in_env(parse(e)?);
    }
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        return ctx.preview(&state, &actor, Action::RecordEvidence(evidence)).await;
    }
    let state = ctx.manager.record_evidence(&release, &actor, evidence).await?;
    let line = state
        .gate_results
        .last()
        .and_then(|g| {
            output::event_line(&shipwarden::machine::Event::EvidenceRecorded(g.clone()), &mut Default::default())
        })
        .unwrap_or_default();
    ctx.done(&state, line);
    Ok(())
}

async fn report(ctx: &Ctx, a: ReportArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let step: StepKind = parse(&a.step)?;
    let env: Option<EnvName> = a.env.as_deref().map(parse).transpose()?;
    let outcome = if a.failed { StepOutcome::failed(&a.detail, false) } else { StepOutcome::ok(&a.detail) };
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        let key = format!("report:{step}:{}#dry-run", env.as_ref().map_or("-", |e| e.as_str()));
        return ctx.preview(&state, &actor, Action::StartStep { step, environment: env, target: None, key }).await;
    }
    let state = ctx.manager.report_step(&release, &actor, step.clone(), env.clone(), outcome).await?;
    let place = env.map(|e| format!(" in {e}")).unwrap_or_default();
    let mark = if a.failed { paint(output::BAD, "✗") } else { paint(GOOD, "✓") };
    ctx.done(&state, format!("{mark} {} reported {}{place}: {}", actor.user, paint(BOLD, step), a.detail));
    Ok(())
}

async fn advance(ctx: &Ctx, a: AdvanceArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let to: Option<Stage> = a.to.as_deref().map(parse).transpose()?;
    let before = ctx.manager.status(&release).await?;
    if ctx.dry_run {
        let stage = before.state.stage.clone().unwrap_or(Stage::Planned);
        let kind = before.state.plan.as_ref().map(|p| p.kind);
        if ctx.json {
            output::json(&serde_json::json!({ "dry_run": true, "stage": stage, "next": before.next }));
            return Ok(());
        }
        println!(
            "{} from {}, the path ahead (the engine stops at the first person it needs):",
            paint(WAIT, "dry run:"),
            paint(STAGE, &stage)
        );
        let policy = ctx.manager.policy();
        let mut at = stage.clone();
        for _ in 0..policy.transitions.len() {
            let fits: Vec<_> = policy
                .transitions_from(&at)
                .filter(|(_, t)| t.kinds.is_empty() || kind.is_some_and(|k| t.kinds.contains(&k)))
                .map(|(_, t)| t)
                .collect();
            let Some(t) = fits.iter().find(|t| !t.kinds.is_empty()).or(fits.first()) else { break };
            let mut needs: Vec<String> = Vec::new();
            if !t.approvals.is_empty() {
                needs.push(format!(
                    "approvals {}",
                    t.approvals.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ));
            }
            if !t.gates.is_empty() {
                needs.push(format!(
                    "gates {}",
                    t.gates.iter().map(|g| g.gate.to_string()).collect::<Vec<_>>().join(", ")
                ));
            }
            if !t.steps.is_empty() {
                let steps: Vec<String> = t
                    .steps
                    .iter()
                    .map(|s| {
                        format!("{}{}", s.step, s.environment.as_ref().map(|e| format!(" {e}")).unwrap_or_default())
                    })
                    .collect();
                needs.push(format!("steps {}", steps.join(", ")));
            }
            if let Some(w) = &t.window {
                needs.push(format!("a deployment window on {w}"));
            }
            println!(
                "  → {} ({}): {}",
                paint(STAGE, &t.to),
                t.rule,
                if needs.is_empty() { "nothing".into() } else { needs.join("; ") }
            );
            if policy.is_final(&t.to) || t.to == at {
                break;
            }
            at = t.to.clone();
        }
        output::status(&before, &[], ctx.manager.clock().now());
        return Ok(());
    }
    let outcome = output::watch(&ctx.manager, &release, ctx.json, ctx.manager.run(&release, to.clone())).await?;
    let after = ctx.state(&release).await?;
    let refused = matches!(outcome, RunOutcome::Waiting(_)) && (to.is_some() || after.stage == before.state.stage);
    if ctx.json && !refused {
        output::json(&serde_json::json!({ "outcome": outcome, "stage": after.stage }));
    } else if !refused {
        output::outcome(&outcome);
    }
    match outcome {
        RunOutcome::Waiting(w) if to.is_some() || after.stage == before.state.stage => {
            Err(CliError::Refused(w.refusal))
        }
        RunOutcome::RolledBack { reason } => {
            ctx.escalate();
            Err(CliError::Outside(format!("rolled back: {reason}")))
        }
        _ => Ok(()),
    }
}

fn parse_start(text: &str, policy: &Policy) -> Result<Timestamp, CliError> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let civil: jiff::civil::DateTime = text.replace(' ', "T").parse().map_err(|e| {
        CliError::usage(format!("--start `{text}`: {e}; use 2026-11-28T10:00:00Z or a local `2026-11-28 10:00`"))
    })?;
    civil.to_zoned_datetime(policy.time_zone()).map(|z| z.timestamp()).map_err(|e| CliError::usage(e.to_string()))
}

async fn schedule(ctx: &Ctx, a: ScheduleArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let env: EnvName = parse(&a.env)?;
    let start = parse_start(&a.start, ctx.manager.policy())?;
    let length: SignedDuration =
        a.duration.parse().map_err(|e| CliError::usage(format!("--duration `{}`: {e}", a.duration)))?;
    let end = start.checked_add(length).map_err(|e| CliError::usage(e.to_string()))?;
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        let busy = ctx
            .manager
            .list(&ReleaseQuery::default())
            .await?
            .into_iter()
            .filter(|s| s.release != release)
            .flat_map(|s| s.bookings)
            .collect();
        return ctx.preview(&state, &actor, Action::Schedule { environment: env, start, end, busy }).await;
    }
    let state = ctx.manager.schedule(&release, &actor, env.clone(), start, end).await?;
    let cal = calendar::Calendar::new(ctx.manager.policy());
    ctx.done(
        &state,
        format!("{} booked {release} on {env}: {} to {}", paint(GOOD, "✓"), cal.local(start), cal.local(end)),
    );
    Ok(())
}

async fn deploy(ctx: &Ctx, a: DeployArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let env: EnvName = parse(&a.env)?;
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        let targets: Vec<String> = ctx
            .loaded
            .config
            .environments
            .get(env.as_str())
            .map(|e| e.targets.iter().map(|t| format!("{} ({})", t.name(), t.deploy().join(" "))).collect())
            .unwrap_or_default();
        let rollout = ctx.manager.policy().environment(&env).map(|e| e.rollout).unwrap_or_default();
        if ctx.json {
            output::json(
                &serde_json::json!({ "dry_run": true, "release": release, "environment": env, "stage": state.stage, "targets": targets }),
            );
        } else {
            println!(
                "{} would deploy {release} to {env} (canary {}, then {} at a time), from {}:",
                paint(WAIT, "dry run:"),
                rollout.canary,
                rollout.concurrency,
                paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str()))
            );
            for t in targets {
                println!("  • {t}");
            }
        }
        return Ok(());
    }
    let outcome = output::watch(&ctx.manager, &release, ctx.json, ctx.manager.deploy(&release, &env)).await?;
    let state = ctx.state(&release).await?;
    match outcome {
        StepOutcome::Succeeded { detail, .. } => {
            ctx.done(&state, format!("{} deployed {release} to {env}: {detail}", paint(GOOD, "✓")));
            Ok(())
        }
        StepOutcome::Failed { error, .. } => {
            if ctx.json {
                output::json(&state);
            }
            Err(CliError::Outside(format!("deploying {release} to {env} failed: {error}")))
        }
    }
}

async fn verify(ctx: &Ctx, a: ReleaseArg) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        let smoke: usize = ctx.loaded.config.environments.values().map(|e| e.smoke.len()).sum();
        println!(
            "{} would run {smoke} smoke tests for {release} (in {}), then release it or roll it back",
            paint(WAIT, "dry run:"),
            paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str()))
        );
        return Ok(());
    }
    let verified = async {
        match ctx.manager.verify(&release).await? {
            // Released: publish the notes, tell people, close the ticket.
            RunOutcome::Reached { .. } => ctx.manager.run(&release, None).await,
            other => Ok(other),
        }
    };
    let outcome = output::watch(&ctx.manager, &release, ctx.json, verified).await?;
    if ctx.json {
        output::json(&outcome);
    } else {
        output::outcome(&outcome);
    }
    match outcome {
        RunOutcome::RolledBack { reason } => {
            ctx.escalate();
            Err(CliError::Outside(format!("rolled back: {reason}")))
        }
        RunOutcome::Waiting(w) => Err(CliError::Refused(w.refusal)),
        _ => Ok(()),
    }
}

async fn rollback(ctx: &Ctx, a: ReasonArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        return ctx.preview(&state, &actor, Action::BeginRollback { reason: a.reason }).await;
    }
    let state =
        output::watch(&ctx.manager, &release, ctx.json, ctx.manager.rollback(&release, &actor, &a.reason)).await?;
    ctx.done(
        &state,
        format!(
            "{} {release} rolled back to {}",
            paint(GOOD, "✓"),
            paint(STAGE, state.stage.as_ref().map_or("-", |s| s.as_str()))
        ),
    );
    Ok(())
}

async fn cancel(ctx: &Ctx, a: ReasonArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    if ctx.dry_run {
        let state = ctx.state(&release).await?;
        return ctx.preview(&state, &actor, Action::Cancel { reason: a.reason }).await;
    }
    let state = ctx.manager.cancel(&release, &actor, &a.reason).await?;
    ctx.done(&state, format!("{} {release} cancelled: {}", paint(GOOD, "✓"), a.reason));
    Ok(())
}

async fn status(ctx: &Ctx, a: ReleaseArg) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let status = ctx.manager.status(&release).await?;
    if ctx.json {
        output::json(&status);
    } else {
        let now = ctx.manager.clock().now();
        let duties = shipwarden::duties::pending(&status.state, ctx.manager.policy(), now);
        output::status(&status, &duties, now);
    }
    Ok(())
}

async fn env_verb(ctx: &Ctx, verb: EnvVerb) -> Result<(), CliError> {
    use shipwarden::ports::SettingsSource;
    let EnvVerb::Diff { from, to } = verb;
    let mut read = Vec::new();
    for name in [&from, &to] {
        let env: EnvName = parse(name)?;
        let settings = ctx.loaded.config.environments.get(name.as_str()).and_then(|e| e.settings.as_ref());
        let Some(c) = settings else {
            return Err(CliError::usage(format!("environment `{name}` has no [environments.{name}.settings]")));
        };
        let source = shipwarden_adapters::settings::EnvFileSettings::new(ctx.loaded.path(&c.file))
            .secret_keys(c.secret_keys.clone());
        let values = source.settings(&env).await.map_err(CliError::outside)?;
        read.push((source, values));
    }
    let ((a_src, a), (b_src, b)) = (&read[0], &read[1]);
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut rows = Vec::new();
    for k in keys {
        let secret = a_src.is_secret(k) || b_src.is_secret(k);
        let show = |v: Option<&String>| match v {
            None => "(not set)".to_owned(),
            Some(_) if secret => "(secret)".to_owned(),
            Some(v) => v.clone(),
        };
        let (va, vb) = (a.get(k), b.get(k));
        if va != vb {
            rows.push(
                serde_json::json!({ "key": k, "secret": secret, from.as_str(): show(va), to.as_str(): show(vb) }),
            );
        }
    }
    if ctx.json {
        output::json(&rows);
        return Ok(());
    }
    if rows.is_empty() {
        println!("{} {from} and {to} have the same settings", paint(GOOD, "✓"));
        return Ok(());
    }
    println!("{}", paint(BOLD, format!("{:<28} {:<30} {}", "KEY", from, to)));
    for r in &rows {
        let cell = |name: &str| r[name].as_str().unwrap_or_default().to_owned();
        let key = r["key"].as_str().unwrap_or_default();
        let mark = if r["secret"].as_bool().unwrap_or(false) { " (values differ)" } else { "" };
        println!("{key:<28} {:<30} {}{mark}", cell(&from), cell(&to));
    }
    Ok(())
}

/// One line for a performed duty.
fn duty_line(r: &shipwarden::engine::DutyReport) -> String {
    let late = if r.missed {
        format!(" {}", paint(BAD, format!("(late: finding recorded, {})", r.duty.rule)))
    } else {
        String::new()
    };
    match &r.outcome {
        StepOutcome::Succeeded { detail, .. } => {
            format!("{} {} {}{late}  {}", paint(GOOD, "✓"), r.release, r.duty.subject, paint(DIM, detail))
        }
        StepOutcome::Failed { error, .. } => {
            format!("{} {} {}{late}  {error}", paint(BAD, "✗"), r.release, r.duty.subject)
        }
    }
}

async fn tick(ctx: &Ctx, a: TickArgs) -> Result<(), CliError> {
    let now = ctx.manager.clock().now();
    if a.list || ctx.dry_run {
        let due = ctx.manager.due(now).await?;
        if ctx.json {
            output::json(&due);
        } else if due.is_empty() {
            println!("nothing is due");
        } else {
            for (release, d) in due {
                let late = if d.missed(now) { paint(BAD, " (past its deadline)") } else { String::new() };
                println!("{} {release} {} [{}] due since {}{late}", paint(WAIT, "•"), d.subject, d.rule, d.due_at);
            }
        }
        return Ok(());
    }
    let done = ctx.manager.run_due(now).await?;
    if ctx.json {
        output::json(&done);
    } else if done.is_empty() {
        println!("nothing was due");
    } else {
        for r in &done {
            println!("{}", duty_line(r));
        }
    }
    if done.iter().any(|r| !r.outcome.succeeded()) {
        return Err(CliError::Outside("some duties could not be performed; the next tick tries them again".into()));
    }
    Ok(())
}

/// Ticks until SIGTERM or SIGINT; a signal during a tick lets the tick finish.
async fn watch_duties(ctx: &Ctx, a: WatchArgs) -> Result<(), CliError> {
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
                    println!("{}", duty_line(r));
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

async fn list(ctx: &Ctx, a: ListArgs) -> Result<(), CliError> {
    let query = ReleaseQuery {
        project: a.project.clone(),
        stage: a.stage.as_deref().map(parse).transpose()?,
        ..Default::default()
    };
    let releases = ctx.manager.list(&query).await?;
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

async fn audit(ctx: &Ctx, a: AuditArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(&a.release)?;
    let history = ctx.manager.history(&release).await?;
    if history.is_empty() {
        return Err(CliError::usage(format!("no release {release}")));
    }
    if let Some(format) = &a.export {
        if format != "jsonl" {
            return Err(CliError::usage(format!("--export {format}: the format is `jsonl`")));
        }
        let mut text = String::new();
        for e in &history {
            text.push_str(&serde_json::to_string(e).map_err(|e| CliError::usage(e.to_string()))?);
            text.push('\n');
        }
        write_or_print(&a.output, &text)?;
        if let Some(path) = &a.output
            && !ctx.json
        {
            anstream::eprintln!("{} {} events written to {}", paint(GOOD, "✓"), history.len(), path.display());
        }
        if !a.verify {
            return Ok(());
        }
    }
    if a.verify {
        return match shipwarden::audit::verify(&history) {
            Ok(head) => {
                if ctx.json {
                    output::json(&serde_json::json!({ "verified": true, "events": history.len(), "head": head }));
                } else {
                    println!(
                        "{} audit chain of {release} verified: {} events, head {}",
                        paint(GOOD, "✓"),
                        history.len(),
                        head
                    );
                }
                Ok(())
            }
            Err(e) => Err(CliError::Outside(format!("the audit trail of {release} does not verify: {e}"))),
        };
    }
    if ctx.json {
        output::json(&history);
        return Ok(());
    }
    let mut steps = Default::default();
    for e in &history {
        let line = output::event_line(&e.event, &mut steps).unwrap_or_else(|| paint(DIM, e.event.name()));
        println!(
            "{:>4} {} {:<10} {:<6} {line}",
            e.sequence,
            paint(DIM, e.at.strftime("%Y-%m-%d %H:%M:%S")),
            e.actor,
            e.rule.to_string()
        );
    }
    Ok(())
}

async fn notes(ctx: &Ctx, a: crate::changes::NotesArgs) -> Result<(), CliError> {
    let release: ReleaseId = parse(a.release.as_deref().unwrap_or_default())?;
    let notes = ctx.manager.notes(&release).await?;
    if a.publish {
        let version = ctx.state(&release).await?.plan.map(|p| p.version).ok_or_else(|| CliError::usage("no plan"))?;
        if ctx.dry_run {
            println!("{} would publish the notes of {release}", paint(WAIT, "dry run:"));
            return Ok(());
        }
        let at = ctx.loaded.publishers()?.publish(&release, &version, &notes).await.map_err(CliError::outside)?;
        println!("{} notes of {release} published: {at}", paint(GOOD, "✓"));
        return Ok(());
    }
    if ctx.json || a.format == "json" {
        output::json(&serde_json::json!({ "release": release, "markdown": notes }));
        return Ok(());
    }
    write_or_print(&a.output, &notes)
}

async fn calendar(ctx: &Ctx, a: CalendarArgs) -> Result<(), CliError> {
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

async fn ticket(ctx: &Ctx, verb: TicketVerb) -> Result<(), CliError> {
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
                println!("{} would file a {kind} in {prefix}: {summary}", paint(WAIT, "dry run:"));
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
                println!("{} would close {key}", paint(WAIT, "dry run:"));
                return Ok(());
            }
            tickets.transition(&key, "Done").await.map_err(|e| CliError::usage(e.to_string()))?;
            println!("{} closed {key}", paint(GOOD, "✓"));
        }
        TicketVerb::Comment { key, body } => {
            let key: TicketKey = parse(&key)?;
            if ctx.dry_run {
                println!("{} would comment on {key}", paint(WAIT, "dry run:"));
                return Ok(());
            }
            tickets.comment(&key, &body).await.map_err(|e| CliError::usage(e.to_string()))?;
            println!("{} commented on {key}", paint(GOOD, "✓"));
        }
    }
    Ok(())
}
