//! The SQLite event store: one file, WAL mode, the embedded default.
//!
//! Writers take the database's write lock at the start of their transaction
//! (`BEGIN IMMEDIATE`), so processes sharing a file queue instead of
//! deadlocking; the stream version check then turns a lost race into
//! [`StoreError::Conflict`].

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::ports::{EventStore, LeaseInfo, ReleaseQuery, ReleaseSummary, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite};

use super::{
    EVENT_COLUMNS, Embedded, EventRow, LIST_SELECT, backend, conflict_or, envelopes, insert_events, lease_info, micros,
    push_filters, summary_json, verified,
};

const NAME: &str = "sqlite";
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "events", include_str!("migrations/sqlite_0001_events.sql")),
    (2, "tickets", include_str!("migrations/sqlite_0002_tickets.sql")),
    (3, "lease since", include_str!("migrations/sqlite_0003_lease_since.sql")),
    (4, "checkpoints", include_str!("migrations/sqlite_0004_checkpoints.sql")),
];

/// How durable each append is (SQLite's `synchronous` pragma in WAL mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// Every committed append survives a power loss (`synchronous = FULL`).
    #[default]
    Full,
    /// Every committed append survives a crash of the process, the last few
    /// may be lost on power loss (`synchronous = NORMAL`).
    Normal,
}

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteConfig {
    /// How durable each append is.
    pub durability: Durability,
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long a writer waits for another process's write lock.
    pub busy_timeout: Duration,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self { durability: Durability::Full, max_connections: 4, busy_timeout: Duration::from_secs(10) }
    }
}

impl SqliteConfig {
    /// The same settings with another durability.
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }
}

/// An event store in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
}

