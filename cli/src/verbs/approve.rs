//! `shipwarden approve` and `shipwarden reject`: an approval of a stage, or
//! its rejection with a reason (R-2b, R-2c).

use clap::Args;
use shipwarden::machine::Action;
use shipwarden::{ApprovalId, Channel, ReleaseId, Role};

use crate::CliError;
use crate::ctx::{Ctx, parse};
use crate::dry_run;
use crate::output::{BAD, BOLD, GOOD, paint};
use crate::signing::{self, Approving, SignArgs};

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
    /// How the approval proves who gives it (issue #19).
    #[command(flatten)]
    pub signing: SignArgs,
}

/// `reject`.
#[derive(Args, Debug)]
pub struct RejectArgs {
    /// The release.
    pub release: String,
    /// The approval rejected (`scope`, `qa_signoff`, `acceptance`, `emergency`).
    pub approval: String,
    /// Why: required, kept in the audit trail and shown wherever the approval is waited for.
    #[arg(long)]
    pub reason: String,
    /// The role rejecting (default: the first of yours the policy accepts).
    #[arg(long)]
    pub role: Option<String>,
    /// Where the rejection was given (`cli`, `email`, `chat`, `ticket_comment`).
    #[arg(long, default_value = "cli")]
    pub channel: String,
    /// How the rejection proves who gives it (issue #19).
    #[command(flatten)]
    pub signing: SignArgs,
}

/// An approval or its rejection, as both verbs give it.
struct Decision<'a> {
    release: &'a str,
    approval: &'a str,
    role: Option<&'a str>,
    channel: &'a str,
    comment: &'a str,
    signing: &'a SignArgs,
    reject: bool,
}

/// What a decision recorded: the state after it, the actor with their proof, the approval and the role;
/// `None` when nothing was recorded (`--print-statement`, `--dry-run`).
type Recorded = (std::sync::Arc<shipwarden::ReleaseState>, shipwarden::Actor, ApprovalId, Role);

/// Gives an approval or rejects it (R-2b, R-2c, R-2d): the role the policy accepts, the statement
/// to sign (`shipwarden approval statement v1` or `shipwarden rejection statement v1`), the proof,
/// then the engine's one call, or the dry run.
async fn record_decision(ctx: &Ctx, d: Decision<'_>) -> Result<Option<Recorded>, CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(d.release)?;
    let approval: ApprovalId = parse(d.approval)?;
    let explicit = d.role.map(parse::<Role>).transpose()?;
    let role: Role =
        ctx.manager.policy().approval_role(&actor, &approval, explicit).map_err(|e| CliError::usage(e.to_string()))?;
    let channel: Channel = parse(d.channel)?;
    let what = Approving {
        project: &ctx.loaded.config.project.name,
        release: &release,
        approval: &approval,
        role: &role,
        user: &actor.user,
        channel,
        comment: d.comment,
    };
    let expected =
        if d.reject { signing::rejection_statement(ctx, &what).await? } else { signing::statement(ctx, &what).await? };
    if d.signing.print_statement {
        anstream::print!("{}", expected.text());
        return Ok(None);
    }
    let actor = actor.clone().with_proof(signing::proof(ctx, d.signing, &expected).await?);
    let comment = d.comment.to_owned();
    if ctx.dry_run {
        let (approval, role) = (approval.clone(), role.clone());
        let action = if d.reject {
            Action::Reject { approval, role, channel, comment }
        } else {
            Action::Approve { approval, role, channel, comment }
        };
        dry_run::action(ctx, &release, &actor, action).await?;
        return Ok(None);
    }
    let state = if d.reject {
        ctx.manager.reject(&release, &actor, approval.clone(), role.clone(), channel, &comment).await?
    } else {
        ctx.manager.approve(&release, &actor, approval.clone(), role.clone(), channel, &comment).await?
    };
    Ok(Some((state, actor, approval, role)))
}

/// Records the rejection (R-2b, R-2c): the approval's checks, with the
/// statement `shipwarden rejection statement v1` when signed.
pub async fn reject(ctx: &Ctx, a: RejectArgs) -> Result<(), CliError> {
    let decision = Decision {
        release: &a.release,
        approval: &a.approval,
        role: a.role.as_deref(),
        channel: &a.channel,
        comment: &a.reason,
        signing: &a.signing,
        reject: true,
    };
    let Some((state, actor, approval, role)) = record_decision(ctx, decision).await? else { return Ok(()) };
    ctx.done(
        &state,
        format!(
            "{} {} rejected {} as {} ({}): {}",
            paint(BAD, "✗"),
            actor.user,
            paint(BOLD, &approval),
            role,
            actor.proof,
            crate::output::shown(&a.reason)
        ),
    );
    Ok(())
}

/// Records the approval.
pub async fn run(ctx: &Ctx, a: ApproveArgs) -> Result<(), CliError> {
    let decision = Decision {
        release: &a.release,
        approval: &a.approval,
        role: a.role.as_deref(),
        channel: &a.channel,
        comment: &a.comment,
        signing: &a.signing,
        reject: false,
    };
    let Some((state, actor, approval, role)) = record_decision(ctx, decision).await? else { return Ok(()) };
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
        format!(
            "{} {}{email} approved {} as {} ({})",
            paint(GOOD, "✓"),
            actor.user,
            paint(BOLD, &approval),
            role,
            actor.proof
        ),
    );
    Ok(())
}
