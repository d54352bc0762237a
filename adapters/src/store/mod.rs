//! Durable event stores: SQLite (a single file, the embedded default) and
//! PostgreSQL (for releases driven from several machines), both with sqlx.
//!
//! Both keep the same tables: `events` (the sealed envelopes, one row each),
//! `streams` (each release's version and summary), `stream_environments`
//! (for listing by environment) and `leases`. Schema migrations are
//! versioned, embedded in the binary, and run by sqlx's migrator on open.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod checkpoints;
#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use std::borrow::Cow;

use shipwarden::ReleaseId;
use shipwarden::audit::{ChainHash, Envelope};
use shipwarden::ports::{ErrorKind, PortError, ReleaseQuery, ReleaseSummary, StoreError};

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

/// One stored row of the `events` table: seq, at, actor, rule, event, prev_hash, hash.
pub type EventRow = (i64, String, String, String, String, String, String);

/// The columns of [`EventRow`], in order.
const EVENT_COLUMNS: &str = "seq, at, actor, rule, event, prev_hash, hash";

/// Rows of the `events` table as envelopes, in order.
fn envelopes(store: &str, stream: &ReleaseId, rows: Vec<EventRow>) -> Result<Vec<Envelope>, StoreError> {
    rows.into_iter()
        .map(|(seq, at, actor, rule, event, prev_hash, hash)| {
            Row { seq, at, actor, rule, event, prev_hash, hash }.into_envelope(store, stream)
        })
        .collect()
}

/// The insert of `envelopes` into the `events` table.
fn insert_events<'a, DB: sqlx::Database>(
    store: &str,
    stream: &'a ReleaseId,
    envelopes: &'a [Envelope],
) -> Result<sqlx::QueryBuilder<'a, DB>, StoreError>
where
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut rows = Vec::with_capacity(envelopes.len());
    for e in envelopes {
        rows.push((e, event_json(store, e)?));
    }
    let mut insert =
        sqlx::QueryBuilder::new("INSERT INTO events (stream, seq, at, actor, rule, kind, event, prev_hash, hash) ");
    insert.push_values(rows, |mut b, (e, json)| {
        b.push_bind(stream.as_str())
            .push_bind(e.sequence as i64)
            .push_bind(e.at.to_string())
            .push_bind(e.actor.clone())
            .push_bind(e.rule.to_string())
            .push_bind(e.event.name())
            .push_bind(json)
            .push_bind(e.prev_hash.to_string())
            .push_bind(e.hash.to_string());
    });
    Ok(insert)
}

/// Adds a listing query's filters and order to `q`, whose text so far ends with a `WHERE` clause.
fn push_filters<'a, DB: sqlx::Database>(q: &mut sqlx::QueryBuilder<'a, DB>, query: &ReleaseQuery)
where
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(project) = &query.project {
        q.push(" AND s.project = ").push_bind(project.clone());
    }
    if let Some(stage) = &query.stage {
        q.push(" AND s.stage = ").push_bind(stage.to_string());
    }
    if let Some(after) = query.planned_after {
        q.push(" AND s.planned_at >= ").push_bind(micros(after));
    }
    if let Some(before) = query.planned_before {
        q.push(" AND s.planned_at < ").push_bind(micros(before));
    }
    if let Some(environment) = &query.environment {
        q.push(" AND EXISTS (SELECT 1 FROM stream_environments e WHERE e.stream = s.stream AND e.environment = ")
            .push_bind(environment.to_string())
            .push(")");
    }
    q.push(" ORDER BY s.planned_at DESC, s.stream");
    if let Some(limit) = query.limit {
        q.push(" LIMIT ").push_bind(i64::from(limit));
    }
}

/// The start of a listing query: each summary with its event count and last event time.
const LIST_SELECT: &str = "SELECT s.summary, (SELECT max(seq) FROM events e WHERE e.stream = s.stream), \
     (SELECT at FROM events e WHERE e.stream = s.stream ORDER BY seq DESC LIMIT 1) FROM streams s WHERE 1 = 1";

/// Every stream's newest envelope (sequence and hash), from the `events` table alone.
const HEADS_SELECT: &str = "SELECT e.stream, e.seq, e.hash FROM events e \
     JOIN (SELECT stream, max(seq) AS seq FROM events GROUP BY stream) m ON e.stream = m.stream AND e.seq = m.seq";

/// The first event of every stream (see `EventStore::first_events`).
const FIRSTS_SELECT: &str = "SELECT stream, seq, at, actor, rule, event, prev_hash, hash FROM events WHERE seq = 1";

