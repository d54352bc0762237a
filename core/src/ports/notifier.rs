use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::PortError;
use crate::model::ReleaseId;

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
