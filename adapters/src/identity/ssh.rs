//! SSHSIG signatures over signed statements: made with a key file or through
//! ssh-agent's protocol, checked in-process.

use std::path::Path;

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
    let text = crate::files::read_text(path, crate::files::SMALL_LIMIT).map_err(|e| failed(e.to_string()))?;
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
/// `SSH_AUTH_SOCK`: the same SSHSIG `ssh-keygen -Y sign -n shipwarden` makes.
pub fn sign_with_agent(public: &PublicKey, statement: &str) -> Result<String, IdentityError> {
    let failed = |problem: String| IdentityError::Signing { key: "ssh-agent".into(), problem };
    let Some(socket) = std::env::var_os("SSH_AUTH_SOCK") else {
        return Err(failed(
            "SSH_AUTH_SOCK is not set: start ssh-agent and `ssh-add` your key, or pass --key FILE".into(),
        ));
    };
    sign_with_agent_at(Path::new(&socket), public, statement)
}

/// [`sign_with_agent`] with the agent listening at `socket`.
pub fn sign_with_agent_at(socket: &Path, public: &PublicKey, statement: &str) -> Result<String, IdentityError> {
    let failed = |problem: String| IdentityError::Signing { key: "ssh-agent".into(), problem };
    let hash = HashAlg::Sha512;
    let data = SshSig::signed_data(NAMESPACE, hash, statement.as_bytes()).map_err(|e| failed(e.to_string()))?;
    let signature = agent::sign(socket, public.key_data(), &data).map_err(failed)?;
    let sshsig =
        SshSig::new(public.key_data().clone(), NAMESPACE, hash, signature).map_err(|e| failed(e.to_string()))?;
    // The agent is not trusted either: what it gives must verify before it is used.
    public
        .verify(NAMESPACE, statement.as_bytes(), &sshsig)
        .map_err(|e| failed(format!("the agent's signature does not verify: {e}")))?;
    sshsig.to_pem(LineEnding::LF).map_err(|e| failed(e.to_string()))
}

/// The one ssh-agent request signing needs (`SSH_AGENTC_SIGN_REQUEST`,
/// draft-miller-ssh-agent §3.6), over the agent's Unix socket. Written here
/// rather than taken from `ssh-agent-client-rs`, which would bring RSA and
/// three NIST curves into the build through ssh-key's `crypto` feature for
/// two messages; the encoding is `ssh-encoding`'s, as ssh-key's own.
mod agent {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::Path;
    use std::time::Duration;

    use ssh_encoding::{Decode, Encode, Reader};
    use ssh_key::Signature;
    use ssh_key::public::KeyData;

    const SIGN_REQUEST: u8 = 13;
    const SIGN_RESPONSE: u8 = 14;
    const FAILURE: u8 = 5;
    /// Long enough for an agent that asks its user to confirm (`ssh-add -c`).
    const TIMEOUT: Duration = Duration::from_secs(60);
    /// An agent's answer is a signature: a few hundred bytes, never more than this.
    const MAX_ANSWER: u32 = 64 * 1024;

    /// Asks the agent at `socket` to sign `data` with `key`'s private half.
    pub(super) fn sign(socket: &Path, key: &KeyData, data: &[u8]) -> Result<Signature, String> {
        let io = |e: std::io::Error| format!("{}: {e}", socket.display());
        let enc = |e: ssh_encoding::Error| format!("cannot encode the request: {e}");
        let mut body = Vec::new();
        SIGN_REQUEST.encode(&mut body).map_err(enc)?;
        key.encode_prefixed(&mut body).map_err(enc)?;
        data.encode(&mut body).map_err(enc)?;
        0u32.encode(&mut body).map_err(enc)?;
        let mut stream = UnixStream::connect(socket).map_err(io)?;
        stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
        stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
        let length = u32::try_from(body.len()).map_err(|_| "the request is too long".to_owned())?;
        stream.write_all(&length.to_be_bytes()).map_err(io)?;
        stream.write_all(&body).map_err(io)?;
        let mut length = [0u8; 4];
        stream.read_exact(&mut length).map_err(io)?;
        let length = u32::from_be_bytes(length);
        if length == 0 || length > MAX_ANSWER {
            return Err(format!("the agent answered with a message of {length} bytes"));
        }
        let mut answer = vec![0u8; length as usize];
        stream.read_exact(&mut answer).map_err(io)?;
        let bad = |e: ssh_encoding::Error| format!("the agent's answer cannot be read: {e}");
        let mut reader = answer.as_slice();
        match u8::decode(&mut reader).map_err(bad)? {
            SIGN_RESPONSE => {}
            FAILURE => {
                return Err(
                    "the agent refused to sign: it does not hold this key (`ssh-add` it), or its user declined".into(),
                );
            }
            other => return Err(format!("the agent answered message type {other}, not a signature")),
        }
        let signature = reader.read_prefixed(Signature::decode).map_err(|e: ssh_key::Error| e.to_string())?;
        if !reader.is_finished() {
            return Err("the agent's answer has bytes after the signature".into());
        }
        Ok(signature)
    }
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
        ("project", signed.project.as_str(), Some(expected.project.as_str())),
        ("release", &signed.release, Some(&expected.release)),
        ("approval", &signed.approval, Some(&expected.approval)),
        ("role", &signed.role, Some(&expected.role)),
        ("user", &signed.user, Some(&expected.user)),
        ("channel", &signed.channel, Some(&expected.channel)),
        ("comment", &signed.comment, Some(&expected.comment)),
    ];
    about(&signed, expected.action, &fields, what(expected.action))?;
    Ok(Proof::SshSignature {
        fingerprint,
        signature: armored.trim().to_owned(),
        statement_digest: Statement::digest_of(statement),
        statement: statement.to_owned(),
        head: signed.head,
    })
}

