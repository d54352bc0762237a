use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::PortError;
use crate::audit::{AuditError, ChainHash, Checkpoint, Envelope};
use crate::calendar::Booking;
use crate::machine::ReleaseState;
use crate::model::{EnvName, ReleaseId, ReleaseKind, Stage, Version};

/// A release as listings show it, kept beside its events by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSummary {
    /// The release.
    pub release: ReleaseId,
    /// Its project.
    pub project: String,
    /// Its version.
    pub version: Version,
    /// Its kind.
    pub kind: ReleaseKind,
    /// Its stage.
    pub stage: Stage,
    /// Environments it was deployed to.
    pub environments: Vec<EnvName>,
    /// Its booked deployments (R-6a), for conflict checks across releases (R-6e).
    pub bookings: Vec<Booking>,
    /// Environments it holds (R-6e): deploying there, or not yet through its verification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<crate::machine::EnvHold>,
    /// When it was planned.
    pub planned_at: Timestamp,
    /// When its last event was recorded.
    pub updated_at: Timestamp,
    /// How many events its stream holds.
    pub events: u64,
}

impl ReleaseSummary {
    /// The summary as stored for listings: without the fields that change
    /// with every event (`events`, `updated_at`), which stores fill in when
    /// listing. A store rewrites its listing row only when this changes.
    pub fn listing(&self) -> ReleaseSummary {
        ReleaseSummary { events: 0, updated_at: self.planned_at, ..self.clone() }
    }

    /// The summary with the environments the state holds under `policy` (R-6e).
    pub fn holding(mut self, state: &ReleaseState, policy: &crate::policy::Policy) -> Self {
        self.holds = state.holds(policy);
        self
    }

    /// The summary of a state, if it is planned (without holds: see [`holding`](Self::holding)).
    pub fn of(state: &ReleaseState, updated_at: Timestamp) -> Option<Self> {
        let plan = state.plan.as_ref()?;
        let environments = state.deployed_to.clone();
        Some(Self {
            release: plan.release.clone(),
            project: plan.project.clone(),
            version: plan.version.clone(),
            kind: plan.kind,
            stage: state.stage.clone()?,
            environments,
            bookings: state.bookings.clone(),
            holds: Vec::new(),
            planned_at: state.path.first().and_then(|s| state.entered_at.get(s)).copied().unwrap_or(updated_at),
            updated_at,
            events: state.version,
        })
    }
}

/// Where a stream's chain ends, as the store holds it: found from the events
/// themselves, never from the listing rows (see [`EventStore::heads`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamHead {
    /// The release stream.
    pub stream: ReleaseId,
    /// The sequence of its newest envelope (its event count).
    pub sequence: u64,
    /// The newest envelope's hash.
    pub hash: ChainHash,
}

/// Which releases to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseQuery {
    /// Only this project.
    pub project: Option<String>,
    /// Only releases in this stage.
    pub stage: Option<Stage>,
    /// Only releases deployed to this environment.
    pub environment: Option<EnvName>,
    /// Only releases planned at or after this instant.
    pub planned_after: Option<Timestamp>,
    /// Only releases planned before this instant.
    pub planned_before: Option<Timestamp>,
    /// At most this many, newest first (none: all).
    pub limit: Option<u32>,
}

impl ReleaseQuery {
    /// True when `summary` matches.
    pub fn matches(&self, summary: &ReleaseSummary) -> bool {
        self.project.as_ref().is_none_or(|p| p == &summary.project)
            && self.stage.as_ref().is_none_or(|s| s == &summary.stage)
            && self.environment.as_ref().is_none_or(|e| summary.environments.contains(e))
            && self.planned_after.is_none_or(|t| summary.planned_at >= t)
            && self.planned_before.is_none_or(|t| summary.planned_at < t)
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another writer appended first: reload and decide again.
    #[error("conflict on release {stream}: expected version {expected}, the store has {actual}")]
    Conflict {
        /// The release.
        stream: ReleaseId,
        /// The version the writer expected.
        expected: u64,
        /// The version the store has.
        actual: u64,
    },
    /// The stored chain does not verify (R-9d).
    #[error("the audit chain of release {stream} does not verify: {error}")]
    Corrupt {
        /// The release.
        stream: ReleaseId,
        /// What is wrong.
        error: AuditError,
    },
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] PortError),
}

impl StoreError {
    /// True when trying again can help.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Conflict { .. } => true,
            StoreError::Corrupt { .. } => false,
            StoreError::Backend(e) => e.retryable,
        }
    }
}

