//! Who acted, verified (issue #19, R-2b, R-2d): approvals signed with the SSH
//! keys people already use, in OpenSSH's signature format (SSHSIG, the format
//! of `ssh-keygen -Y sign` and of git's signed commits), namespace
//! `shipwarden`.
//!
//! The format is RustCrypto's `ssh-key` (Ed25519 keys). Signing with a key
//! held by ssh-agent goes through `ssh-keygen -Y sign`, which talks to the
//! agent itself: no agent protocol client in the dependency tree, and the
//! agent's confirmations and hardware keys work as they do for git.
//!
//! Verification happens here, before `decide`: the signature, the key listed
//! for the user now, and the statement equal to the action being recorded.
//! The engine then checks the chain head the statement names, and `decide`
//! judges the verified proof against the policy's `[identity]`.

mod signers;
mod ssh;

pub use signers::AllowedSigners;
pub use ssh::{
    NAMESPACE, Recorded, RecordedSignature, fingerprint_of, recheck, sign_with_agent, sign_with_agent_at,
    sign_with_key_file, verify_recorded, verify_recorded_proof, verify_statement,
};

/// A proof that did not verify, for `decide` to refuse (R-2d).
pub fn rejected(error: &IdentityError) -> shipwarden::Proof {
    shipwarden::Proof::Rejected { presented: ssh::KIND, reason: error.to_string() }
}

/// The proof a signature over a statement gives: the verified
/// [`shipwarden::Proof::SshSignature`], or a [`shipwarden::Proof::Rejected`]
/// naming why not, for `decide` to refuse (R-2d). The CLI and the Python and
/// Node bindings all call this.
pub fn proof_of_signature(
    statement: &str,
    armored: &str,
    signers: &AllowedSigners,
    expected: &shipwarden::Statement,
) -> shipwarden::Proof {
    verify_statement(statement, armored, signers, expected).unwrap_or_else(|e| rejected(&e))
}

/// What is being approved, for [`approval_statement`].
#[derive(Debug, Clone, Copy)]
pub struct Approving<'a> {
    /// The project (`[project] name`).
    pub project: &'a str,
    /// The release.
    pub release: &'a shipwarden::ReleaseId,
    /// The approval.
    pub approval: &'a shipwarden::ApprovalId,
    /// The role.
    pub role: &'a shipwarden::Role,
    /// Who.
    pub user: &'a str,
    /// The channel.
    pub channel: shipwarden::Channel,
    /// The comment.
    pub comment: &'a str,
}

/// The statement an approval signs (R-2b, R-2d): `what`, naming the
/// release's current chain head and the manager's clock now. The CLI and the
/// Python and Node bindings all build it here.
///
/// # Errors
/// The release's trail could not be read.
pub async fn approval_statement(
    manager: &shipwarden::engine::ReleaseManager,
    what: &Approving<'_>,
) -> Result<shipwarden::Statement, shipwarden::engine::EngineError> {
    let head = head_of(manager, what.release).await?;
    Ok(shipwarden::Statement {
        action: shipwarden::IdentityAction::Approve,
        project: what.project.to_owned(),
        release: what.release.to_string(),
        approval: what.approval.to_string(),
        role: what.role.to_string(),
        user: what.user.to_owned(),
        head: head.as_str().to_owned(),
        at: manager.clock().now().to_string(),
        channel: what.channel.to_string(),
        comment: what.comment.to_owned(),
    })
}

/// The statement a rejection of an approval signs (R-2c, R-2d): the fields
/// of [`approval_statement`], the comment being the reason, under the header
/// `shipwarden rejection statement v1` so that neither can stand for the other.
///
/// # Errors
/// The release's trail could not be read.
pub async fn rejection_statement(
    manager: &shipwarden::engine::ReleaseManager,
    what: &Approving<'_>,
) -> Result<shipwarden::Statement, shipwarden::engine::EngineError> {
    let statement = approval_statement(manager, what).await?;
    Ok(shipwarden::Statement { action: shipwarden::IdentityAction::Reject, ..statement })
}

