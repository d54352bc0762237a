//! SSHSIG signatures over approval statements: made with a key file
//! (in-process) or ssh-agent (`ssh-keygen -Y sign`), checked in-process.

use std::path::Path;
use std::process::Command;

use shipwarden::{Proof, ProofKind, Statement};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

use super::{AllowedSigners, IdentityError};

/// The SSHSIG namespace of shipwarden's statements (`ssh-keygen -Y sign -n shipwarden`).
pub const NAMESPACE: &str = "shipwarden";

/// The `SHA256:…` fingerprint of an OpenSSH public key.
pub fn fingerprint_of(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Signs `statement` with an unencrypted private key file, or, given a public
/// key file (`.pub`), with its private half held by ssh-agent.
pub fn sign_with_key_file(path: &Path, statement: &str) -> Result<String, IdentityError> {
    let key_name = path.display().to_string();
    let failed = |problem: String| IdentityError::Signing { key: key_name.clone(), problem };
    let text = std::fs::read_to_string(path).map_err(|e| failed(e.to_string()))?;
    if let Ok(public) = PublicKey::from_openssh(text.trim()) {
        return sign_with_agent(&public, statement);
    }
    // The key's bytes are never printed: errors name the file and the problem only.
    let key = PrivateKey::from_openssh(text.as_bytes()).map_err(|e| failed(format!("not an OpenSSH key: {e}")))?;
    if key.is_encrypted() {
        return Err(failed(
            "the key is encrypted: add it to ssh-agent (`ssh-add`) and sign with `--sign`, or pass its `.pub` file"
                .into(),
        ));
    }
    let signature = key.sign(NAMESPACE, HashAlg::Sha512, statement.as_bytes()).map_err(|e| failed(e.to_string()))?;
    signature.to_pem(LineEnding::LF).map_err(|e| failed(e.to_string()))
}

/// Signs `statement` with `public`'s private half, held by the ssh-agent at
/// `SSH_AUTH_SOCK`, through `ssh-keygen -Y sign -n shipwarden`.
pub fn sign_with_agent(public: &PublicKey, statement: &str) -> Result<String, IdentityError> {
    let failed = |problem: String| IdentityError::Signing { key: "ssh-agent".into(), problem };
    if std::env::var_os("SSH_AUTH_SOCK").is_none() {
        return Err(failed(
            "SSH_AUTH_SOCK is not set: start ssh-agent and `ssh-add` your key, or pass --key FILE".into(),
        ));
    }
    let dir = tempfile::tempdir().map_err(|e| failed(e.to_string()))?;
    let key_file = dir.path().join("key.pub");
    let message = dir.path().join("statement");
    let openssh = public.to_openssh().map_err(|e| failed(e.to_string()))?;
    std::fs::write(&key_file, format!("{openssh}\n")).map_err(|e| failed(e.to_string()))?;
    std::fs::write(&message, statement).map_err(|e| failed(e.to_string()))?;
    let output = Command::new("ssh-keygen")
        .args(["-q", "-Y", "sign", "-n", NAMESPACE, "-f"])
        .arg(&key_file)
        .arg(&message)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot run ssh-keygen: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failed(format!("ssh-keygen -Y sign failed: {}", stderr.trim())));
    }
    std::fs::read_to_string(dir.path().join("statement.sig")).map_err(|e| failed(e.to_string()))
}

/// Verifies `armored` over `statement`: an SSHSIG in namespace `shipwarden`,
/// made with a key listed for `expected.user` in `signers`, over a statement
/// equal to `expected` in everything but the chain head and the time (the
/// engine checks the head when it records the approval). Gives the verified proof.
pub fn verify_statement(
    statement: &str,
    armored: &str,
    signers: &AllowedSigners,
    expected: &Statement,
) -> Result<Proof, IdentityError> {
    let signature = SshSig::from_pem(armored.trim()).map_err(|e| IdentityError::Unreadable(e.to_string()))?;
    let key = PublicKey::from(signature.public_key().clone());
    let fingerprint = fingerprint_of(&key);
    if !signers.is_listed(&expected.user, &fingerprint) {
        let owner = signers.owner_of(&fingerprint).map(str::to_owned);
        return Err(IdentityError::KeyNotListed { user: expected.user.clone(), fingerprint, owner });
    }
    key.verify(NAMESPACE, statement.as_bytes(), &signature).map_err(|e| IdentityError::Invalid(e.to_string()))?;
    let signed = Statement::parse(statement).map_err(|e| IdentityError::Mismatch(e.to_string()))?;
    let fields = [
        ("project", &signed.project, &expected.project),
        ("release", &signed.release, &expected.release),
        ("approval", &signed.approval, &expected.approval),
        ("role", &signed.role, &expected.role),
        ("user", &signed.user, &expected.user),
        ("channel", &signed.channel, &expected.channel),
        ("comment", &signed.comment, &expected.comment),
    ];
    for (field, got, want) in fields {
        if got != want {
            return Err(IdentityError::Mismatch(format!("its {field} is `{got}`, the approval's is `{want}`")));
        }
    }
    Ok(Proof::SshSignature {
        fingerprint,
        signature: armored.trim().to_owned(),
        statement_digest: Statement::digest_of(statement),
        statement: statement.to_owned(),
        head: signed.head,
    })
}

