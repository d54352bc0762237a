//! `shipwarden plan`: plans a release (R-1a); its scope defaults to the
//! ticket keys of the commits since the last release tag.

use clap::Args;
use shipwarden::machine::{Action, ReleaseState};
use shipwarden::ports::{ReleaseQuery, Vcs};
use shipwarden::{Hotfix, Plan, ReleaseId, ReleaseKind, Stage, TicketKey, Version};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{BOLD, GOOD, STAGE, paint};

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

/// Plans the release.
pub async fn run(ctx: &Ctx, a: PlanArgs) -> Result<(), CliError> {
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
        let last = last_release(ctx, project).await?;
        return dry_run::preview(ctx, &ReleaseState::default(), &actor, Action::Plan { plan, last_release: last });
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

/// The newest released (or closed) version of `project`.
async fn last_release(ctx: &Ctx, project: String) -> Result<Option<Version>, CliError> {
    let query = ReleaseQuery { project: Some(project), ..Default::default() };
    let released = [Stage::Released, Stage::Closed];
    Ok(ctx.manager.list(&query).await?.into_iter().filter(|s| released.contains(&s.stage)).map(|s| s.version).max())
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