/// Where release streams are kept (R-9d): in memory, SQLite, PostgreSQL.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Appends sealed envelopes to a stream whose current version (event
    /// count) must be `expected_version`, and records its summary; returns
    /// the new version.
    ///
    /// # Behavior
    /// Atomic: all envelopes and the summary, or nothing. A stale
    /// `expected_version` gives [`StoreError::Conflict`].
    async fn append(
        &self,
        stream: &ReleaseId,
        expected_version: u64,
        envelopes: &[Envelope],
        summary: &ReleaseSummary,
    ) -> Result<u64, StoreError>;

    /// Loads a stream in order, verifying its hash chain; empty when unknown.
    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, StoreError>;

    /// The envelopes after sequence `after`, in order, for a reader that
    /// holds the chain up to there.
    ///
    /// # Notes
    /// Not verified here: the caller links them to the envelope it holds
    /// with [`verify_after`](crate::audit::verify_after). The default loads
    /// and verifies the whole stream.
    async fn load_after(&self, stream: &ReleaseId, after: u64) -> Result<Vec<Envelope>, StoreError> {
        let all = self.load(stream).await?;
        Ok(all.into_iter().filter(|e| e.sequence > after).collect())
    }

    /// Lists release summaries, newest planned first.
    async fn list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, StoreError>;

    /// Every stream that holds events, with its newest envelope's sequence
    /// and hash, in no particular order (R-9d).
    ///
    /// # Behavior
    /// Found from the events, so a deleted or edited listing row hides no
    /// release; not verified here (a reader loads and verifies a stream whose
    /// head it does not already hold).
    ///
    /// # Notes
    /// The default finds streams through [`list`](Self::list) and loads each:
    /// slow, and blind to a deleted row. Stores should answer from their events.
    async fn heads(&self) -> Result<Vec<StreamHead>, StoreError> {
        let mut heads = Vec::new();
        for row in self.list(&ReleaseQuery::default()).await? {
            if let Some(last) = self.load(&row.release).await?.pop() {
                heads.push(StreamHead { stream: row.release, sequence: last.sequence, hash: last.hash });
            }
        }
        Ok(heads)
    }

    /// The first event of every stream that has events: the plan, which
    /// names the project inside the chain, so that a listing for one project
    /// reads only that project's chains (R-9d).
    ///
    /// # Notes
    /// The default loads each stream whole: correct, slow. Stores should
    /// answer from their events in one query.
    async fn first_events(&self) -> Result<Vec<Envelope>, StoreError> {
        let mut firsts = Vec::new();
        for head in self.heads().await? {
            if let Some(first) = self.load(&head.stream).await?.into_iter().next() {
                firsts.push(first);
            }
        }
        Ok(firsts)
    }

    /// Takes or renews the lease `name` for `holder` until `now + ttl`; false
    /// when another holder's lease has not expired.
    ///
    /// # Notes
    /// Leases keep two drivers from deploying one environment at once (R-6e)
    /// across processes; a crashed holder's lease expires by itself.
    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration, now: Timestamp) -> Result<bool, StoreError>;

    /// Gives a lease back, if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Records a signed checkpoint of a stream's chain head (R-9d).
    ///
    /// # Behavior
    /// Kept beside the stream's events; a second checkpoint at the same
    /// sequence replaces the first. The default refuses (kind rejected):
    /// a store that cannot keep checkpoints leaves its chains unanchored.
    async fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        Err(StoreError::Backend(PortError::new(
            "event-store",
            "put checkpoint",
            super::ErrorKind::Rejected,
            format!("this store keeps no checkpoints (sequence {} of {})", checkpoint.sequence, checkpoint.stream),
        )))
    }

    /// A stream's checkpoints, by sequence; empty when it has none (the default).
    ///
    /// # Notes
    /// Not verified here: [`verify_anchored`](crate::audit::verify_anchored) checks them against the chain.
    async fn checkpoints(&self, stream: &ReleaseId) -> Result<Vec<Checkpoint>, StoreError> {
        let _ = stream;
        Ok(Vec::new())
    }

    /// Who holds the lease `name`, since when, and until when; `None` when
    /// nobody does or the store cannot say (the default).
    ///
    /// # Notes
    /// For people waiting on another driver; the answer may be stale at once.
    async fn lease(&self, name: &str) -> Result<Option<LeaseInfo>, StoreError> {
        let _ = name;
        Ok(None)
    }
}

/// A lease as the store holds it: see [`EventStore::lease`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseInfo {
    /// The holder (a driver: host, process, and the holding's number).
    pub holder: String,
    /// When this holder took it, if the store knows.
    pub since: Option<Timestamp>,
    /// When it expires unless renewed.
    pub expires_at: Timestamp,
}
