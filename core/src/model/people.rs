use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{ApprovalId, ParseError, Proof, Role};

/// Someone (or something) that issues commands: a user name, roles (R-2a),
/// and how it was established (issue #19): who acted is a proof, not a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user name recorded in the audit trail.
    pub user: String,
    /// The roles this actor holds.
    pub roles: BTreeSet<Role>,
    /// How the actor was established; [`Proof::Local`] unless set.
    #[serde(default)]
    pub proof: Proof,
}

impl Actor {
    /// An actor with a user name and roles, established locally
    /// ([`Proof::Local`], no OS user): what a program or a binding gives.
    pub fn new(user: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Self {
        Self { user: user.into(), roles: roles.into_iter().collect(), proof: Proof::default() }
    }

    /// The same actor with a proof of who it is.
    pub fn with_proof(mut self, proof: Proof) -> Self {
        self.proof = proof;
        self
    }

    /// True when the actor holds `role`.
    pub fn has_role(&self, role: &Role) -> bool {
        self.roles.contains(role)
    }
}

/// Where an approval was given (R-2c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// A comment on the release ticket.
    TicketComment,
    /// An email.
    Email,
    /// A chat message (Slack, Teams).
    Chat,
    /// The shipwarden command line.
    Cli,
    /// A program through the library or its bindings.
    Api,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 5] = [Channel::TicketComment, Channel::Email, Channel::Chat, Channel::Cli, Channel::Api];

    /// The name used in files and events.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::TicketComment => "ticket_comment",
            Channel::Email => "email",
            Channel::Chat => "chat",
            Channel::Cli => "cli",
            Channel::Api => "api",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ParseError;
    fn from_str(text: &str) -> Result<Self, ParseError> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| ParseError::new("channel", text, "expected one of ticket_comment, email, chat, cli, api"))
    }
}

/// A recorded approval (R-2c): what was approved, by whom, in which role,
/// when, through which channel, and with which comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// What is approved (`scope`, `qa_signoff`, `acceptance`, `emergency`, …).
    pub approval: ApprovalId,
    /// The role the approver acted in.
    pub role: Role,
    /// The approver's user name.
    pub user: String,
    /// When it was given.
    pub at: Timestamp,
    /// Where it was given.
    pub channel: Channel,
    /// The approver's comment.
    pub comment: String,
    /// How the approver was established (issue #19); none in events recorded
    /// before proofs were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<Proof>,
}

/// Someone to call when a release is in trouble (R-2e).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationContact {
    /// Full name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// The role this person holds.
    pub role: Role,
    /// A phone number, for the 2 AM call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}
