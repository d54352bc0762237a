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
        /// The workspace the request came from (Slack's `team.id`); absent in
        /// events recorded before issue #23.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team_id: Option<String>,
        /// The message acted on, `<channel id>/<message ts>` (Slack's
        /// `container.channel_id` and `container.message_ts`), when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
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

    /// The signed statement, exactly as signed, if this proof has one.
    pub fn statement(&self) -> Option<&str> {
        match self {
            Proof::SshSignature { statement, .. } => Some(statement),
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
            Proof::Chat { platform, user_id, team_id, message } => {
                write!(f, "chat {platform} user {user_id}")?;
                if let Some(team) = team_id {
                    write!(f, " in team {team}")?;
                }
                if let Some(message) = message {
                    write!(f, " on message {message}")?;
                }
                Ok(())
            }
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

/// The actions whose proof the policy's `[identity]` judges, and that a
/// person can sign a [`Statement`] for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IdentityAction {
    /// Giving an approval (R-2b).
    #[default]
    Approve,
    /// Overriding blackout windows and freezes (R-6b).
    OverrideWindow,
    /// Planning an emergency release (R-5a).
    EmergencyPlan,
    /// Beginning a rollback (R-8g).
    Rollback,
    /// Rejecting an approval: declining it with a reason (R-2b, R-2c). The
    /// policy judges its proof by the `approve` list.
    Reject,
}

impl IdentityAction {
    /// Every action.
    pub const ALL: [IdentityAction; 5] = [
        IdentityAction::Approve,
        IdentityAction::OverrideWindow,
        IdentityAction::EmergencyPlan,
        IdentityAction::Rollback,
        IdentityAction::Reject,
    ];

    /// The key in `[identity]`, and the `action:` of a statement.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityAction::Approve => "approve",
            IdentityAction::OverrideWindow => "override_window",
            IdentityAction::EmergencyPlan => "emergency_plan",
            IdentityAction::Rollback => "rollback",
            IdentityAction::Reject => "reject",
        }
    }
}

impl fmt::Display for IdentityAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for IdentityAction {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        IdentityAction::ALL.into_iter().find(|a| a.as_str() == text).ok_or_else(|| {
            ParseError::new(
                "action",
                text,
                "expected one of approve, override_window, emergency_plan, rollback, reject",
            )
        })
    }
}

/// What a person signs to act (R-2b, R-2c, R-2d): for an approval (or a
/// rejection of one), the project, the release, the approval, the role, who,
/// the chain head they saw, when, the channel and the comment; for a rollback, a window override
/// or an emergency plan, the action instead of the approval and the reason as
/// the comment. [`Statement::text`] gives the exact bytes to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// What is signed for: an approval, or another action `[identity]` judges.
    #[serde(default)]
    pub action: IdentityAction,
    /// The project.
    pub project: String,
    /// The release id.
    pub release: String,
    /// What is approved (or rejected); empty for another action.
    #[serde(default)]
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
    /// The approver's comment, or the reason for another action.
    pub comment: String,
}

/// The first line of an approval statement, with the format's version.
const APPROVAL_HEADER: &str = "shipwarden approval statement v1";

/// The first line of a rejection statement, with the format's version.
const REJECTION_HEADER: &str = "shipwarden rejection statement v1";

/// The first line of a statement for another action, with the format's version.
const ACTION_HEADER: &str = "shipwarden action statement v1";

/// The fields of an approval statement in the order they are written.
const APPROVAL_FIELDS: [&str; 9] =
    ["project", "release", "approval", "role", "user", "head", "at", "channel", "comment"];

/// The fields of another action's statement in the order they are written.
const ACTION_FIELDS: [&str; 9] = ["action", "project", "release", "role", "user", "head", "at", "channel", "comment"];

