use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Lookup, PortError};
use crate::model::{Plan, TicketKey};

/// A ticket as the ticketing system reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Its key.
    pub key: TicketKey,
    /// Its summary.
    pub summary: String,
    /// Its status (`Open`, `Done`).
    pub status: String,
    /// Its type (`Bug`, `Story`).
    pub kind: String,
    /// Its severity or priority, for bugs (`critical`, `high`).
    pub severity: Option<String>,
}

/// Jira, GitHub Issues, or shipwarden's own tickets (R-4b, R-7b, R-9d).
#[async_trait]
pub trait Ticketing: Send + Sync {
    /// Reads a ticket.
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError>;

    /// Open bugs of these severities among the scope's tickets (R-7b).
    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError>;

    /// Open bugs of these severities that concern the release (R-7b): by
    /// default those among its scope's tickets; trackers with release
    /// versions (Jira's fixVersion) also count the bugs filed against the
    /// release's version.
    async fn open_bugs_for(&self, plan: &Plan, severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        self.open_bugs(&plan.scope, severities).await
    }

    /// Adds a comment.
    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError>;

    /// Moves a ticket to a status (`Done`).
    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError>;

    /// Creates the release ticket for a plan and returns its key.
    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError>;

    /// Attaches a file to a ticket (the evidence bundle, R-9d). Trackers
    /// without attachments record a comment naming the file, its digest and
    /// where it is kept.
    async fn attach(&self, key: &TicketKey, name: &str, bytes: &[u8], kept_at: &str) -> Result<(), PortError> {
        let digest = crate::model::Sha256::of(bytes);
        let text = format!("Attached {name}: sha256:{digest}, {} bytes, kept at {kept_at}", bytes.len());
        self.comment(key, &text).await
    }

    /// How many people approved pull request `pull` (R-4d), where the VCS host tells.
    ///
    /// # Behavior
    /// The default answers [`Lookup::Unsupported`]: the system does not know pull requests.
    async fn reviewers(&self, pull: u64) -> Result<Lookup<u32>, PortError> {
        let _ = pull;
        Ok(Lookup::Unsupported)
    }
}
