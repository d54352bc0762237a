//! API tokens for CI and bots (issue #21): `swt_<id>_<secret>`, shown once,
//! kept as the SHA-256 of the secret in the project's store database (the
//! SQLite file or PostgreSQL, so every replica of `shipwarden serve` sees the
//! same tokens), with the user, the scopes, who created it, when, until when,
//! when it was last used and whether it was revoked.
//!
//! The secret has 256 bits from the operating system's generator (ring's
//! `SystemRandom`); a high-entropy secret needs no slow hash, and the digests
//! are compared in constant time (subtle). Neither the token nor its secret is
//! ever logged.

use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use ring::rand::SecureRandom;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use subtle::ConstantTimeEq;

use crate::config::{ConfigError, Loaded};
use crate::store::config::StoreConfig;

/// What a token may be given: `read` (GET routes), `write` (changes), `admin` (managing tokens).
pub const SCOPES: &[&str] = &["read", "write", "admin"];

/// The prefix of every API token.
pub const PREFIX: &str = "swt_";

/// How long a token's `last_used` may lag: it is written at most this often,
/// so that verifying a token is not a write on every request.
const LAST_USED_EVERY: SignedDuration = SignedDuration::from_secs(60);

const CREATE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY, digest TEXT NOT NULL, user_name TEXT NOT NULL, scopes TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL, expires_at TEXT, last_used_at TEXT,
    revoked_at TEXT, revoked_by TEXT)";
const CREATE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY, digest TEXT NOT NULL, user_name TEXT NOT NULL, scopes TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL, expires_at TEXT, last_used_at TEXT,
    revoked_at TEXT, revoked_by TEXT)";
const COLUMNS: &str =
    "id, digest, user_name, scopes, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by";

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The database failed.
    #[error("api tokens: {operation}: {source}")]
    Backend {
        /// What was being done.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// A bad argument (an unknown scope, an unknown id, …).
    #[error("{0}")]
    Invalid(String),
    /// The operating system's random generator failed.
    #[error("no randomness from the operating system")]
    Random,
    /// A stored row does not read back.
    #[error("api tokens: a stored row is corrupt: {0}")]
    Corrupt(String),
}

/// Why a presented token is refused (answered 401; never names the secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRejection {
    /// Not `swt_<id>_<secret>`.
    #[error("the API token is malformed")]
    Malformed,
    /// No token has that id, or the secret does not match.
    #[error("the API token is unknown or its secret does not match")]
    Unknown,
    /// Past its expiry.
    #[error("the API token {id} expired at {at}")]
    Expired {
        /// The token's id.
        id: String,
        /// When it expired.
        at: Timestamp,
    },
    /// Revoked.
    #[error("the API token {id} was revoked at {at}")]
    Revoked {
        /// The token's id.
        id: String,
        /// When it was revoked.
        at: Timestamp,
    },
}

/// What is kept of a token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The token's id (public: the middle of `swt_<id>_<secret>`).
    pub id: String,
    /// The shipwarden user it acts as.
    pub user: String,
    /// What it may do ([`SCOPES`]).
    pub scopes: Vec<String>,
    /// When it was created.
    pub created: Timestamp,
    /// Who created it.
    pub created_by: String,
    /// When it stops working; `None`: never.
    pub expires: Option<Timestamp>,
    /// When it was last used (to within a minute).
    pub last_used: Option<Timestamp>,
    /// When it was revoked.
    pub revoked: Option<Timestamp>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The API tokens of a project, in its store database.
#[derive(Debug, Clone)]
pub struct TokenStore {
    pool: Pool,
}

type Row =
    (String, String, String, String, String, String, Option<String>, Option<String>, Option<String>, Option<String>);

fn backend(operation: &'static str) -> impl Fn(sqlx::Error) -> TokenError {
    move |source| TokenError::Backend { operation, source }
}

fn time(text: &str) -> Result<Timestamp, TokenError> {
    Timestamp::from_str(text).map_err(|e| TokenError::Corrupt(format!("`{text}`: {e}")))
}

fn opt_time(text: Option<String>) -> Result<Option<Timestamp>, TokenError> {
    text.as_deref().map(time).transpose()
}

fn digest_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn info(row: Row) -> Result<(TokenInfo, String), TokenError> {
    let (id, digest, user, scopes, created, created_by, expires, last_used, revoked, revoked_by) = row;
    Ok((
        TokenInfo {
            id,
            user,
            scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            created: time(&created)?,
            created_by,
            expires: opt_time(expires)?,
            last_used: opt_time(last_used)?,
            revoked: opt_time(revoked)?,
            revoked_by,
        },
        digest,
    ))
}

/// `swt_<id>_<secret>` split; `None` when `token` is not of that form.
pub fn split(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let hexish = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hexish(id, 12) && hexish(secret, 64)).then_some((id, secret))
}

