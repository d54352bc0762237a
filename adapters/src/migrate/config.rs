//! `[environments.NAME.migrations]`: the built-in PostgreSQL runner
//! (`kind = "postgres"`, `<id>.up.sql`/`<id>.down.sql` files) or any tool
//! behind commands (`kind = "command"`).

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;
use shipwarden::Problem;
use shipwarden::ports::Migrator;

use crate::config::ConfigError;
use crate::config::adapter::{AdapterConfig, Context, SecretRef, argv, duration, no_password, require};

/// An environment's migrations.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MigrationsConfig {
    /// SQL files run on PostgreSQL, each in a transaction, their digests recorded.
    Postgres(PgMigrationsConfig),
    /// Any migration tool behind an apply and a revert command.
    Command(CommandMigrationsConfig),
}

impl MigrationsConfig {
    /// The one place the kinds are told apart.
    fn adapter(&self) -> &(dyn AdapterConfig<Port = dyn Migrator> + Send + Sync) {
        match self {
            MigrationsConfig::Postgres(c) => c,
            MigrationsConfig::Command(c) => c,
        }
    }
}

impl AdapterConfig for MigrationsConfig {
    type Port = dyn Migrator;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        self.adapter().validate(at, problems);
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        self.adapter().secrets(at, found);
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Migrator>, ConfigError> {
        self.adapter().build(at, cx)
    }
}

/// `kind = "postgres"`.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PgMigrationsConfig {
    /// The folder of migration files, relative to the config file.
    pub dir: PathBuf,
    /// The database URL, without a password.
    pub url: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
    /// The table recording applied migrations (`shipwarden_migrations`).
    pub table: Option<String>,
}

impl AdapterConfig for PgMigrationsConfig {
    type Port = dyn Migrator;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        require(at, &[("url", self.url.is_some())], "the postgres runner needs the database URL", problems);
        if let Some(u) = &self.url {
            no_password(u, format!("{at}.url"), "password_env", problems);
        }
    }

    fn secrets(&self, at: &str, found: &mut Vec<SecretRef>) {
        found.extend(self.password_env.iter().map(|var| SecretRef::new(at, "password_env", var)));
    }

    fn build(&self, at: &str, cx: &Context) -> Result<Arc<dyn Migrator>, ConfigError> {
        let url = self
            .url
            .as_deref()
            .ok_or_else(|| ConfigError::invalid(format!("{at}.url: the postgres runner needs it")))?;
        let password =
            self.password_env.as_deref().map(|var| cx.secret(var, &format!("{at}.password_env"))).transpose()?;
        let mut runner = super::postgres::PgMigrator::new(url, password, cx.path(&self.dir))?;
        if let Some(t) = &self.table {
            runner = runner.table(t)?;
        }
        Ok(Arc::new(runner))
    }
}

/// `kind = "command"`: `flyway`, `liquibase`, `sqlx`, `alembic`…
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CommandMigrationsConfig {
    /// The folder of migration files, relative to the config file.
    pub dir: PathBuf,
    /// The tool's name (`flyway`).
    pub name: Option<String>,
    /// The apply command (argv; `{environment}`, `{dir}`, `{key}`, `{digest}`).
    #[serde(default)]
    pub apply: Vec<String>,
    /// The revert command (argv).
    #[serde(default)]
    pub revert: Vec<String>,
    /// How long a command may run (`30m`).
    pub timeout: Option<String>,
}

impl AdapterConfig for CommandMigrationsConfig {
    type Port = dyn Migrator;

    fn validate(&self, at: &str, problems: &mut Vec<Problem>) {
        argv(&self.apply, format!("{at}.apply"), "give the command as an argv", problems);
        argv(&self.revert, format!("{at}.revert"), "give the command as an argv", problems);
        duration(&self.timeout, &format!("{at}.timeout"), problems);
    }

    fn build(&self, _at: &str, cx: &Context) -> Result<Arc<dyn Migrator>, ConfigError> {
        let mut tool = super::command::CommandMigrator::new(
            self.name.as_deref().unwrap_or("migrations"),
            cx.path(&self.dir),
            self.apply.clone(),
            self.revert.clone(),
        );
        if let Some(t) = duration(&self.timeout, "", &mut Vec::new()) {
            tool = tool.timeout(t);
        }
        Ok(Arc::new(tool))
    }
}
