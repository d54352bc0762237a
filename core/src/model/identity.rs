//! How an actor was established (issue #19, R-2b, R-2d): who acted is a
//! proof, not a name. The core judges the *kind* of proof against the
//! policy's `[identity]`; checking a signature or a token is the adapters'
//! work, done before `decide`, which only ever sees proofs already verified.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ParseError;

/// How an actor was established. Built by whoever verified it: the CLI for
/// [`Proof::Local`], the signature check of the adapters for
/// [`Proof::SshSignature`], an embedding platform (a server) for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Proof {
    /// Nothing beyond a name: the OS user running the command line, or a
    /// program through the library (`os_user` unknown). Trusted only where
    /// the policy says `trust = "local"`.
    Local {
        /// The operating-system user that ran the command, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        os_user: Option<String>,
    },
    /// An OpenSSH signature (SSHSIG, namespace `shipwarden`) over a
    /// [`Statement`], checked against a key listed for the user.
    SshSignature {
        /// The key's SHA-256 fingerprint (`SHA256:…`).
        fingerprint: String,
        /// The armored signature (`-----BEGIN SSH SIGNATURE-----`).
        signature: String,
        /// The signed statement, exactly as signed.
        statement: String,
        /// SHA-256 of the statement, hex: two approvals never share one.
        statement_digest: String,
        /// The chain head the statement names: it must be the release's head
        /// when the approval is recorded, so a statement cannot be replayed.
        head: String,
    },
    /// An API token the embedding platform verified (the coming server).
    Token {
        /// The token's id (never the token itself).
        id: String,
    },
    /// An OIDC identity token the embedding platform verified.
    Oidc {
        /// The issuer (`iss`).
        issuer: String,
        /// The subject (`sub`).
        subject: String,
    },
    /// A chat action the embedding platform verified (a signed Slack request).
    Chat {
        /// The chat platform (`slack`, `teams`).
        platform: String,
        /// The user's id there.
        user_id: String,
    },
    /// A proof was presented and did not verify (a bad signature, a key not
    /// listed for the user, a statement about another release). `decide`
    /// refuses every action that brings one, whatever the trust (R-2d); it is
    /// never recorded.
    Rejected {
        /// The kind of proof presented.
        presented: ProofKind,
        /// Why it did not verify.
        reason: String,
    },
}

impl Default for Proof {
    /// A local proof with no OS user: what [`Actor::new`](super::Actor::new) gives.
    fn default() -> Self {
        Proof::Local { os_user: None }
    }
}

impl Proof {
    /// The kind of this proof.
    pub fn kind(&self) -> ProofKind {
        match self {
            Proof::Local { .. } => ProofKind::Local,
            Proof::SshSignature { .. } => ProofKind::SshSignature,
            Proof::Token { .. } => ProofKind::Token,
            Proof::Oidc { .. } => ProofKind::Oidc,
            Proof::Chat { .. } => ProofKind::Chat,
            Proof::Rejected { presented, .. } => *presented,
        }
    }

    /// The chain head a signed statement names, if this proof has one.
    pub fn seen_head(&self) -> Option<&str> {
        match self {
            Proof::SshSignature { head, .. } => Some(head),
            _ => None,
        }
    }

    /// The digest of a signed statement, if this proof has one.
    pub fn statement_digest(&self) -> Option<&str> {
        match self {
            Proof::SshSignature { statement_digest, .. } => Some(statement_digest),
            _ => None,
        }
    }
}

impl fmt::Display for Proof {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proof::Local { os_user: Some(u) } => write!(f, "local (OS user {u})"),
            Proof::Local { os_user: None } => f.write_str("local"),
            Proof::SshSignature { fingerprint, .. } => write!(f, "ssh signature by {fingerprint}"),
            Proof::Token { id } => write!(f, "token {id}"),
            Proof::Oidc { issuer, subject } => write!(f, "oidc {subject} from {issuer}"),
            Proof::Chat { platform, user_id } => write!(f, "chat {platform} user {user_id}"),
            Proof::Rejected { presented, reason } => write!(f, "{presented} that did not verify: {reason}"),
        }
    }
}

/// The kinds of [`Proof`], as the policy's `[identity]` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProofKind {
    /// [`Proof::Local`].
    Local,
    /// [`Proof::SshSignature`].
    SshSignature,
    /// [`Proof::Token`].
    Token,
    /// [`Proof::Oidc`].
    Oidc,
    /// [`Proof::Chat`].
    Chat,
}

impl ProofKind {
    /// Every kind.
    pub const ALL: [ProofKind; 5] =
        [ProofKind::Local, ProofKind::SshSignature, ProofKind::Token, ProofKind::Oidc, ProofKind::Chat];

    /// The name used in files and events.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofKind::Local => "local",
            ProofKind::SshSignature => "ssh_signature",
            ProofKind::Token => "token",
            ProofKind::Oidc => "oidc",
            ProofKind::Chat => "chat",
        }
    }
}