impl TokenStore {
    /// The tokens in the store `loaded` configures (its SQLite file or
    /// PostgreSQL database); the table is created on first use.
    pub async fn open(loaded: &Loaded) -> Result<Self, ConfigError> {
        match &loaded.config.store {
            StoreConfig::Postgres(c) => {
                let var = c.url_env.clone().unwrap_or_default();
                let url = loaded.secret(&var, "store.url_env")?;
                // The pool the project's event store uses (one per process and database).
                let store = crate::store::postgres::PostgresStore::connect(url.expose_secret()).await?;
                Self::postgres(store.pool().clone()).await.map_err(|e| ConfigError::invalid(e.to_string()))
            }
            StoreConfig::Sqlite(c) => {
                let path = c.path.as_ref().map_or_else(|| loaded.state_dir().join("releases.db"), |p| loaded.path(p));
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| ConfigError::invalid(format!("{}: {e}", parent.display())))?;
                }
                let store = crate::store::sqlite::SqliteStore::open(&path).await?;
                Self::sqlite(store.pool().clone()).await.map_err(|e| ConfigError::invalid(e.to_string()))
            }
        }
    }

    /// The tokens in a SQLite database (the event store's file).
    pub async fn sqlite(pool: SqlitePool) -> Result<Self, TokenError> {
        sqlx::query(CREATE_SQLITE).execute(&pool).await.map_err(backend("create table"))?;
        Ok(TokenStore { pool: Pool::Sqlite(pool) })
    }

    /// The tokens in a PostgreSQL database (the event store's).
    pub async fn postgres(pool: PgPool) -> Result<Self, TokenError> {
        // Replicas starting together may race to create the table: a lost race is harmless.
        if let Err(e) = sqlx::query(CREATE_POSTGRES).execute(&pool).await {
            let raced = e.as_database_error().is_some_and(|d| matches!(d.code().as_deref(), Some("23505" | "42P07")));
            if !raced {
                return Err(backend("create table")(e));
            }
        }
        Ok(TokenStore { pool: Pool::Postgres(pool) })
    }

    /// Creates a token for `user` with `scopes`, valid until `expires`,
    /// recorded as created by `by`; the token itself is returned only here.
    pub async fn create(
        &self,
        user: &str,
        scopes: &[String],
        expires: Option<Timestamp>,
        by: &str,
    ) -> Result<(TokenInfo, SecretString), TokenError> {
        if scopes.is_empty() {
            return Err(TokenError::Invalid(format!("give at least one scope ({})", SCOPES.join(", "))));
        }
        if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return Err(TokenError::Invalid(format!("unknown scope `{bad}` (known: {})", SCOPES.join(", "))));
        }
        let now = Timestamp::now();
        if expires.is_some_and(|e| e <= now) {
            return Err(TokenError::Invalid("the expiry is in the past".into()));
        }
        let rng = ring::rand::SystemRandom::new();
        let mut id = [0u8; 6];
        let mut secret = [0u8; 32];
        rng.fill(&mut id).map_err(|_| TokenError::Random)?;
        rng.fill(&mut secret).map_err(|_| TokenError::Random)?;
        let (id, secret) = (hex::encode(id), hex::encode(secret));
        let mut scopes: Vec<String> = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        let row = (
            id.clone(),
            digest_hex(&secret),
            user.to_owned(),
            scopes.join(","),
            now.to_string(),
            by.to_owned(),
            expires.map(|e| e.to_string()),
        );
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("INSERT INTO api_tokens (id, digest, user_name, scopes, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                    .bind(&row.0).bind(&row.1).bind(&row.2).bind(&row.3).bind(&row.4).bind(&row.5).bind(&row.6)
                    .execute(pool).await.map_err(backend("create"))?;
            }
            Pool::Postgres(pool) => {
                sqlx::query("INSERT INTO api_tokens (id, digest, user_name, scopes, created_at, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&row.0).bind(&row.1).bind(&row.2).bind(&row.3).bind(&row.4).bind(&row.5).bind(&row.6)
                    .execute(pool).await.map_err(backend("create"))?;
            }
        }
        tracing::info!(token = %id, user, scopes = %row.3, created_by = by, "api token created");
        let info = TokenInfo {
            id: id.clone(),
            user: user.to_owned(),
            scopes,
            created: now,
            created_by: by.to_owned(),
            expires,
            last_used: None,
            revoked: None,
            revoked_by: None,
        };
        Ok((info, SecretString::from(format!("{PREFIX}{id}_{secret}"))))
    }

    /// Every token, oldest first (never a secret).
    pub async fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id");
        let rows: Vec<Row> = match &self.pool {
            Pool::Sqlite(pool) => sqlx::query_as(&sql).fetch_all(pool).await,
            Pool::Postgres(pool) => sqlx::query_as(&sql).fetch_all(pool).await,
        }
        .map_err(backend("list"))?;
        rows.into_iter().map(|r| info(r).map(|(i, _)| i)).collect()
    }

    async fn get(&self, id: &str) -> Result<Option<(TokenInfo, String)>, TokenError> {
        let row: Option<Row> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = ?"))
                    .bind(id)
                    .fetch_optional(pool)
                    .await
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(pool)
                    .await
            }
        }
        .map_err(backend("read"))?;
        row.map(info).transpose()
    }

    /// Revokes the token `id`, recorded as done by `by`; revoking twice keeps the first.
    pub async fn revoke(&self, id: &str, by: &str) -> Result<TokenInfo, TokenError> {
        let now = Timestamp::now().to_string();
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")
                    .bind(&now)
                    .bind(by)
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|_| ())
            }
            Pool::Postgres(pool) => sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL",
            )
            .bind(&now)
            .bind(by)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()),
        }
        .map_err(backend("revoke"))?;
        let (info, _) = self.get(id).await?.ok_or_else(|| TokenError::Invalid(format!("no API token `{id}`")))?;
        tracing::info!(token = %id, revoked_by = by, "api token revoked");
        Ok(info)
    }

    /// Who `token` is, checked at `now`: `Ok(None)` when it is not an API
    /// token at all (`swt_…`), `Ok(Some(Err(_)))` when it is one that is refused.
    pub async fn check(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Option<Result<TokenInfo, TokenRejection>>, TokenError> {
        if !token.starts_with(PREFIX) {
            return Ok(None);
        }
        let Some((id, secret)) = split(token) else { return Ok(Some(Err(TokenRejection::Malformed))) };
        let Some((info, digest)) = self.get(id).await? else { return Ok(Some(Err(TokenRejection::Unknown))) };
        let presented = digest_hex(secret);
        if !bool::from(presented.as_bytes().ct_eq(digest.as_bytes())) {
            return Ok(Some(Err(TokenRejection::Unknown)));
        }
        if let Some(at) = info.revoked {
            return Ok(Some(Err(TokenRejection::Revoked { id: info.id, at })));
        }
        if let Some(at) = info.expires.filter(|e| *e <= now) {
            return Ok(Some(Err(TokenRejection::Expired { id: info.id, at })));
        }
        if info.last_used.is_none_or(|t| now.duration_since(t) >= LAST_USED_EVERY) {
            self.touch(&info.id, now).await?;
        }
        Ok(Some(Ok(info)))
    }

    async fn touch(&self, id: &str, now: Timestamp) -> Result<(), TokenError> {
        let now = now.to_string();
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                .bind(&now)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ()),
            Pool::Postgres(pool) => sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ()),
        }
        .map_err(backend("touch"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_shape_of_a_token_splits() {
        let secret = "ab".repeat(32);
        assert_eq!(split(&format!("swt_0123456789ab_{secret}")), Some(("0123456789ab", secret.as_str())));
        assert_eq!(split(&format!("swt_0123456789a_{secret}")), None);
        assert_eq!(split(&format!("swt_0123456789ab_{secret}0")), None);
        assert_eq!(split(&format!("swt_0123456789ag_{secret}")), None);
        assert_eq!(split(&format!("xyz_0123456789ab_{secret}")), None);
        assert_eq!(split("swt_"), None);
    }

    #[tokio::test]
    async fn a_token_is_stored_as_a_digest_and_checked_in_full() {
        // One connection: each connection to `:memory:` is a database of its own.
        let pool =
            sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.expect("sqlite");
        let store = TokenStore::sqlite(pool.clone()).await.expect("store");
        let (info, token) = store.create("ci", &["read".into()], None, "rita").await.expect("create");
        let token = token.expose_secret().to_owned();
        let (_, secret) = split(&token).expect("shape");
        let (digest,): (String,) = sqlx::query_as("SELECT digest FROM api_tokens").fetch_one(&pool).await.expect("row");
        assert_eq!(digest, digest_hex(secret));
        assert!(!digest.contains(secret));
        let now = Timestamp::now();
        let checked = store.check(&token, now).await.expect("check").expect("an API token").expect("valid");
        assert_eq!((checked.id, checked.user, checked.scopes), (info.id, info.user, info.scopes));
        let wrong = format!("{}{}", &token[..token.len() - 1], if token.ends_with('0') { '1' } else { '0' });
        assert_eq!(store.check(&wrong, now).await.expect("check"), Some(Err(TokenRejection::Unknown)));
        assert_eq!(store.check("hello", now).await.expect("check"), None);
        assert!(store.create("ci", &["root".into()], None, "rita").await.is_err());
        assert!(store.create("ci", &[], None, "rita").await.is_err());
        assert!(store.create("ci", &["read".into()], Some(now - SignedDuration::from_secs(1)), "rita").await.is_err());
    }
}
