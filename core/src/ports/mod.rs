//! The pluggable ports: every outside system shipwarden talks to, each an
//! object-safe async trait used as `Arc<dyn Port>`. Only the engine calls
//! them. Real adapters live in the `shipwarden-adapters` crate; in-memory
//! ones for tests and embedding live in [`memory`].
//!
//! # Idempotency
//! Every operation that changes something carries an idempotency key. After a
//! crash, the engine finds steps whose start is recorded but whose outcome is
//! not, and asks the port about the key (`status`, `find`, `exists`) instead
//! of calling again. A port that cannot answer says [`Lookup::Unsupported`];
//! the engine then repeats the call only for operations that are idempotent
//! by nature (publishing content-addressed artifacts, tagging), and sends
//! notifications at least once.
//!
//! Keys are unique across releases: the release id, then the step's key and
//! attempt (`shop-2.0.0:deploy:prod:web-1#1`, `shop-2.0.0:backup:prod#1/2`),
//! so a port that outlives a release (a host's markers, a backup folder, a
//! mail system dropping repeats) never takes one release's work for another's.

mod artifacts;
mod backup;
mod builder;
mod clock;
mod dependencies;
mod deploy;
mod error;
mod logs;
pub mod memory;
mod migrator;
mod notes;
mod notifier;
mod probe;
mod settings;
mod signer;
mod store;
mod ticketing;
mod vcs;

pub use artifacts::{ArtifactMeta, ArtifactStore};
pub use backup::{Backup, BackupRef};
pub use builder::{BuildRequest, Builder, BuiltArtifact};
pub use clock::{Clock, ManualClock, ShiftedClock, SystemClock};
pub use dependencies::DependencyProbe;
pub(crate) use deploy::capped;
pub use deploy::{DeployRequest, DeployTarget, LogLine, LogSink, LogStream, RollbackRequest};
pub use error::{ErrorKind, PortError};
pub use logs::LogArchive;
pub use migrator::{MigrationScript, MigrationSet, Migrator};
pub use notes::NotesPublisher;
pub use notifier::{ApprovalAsk, Audience, Notice, Notifier};
pub use probe::{Measurement, Probe};
pub use settings::SettingsSource;
pub use signer::Signer;
pub use store::{EventStore, LeaseInfo, ReleaseQuery, ReleaseSummary, StoreError, StreamHead};
pub use ticketing::{Ticket, Ticketing};
pub use vcs::{Commit, Tag, Vcs};

/// What a port knows about an operation's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// The operation happened; here is its result.
    Done(T),
    /// The port never saw the key: the operation did not happen.
    NotFound,
    /// The port cannot tell.
    Unsupported,
}
