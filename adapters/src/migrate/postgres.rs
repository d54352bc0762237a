//! The built-in migration runner for PostgreSQL: `<id>.up.sql` and
//! `<id>.down.sql` files, each run in its own transaction (sqlx), recorded
//! in a table with the digest of each script.
//!
//! Applying skips migrations recorded with the same digest and refuses one
//! recorded with another (a script edited after it ran); reverting runs the
//! rollback scripts of the applied migrations, newest first. An advisory
//! lock keeps two runners off one database. Statements that cannot run in a
//! transaction (`CREATE INDEX CONCURRENTLY`) need the command migrator.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use shipwarden::EnvName;
use shipwarden::ports::{ErrorKind, LogSink, LogStream, MigrationSet, Migrator, PortError};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor, Row};

use super::{Script, check_same, read_sql_dir, set_of};

/// Runs a release's SQL migrations on one PostgreSQL database.
pub struct PgMigrator {
    name: String,
    url: String,
    password: Option<SecretString>,
    dir: PathBuf,
    table: String,
}

impl std::fmt::Debug for PgMigrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgMigrator")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("dir", &self.dir)
            .field("table", &self.table)
            .finish()
    }
}

fn sql_error(port: &str, operation: &str, context: &str, e: sqlx::Error) -> PortError {
    // A statement the database refused will be refused again; a lost connection may not be.
    let (kind, retryable) = match &e {
        sqlx::Error::Database(_) | sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            (ErrorKind::Rejected, false)
        }
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Protocol(_) => (ErrorKind::Unavailable, true),
        _ => (ErrorKind::Other, false),
    };
    let mut err = PortError::new(port, operation, kind, format!("{context}: {e}"));
    err.retryable = retryable;
    err.with_source(e)
}

impl PgMigrator {
    /// Migrations from `dir` for the database at `url`
    /// (`postgres://user@host:port/db`, without a password: give it as `password`).
    pub fn new(url: &str, password: Option<SecretString>, dir: impl Into<PathBuf>) -> Result<Self, PortError> {
        PgConnectOptions::from_str(url).map_err(|e| {
            PortError::new("migrator postgres", "configure", ErrorKind::Invalid, format!("invalid database URL: {e}"))
        })?;
        if crate::pg_url::holds_password(url) {
            return Err(PortError::new(
                "migrator postgres",
                "configure",
                ErrorKind::Invalid,
                "the database URL holds a password: give it from an environment variable",
            ));
        }
        Ok(Self {
            name: "postgres".into(),
            url: url.to_owned(),
            password,
            dir: dir.into(),
            table: "shipwarden_migrations".into(),
        })
    }

    /// Records applied migrations in `table` instead of `shipwarden_migrations`.
    pub fn table(mut self, table: &str) -> Result<Self, PortError> {
        let ok = !table.is_empty()
            && table.len() <= 63
            && table.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && !table.starts_with(|c: char| c.is_ascii_digit());
        if !ok {
            return Err(PortError::new(
                "migrator postgres",
                "configure",
                ErrorKind::Invalid,
                format!("`{table}` is not a plain table name (lowercase letters, digits, `_`)"),
            ));
        }
        self.table = table.to_owned();
        Ok(self)
    }

    fn port(&self) -> String {
        format!("migrator {}", self.name)
    }