/// [`FIRSTS_SELECT`]'s rows as envelopes.
fn firsts(store: &str, rows: Vec<FirstRow>) -> Result<Vec<Envelope>, StoreError> {
    rows.into_iter()
        .map(|(stream, seq, at, actor, rule, event, prev_hash, hash)| {
            let id: ReleaseId = stream.parse().map_err(|e| invalid(store, format!("stream {stream}: {e}")))?;
            Row { seq, at, actor, rule, event, prev_hash, hash }.into_envelope(store, &id)
        })
        .collect()
}

/// A row of [`FIRSTS_SELECT`]: the stream, then an [`EventRow`].
type FirstRow = (String, i64, String, String, String, String, String, String);

/// [`HEADS_SELECT`]'s rows as stream heads.
fn heads(store: &str, rows: Vec<(String, i64, String)>) -> Result<Vec<shipwarden::ports::StreamHead>, StoreError> {
    rows.into_iter()
        .map(|(stream, seq, hash)| {
            Ok(shipwarden::ports::StreamHead {
                stream: stream.parse().map_err(|e| invalid(store, format!("stream {stream}: {e}")))?,
                sequence: u64::try_from(seq).map_err(|e| invalid(store, format!("sequence of {stream}: {e}")))?,
                hash: hash.parse().map_err(|e| invalid(store, format!("head of {stream}: {e}")))?,
            })
        })
        .collect()
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
            rule: self.rule.parse().map_err(|e: shipwarden::UnknownRule| {
                invalid(store, format!("rule of event {} of {stream}: {e}", self.seq))
            })?,
            event,
            prev_hash: hash(self.prev_hash).map_err(|e| invalid(store, e.to_string()))?,
            hash: hash(self.hash).map_err(|e| invalid(store, e.to_string()))?,
        })
    }
}

/// Decodes a stream's stored `events` rows, in order, as both stores do when they load
/// it, and verifies the hash chain: what a store returns for rows someone edited in the
/// database. Public so the fuzz targets (#18) reach exactly the stores' code.
///
/// # Errors
/// [`StoreError::Backend`] (kind invalid) for a row that does not decode,
/// [`StoreError::Corrupt`] for a chain that does not verify.
pub fn decode_events(store: &str, stream: &ReleaseId, rows: Vec<EventRow>) -> Result<Vec<Envelope>, StoreError> {
    verified(stream, envelopes(store, stream, rows)?)
}

fn verified(stream: &ReleaseId, envelopes: Vec<Envelope>) -> Result<Vec<Envelope>, StoreError> {
    shipwarden::audit::verify(&envelopes).map_err(|error| StoreError::Corrupt { stream: stream.clone(), error })?;
    Ok(envelopes)
}

fn micros(at: jiff::Timestamp) -> i64 {
    at.as_microsecond()
}

/// A `leases` row (`holder`, `since`, `expires_at` in microseconds) as a [`LeaseInfo`].
fn lease_info((holder, since, expires_at): (String, Option<i64>, i64)) -> shipwarden::ports::LeaseInfo {
    let at = |m: i64| jiff::Timestamp::from_microsecond(m).ok();
    shipwarden::ports::LeaseInfo {
        holder,
        since: since.and_then(at),
        expires_at: at(expires_at).unwrap_or(jiff::Timestamp::MAX),
    }
}

fn summary_json(store: &str, summary: &ReleaseSummary) -> Result<String, StoreError> {
    serde_json::to_string(summary).map_err(|e| invalid(store, e.to_string()))
}

/// A summary read back for a listing, with the fields that change with
/// every event filled in from the events table.
fn listed(
    store: &str,
    summary: &str,
    events: Option<i64>,
    last_at: Option<String>,
) -> Result<ReleaseSummary, StoreError> {
    let mut summary: ReleaseSummary = serde_json::from_str(summary).map_err(|e| invalid(store, e.to_string()))?;
    summary.events = events.unwrap_or(0) as u64;
    if let Some(at) = last_at.and_then(|t| t.parse().ok()) {
        summary.updated_at = at;
    }
    Ok(summary)
}

/// A failed insert of events: a duplicate key means another writer won.
fn conflict_or(stream: &ReleaseId, expected: u64, e: sqlx::Error) -> StoreError {
    if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
        return StoreError::Conflict { stream: stream.clone(), expected, actual: expected + 1 };
    }
    backend("events", "append", e)
}

fn event_json(store: &str, envelope: &Envelope) -> Result<String, StoreError> {
    serde_json::to_string(&envelope.event).map_err(|e| invalid(store, e.to_string()))
}
