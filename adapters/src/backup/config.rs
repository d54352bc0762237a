//! `[backup]`: files (`paths`) or PostgreSQL databases (`[backup.postgres]`)
//! backed up before a production deployment and restored on rollback.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use shipwarden::ports::Backup;
use shipwarden::{EnvName, Problem};

use crate::config::ConfigError;
use crate::config::adapter::{AdapterConfig, Context, SecretRef, no_password};

/// `[backup]`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// Files to back up before a production deployment (databases, configuration).
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// PostgreSQL databases backed up with `pg_dump`.
    pub postgres: Option<PgBackupConfig>,
}

/// `[backup.postgres]`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PgBackupConfig {
    /// Environment name -> database URL without a password (`postgres://app@db:5432/shop`).
    pub databases: BTreeMap<String, String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// Where dumps are kept (default `STATE_DIR/backups`).
    pub dir: Option<PathBuf>,
    /// The folder of `pg_dump` and `pg_restore` (default: the `PATH`).
    pub bin_dir: Option<PathBuf>,
}

impl AdapterConfig for BackupConfig {
    type Port = dyn Backup;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        if self.paths.is_empty() == self.postgres.is_none() {
            problems.push(Problem {
                path: at.to_owned(),
                message: "give either `paths` (files) or `[backup.postgres]`".into(),
            });
        }
        for (env, url) in self.postgres.iter().flat_map(|p| &p.databases) {
            no_password(url, format!("{at}.postgres.databases.{env}"), "password_env", problems);
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        let vars = self.postgres.iter().flat_map(|p| &p.password_env);
        found.extend(vars.map(|var| SecretRef::new(at, "postgres.password_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Backup>, ConfigError> {
        let state = cx.state_dir();
        let Some(pg) = &self.postgres else {
            let sources = self.paths.iter().map(|p| cx.path(p)).collect();
            return Ok(Arc::new(super::file::FileBackup::new(
                sources,
                state.join("backups"),
                state.join("restore-test"),
            )));
        };
        let dir = pg.dir.as_ref().map_or_else(|| state.join("backups"), |d| cx.path(d));
        let mut backup = super::postgres::PgBackup::new(dir);
        for (env, url) in &pg.databases {
            let env: EnvName = env
                .parse()
                .map_err(|e: shipwarden::ParseError| ConfigError::invalid(format!("{at}.postgres.databases: {e}")))?;
            backup = backup.with_database(env, url)?;
        }
        if let Some(var) = &pg.password_env {
            backup = backup.with_password(cx.secret(var, &format!("{at}.postgres.password_env"))?);
        }
        if let Some(bin) = &pg.bin_dir {
            backup = backup.with_bin_dir(cx.path(bin));
        }
        Ok(Arc::new(backup))
    }
}
