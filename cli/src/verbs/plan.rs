//! `shipwarden plan`: plans a release (R-1a); its scope defaults to the
//! ticket keys of the commits since the last release tag.

use clap::Args;
use shipwarden::machine::Action;
use shipwarden::{Actor, Hotfix, IdentityAction, Plan, ReleaseId, ReleaseKind, Version};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{BOLD, GOOD, STAGE, paint};
use crate::signing::{self, SignArgs};

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
    /// Plan a version that is not newer than the last release (a backport on
    /// a maintenance branch), for this reason; kept in the audit (R-4c).
    #[arg(long, value_name = "REASON")]
    pub override_version: Option<String>,
    /// How an emergency plan proves who makes it (issue #19); the statement's
    /// comment is the justification.
    #[command(flatten)]
    pub signing: SignArgs,
}

/// The release id, who plans, and the plan the arguments describe.
fn describe(ctx: &Ctx, a: &PlanArgs) -> Result<(ReleaseId, Actor, Plan), CliError> {
    let actor = ctx.actor()?;
    let version: Version = parse(&a.version)?;
    let kind: ReleaseKind = parse(&a.kind)?;
    let project = ctx.loaded.config.project.name.clone();
    let id = match &a.id {
        Some(id) => parse(id)?,
        None => ReleaseId::for_version(&project, &version)?,
    };
    let mut plan = Plan::new(id.clone(), project.clone(), version.clone(), kind);
    // Without tickets, the engine takes the ticket keys since the last release tag (R-4a).
    plan.scope = a.tickets.iter().map(|t| parse(t)).collect::<Result<_, _>>()?;
    plan.version_override = a.override_version.clone();
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
    Ok((id, actor, plan))
}

/// `actor` with the proof of an emergency plan (R-2d); `None` when the
/// statement to sign was printed instead. Only an emergency plan is signed.
async fn signed(ctx: &Ctx, a: &PlanArgs, actor: Actor, plan: &Plan) -> Result<Option<Actor>, CliError> {
    if plan.kind != ReleaseKind::Emergency && a.signing.any() {
        return Err(CliError::usage(
            "only an emergency plan is signed ([identity] emergency_plan): drop --sign, --key, --signature and --print-statement, or plan --kind emergency",
        ));
    }
    let reason = plan.hotfix.as_ref().map_or("", |h| h.justification.as_str());
    signing::acting(ctx, &a.signing, actor, IdentityAction::EmergencyPlan, &plan.release, reason).await
}

/// Whether the plan would be accepted, asked of `ctx` (a store opened for
/// reading): on a project whose store does not exist yet, a mistyped or refused
/// plan then fails before anything is created (issue #18).
pub async fn check(ctx: &Ctx, a: &PlanArgs) -> Result<(), CliError> {
    let (id, actor, plan) = describe(ctx, a)?;
    let Some(actor) = signed(ctx, a, actor, &plan).await? else { return Ok(()) };
    ctx.manager.preview(&id, &actor, Action::Plan { plan, last_release: None }, None).await?;
    Ok(())
}

/// Plans the release.
pub async fn run(ctx: &Ctx, a: PlanArgs) -> Result<(), CliError> {
    let (id, actor, plan) = describe(ctx, &a)?;
    let Some(actor) = signed(ctx, &a, actor, &plan).await? else { return Ok(()) };
    let kind = plan.kind;
    if ctx.dry_run {
        return dry_run::action(ctx, &id, &actor, Action::Plan { plan, last_release: None }).await;
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
