//! The PostgreSQL event store, for teams whose releases are driven from
//! several machines.
//!
//! An append updates its stream's row only where the version is the expected
//! one; a concurrent writer waits on that row's lock and then finds the
//! version moved on, which is reported as [`StoreError::Conflict`].

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::ports::{EventStore, LeaseInfo, ReleaseQuery, ReleaseSummary, StoreError};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder};

use super::{
    EVENT_COLUMNS, Embedded, EventRow, LIST_SELECT, backend, conflict_or, envelopes, insert_events, lease_info, micros,
    push_filters, summary_json, verified,
};

const NAME: &str = "postgres";
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "events", include_str!("migrations/postgres_0001_events.sql")),
    (2, "lease since", include_str!("migrations/postgres_0002_lease_since.sql")),
    (3, "checkpoints", include_str!("migrations/postgres_0003_checkpoints.sql")),
];

/// An event store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Arc<PgPool>,
}

/// How many connections one process keeps to one database, whatever the
/// number of stores open on it.
const MAX_CONNECTIONS: u32 = 10;

/// The pools open in this process: one per runtime and database (issue #21).
/// A server serving five projects from one PostgreSQL opens one pool, not
/// five, so that replicas × projects do not exhaust the server's
/// `max_connections`; a pool closes when the last store using it is dropped.
/// The key holds a hash of the URL (which may carry a password), never the URL.
type PoolKey = (Option<tokio::runtime::Id>, u64);
static POOLS: Mutex<Vec<(PoolKey, Weak<PgPool>)>> = Mutex::new(Vec::new());

fn pool_key(url: &str) -> PoolKey {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    url.hash(&mut hasher);
    (tokio::runtime::Handle::try_current().ok().map(|h| h.id()), hasher.finish())
}

/// The pool of this runtime on `url`, when one is open.
fn open_pool(key: &PoolKey) -> Option<Arc<PgPool>> {
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    pools.retain(|(_, weak)| weak.strong_count() > 0);
    pools.iter().find(|(k, _)| k == key).and_then(|(_, weak)| weak.upgrade()).filter(|p| !p.is_closed())
}

