//! `[store]`: where the event store is. `kind` is `sqlite` (the default: one
//! file in the state folder, which also keeps shipwarden's own tickets) or
//! `postgres` (for releases driven from several machines).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use shipwarden::Problem;
use shipwarden::ports::EventStore;

use crate::config::adapter::{Context, SecretRef, require};
use crate::config::{ConfigError, default_kind};
use crate::ticketing::local::LocalTicketing;

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(remote = "Self", tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum StoreConfig {
    /// One SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteStoreConfig),
    /// A PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(PostgresStoreConfig),
}

impl<'de> Deserialize<'de> for StoreConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        default_kind(deserializer, "sqlite", StoreConfig::deserialize)
    }
}

#[cfg(feature = "sqlite")]
impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::Sqlite(SqliteStoreConfig { path: None })
    }
}

/// `kind = "sqlite"`.
#[cfg(feature = "sqlite")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SqliteStoreConfig {
    /// The file (default `STATE_DIR/releases.db`).
    pub path: Option<PathBuf>,
}

/// `kind = "postgres"`.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PostgresStoreConfig {
    /// The environment variable holding the connection URL.
    pub url_env: Option<String>,
}

impl StoreConfig {
    /// Every problem, with its path under `at`.
    pub(crate) fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        #[cfg(feature = "postgres")]
        if let StoreConfig::Postgres(c) = self {
            require(
                at,
                &[("url_env", c.url_env.is_some())],
                "name the environment variable that holds the PostgreSQL URL",
                problems,
            );
        }
    }

    /// The secrets it names.
    pub(crate) fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        #[cfg(feature = "postgres")]
        if let StoreConfig::Postgres(PostgresStoreConfig { url_env: Some(var) }) = self {
            found.push(SecretRef::new(at, "url_env", var));
        }
    }

    /// Whether the store holds anything yet: false for a SQLite file that does
    /// not exist (a PostgreSQL store is taken to exist).
    pub(crate) fn exists(&self, cx: &Context) -> bool {
        #[cfg(not(feature = "sqlite"))]
        let _ = cx;
        match self {
            #[cfg(feature = "postgres")]
            StoreConfig::Postgres(_) => true,
            #[cfg(feature = "sqlite")]
            StoreConfig::Sqlite(c) => {
                c.path.as_ref().map_or_else(|| cx.state_dir().join("releases.db"), |p| cx.path(p)).exists()
            }
        }
    }

    /// Opens the store; a SQLite store also keeps shipwarden's own tickets,
    /// their keys starting with `prefix`. `read_only`: an existing SQLite file is
    /// opened read-only, without migrations, and a missing one is not created (an
    /// empty store stands in); a PostgreSQL store is opened as usual.
    pub(crate) async fn open(
        &self,
        at: &str,
        cx: &Context,
        prefix: String,
        read_only: bool,
    ) -> Result<(Arc<dyn EventStore>, Option<LocalTicketing>), ConfigError> {
        #[cfg(not(feature = "sqlite"))]
        let _ = read_only;
        match self {
            #[cfg(feature = "postgres")]
            StoreConfig::Postgres(c) => {
                use secrecy::ExposeSecret;
                let var = c.url_env.clone().unwrap_or_default();
                let url = cx.secret(&var, &format!("{at}.url_env"))?;
                let store = super::postgres::PostgresStore::connect(url.expose_secret()).await?;
                Ok((Arc::new(store), None))
            }
            #[cfg(feature = "sqlite")]
            StoreConfig::Sqlite(c) => {
                let path = c.path.as_ref().map_or_else(|| cx.state_dir().join("releases.db"), |p| cx.path(p));
                if read_only && path.exists() {
                    let store = super::sqlite::SqliteStore::open_read_only(&path).await?;
                    let tickets = LocalTicketing::new(store.pool().clone()).with_prefix(prefix);
                    return Ok((Arc::new(store), Some(tickets)));
                }
                if read_only {
                    // Nothing recorded yet: reading (or a dry run) sees an empty store and creates no file.
                    return Ok((Arc::new(shipwarden::ports::memory::MemoryStore::new()), None));
                }
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| ConfigError::invalid(format!("{}: {e}", parent.display())))?;
                }
                let store = super::sqlite::SqliteStore::open(&path).await?;
                let tickets = LocalTicketing::new(store.pool().clone()).with_prefix(prefix);
                Ok((Arc::new(store), Some(tickets)))
            }
        }
    }
}