    async fn connect(&self, operation: &str) -> Result<PgConnection, PortError> {
        let mut options = PgConnectOptions::from_str(&self.url)
            .map_err(|e| PortError::new(self.port(), operation, ErrorKind::Invalid, e.to_string()))?;
        if let Some(p) = &self.password {
            options = options.password(p.expose_secret());
        }
        let mut conn = tokio::time::timeout(Duration::from_secs(15), PgConnection::connect_with(&options))
            .await
            .map_err(|_| PortError::new(self.port(), operation, ErrorKind::Timeout, "connecting took over 15 s"))?
            .map_err(|e| sql_error(&self.port(), operation, "cannot connect", e))?;
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {} (id text PRIMARY KEY, up_sha256 text NOT NULL, down_sha256 text, \
             applied_at timestamptz NOT NULL DEFAULT now(), key text NOT NULL)",
            self.table
        );
        // One runner per database at a time; the lock ends with the connection.
        conn.execute(sqlx::query("SELECT pg_advisory_lock(hashtext($1))").bind(&self.table))
            .await
            .map_err(|e| sql_error(&self.port(), operation, "cannot take the migrations lock", e))?;
        conn.execute(sqlx::raw_sql(&create))
            .await
            .map_err(|e| sql_error(&self.port(), operation, "cannot create the migrations table", e))?;
        Ok(conn)
    }

    /// The ids applied in the database and their forward scripts' digests, in order of application.
    pub async fn applied(&self) -> Result<Vec<(String, String)>, PortError> {
        let mut conn = self.connect("applied").await?;
        self.applied_on(&mut conn, "applied").await
    }

    async fn applied_on(&self, conn: &mut PgConnection, operation: &str) -> Result<Vec<(String, String)>, PortError> {
        let select = format!("SELECT id, up_sha256 FROM {} ORDER BY applied_at, id", self.table);
        let rows = conn
            .fetch_all(sqlx::query(&select))
            .await
            .map_err(|e| sql_error(&self.port(), operation, "cannot read the migrations table", e))?;
        rows.iter()
            .map(|r| Ok((r.try_get::<String, _>("id")?, r.try_get::<String, _>("up_sha256")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| sql_error(&self.port(), operation, "cannot read the migrations table", e))
    }

    fn load(&self, operation: &str, asked: &MigrationSet) -> Result<Vec<Script>, PortError> {
        let scripts = read_sql_dir(&self.port(), &self.dir)?;
        check_same(&self.port(), operation, &set_of(&scripts), asked)?;
        Ok(scripts)
    }
}

#[async_trait]
impl Migrator for PgMigrator {
    fn name(&self) -> &str {
        &self.name
    }

    async fn scripts(&self) -> Result<MigrationSet, PortError> {
        Ok(set_of(&read_sql_dir(&self.port(), &self.dir)?))
    }

    async fn apply(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        let scripts = self.load("apply", set)?;
        let mut conn = self.connect("apply").await?;
        let applied = self.applied_on(&mut conn, "apply").await?;
        let mut count = 0;
        for s in &scripts {
            let id = &s.meta.id;
            if let Some((_, digest)) = applied.iter().find(|(a, _)| a == id) {
                if digest != s.meta.up.as_str() {
                    return Err(PortError::new(
                        self.port(),
                        "apply",
                        ErrorKind::Rejected,
                        format!("{id} was applied with sha256:{digest}; the release has sha256:{}", s.meta.up),
                    ));
                }
                continue;
            }
            let started = Instant::now();
            let mut tx = conn.begin().await.map_err(|e| sql_error(&self.port(), "apply", id, e))?;
            tx.execute(sqlx::raw_sql(&s.up))
                .await
                .map_err(|e| sql_error(&self.port(), "apply", &format!("{id}.up.sql failed"), e))?;
            let insert =
                format!("INSERT INTO {} (id, up_sha256, down_sha256, key) VALUES ($1, $2, $3, $4)", self.table);
            let record = sqlx::query(&insert)
                .bind(id)
                .bind(s.meta.up.as_str())
                .bind(s.meta.down.as_ref().map(|d| d.as_str().to_owned()))
                .bind(key);
            tx.execute(record).await.map_err(|e| sql_error(&self.port(), "apply", &format!("recording {id}"), e))?;
            tx.commit().await.map_err(|e| sql_error(&self.port(), "apply", &format!("committing {id}"), e))?;
            log.line(LogStream::Info, format!("applied {id} in {} ms", started.elapsed().as_millis()));
            count += 1;
        }
        Ok(format!("applied {count} of {} migrations on {environment}", scripts.len()))
    }

    async fn revert(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        _key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        let scripts = self.load("revert", set)?;
        let mut conn = self.connect("revert").await?;
        let applied = self.applied_on(&mut conn, "revert").await?;
        let mut count = 0;
        for s in scripts.iter().rev() {
            let id = &s.meta.id;
            if !applied.iter().any(|(a, _)| a == id) {
                continue;
            }
            let Some(down) = &s.down else {
                return Err(PortError::new(
                    self.port(),
                    "revert",
                    ErrorKind::Rejected,
                    format!("{id} has no rollback script ({id}.down.sql)"),
                ));
            };
            let mut tx = conn.begin().await.map_err(|e| sql_error(&self.port(), "revert", id, e))?;
            tx.execute(sqlx::raw_sql(down))
                .await
                .map_err(|e| sql_error(&self.port(), "revert", &format!("{id}.down.sql failed"), e))?;
            let delete = format!("DELETE FROM {} WHERE id = $1", self.table);
            tx.execute(sqlx::query(&delete).bind(id))
                .await
                .map_err(|e| sql_error(&self.port(), "revert", &format!("recording {id}"), e))?;
            tx.commit().await.map_err(|e| sql_error(&self.port(), "revert", &format!("committing {id}"), e))?;
            log.line(LogStream::Info, format!("reverted {id}"));
            count += 1;
        }
        Ok(format!("reverted {count} migrations on {environment}"))
    }
}