fn err(operation: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| backend(NAME, operation, e)
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, with default settings.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteConfig::default()).await
    }

    /// Opens (creating if needed) the store at `path`, and brings its schema up to date.
    pub async fn open_with(path: impl AsRef<Path>, config: SqliteConfig) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(err("open"))?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match config.durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(config.busy_timeout);
        // Processes opening one new file at once would race to create the
        // schema (sqlx's migration lock does nothing on SQLite): open and
        // migrate under an exclusive lock on a file beside the database.
        let lock_path = PathBuf::from(format!("{}.lock", path.display()));
        let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
            file.lock()?;
            Ok(file)
        })
        .await
        .map_err(|e| err("open")(sqlx::Error::Io(std::io::Error::other(e))))?
        .map_err(|e| err("open")(sqlx::Error::Io(e)))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .connect_with(options)
            .await
            .map_err(err("open"))?;
        let migrator =
            sqlx::migrate::Migrator::new(Embedded(MIGRATIONS)).await.map_err(|e| err("migrate")(e.into()))?;
        migrator.run(&pool).await.map_err(|e| err("migrate")(e.into()))?;
        drop(lock);
        Ok(Self { pool, path })
    }

    /// Opens the existing store at `path` read-only: no file is created or written (no migrations, no
    /// lock file), so it works on a file or folder the user may not write. A database in WAL mode whose
    /// `-shm` file cannot be created is read as immutable (nobody can write it either) when its
    /// write-ahead log is empty; a log holding changes is an error, never a stale read.
    ///
    /// # Errors
    /// When the file cannot be read, or its schema is older than this build needs (then a command that
    /// writes, run once with write access, brings it up to date).
    pub async fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(err("open"))?
            .filename(&path)
            .read_only(true)
            .create_if_missing(false);
        let pool = match Self::read_only_pool(options.clone()).await {
            Ok(pool) => pool,
            Err(first) => {
                // Immutable reads ignore the write-ahead log: only safe when it holds nothing.
                let wal = PathBuf::from(format!("{}-wal", path.display()));
                if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
                    return Err(err("open")(sqlx::Error::Protocol(format!(
                        "{}: cannot read the store read-only ({first}); its log {} holds changes not yet in \
                         the database: run a command that writes once with write access",
                        path.display(),
                        wal.display()
                    ))));
                }
                Self::read_only_pool(options.immutable(true)).await.map_err(err("open"))?
            }
        };
        let applied: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(&pool)
            .await
            .map_err(err("open"))?;
        let needed = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
        if applied.unwrap_or(0) < needed {
            return Err(err("open")(sqlx::Error::Protocol(format!(
                "{}: the store's schema is version {}, this shipwarden needs {needed}; run a command that \
                 writes (e.g. `shipwarden plan`) once with write access to bring it up to date",
                path.display(),
                applied.unwrap_or(0)
            ))));
        }
        Ok(Self { pool, path })
    }

    /// A pool of read-only connections, checked by one query.
    async fn read_only_pool(options: SqliteConnectOptions) -> Result<SqlitePool, sqlx::Error> {
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await?;
        sqlx::query("SELECT 1 FROM sqlite_master LIMIT 1").fetch_optional(&pool).await?;
        Ok(pool)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool, for tests and tools that read the tables.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append(
        &self,
        stream: &ReleaseId,
        expected: u64,
        envelopes: &[Envelope],
        summary: &ReleaseSummary,
    ) -> Result<u64, StoreError> {
        let version = expected + envelopes.len() as u64;
        let listing = summary_json(NAME, &summary.listing())?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(err("append"))?;
        // The write lock is ours until commit: read the version, then write.
        let (actual, stored): (Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT (SELECT max(seq) FROM events WHERE stream = ?), (SELECT summary FROM streams WHERE stream = ?)",
        )
        .bind(stream.as_str())
        .bind(stream.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(err("append"))?;
        let actual = actual.unwrap_or(0) as u64;
        if actual != expected {
            return Err(StoreError::Conflict { stream: stream.clone(), expected, actual });
        }
        if !envelopes.is_empty() {
            let mut insert = insert_events::<Sqlite>(NAME, stream, envelopes)?;
            insert.build().execute(&mut *tx).await.map_err(|e| conflict_or(stream, expected, e))?;
        }
        // The listing row changes with the stage, environments and bookings, not with every event.
        if stored.as_deref() != Some(listing.as_str()) {
            sqlx::query(
                "INSERT INTO streams (stream, version, project, stage, planned_at, updated_at, summary) VALUES (?, ?, ?, ?, ?, ?, ?) \
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
                    "INSERT INTO stream_environments (environment, stream) VALUES (?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(environment.as_str())
                .bind(stream.as_str())
                .execute(&mut *tx)
                .await
                .map_err(err("append"))?;
            }
        }
        tx.commit().await.map_err(err("append"))?;
        Ok(version)
    }

    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, StoreError> {
        verified(stream, self.load_after(stream, 0).await?)
    }

    async fn load_after(&self, stream: &ReleaseId, after: u64) -> Result<Vec<Envelope>, StoreError> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE stream = ? AND seq > ? ORDER BY seq");
        let rows: Vec<EventRow> = sqlx::query_as(&sql)
            .bind(stream.as_str())
            .bind(after as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(err("load"))?;
        envelopes(NAME, stream, rows)
    }

    async fn list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, StoreError> {
        let mut q = QueryBuilder::<Sqlite>::new(LIST_SELECT);
        push_filters(&mut q, query);
        let rows: Vec<(String, Option<i64>, Option<String>)> =
            q.build_query_as().fetch_all(&self.pool).await.map_err(err("list"))?;
        rows.into_iter().map(|(summary, events, at)| super::listed(NAME, &summary, events, at)).collect()
    }

    async fn first_events(&self) -> Result<Vec<Envelope>, StoreError> {
        let rows = sqlx::query_as(super::FIRSTS_SELECT).fetch_all(&self.pool).await.map_err(err("first events"))?;
        super::firsts(NAME, rows)
    }

    async fn heads(&self) -> Result<Vec<shipwarden::ports::StreamHead>, StoreError> {
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as(super::HEADS_SELECT).fetch_all(&self.pool).await.map_err(err("heads"))?;
        super::heads(NAME, rows)
    }

    async fn put_checkpoint(&self, checkpoint: &shipwarden::audit::Checkpoint) -> Result<(), StoreError> {
        super::checkpoints::insert_checkpoint::<Sqlite>(checkpoint)
            .build()
            .execute(&self.pool)
            .await
            .map_err(err("put checkpoint"))?;
        Ok(())
    }

    async fn checkpoints(&self, stream: &ReleaseId) -> Result<Vec<shipwarden::audit::Checkpoint>, StoreError> {
        let sql =
            format!("SELECT {} FROM checkpoints WHERE stream = ? ORDER BY seq", super::checkpoints::CHECKPOINT_COLUMNS);
        let rows: Vec<super::checkpoints::CheckpointRow> =
            sqlx::query_as(&sql).bind(stream.as_str()).fetch_all(&self.pool).await.map_err(err("checkpoints"))?;
        super::checkpoints::checkpoints(NAME, stream, rows)
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration, now: Timestamp) -> Result<bool, StoreError> {
        let until = now.checked_add(ttl).unwrap_or(now);
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at, since) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
             since = CASE WHEN leases.holder = excluded.holder THEN leases.since ELSE excluded.since END \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
        )
        .bind(name)
        .bind(holder)
        .bind(micros(until))
        .bind(micros(now))
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(err("lease"))?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = ? AND holder = ?")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(err("lease"))?;
        Ok(())
    }

    async fn lease(&self, name: &str) -> Result<Option<LeaseInfo>, StoreError> {
        let row: Option<(String, Option<i64>, i64)> =
            sqlx::query_as("SELECT holder, since, expires_at FROM leases WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await
                .map_err(err("lease"))?;
        Ok(row.map(lease_info))
    }
}