impl Statement {
    /// The bytes to sign: a header line, then `field: value` lines in a fixed
    /// order; the comment is JSON-quoted so a newline in it cannot add a line.
    /// An approval's statement starts `shipwarden approval statement v1`, a
    /// rejection's `shipwarden rejection statement v1` (the same fields),
    /// another action's `shipwarden action statement v1` with an `action:` line
    /// and no `approval:`: one can never be taken for another.
    pub fn text(&self) -> String {
        let comment = serde_json::to_string(&self.comment).unwrap_or_else(|_| "\"\"".to_owned());
        let one_line = |s: &str| s.replace(['\n', '\r'], " ");
        let place = format!("project: {}\nrelease: {}", one_line(&self.project), one_line(&self.release));
        let (header, opening) = match self.action {
            IdentityAction::Approve => (APPROVAL_HEADER, format!("{place}\napproval: {}", one_line(&self.approval))),
            IdentityAction::Reject => (REJECTION_HEADER, format!("{place}\napproval: {}", one_line(&self.approval))),
            other => (ACTION_HEADER, format!("action: {other}\n{place}")),
        };
        format!(
            "{header}\n{opening}\nrole: {}\nuser: {}\nhead: {}\nat: {}\nchannel: {}\ncomment: {comment}\n",
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
        let bad = |why: &str| ParseError::new("signed statement", text, why);
        let mut lines = text.lines();
        let fields = match lines.next() {
            Some(APPROVAL_HEADER | REJECTION_HEADER) => APPROVAL_FIELDS,
            Some(ACTION_HEADER) => ACTION_FIELDS,
            _ => {
                return Err(bad(
                    "expected a first line `shipwarden approval statement v1`, `shipwarden rejection statement v1` \
                     or `shipwarden action statement v1`",
                ));
            }
        };
        let mut values = std::collections::BTreeMap::new();
        for field in fields {
            let line = lines.next().ok_or_else(|| bad("a field is missing"))?;
            let value = line
                .strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(": "))
                .ok_or_else(|| bad(&format!("fields must be {} in this order", fields.join(", "))))?;
            values.insert(field, value.to_owned());
        }
        if lines.next().is_some() {
            return Err(bad("nothing may follow the comment"));
        }
        let mut take = |field: &str| values.remove(field).unwrap_or_default();
        let comment: String =
            serde_json::from_str(&take("comment")).map_err(|_| bad("the comment must be JSON-quoted"))?;
        let action = match fields {
            ACTION_FIELDS => match take("action").parse::<IdentityAction>() {
                Ok(IdentityAction::Approve | IdentityAction::Reject) | Err(_) => {
                    return Err(bad("action must be override_window, emergency_plan or rollback"));
                }
                Ok(action) => action,
            },
            _ if text.starts_with(REJECTION_HEADER) => IdentityAction::Reject,
            _ => IdentityAction::Approve,
        };
        let statement = Statement {
            action,
            project: take("project"),
            release: take("release"),
            approval: take("approval"),
            role: take("role"),
            user: take("user"),
            head: take("head"),
            at: take("at"),
            channel: take("channel"),
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
            action: IdentityAction::Approve,
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
    fn a_chat_proof_recorded_before_issue_23_still_reads_and_a_new_one_shows_its_message() {
        let old: Proof = serde_json::from_str(r#"{"kind":"chat","platform":"slack","user_id":"U1"}"#).expect("old");
        assert_eq!(old, Proof::Chat { platform: "slack".into(), user_id: "U1".into(), team_id: None, message: None });
        assert_eq!(
            serde_json::to_string(&old).ok().as_deref(),
            Some(r#"{"kind":"chat","platform":"slack","user_id":"U1"}"#)
        );
        let new = Proof::Chat {
            platform: "slack".into(),
            user_id: "U1".into(),
            team_id: Some("T1".into()),
            message: Some("C1/1712345678.000100".into()),
        };
        assert_eq!(new.to_string(), "chat slack user U1 in team T1 on message C1/1712345678.000100");
        let back: Proof = serde_json::from_value(serde_json::to_value(&new).expect("json")).expect("reads back");
        assert_eq!(back, new);
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
    fn an_action_statement_reads_back_and_is_never_an_approval_r2d() {
        for action in [IdentityAction::Rollback, IdentityAction::OverrideWindow, IdentityAction::EmergencyPlan] {
            let s = Statement { action, approval: String::new(), ..statement("incident 42") };
            let text = s.text();
            assert!(text.starts_with("shipwarden action statement v1\naction: "), "{text}");
            assert!(!text.contains("approval:"), "{text}");
            assert_eq!(Statement::parse(&text).ok(), Some(s));
        }
        // An approval's text relabelled as an action, or an action named approve, is refused.
        let approval = statement("ok").text();
        assert!(Statement::parse(&approval.replace("approval statement", "action statement")).is_err());
        let forged = Statement { action: IdentityAction::Rollback, approval: String::new(), ..statement("x") }
            .text()
            .replace("action: rollback", "action: approve");
        assert!(Statement::parse(&forged).is_err());
        // The approval field of an action statement is not signed, so it must be empty to read back.
        let with_approval = Statement { action: IdentityAction::Rollback, ..statement("x") };
        assert_ne!(Statement::parse(&with_approval.text()).ok(), Some(with_approval));
    }

    #[test]
    fn a_rejection_statement_is_never_an_approval_r2c() {
        let approval = statement("ok");
        let rejection = Statement { action: IdentityAction::Reject, ..statement("ok") };
        assert!(rejection.text().starts_with("shipwarden rejection statement v1\nproject: "));
        assert_ne!(rejection.text(), approval.text(), "the same fields sign differently");
        assert_eq!(Statement::parse(&rejection.text()).ok(), Some(rejection.clone()));
        assert_eq!(Statement::parse(&approval.text()).map(|s| s.action).ok(), Some(IdentityAction::Approve));
        let forged = Statement { action: IdentityAction::Rollback, approval: String::new(), ..statement("x") }
            .text()
            .replace("action: rollback", "action: reject");
        assert!(Statement::parse(&forged).is_err(), "a rejection is not an action statement");
    }

    #[test]
    fn proof_kinds_round_trip() {
        for kind in ProofKind::ALL {
            assert_eq!(kind.as_str().parse::<ProofKind>().ok(), Some(kind));
        }
        assert!("password".parse::<ProofKind>().is_err());
    }
}
