//! shipwarden's own tickets, kept in the SQLite event store's file: for
//! teams without Jira, for the demo, and for tests. Tickets have a type
//! (`Bug`, `Story`, `Release`), a severity for bugs, a status, and comments.
//! Keys are `PROJECT-n`, numbered per project.

use async_trait::async_trait;
use shipwarden::ports::{ErrorKind, PortError, Ticket, Ticketing};
use shipwarden::{Plan, TicketKey};
use sqlx::{Row, SqlitePool};

const PORT: &str = "ticketing local";

/// Statuses that count as closed.
const CLOSED: [&str; 4] = ["done", "closed", "resolved", "released"];

fn db(operation: &str) -> impl Fn(sqlx::Error) -> PortError + '_ {
    move |e| {
        let retryable = matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut)
            || e.as_database_error().is_some_and(|d| matches!(d.code().as_deref(), Some("5" | "6" | "517")));
        let kind = if retryable { ErrorKind::Unavailable } else { ErrorKind::Other };
        PortError::new(PORT, operation, kind, e.to_string())
    }
}

fn row_ticket(row: &sqlx::sqlite::SqliteRow) -> Result<Ticket, PortError> {
    let key: String = row.try_get("key").map_err(db("read"))?;
    Ok(Ticket {
        key: key
            .parse()
            .map_err(|e: shipwarden::ParseError| PortError::new(PORT, "read", ErrorKind::Invalid, e.to_string()))?,
        summary: row.try_get("summary").map_err(db("read"))?,
        status: row.try_get("status").map_err(db("read"))?,
        kind: row.try_get("kind").map_err(db("read"))?,
        severity: row.try_get("severity").map_err(db("read"))?,
    })
}

/// Tickets in a SQLite database (the event store's: open it with
/// [`crate::store::sqlite::SqliteStore`] and pass its pool).
#[derive(Debug, Clone)]
pub struct LocalTicketing {
    pool: SqlitePool,
    prefix: Option<String>,
}

impl LocalTicketing {
    /// Tickets in the database behind `pool` (migrated by the SQLite store).
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool, prefix: None }
    }

    /// The project key release tickets are filed under (`SHOP`); without
    /// one, the prefix of the plan's first ticket, or the project's name.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Files a ticket in `project` (the key prefix, e.g. `SHOP`) and returns it.
    pub async fn create(
        &self,
        project: &str,
        kind: &str,
        summary: &str,
        severity: Option<&str>,
    ) -> Result<Ticket, PortError> {
        let prefix = project.to_ascii_uppercase();
        let probe: Result<TicketKey, _> = format!("{prefix}-1").parse();
        if probe.is_err() {
            return Err(PortError::new(
                PORT,
                "create",
                ErrorKind::Invalid,
                format!("`{project}` cannot prefix a ticket key: use letters and digits, starting with a letter"),
            ));
        }
        let now = jiff::Timestamp::now().to_string();
        let mut tx = self.pool.begin().await.map_err(db("create"))?;
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM tickets WHERE project = ?")
            .bind(&prefix)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("create"))?;
        let key = format!("{prefix}-{next}");
        sqlx::query(
            "INSERT INTO tickets (key, project, number, summary, kind, severity, status, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'Open', ?, ?)",
        )
        .bind(&key)
        .bind(&prefix)
        .bind(next)
        .bind(summary)
        .bind(kind)
        .bind(severity.map(str::to_ascii_lowercase))
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(db("create"))?;
        tx.commit().await.map_err(db("create"))?;
        self.get(
            &key.parse().map_err(|e: shipwarden::ParseError| {
                PortError::new(PORT, "create", ErrorKind::Invalid, e.to_string())
            })?,
        )
        .await
    }

    /// Every ticket, by key order within each project; only open ones when `open_only`.
    pub async fn list(&self, open_only: bool) -> Result<Vec<Ticket>, PortError> {
        let rows = sqlx::query("SELECT key, summary, status, kind, severity FROM tickets ORDER BY project, number")
            .fetch_all(&self.pool)
            .await
            .map_err(db("list"))?;
        let all = rows.iter().map(row_ticket).collect::<Result<Vec<_>, _>>()?;
        Ok(all.into_iter().filter(|t| !open_only || !is_closed(&t.status)).collect())
    }

    /// A ticket's comments, oldest first.
    pub async fn comments(&self, key: &TicketKey) -> Result<Vec<String>, PortError> {
        sqlx::query_scalar("SELECT body FROM ticket_comments WHERE key = ? ORDER BY seq")
            .bind(key.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db("comments"))
    }
}

fn is_closed(status: &str) -> bool {
    CLOSED.contains(&status.to_ascii_lowercase().as_str())
}

fn not_found(key: &TicketKey) -> PortError {
    PortError::new(PORT, "get", ErrorKind::NotFound, format!("no ticket {key}"))
}

#[async_trait]
impl Ticketing for LocalTicketing {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        let row = sqlx::query("SELECT key, summary, status, kind, severity FROM tickets WHERE key = ?")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db("get"))?;
        row.as_ref().map(row_ticket).transpose()?.ok_or_else(|| not_found(key))
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        let mut bugs = Vec::new();
        for key in scope {
            let Ok(ticket) = self.get(key).await else { continue };
            let severe = ticket
                .severity
                .as_deref()
                .is_some_and(|s| severities.iter().any(|wanted| wanted.eq_ignore_ascii_case(s)));
            if ticket.kind.eq_ignore_ascii_case("bug") && severe && !is_closed(&ticket.status) {
                bugs.push(ticket);
            }
        }
        Ok(bugs)
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        self.get(key).await?;
        sqlx::query(
            "INSERT INTO ticket_comments (key, seq, at, body) \
             SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3 FROM ticket_comments WHERE key = ?1",
        )
        .bind(key.to_string())
        .bind(jiff::Timestamp::now().to_string())
        .bind(body)
        .execute(&self.pool)
        .await
        .map_err(db("comment"))?;
        Ok(())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        let done = sqlx::query("UPDATE tickets SET status = ?, updated_at = ? WHERE key = ?")
            .bind(status)
            .bind(jiff::Timestamp::now().to_string())
            .bind(key.to_string())
            .execute(&self.pool)
            .await
            .map_err(db("transition"))?;
        if done.rows_affected() == 0 {
            return Err(not_found(key));
        }
        Ok(())
    }

    /// Idempotent: the release ticket of a project and version is created once.
    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        let summary = format!("Release {} {}", plan.project, plan.version);
        let existing: Option<String> =
            sqlx::query_scalar("SELECT key FROM tickets WHERE kind = 'Release' AND summary = ?")
                .bind(&summary)
                .fetch_optional(&self.pool)
                .await
                .map_err(db("create"))?;
        if let Some(key) = existing {
            return key.parse().map_err(|e: shipwarden::ParseError| {
                PortError::new(PORT, "create", ErrorKind::Invalid, e.to_string())
            });
        }
        let prefix = self.prefix.clone().unwrap_or_else(|| {
            plan.scope.first().map_or_else(
                || plan.project.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
                |k| k.to_string().split('-').next().unwrap_or_default().to_owned(),
            )
        });
        Ok(self.create(&prefix, "Release", &summary, None).await?.key)
    }
}