/// Re-checks a recorded SSH proof for the audit: the signature still verifies
/// over its statement, and whether its key is still listed for `user` (an
/// approval stays valid when a key is removed later; the audit flags it).
pub fn recheck(proof: &Proof, user: &str, signers: &AllowedSigners) -> Option<String> {
    let Proof::SshSignature { fingerprint, signature, statement, .. } = proof else { return None };
    let verified = SshSig::from_pem(signature.trim()).ok().is_some_and(|sig| {
        let key = PublicKey::from(sig.public_key().clone());
        fingerprint_of(&key) == *fingerprint && key.verify(NAMESPACE, statement.as_bytes(), &sig).is_ok()
    });
    if !verified {
        return Some(format!("the recorded signature by {fingerprint} does not verify over its statement"));
    }
    (!signers.is_listed(user, fingerprint))
        .then(|| format!("signed with key {fingerprint}, no longer listed for {user} (valid when recorded)"))
}

/// An approval's SSH signature as checked offline from a recorded approval
/// alone (an evidence bundle, R-9d): no configuration, no users list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSignature {
    /// The key's fingerprint (`SHA256:…`), as recorded and as the signature carries it.
    pub fingerprint: String,
    /// The signer's public key, one OpenSSH line (`ssh-ed25519 AAAA…`), for an `allowed_signers` file.
    pub public_key: String,
}

/// Checks a recorded approval's SSH proof offline (R-2c, R-9d): the
/// signature verifies over its statement in namespace `shipwarden` with the
/// key it carries, that key has the recorded fingerprint, the statement's
/// digest is the recorded one, and the statement names this approval
/// (`release`, approval, role, user, channel, comment). Whether the key was
/// listed for the user is what the chain recorded when it was accepted.
///
/// # Errors
/// What does not hold, in words; [`IdentityError::Mismatch`] for a statement about something else.
pub fn verify_recorded(approval: &shipwarden::Approval, release: &str) -> Result<RecordedSignature, IdentityError> {
    let Some(Proof::SshSignature { fingerprint, signature, statement, statement_digest, .. }) = &approval.proof else {
        return Err(IdentityError::Unreadable("the approval carries no SSH signature".into()));
    };
    let sig = SshSig::from_pem(signature.trim()).map_err(|e| IdentityError::Unreadable(e.to_string()))?;
    let key = PublicKey::from(sig.public_key().clone());
    let carried = fingerprint_of(&key);
    if &carried != fingerprint {
        return Err(IdentityError::Invalid(format!("it is made by key {carried}, the approval records {fingerprint}")));
    }
    key.verify(NAMESPACE, statement.as_bytes(), &sig).map_err(|e| IdentityError::Invalid(e.to_string()))?;
    if &Statement::digest_of(statement) != statement_digest {
        return Err(IdentityError::Mismatch("the statement's digest is not the recorded one".into()));
    }
    let signed = Statement::parse(statement).map_err(|e| IdentityError::Mismatch(e.to_string()))?;
    let fields = [
        ("release", signed.release.as_str(), release.to_owned()),
        ("approval", signed.approval.as_str(), approval.approval.to_string()),
        ("role", signed.role.as_str(), approval.role.to_string()),
        ("user", signed.user.as_str(), approval.user.clone()),
        ("channel", signed.channel.as_str(), approval.channel.to_string()),
        ("comment", signed.comment.as_str(), approval.comment.clone()),
    ];
    for (field, got, want) in fields {
        if got != want {
            return Err(IdentityError::Mismatch(format!("its {field} is `{got}`, the approval's is `{want}`")));
        }
    }
    let public_key = key.to_openssh().map_err(|e| IdentityError::Unreadable(e.to_string()))?;
    Ok(RecordedSignature { fingerprint: carried, public_key })
}

/// The kind of proof an SSH signature gives, for a [`Proof::Rejected`].
pub(super) const KIND: ProofKind = ProofKind::SshSignature;

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(user: &str) -> Statement {
        Statement {
            project: "shop".into(),
            release: "shop-1.2.0".into(),
            approval: "scope".into(),
            role: "product_owner".into(),
            user: user.into(),
            head: "0".repeat(64),
            at: "2026-12-02T10:00:00Z".into(),
            channel: "cli".into(),
            comment: "ok".into(),
        }
    }

    fn key() -> PrivateKey {
        PrivateKey::from(ssh_key::private::Ed25519Keypair::from_seed(&[7; 32]))
    }

    #[test]
    fn a_statement_signed_here_verifies_here() {
        let key = key();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("id");
        key.write_openssh_file(&path, LineEnding::LF).expect("write key");
        let text = statement("paul").text();
        let armored = sign_with_key_file(&path, &text).expect("sign");
        let mut signers = AllowedSigners::new();
        signers.add("paul", &key.public_key().to_openssh().expect("openssh"), "test").expect("key");
        let proof = verify_statement(&text, &armored, &signers, &statement("paul")).expect("verifies");
        assert_eq!(proof.kind(), ProofKind::SshSignature);
        assert!(recheck(&proof, "paul", &signers).is_none());
        assert!(recheck(&proof, "paul", &AllowedSigners::new()).is_some_and(|f| f.contains("no longer listed")));
        let casey = verify_statement(&text, &armored, &signers, &statement("casey")).expect_err("paul's key");
        assert!(casey.to_string().contains("it is paul's"), "{casey}");
        let mut other = statement("paul");
        other.release = "shop-1.3.0".into();
        assert!(matches!(verify_statement(&text, &armored, &signers, &other), Err(IdentityError::Mismatch(_))));
        let forged = text.replace("comment: \"ok\"", "comment: \"ok!\"");
        assert!(matches!(
            verify_statement(&forged, &armored, &signers, &statement("paul")),
            Err(IdentityError::Invalid(_))
        ));
    }
}
