use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::PortError;
use crate::model::{ApprovalId, ReleaseId, ReleaseKind, Role, Stage};

/// Who a notice is for (R-9a).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// All engineering teams (#releases).
    Teams,
    /// Stakeholders of user-facing changes and hotfixes.
    Stakeholders,
    /// Clients, for major releases.
    Clients,
    /// A named group.
    Group(String),
}

impl Audience {
    /// The audience as receivers name it: `teams`, `stakeholders`, `clients`, or the group's name.
    pub fn as_str(&self) -> &str {
        match self {
            Audience::Teams => "teams",
            Audience::Stakeholders => "stakeholders",
            Audience::Clients => "clients",
            Audience::Group(name) => name,
        }
    }
}

/// A message about a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The idempotency key.
    pub key: String,
    /// The release.
    pub release: ReleaseId,
    /// One line.
    pub subject: String,
    /// The text.
    pub body: String,
    /// Who it is for.
    pub audience: Vec<Audience>,
    /// The approval the notice asks its readers for, when it asks for one
    /// (an approval request, reminder or expiry, issue #23): a chat notifier
    /// shows it with Approve / Reject buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask: Option<ApprovalAsk>,
}

/// An approval a notice asks for (R-2b, issue #23): what a person needs to
/// decide without opening anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalAsk {
    /// The approval (`scope`, `qa_signoff`, …).
    pub approval: ApprovalId,
    /// The roles that may give it.
    pub roles: Vec<Role>,
    /// How many distinct people must give it, and how many have.
    pub needed: u32,
    /// How many have given it so far.
    pub have: u32,
    /// The stage the release waits in.
    pub stage: Stage,
    /// When the release entered that stage: an approval link binds it, so a
    /// release that moved on refuses the link (issue #23).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entered: Option<jiff::Timestamp>,
    /// The project.
    pub project: String,
    /// The version.
    pub version: String,
    /// The kind of release.
    pub kind: ReleaseKind,
    /// The scope's ticket keys.
    pub tickets: Vec<String>,
    /// Each gate's latest value against its threshold, one line each.
    pub gates: Vec<String>,
    /// What each way forward from the stage still needs, one line each
    /// (`R-7a: gate coverage measured 72 %, required ≥ 80 %`).
    pub missing: Vec<String>,
}

impl ApprovalAsk {
    /// The ask as plain text, for a mail or a log: the approval, the
    /// release, its scope, its gates and what is still missing.
    pub fn text(&self) -> String {
        let roles = self.roles.iter().map(ToString::to_string).collect::<Vec<_>>().join(" or ");
        let tickets = if self.tickets.is_empty() { "none".to_owned() } else { self.tickets.join(", ") };
        let mut out = format!(
            "Approval: `{}` from {roles} ({} of {} given)\nRelease: {} {} ({}), waiting in {}\nScope: {tickets}\n",
            self.approval, self.have, self.needed, self.project, self.version, self.kind, self.stage
        );
        for (title, lines) in [("Gates", &self.gates), ("Still missing", &self.missing)] {
            if !lines.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for line in lines {
                    out.push_str(&format!("  - {line}\n"));
                }
            }
        }
        out
    }
}

/// Chat, mail or any other channel that tells people (R-9a).
#[async_trait]
pub trait Notifier: Send + Sync {
    /// The channel's name (`slack #releases`, `smtp`).
    fn name(&self) -> &str;

    /// Sends the notice.
    ///
    /// # Notes
    /// After a crash during a send the engine sends again: notices are
    /// delivered at least once, and carry their key so receivers can drop repeats.
    async fn send(&self, notice: &Notice) -> Result<(), PortError>;
}