/// Whether `signed` is about `action` and each `(field, signed value,
/// expected value)` agrees (`None`: nothing to compare); `whose` names the
/// action in the error (`approval`, `rollback`).
fn about(
    signed: &Statement,
    action: shipwarden::IdentityAction,
    fields: &[(&str, &str, Option<&str>)],
    whose: &str,
) -> Result<(), IdentityError> {
    if signed.action != action {
        return Err(IdentityError::Mismatch(format!("it is signed for {}, not for {action}", signed.action)));
    }
    for (field, got, want) in fields {
        if let Some(want) = want.filter(|want| want != got) {
            return Err(IdentityError::Mismatch(format!("its {field} is `{got}`, the {whose}'s is `{want}`")));
        }
    }
    Ok(())
}

/// An action, in words.
fn what(action: shipwarden::IdentityAction) -> &'static str {
    match action {
        shipwarden::IdentityAction::Approve => "approval",
        shipwarden::IdentityAction::Reject => "rejection",
        shipwarden::IdentityAction::Rollback => "rollback",
        shipwarden::IdentityAction::OverrideWindow => "window override",
        shipwarden::IdentityAction::EmergencyPlan => "emergency plan",
        _ => "action",
    }
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
    let recorded = Recorded {
        action: shipwarden::IdentityAction::Approve,
        release,
        approval: approval.approval.as_str(),
        role: Some(approval.role.as_str()),
        user: &approval.user,
        channel: Some(approval.channel.as_str()),
        comment: &approval.comment,
    };
    verify_recorded_proof(approval.proof.as_ref(), &recorded)
}

/// What a recorded event says of a signed action, for [`verify_recorded_proof`]:
/// the fields its statement must hold (`None`: the event does not record it).
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The action the event records.
    pub action: shipwarden::IdentityAction,
    /// The release.
    pub release: &'a str,
    /// The approval (empty for another action).
    pub approval: &'a str,
    /// The role, when the event records it.
    pub role: Option<&'a str>,
    /// Who acted (the event's user, or its envelope's actor).
    pub user: &'a str,
    /// The channel, when the event records it.
    pub channel: Option<&'a str>,
    /// The comment or reason.
    pub comment: &'a str,
}

/// Checks a recorded SSH proof offline, from what the event holds (R-2d, R-9d):
/// the signature over its statement by the key it names, the statement's
/// digest, and the statement about the recorded action (an approval's
/// statement never passes for a rollback). Whether the key was listed for the
/// user is what the chain recorded when it was accepted.
///
/// # Errors
/// What does not hold, in words; [`IdentityError::Mismatch`] for a statement about something else.
pub fn verify_recorded_proof(
    proof: Option<&Proof>,
    recorded: &Recorded<'_>,
) -> Result<RecordedSignature, IdentityError> {
    let Some(Proof::SshSignature { fingerprint, signature, statement, statement_digest, .. }) = proof else {
        return Err(IdentityError::Unreadable("the event carries no SSH signature".into()));
    };
    let sig = SshSig::from_pem(signature.trim()).map_err(|e| IdentityError::Unreadable(e.to_string()))?;
    let key = PublicKey::from(sig.public_key().clone());
    let carried = fingerprint_of(&key);
    if &carried != fingerprint {
        return Err(IdentityError::Invalid(format!("it is made by key {carried}, the event records {fingerprint}")));
    }
    key.verify(NAMESPACE, statement.as_bytes(), &sig).map_err(|e| IdentityError::Invalid(e.to_string()))?;
    if &Statement::digest_of(statement) != statement_digest {
        return Err(IdentityError::Mismatch("the statement's digest is not the recorded one".into()));
    }
    let signed = Statement::parse(statement).map_err(|e| IdentityError::Mismatch(e.to_string()))?;
    let fields = [
        ("release", signed.release.as_str(), Some(recorded.release)),
        ("approval", &signed.approval, Some(recorded.approval)),
        ("role", &signed.role, recorded.role),
        ("user", &signed.user, Some(recorded.user)),
        ("channel", &signed.channel, recorded.channel),
        ("comment", &signed.comment, Some(recorded.comment)),
    ];
    about(&signed, recorded.action, &fields, what(recorded.action))?;
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
            action: shipwarden::IdentityAction::Approve,
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

    #[test]
    fn a_recorded_action_signature_verifies_offline_only_for_its_action_r2d() {
        let key = key();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("id");
        key.write_openssh_file(&path, LineEnding::LF).expect("write key");
        let rollback = Statement {
            action: shipwarden::IdentityAction::Rollback,
            approval: String::new(),
            role: "cto".into(),
            comment: "errors up".into(),
            ..statement("casey")
        };
        let text = rollback.text();
        let armored = sign_with_key_file(&path, &text).expect("sign");
        let mut signers = AllowedSigners::new();
        signers.add("casey", &key.public_key().to_openssh().expect("openssh"), "test").expect("key");
        let proof = verify_statement(&text, &armored, &signers, &rollback).expect("verifies");
        let recorded = Recorded {
            action: shipwarden::IdentityAction::Rollback,
            release: "shop-1.2.0",
            approval: "",
            role: None,
            user: "casey",
            channel: None,
            comment: "errors up",
        };
        assert!(verify_recorded_proof(Some(&proof), &recorded).is_ok());
        let as_override = Recorded { action: shipwarden::IdentityAction::OverrideWindow, ..recorded };
        let err = verify_recorded_proof(Some(&proof), &as_override).expect_err("another action");
        assert!(err.to_string().contains("signed for rollback"), "{err}");
        let other_reason = Recorded { comment: "calm", ..recorded };
        assert!(verify_recorded_proof(Some(&proof), &other_reason).is_err());
    }
}