fn err(operation: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| backend(NAME, operation, e)
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    ///
    /// # Notes
    /// The URL may carry a password; it is only handed to the driver, never logged.
    ///
    /// Stores of one process (one runtime) on the same database share one
    /// pool of at most 10 connections.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let key = pool_key(url);
        if let Some(pool) = open_pool(&key) {
            return Ok(Self { pool });
        }
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(err("connect"))?;
        let migrator =
            sqlx::migrate::Migrator::new(Embedded(MIGRATIONS)).await.map_err(|e| err("migrate")(e.into()))?;
        migrator.run(&pool).await.map_err(|e| err("migrate")(e.into()))?;
        let pool = Arc::new(pool);
        POOLS.lock().unwrap_or_else(|e| e.into_inner()).push((key, Arc::downgrade(&pool)));
        Ok(Self { pool })
    }

    /// The connection pool, for tests and tools that read the tables.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn append(
        &self,
        stream: &ReleaseId,
        expected: u64,
        envelopes: &[Envelope],
        summary: &ReleaseSummary,
    ) -> Result<u64, StoreError> {
        let version = expected + envelopes.len() as u64;
        let listing = summary_json(NAME, &summary.listing())?;
        let mut tx = self.pool.begin().await.map_err(err("append"))?;
        let (actual, stored): (Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT (SELECT max(seq) FROM events WHERE stream = $1), (SELECT summary FROM streams WHERE stream = $1)",
        )
        .bind(stream.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(err("append"))?;
        let actual = actual.unwrap_or(0) as u64;
        if actual != expected {
            return Err(StoreError::Conflict { stream: stream.clone(), expected, actual });
        }
        // A concurrent writer that read the same version inserts the same
        // sequence numbers: the primary key lets only one of them commit.
        if !envelopes.is_empty() {
            let mut insert = insert_events::<Postgres>(NAME, stream, envelopes)?;
            insert.build().execute(&mut *tx).await.map_err(|e| conflict_or(stream, expected, e))?;
        }
        if stored.as_deref() != Some(listing.as_str()) {
            sqlx::query(
                "INSERT INTO streams (stream, version, project, stage, planned_at, updated_at, summary) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (stream) DO UPDATE SET version = excluded.version, stage = excluded.stage, \
                 updated_at = excluded.updated_at, summary = excluded.summary",
            )
            .bind(stream.as_str())
            .bind(version as i64)
            .bind(&summary.project)
            .bind(summary.stage.as_str())
            .bind(micros(summary.planned_at))
            .bind(micros(summary.updated_at))
            .bind(&listing)
            .execute(&mut *tx)
            .await
            .map_err(err("append"))?;
            for environment in &summary.environments {
                sqlx::query(
                    "INSERT INTO stream_environments (environment, stream) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(environment.as_str())
                .bind(stream.as_str())
                .execute(&mut *tx)
                .await
                .map_err(err("append"))?;
            }
        }
        tx.commit().await.map_err(|e| conflict_or(stream, expected, e))?;
        Ok(version)
    }

    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, StoreError> {
        verified(stream, self.load_after(stream, 0).await?)
    }

    async fn load_after(&self, stream: &ReleaseId, after: u64) -> Result<Vec<Envelope>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE stream = $1 AND seq > $2 ORDER BY seq");
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream.as_str())
            .bind(after as i64)
            .fetch_all(&*self.pool)
            .await
            .map_err(err("load"))?;
        envelopes(NAME, stream, rows)
    }

    async fn list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, StoreError> {
        let mut q = QueryBuilder::<Postgres>::new(LIST_SELECT);
        push_filters(&mut q, query);
        let rows: Vec<(String, Option<i64>, Option<String>)> =
            q.build_query_as().fetch_all(&*self.pool).await.map_err(err("list"))?;
        rows.into_iter().map(|(summary, events, at)| super::listed(NAME, &summary, events, at)).collect()
    }

    async fn first_events(&self) -> Result<Vec<Envelope>, StoreError> {
        let rows = sqlx::query_as(super::FIRSTS_SELECT).fetch_all(&*self.pool).await.map_err(err("first events"))?;
        super::firsts(NAME, rows)
    }

    async fn heads(&self) -> Result<Vec<shipwarden::ports::StreamHead>, StoreError> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as(super::HEADS_SELECT).fetch_all(&*self.pool).await.map_err(err("heads"))?;
        super::heads(NAME, rows)
    }

    async fn put_checkpoint(&self, checkpoint: &shipwarden::audit::Checkpoint) -> Result<(), StoreError> {
        super::checkpoints::insert_checkpoint::<Postgres>(checkpoint)
            .build()
            .execute(&*self.pool)
            .await
            .map_err(err("put checkpoint"))?;
        Ok(())
    }

    async fn checkpoints(&self, stream: &ReleaseId) -> Result<Vec<shipwarden::audit::Checkpoint>, StoreError> {
        let sql = format!(
            "SELECT {} FROM checkpoints WHERE stream = $1 ORDER BY seq",
            super::checkpoints::CHECKPOINT_COLUMNS
        );
        let rows: Vec<super::checkpoints::CheckpointRow> =
            sqlx::query_as(&sql).bind(stream.as_str()).fetch_all(&*self.pool).await.map_err(err("checkpoints"))?;
        super::checkpoints::checkpoints(NAME, stream, rows)
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration, now: Timestamp) -> Result<bool, StoreError> {
        let until = now.checked_add(ttl).unwrap_or(now);
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at, since) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
             since = CASE WHEN leases.holder = excluded.holder THEN leases.since ELSE excluded.since END \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(micros(until))
        .bind(micros(now))
        .execute(&*self.pool)
        .await
        .map_err(err("lease"))?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&*self.pool)
            .await
            .map_err(err("lease"))?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> Result<Option<LeaseInfo>, StoreError> {
        let row: Option<(String, Option<i64>, i64)> =
            sqlx::query_as("SELECT holder, since, expires_at FROM leases WHERE name = $1")
                .bind(name)
                .fetch_optional(&*self.pool)
                .await
                .map_err(err("lease"))?;
        Ok(row.map(lease_info))
    }
}
