//! Who acts, proven (issue #19, R-2b, R-2d): `--sign`, `--key`,
//! `--signature` and `--print-statement` on `approve`, `rollback`,
//! `override` and an emergency `plan`, and the audit's flags on signed
//! approvals whose key is no longer listed.
//!
//! The signature is checked here, through the adapters, before the engine
//! is asked; the engine checks the chain head the statement names, and
//! `decide` judges the proof against the policy's `[identity]`.

use std::path::{Path, PathBuf};

use clap::Args;
use shipwarden::audit::Envelope;
use shipwarden::machine::Event;
use shipwarden::{Actor, IdentityAction, Proof, ReleaseId, Statement};
use shipwarden_adapters::files;
use shipwarden_adapters::identity::{self, Acting, AllowedSigners, IdentityError};

use crate::CliError;
use crate::ctx::Ctx;

/// How an approval, a rollback, a window override or an emergency plan
/// proves who acts (`[identity]`).
#[derive(Args, Debug, Default)]
pub struct SignArgs {
    /// Sign the statement with your SSH key through ssh-agent
    /// (a key listed for you under `[users.NAME] ssh_keys` or in `allowed_signers`).
    #[arg(long)]
    pub sign: bool,
    /// Sign with this key: a private key file, or a `.pub` whose private half ssh-agent holds.
    #[arg(long, value_name = "FILE", conflicts_with = "sign")]
    pub key: Option<PathBuf>,
    /// A signature made elsewhere (`ssh-keygen -Y sign -n shipwarden -f KEY statement`)
    /// over the statement in `--statement` (default: this file without `.sig`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["sign", "key"])]
    pub signature: Option<PathBuf>,
    /// The statement `--signature` signs.
    #[arg(long, value_name = "FILE", requires = "signature")]
    pub statement: Option<PathBuf>,
    /// Print the statement to sign, exactly as its bytes, and record nothing.
    #[arg(long, conflicts_with_all = ["sign", "key", "signature"])]
    pub print_statement: bool,
}

/// What is being approved, for the statement: the adapters' (one definition for the CLI and the bindings).
pub use identity::Approving;

/// The statement for `what`, naming the release's current chain head and now.
pub async fn statement(ctx: &Ctx, what: &Approving<'_>) -> Result<Statement, CliError> {
    Ok(identity::approval_statement(&ctx.manager, what).await?)
}

/// The statement a rejection of `what` signs (the comment being the reason).
pub async fn rejection_statement(ctx: &Ctx, what: &Approving<'_>) -> Result<Statement, CliError> {
    Ok(identity::rejection_statement(&ctx.manager, what).await?)
}

impl SignArgs {
    /// Whether any way of signing was asked for.
    pub fn any(&self) -> bool {
        self.sign || self.key.is_some() || self.signature.is_some() || self.print_statement
    }
}

/// `actor`, with the proof `args` give for `action` on `release` (a
/// rollback, a window override or an emergency plan; the reason is the
/// statement's comment); `None` when `--print-statement` printed the statement
/// to sign instead.
pub async fn acting(
    ctx: &Ctx,
    args: &SignArgs,
    actor: Actor,
    action: IdentityAction,
    release: &ReleaseId,
    reason: &str,
) -> Result<Option<Actor>, CliError> {
    if !args.any() {
        return Ok(Some(actor.with_proof(local())));
    }
    let role = identity::acting_role(ctx.manager.policy(), &actor, action)
        .ok_or_else(|| CliError::usage(format!("{} holds no role", actor.user)))?;
    let what =
        Acting { action, project: &ctx.loaded.config.project.name, release, role: &role, user: &actor.user, reason };
    let expected = identity::action_statement(&ctx.manager, &what).await?;
    if args.print_statement {
        anstream::print!("{}", expected.text());
        return Ok(None);
    }
    let proof = proof(ctx, args, &expected).await?;
    Ok(Some(actor.with_proof(proof)))
}

/// The local proof: the OS user running the command.
fn local() -> Proof {
    Proof::Local { os_user: std::env::var("USER").ok().filter(|u| !u.is_empty()) }
}

/// The proof of who acts: a verified signature when one is given (a
/// [`Proof::Rejected`] when it does not verify, for `decide` to refuse),
/// else the local OS user.
pub async fn proof(ctx: &Ctx, args: &SignArgs, expected: &Statement) -> Result<Proof, CliError> {
    let (text, armored) = if let Some(sig_file) = &args.signature {
        let statement_file = match &args.statement {
            Some(file) => file.clone(),
            None => without_sig(sig_file)?,
        };
        (read(&statement_file)?, read(sig_file)?)
    } else if args.sign || args.key.is_some() {
        let signers = ctx.loaded.signers()?;
        let text = expected.text();
        let armored = match &args.key {
            Some(key) => identity::sign_with_key_file(key, &text),
            None => sign_with_listed_keys(&signers, &expected.user, &text),
        }
        .map_err(|e| CliError::usage(e.to_string()))?;
        (text, armored)
    } else {
        return Ok(local());
    };
    let signers = ctx.loaded.signers()?;
    Ok(identity::proof_of_signature(&text, &armored, &signers, expected))
}

fn sign_with_listed_keys(signers: &AllowedSigners, user: &str, text: &str) -> Result<String, IdentityError> {
    let mut last = None;
    for key in signers.keys_of(user) {
        match identity::sign_with_agent(key, text) {
            Ok(armored) => return Ok(armored),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| IdentityError::Signing {
        key: "ssh-agent".into(),
        problem: format!("no SSH key is listed for {user}: add one to [users.{user}] ssh_keys, or pass --key FILE"),
    }))
}

fn without_sig(sig_file: &Path) -> Result<PathBuf, CliError> {
    let name = sig_file.to_string_lossy();
    name.strip_suffix(".sig")
        .map(PathBuf::from)
        .ok_or_else(|| CliError::usage(format!("--signature {name}: name the signed statement with --statement FILE")))
}

fn read(path: &Path) -> Result<String, CliError> {
    files::read_text(path, files::SMALL_LIMIT)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))
}

/// Flags on signed approvals in `history` (R-2d): a key no longer listed for
/// its user (the approval stays valid: it was verified when recorded), or a
/// recorded signature that no longer verifies. Printed to standard error.
pub fn audit_flags(ctx: &Ctx, history: &[Envelope]) -> Result<Vec<String>, CliError> {
    let signed = history.iter().any(|e| matches!(&e.event, Event::Approved(a) | Event::Rejected(a) if a.proof.as_ref().is_some_and(|p| p.kind() == shipwarden::ProofKind::SshSignature)));
    if !signed {
        return Ok(Vec::new());
    }
    let signers = ctx.loaded.signers()?;
    let mut flags = Vec::new();
    for e in history {
        let (Event::Approved(a) | Event::Rejected(a)) = &e.event else { continue };
        if let Some(proof) = &a.proof
            && let Some(flag) = identity::recheck(proof, &a.user, &signers)
        {
            let what = if matches!(e.event, Event::Rejected(_)) { "rejection of" } else { "approval" };
            flags.push(format!("R-2d: {what} `{}` by {} (event {}): {flag}", a.approval, a.user, e.sequence));
        }
    }
    for flag in &flags {
        anstream::eprintln!("{} {flag}", crate::output::paint(crate::output::WAIT, "!"));
    }
    Ok(flags)
}
