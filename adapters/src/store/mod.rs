//! Durable event stores: SQLite (a single file, the embedded default) and
//! PostgreSQL (for releases driven from several machines), both with sqlx.
//!
//! Both keep the same tables: `events` (the sealed envelopes, one row each),
//! `streams` (each release's version and summary), `stream_environments`
//! (for listing by environment) and `leases`. Schema migrations are
//! versioned, embedded in the binary, and run by sqlx's migrator on open.

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::borrow::Cow;

use shipwarden::audit::{ChainHash, Envelope};
use shipwarden::ports::{ErrorKind, PortError, ReleaseSummary, StoreError};
use shipwarden::{ReleaseId, RuleId};

/// Migrations embedded in the binary, for sqlx's migrator.
#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> sqlx::migrate::MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>>
                + Send
                + 's,
        >,
    > {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(version, description, sql)| {
                    sqlx::migrate::Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        sqlx::migrate::MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// A database failure as a port error; connection trouble is retryable.
fn backend(store: &str, operation: &str, e: sqlx::Error) -> StoreError {
    let retryable =
        matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_))
            || e.as_database_error().is_some_and(|d| {
                // SQLite busy/locked, PostgreSQL serialization failure / deadlock.
                matches!(d.code().as_deref(), Some("5" | "6" | "517" | "40001" | "40P01"))
            });
    let kind = if retryable { ErrorKind::Unavailable } else { ErrorKind::Other };
    StoreError::Backend(PortError::new(format!("event-store {store}"), operation, kind, e.to_string()).with_source(e))
}

fn invalid(store: &str, what: impl Into<String>) -> StoreError {
    StoreError::Backend(PortError::new(format!("event-store {store}"), "load", ErrorKind::Invalid, what))
}

/// One stored row of the `events` table.
struct Row {
    seq: i64,
    at: String,
    actor: String,
    rule: String,
    event: String,
    prev_hash: String,
    hash: String,
}

impl Row {
    fn into_envelope(self, store: &str, stream: &ReleaseId) -> Result<Envelope, StoreError> {
        let event = serde_json::from_str(&self.event)
            .map_err(|e| invalid(store, format!("event {} of {stream}: {e}", self.seq)))?;
        let at = self.at.parse().map_err(|e| invalid(store, format!("time of event {} of {stream}: {e}", self.seq)))?;
        let hash = |h: String| serde_json::from_value::<ChainHash>(serde_json::Value::String(h));
        Ok(Envelope {
            stream: stream.to_string(),
            sequence: u64::try_from(self.seq).unwrap_or_default(),
            at,
            actor: self.actor,
            rule: RuleId::new(self.rule),
            event,
            prev_hash: hash(self.prev_hash).map_err(|e| invalid(store, e.to_string()))?,
            hash: hash(self.hash).map_err(|e| invalid(store, e.to_string()))?,
        })
    }
}

fn verified(stream: &ReleaseId, envelopes: Vec<Envelope>) -> Result<Vec<Envelope>, StoreError> {
    shipwarden::audit::verify(&envelopes).map_err(|error| StoreError::Corrupt { stream: stream.clone(), error })?;
    Ok(envelopes)
}

fn micros(at: jiff::Timestamp) -> i64 {
    at.as_microsecond()
}

fn summary_json(store: &str, summary: &ReleaseSummary) -> Result<String, StoreError> {
    serde_json::to_string(summary).map_err(|e| invalid(store, e.to_string()))
}

fn event_json(store: &str, envelope: &Envelope) -> Result<String, StoreError> {
    serde_json::to_string(&envelope.event).map_err(|e| invalid(store, e.to_string()))
}