/// The release's chain head now: the hash of its newest event, or the
/// genesis for a release not planned yet.
async fn head_of(
    manager: &shipwarden::engine::ReleaseManager,
    release: &shipwarden::ReleaseId,
) -> Result<shipwarden::audit::ChainHash, shipwarden::engine::EngineError> {
    let history = manager.history(release).await?;
    Ok(history.last().map_or_else(shipwarden::audit::ChainHash::genesis, |e| e.hash.clone()))
}

/// Another action than an approval that `[identity]` judges, for [`action_statement`].
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// The action: a rollback, a window override or an emergency plan.
    pub action: shipwarden::IdentityAction,
    /// The project (`[project] name`).
    pub project: &'a str,
    /// The release (for an emergency plan, the id it will have).
    pub release: &'a shipwarden::ReleaseId,
    /// The role acting (see [`acting_role`]).
    pub role: &'a shipwarden::Role,
    /// Who.
    pub user: &'a str,
    /// The reason given.
    pub reason: &'a str,
}

/// The role `actor` acts in for `action`: the first of the roles the policy
/// names for it that the actor holds, else the actor's first role (`decide`
/// then refuses naming the roles needed). `None` for an approval (its role is
/// the approval's) or an actor with no role.
pub fn acting_role(
    policy: &shipwarden::Policy,
    actor: &shipwarden::Actor,
    action: shipwarden::IdentityAction,
) -> Option<shipwarden::Role> {
    let roles = match action {
        shipwarden::IdentityAction::Rollback => &policy.lifecycle.rollback_roles,
        shipwarden::IdentityAction::OverrideWindow => &policy.calendar.override_roles,
        shipwarden::IdentityAction::EmergencyPlan => &policy.lifecycle.plan_roles,
        _ => return None,
    };
    roles.iter().find(|r| actor.has_role(r)).or_else(|| actor.roles.iter().next()).cloned()
}

/// The statement a rollback, a window override or an emergency plan signs
/// (R-2d): `what`, naming the release's current chain head (the genesis for
/// a release not planned yet) and the manager's clock now, channel `cli`.
///
/// # Errors
/// The release's trail could not be read.
pub async fn action_statement(
    manager: &shipwarden::engine::ReleaseManager,
    what: &Acting<'_>,
) -> Result<shipwarden::Statement, shipwarden::engine::EngineError> {
    let head = head_of(manager, what.release).await?;
    Ok(shipwarden::Statement {
        action: what.action,
        project: what.project.to_owned(),
        release: what.release.to_string(),
        approval: String::new(),
        role: what.role.to_string(),
        user: what.user.to_owned(),
        head: head.as_str().to_owned(),
        at: manager.clock().now().to_string(),
        channel: shipwarden::Channel::Cli.to_string(),
        comment: what.reason.to_owned(),
    })
}

/// Why a signature or a statement is not accepted, or could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The signature is not an armored OpenSSH signature.
    #[error("the signature cannot be read: {0}")]
    Unreadable(String),
    /// The signature does not verify over the statement with its key.
    #[error("the signature does not verify over the statement: {0}")]
    Invalid(String),
    /// The signature's key is not listed for the user.
    #[error("key {fingerprint} is not listed for {user}{}", .owner.as_ref().map(|o| format!(" (it is {o}'s)")).unwrap_or_default())]
    KeyNotListed {
        /// Who claims to act.
        user: String,
        /// The key's fingerprint.
        fingerprint: String,
        /// The user the key is listed for, if any.
        owner: Option<String>,
    },
    /// The statement is about something else than the action being recorded.
    #[error("the statement is about another action: {0}")]
    Mismatch(String),
    /// A public key in the configuration or an allowed_signers file is not valid.
    #[error("{place}: {problem}")]
    Config {
        /// Where (`users.paul.ssh_keys[0]`, `allowed_signers line 3`).
        place: String,
        /// What is wrong.
        problem: String,
    },
    /// A key could not be read or used for signing.
    #[error("cannot sign with {key}: {problem}")]
    Signing {
        /// The key file, or `ssh-agent`.
        key: String,
        /// What went wrong.
        problem: String,
    },
}
