//! The PostgreSQL event store, for teams whose releases are driven from
//! several machines.
//!
//! An append updates its stream's row only where the version is the expected
//! one; a concurrent writer waits on that row's lock and then finds the
//! version moved on, which is reported as [`StoreError::Conflict`].

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::ports::{EventStore, ReleaseQuery, ReleaseSummary, StoreError};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{Postgres, QueryBuilder, Row as _};

use super::{Embedded, Row, backend, event_json, micros, summary_json, verified};

const NAME: &str = "postgres";
const MIGRATIONS: &[(i64, &str, &str)] = &[(1, "events", include_str!("migrations/postgres_0001_events.sql"))];

/// An event store in a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

fn err(operation: &str) -> impl Fn(sqlx::Error) -> StoreError + '_ {
    move |e| backend(NAME, operation, e)
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`) and brings the schema up to date.
    ///
    /// # Notes
    /// The URL may carry a password; it is only handed to the driver, never logged.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(err("connect"))?;
        let migrator =
            sqlx::migrate::Migrator::new(Embedded(MIGRATIONS)).await.map_err(|e| err("migrate")(e.into()))?;
        migrator.run(&pool).await.map_err(|e| err("migrate")(e.into()))?;
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
        let (expected_i, version_i) = (expected as i64, version as i64);
        let summary_text = summary_json(NAME, summary)?;
        let mut tx = self.pool.begin().await.map_err(err("append"))?;
        let updated = if expected == 0 {
            sqlx::query(
                "INSERT INTO streams (stream, version, project, stage, planned_at, updated_at, summary) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (stream) DO NOTHING",
            )
            .bind(stream.as_str())
            .bind(version_i)
            .bind(&summary.project)
            .bind(summary.stage.as_str())
            .bind(micros(summary.planned_at))
            .bind(micros(summary.updated_at))
            .bind(&summary_text)
            .execute(&mut *tx)
            .await
        } else {
            sqlx::query("UPDATE streams SET version = $1, stage = $2, updated_at = $3, summary = $4 WHERE stream = $5 AND version = $6")
                .bind(version_i)
                .bind(summary.stage.as_str())
                .bind(micros(summary.updated_at))
                .bind(&summary_text)
                .bind(stream.as_str())
                .bind(expected_i)
                .execute(&mut *tx)
                .await
        }
        .map_err(err("append"))?
        .rows_affected();
        if updated != 1 {
            let actual: Option<i64> = sqlx::query_scalar("SELECT version FROM streams WHERE stream = $1")
                .bind(stream.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(err("append"))?;
            return Err(StoreError::Conflict { stream: stream.clone(), expected, actual: actual.unwrap_or(0) as u64 });
        }
        if !envelopes.is_empty() {
            let mut insert = QueryBuilder::<Postgres>::new(
                "INSERT INTO events (stream, seq, at, actor, rule, kind, event, prev_hash, hash) ",
            );
            let mut rows = Vec::with_capacity(envelopes.len());
            for e in envelopes {
                rows.push((e, event_json(NAME, e)?));
            }
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
            insert.build().execute(&mut *tx).await.map_err(err("append"))?;
        }
        for environment in &summary.environments {
            sqlx::query("INSERT INTO stream_environments (environment, stream) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(environment.as_str())
                .bind(stream.as_str())
                .execute(&mut *tx)
                .await
                .map_err(err("append"))?;
        }
        tx.commit().await.map_err(err("append"))?;
        Ok(version)
    }

    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, rule, event, prev_hash, hash FROM events WHERE stream = $1 ORDER BY seq",
        )
        .bind(stream.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(err("load"))?;
        let mut envelopes = Vec::with_capacity(rows.len());
        for r in rows {
            let row = Row {
                seq: r.try_get(0).map_err(err("load"))?,
                at: r.try_get(1).map_err(err("load"))?,
                actor: r.try_get(2).map_err(err("load"))?,
                rule: r.try_get(3).map_err(err("load"))?,
                event: r.try_get(4).map_err(err("load"))?,
                prev_hash: r.try_get(5).map_err(err("load"))?,
                hash: r.try_get(6).map_err(err("load"))?,
            };
            envelopes.push(row.into_envelope(NAME, stream)?);
        }
        verified(stream, envelopes)
    }

    async fn list(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseSummary>, StoreError> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT summary FROM streams s WHERE 1 = 1");
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
        let texts: Vec<String> = q.build_query_scalar().fetch_all(&self.pool).await.map_err(err("list"))?;
        texts.iter().map(|t| serde_json::from_str(t).map_err(|e| super::invalid(NAME, e.to_string()))).collect()
    }

    async fn try_lease(&self, name: &str, holder: &str, ttl: Duration, now: Timestamp) -> Result<bool, StoreError> {
        let until = now.checked_add(ttl).unwrap_or(now);
        let taken = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(micros(until))
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(err("lease"))?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(err("lease"))?;
        Ok(())
    }
}