impl fmt::Display for ProofKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProofKind {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        ProofKind::ALL.into_iter().find(|k| k.as_str() == text).ok_or_else(|| {
            ParseError::new("proof kind", text, "expected one of local, ssh_signature, token, oidc, chat")
        })
    }
}

/// What a person signs to approve (R-2b, R-2c): the project, the release,
/// the approval, the role, who, the chain head they saw, when, the channel
/// and the comment. [`Statement::text`] gives the exact bytes to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// The project.
    pub project: String,
    /// The release id.
    pub release: String,
    /// What is approved.
    pub approval: String,
    /// The role the approver acts in.
    pub role: String,
    /// The approver's user name.
    pub user: String,
    /// The release's chain head the approver saw (64 hex digits).
    pub head: String,
    /// When it was made (RFC 3339).
    pub at: String,
    /// Where the approval was given.
    pub channel: String,
    /// The approver's comment.
    pub comment: String,
}

/// The first line of every statement, with the format's version.
const STATEMENT_HEADER: &str = "shipwarden approval statement v1";

/// The fields of a statement in the order they are written.
const STATEMENT_FIELDS: [&str; 9] =
    ["project", "release", "approval", "role", "user", "head", "at", "channel", "comment"];

impl Statement {
    /// The bytes to sign: a header line, then `field: value` lines in a fixed
    /// order; the comment is JSON-quoted so a newline in it cannot add a line.
    pub fn text(&self) -> String {
        let comment = serde_json::to_string(&self.comment).unwrap_or_else(|_| "\"\"".to_owned());
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        format!(
            "{STATEMENT_HEADER}\nproject: {}\nrelease: {}\napproval: {}\nrole: {}\nuser: {}\nhead: {}\nat: {}\nchannel: {}\ncomment: {comment}\n",
            one_line(&self.project),
            one_line(&self.release),
            one_line(&self.approval),
            one_line(&self.role),
            one_line(&self.user),
            one_line(&self.head),
            one_line(&self.at),
            one_line(&self.channel),
        )
    }

    /// SHA-256 of [`Statement::text`], hex.
    pub fn digest_of(text: &str) -> String {
        format!("{:x}", Sha256::digest(text.as_bytes()))
    }

    /// Reads a statement written by [`Statement::text`]; refuses anything else,
    /// so that what was signed is exactly what is recorded.
    pub fn parse(text: &str) -> Result<Statement, ParseError> {
        let bad = |why: &str| ParseError::new("approval statement", text, why);
        let mut lines = text.lines();
        if lines.next() != Some(STATEMENT_HEADER) {
            return Err(bad("expected a first line `shipwarden approval statement v1`"));
        }
        let mut values: Vec<String> = Vec::with_capacity(STATEMENT_FIELDS.len());
        for field in STATEMENT_FIELDS {
            let line = lines.next().ok_or_else(|| bad("a field is missing"))?;
            let value = line.strip_prefix(field).and_then(|rest| rest.strip_prefix(": ")).ok_or_else(|| {
                bad("fields must be project, release, approval, role, user, head, at, channel, comment")
            })?;
            values.push(value.to_owned());
        }
        if lines.next().is_some() {
            return Err(bad("nothing may follow the comment"));
        }
        let comment: String = serde_json::from_str(&values[8]).map_err(|_| bad("the comment must be JSON-quoted"))?;
        let statement = Statement {
            project: values[0].clone(),
            release: values[1].clone(),
            approval: values[2].clone(),
            role: values[3].clone(),
            user: values[4].clone(),
            head: values[5].clone(),
            at: values[6].clone(),
            channel: values[7].clone(),
            comment,
        };
        if statement.text() != text {
            return Err(bad("not in the canonical form (one trailing newline, no extra spaces)"));
        }
        Ok(statement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(comment: &str) -> Statement {
        Statement {
            project: "shop".into(),
            release: "shop-1.2.0".into(),
            approval: "scope".into(),
            role: "product_owner".into(),
            user: "paul".into(),
            head: "0".repeat(64),
            at: "2026-12-02T10:00:00Z".into(),
            channel: "cli".into(),
            comment: comment.into(),
        }
    }

    #[test]
    fn a_statement_reads_back_exactly() {
        for comment in ["", "ok", "two\nlines: role: cto", "quote \" and \\"] {
            let s = statement(comment);
            assert_eq!(Statement::parse(&s.text()).ok(), Some(s));
        }
    }

    #[test]
    fn a_statement_with_an_extra_line_is_refused() {
        let text = format!("{}role: cto\n", statement("ok").text());
        assert!(Statement::parse(&text).is_err());
        assert!(Statement::parse(statement("ok").text().trim_end()).is_err());
        assert!(Statement::parse(&statement("ok").text().replace("role: ", "role=")).is_err());
    }

    #[test]
    fn proof_kinds_round_trip() {
        for kind in ProofKind::ALL {
            assert_eq!(kind.as_str().parse::<ProofKind>().ok(), Some(kind));
        }
        assert!("password".parse::<ProofKind>().is_err());
    }
}
