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

/// Records the rejection (R-2b, R-2c): the approval's checks, with the
/// statement `shipwarden rejection statement v1` when signed.
pub async fn reject(ctx: &Ctx, a: RejectArgs) -> Result<(), CliError> {
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let approval: ApprovalId = parse(&a.approval)?;
    let explicit = a.role.as_deref().map(parse::<Role>).transpose()?;
    let role: Role =
        ctx.manager.policy().approval_role(&actor, &approval, explicit).map_err(|e| CliError::usage(e.to_string()))?;
    let channel: Channel = parse(&a.channel)?;
    let what = Approving {
        project: &ctx.loaded.config.project.name,
        release: &release,
        approval: &approval,
        role: &role,
        user: &actor.user,
        channel,
        comment: &a.reason,
    };
    let expected = signing::rejection_statement(ctx, &what).await?;
    if a.signing.print_statement {
        anstream::print!("{}", expected.text());
        return Ok(());
    }
    let actor = actor.clone().with_proof(signing::proof(ctx, &a.signing, &expected).await?);
    if ctx.dry_run {
        let action = Action::Reject { approval, role, channel, comment: a.reason };
        return dry_run::action(ctx, &release, &actor, action).await;
    }
    let state = ctx.manager.reject(&release, &actor, approval.clone(), role.clone(), channel, &a.reason).await?;
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
    let actor = ctx.actor()?;
    let release: ReleaseId = parse(&a.release)?;
    let approval: ApprovalId = parse(&a.approval)?;
    let explicit = a.role.as_deref().map(parse::<Role>).transpose()?;
    let role: Role =
        ctx.manager.policy().approval_role(&actor, &approval, explicit).map_err(|e| CliError::usage(e.to_string()))?;
    let channel: Channel = parse(&a.channel)?;
    let what = Approving {
        project: &ctx.loaded.config.project.name,
        release: &release,
        approval: &approval,
        role: &role,
        user: &actor.user,
        channel,
        comment: &a.comment,
    };
    let expected = signing::statement(ctx, &what).await?;
    if a.signing.print_statement {
        anstream::print!("{}", expected.text());
        return Ok(());
    }
    let actor = actor.clone().with_proof(signing::proof(ctx, &a.signing, &expected).await?);
    if ctx.dry_run {
        let action = Action::Approve { approval, role, channel, comment: a.comment };
        return dry_run::action(ctx, &release, &actor, action).await;
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
