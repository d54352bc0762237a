//! Database connectivity by a test query (R-8a "verify database connectivity
//! with test queries"), for SQLite and PostgreSQL through sqlx.
//!
//! The connection URL may hold a password: it is used to connect and never
//! appears in the evidence, errors or `Debug` output.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use shipwarden::ports::{Measurement, PortError, Probe};
use shipwarden::{EnvName, GateId};

/// Runs a test query and reports the `db_connectivity` gate: 1 answered, 0 not.
#[derive(Clone)]
pub struct DbProbe {
    name: String,
    url: String,
    query: String,
    timeout: Duration,
}

impl std::fmt::Debug for DbProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbProbe").field("name", &self.name).field("query", &self.query).finish_non_exhaustive()
    }
}

impl DbProbe {
    /// A probe named `name` (shown in evidence) that runs `SELECT 1` against `url`
    /// (`sqlite:PATH` or `postgres://…`).
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self { name: name.into(), url: url.into(), query: "SELECT 1".into(), timeout: Duration::from_secs(5) }
    }

    /// The test query.
    pub fn with_query(mut self, query: impl Into<String>) -> Self {
        self.query = query.into();
        self
    }

    async fn run(&self) -> Result<(), String> {
        let redact = |e: sqlx::Error| {
            let text = e.to_string();
            if text.contains(&self.url) { text.replace(&self.url, "<url>") } else { text }
        };
        #[cfg(feature = "sqlite")]
        if let Some(path) = self.url.strip_prefix("sqlite:") {
            use sqlx::Connection as _;
            let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).create_if_missing(false);
            let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await.map_err(redact)?;
            sqlx::query(&self.query).execute(&mut conn).await.map_err(redact)?;
            return Ok(());
        }
        #[cfg(feature = "postgres")]
        if self.url.starts_with("postgres://") || self.url.starts_with("postgresql://") {
            use sqlx::Connection as _;
            let mut conn = sqlx::postgres::PgConnection::connect(&self.url).await.map_err(redact)?;
            sqlx::query(&self.query).execute(&mut conn).await.map_err(redact)?;
            return Ok(());
        }
        Err("unsupported database URL scheme (this build knows sqlite: and postgres://)".into())
    }
}

#[async_trait]
impl Probe for DbProbe {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let started = Instant::now();
        let (value, detail) = match tokio::time::timeout(self.timeout, self.run()).await {
            Ok(Ok(())) => (1.0, format!("`{}` answered in {} ms", self.query, started.elapsed().as_millis())),
            Ok(Err(e)) => (0.0, e),
            Err(_) => (0.0, format!("no answer within {:?}", self.timeout)),
        };
        Ok(vec![Measurement {
            gate: GateId::DbConnectivity,
            value,
            target: None,
            source: format!("db {}: {detail}", self.name),
        }])
    }
}
