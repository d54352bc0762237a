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
pub use ssh::{NAMESPACE, fingerprint_of, recheck, sign_with_agent, sign_with_key_file, verify_statement};

/// A proof that did not verify, for `decide` to refuse (R-2d).
pub fn rejected(error: &IdentityError) -> shipwarden::Proof {
    shipwarden::Proof::Rejected { presented: ssh::KIND, reason: error.to_string() }
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
