//! PostgreSQL backups (R-8c, R-8g) with `pg_dump` and `pg_restore`, in the
//! custom format.
//!
//! - [`Backup::backup`] dumps the environment's database into
//!   `<dir>/<environment>/<key>.dump` with a manifest beside it (digest,
//!   size, time); the same key again returns the same backup.
//! - [`Backup::verify`] proves the dump restores (R-8c "restore tested"): its
//!   digest is checked, it is restored into a scratch database created for
//!   the purpose, its tables are counted, and the scratch database is dropped.
//! - [`Backup::restore`] checks the digest and restores into the
//!   environment's database in one transaction (`--clean --if-exists
//!   --single-transaction --exit-on-error`): a restore that fails changes
//!   nothing.
//!
//! The password comes from an environment variable into a `secrecy` type and
//! reaches the tools only as `PGPASSWORD`, never in an argument, a log line,
//! an error or `Debug`; a URL that holds one is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use shipwarden::ports::{Backup, BackupRef, ErrorKind, Lookup, PortError};
use shipwarden::{EnvName, Sha256};

use crate::process::{Spec, run_full};

const PORT: &str = "backup postgres";

/// Backs up and restores one PostgreSQL database per environment.
pub struct PgBackup {
    dir: PathBuf,
    databases: BTreeMap<EnvName, String>,
    password: Option<SecretString>,
    bin_dir: Option<PathBuf>,
    timeout: Duration,
}

impl std::fmt::Debug for PgBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackup")
            .field("dir", &self.dir)
            .field("databases", &self.databases)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish_non_exhaustive()
    }
}

fn fail(operation: &str, kind: ErrorKind, message: impl Into<String>) -> PortError {
    PortError::new(PORT, operation, kind, message)
}

/// The URL with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let scheme_end = head.find("://").map_or(0, |i| i + 3);
    let base = match head[scheme_end..].find('/') {
        Some(i) => &head[..scheme_end + i],
        None => head,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

use crate::pg_url::holds_password;

fn file_name_of(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' }).collect()
}

/// The SHA-256 and size of a file, read in blocks.
async fn digest_file(path: &Path) -> std::io::Result<(Sha256, u64)> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    let hex = format!("{:x}", hasher.finalize());
    Ok((hex.parse().map_err(|e| std::io::Error::other(format!("{e}")))?, size))
}

impl PgBackup {
    /// Backups kept in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            databases: BTreeMap::new(),
            password: None,
            bin_dir: None,
            timeout: Duration::from_secs(3600),
        }
    }

    /// The database of `environment`, as a URL without a password (`postgres://app@db.prod:5432/shop`).
    ///
    /// # Errors
    /// When the URL holds a password: give it with [`PgBackup::with_password`].
    pub fn with_database(mut self, environment: EnvName, url: impl Into<String>) -> Result<Self, PortError> {
        let url = url.into();
        if holds_password(&url) {
            return Err(fail(
                "setup",
                ErrorKind::Invalid,
                format!("the URL of {environment} must not hold a password: give it from an environment variable"),
            ));
        }
        self.databases.insert(environment, url);
        Ok(self)
    }

    /// The password for every database (sent to the tools as `PGPASSWORD`).
    pub fn with_password(mut self, password: SecretString) -> Self {
        self.password = Some(password);
        self
    }

    /// The folder of `pg_dump`, `pg_restore`, `psql` (default: the `PATH`).
    pub fn with_bin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.bin_dir = Some(dir.into());
        self
    }

    /// How long one tool may run.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn program(&self, name: &str) -> String {
        self.bin_dir.as_ref().map_or_else(|| name.to_owned(), |d| d.join(name).display().to_string())
    }

    fn database(&self, operation: &str, environment: &EnvName) -> Result<&String, PortError> {
        self.databases.get(environment).ok_or_else(|| {
            fail(operation, ErrorKind::NotFound, format!("no database configured for environment {environment}"))
        })
    }

    /// Runs a PostgreSQL tool; returns its standard output's last line, or an error with its last error line.
    async fn tool(&self, operation: &str, argv: Vec<String>) -> Result<String, PortError> {
        let env: Vec<(String, String)> = self
            .password
            .iter()
            .map(|p| ("PGPASSWORD".to_owned(), p.expose_secret().to_owned()))
            .chain([("PGCONNECT_TIMEOUT".to_owned(), "10".to_owned())])
            .collect();
        let spec =
            Spec { port: PORT.to_owned(), operation, argv: &argv, env: &env, workdir: None, timeout: self.timeout };
        let output = shipwarden::ports::LogSink::default();
        let finished = run_full(&spec, Some(&output)).await?;
        if finished.code == 0 {
            return Ok(finished.last_out);
        }
        let lines: Vec<String> = output
            .take()
            .into_iter()
            .filter(|l| l.stream == shipwarden::ports::LogStream::Stderr)
            .map(|l| l.text.trim().to_owned())
            .collect();
        let text = lines.join(" ");
        let lower = text.to_ascii_lowercase();
        // Connection problems can pass; refused credentials, missing objects and bad dumps will not.
        let kind = if lower.contains("could not connect")
            || lower.contains("connection refused")
            || lower.contains("the database system is starting up")
            || lower.contains("timeout expired")
            || lower.contains("too many connections")
        {
            ErrorKind::Unavailable
        } else {
            ErrorKind::Rejected
        };
        Err(fail(operation, kind, format!("{} exit {}: {text}", argv[0], finished.code)))
    }

    fn path_of(&self, environment: &EnvName, key: &str) -> PathBuf {
        self.dir.join(environment.as_str()).join(format!("{}.dump", file_name_of(key)))
    }

    async fn read_manifest(path: &Path) -> Option<BackupRef> {
        let text = tokio::fs::read(path.with_extension("dump.json")).await.ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Fails unless the dump on disk has the digest the backup recorded.
    async fn check(&self, operation: &str, backup: &BackupRef) -> Result<PathBuf, PortError> {
        let path = PathBuf::from(&backup.id);
        let (sha256, _) = digest_file(&path)
            .await
            .map_err(|e| fail(operation, ErrorKind::NotFound, format!("backup {}: {e}", backup.id)))?;
        if backup.sha256.as_ref().is_some_and(|expected| *expected != sha256) {
            return Err(fail(
                operation,
                ErrorKind::Invalid,
                format!("backup {} does not match its digest: the dump was changed", backup.id),
            ));
        }
        Ok(path)
    }
}

#[async_trait]
impl Backup for PgBackup {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError> {
        let url = self.database("backup", environment)?.clone();
        let path = self.path_of(environment, key);
        if let Some(existing) = Self::read_manifest(&path).await {
            return Ok(existing);
        }
        let folder = path.parent().unwrap_or(&self.dir).to_path_buf();
        tokio::fs::create_dir_all(&folder)
            .await
            .map_err(|e| fail("backup", ErrorKind::Other, format!("cannot create {}: {e}", folder.display())))?;
        let partial = path.with_extension("dump.part");
        self.tool(
            "backup",
            vec![
                self.program("pg_dump"),
                "--format=custom".into(),
                "--no-password".into(),
                format!("--file={}", partial.display()),
                format!("--dbname={url}"),
            ],
        )
        .await?;
        let (sha256, size) = digest_file(&partial)
            .await
            .map_err(|e| fail("backup", ErrorKind::Other, format!("cannot read the dump: {e}")))?;
        let backup = BackupRef {
            id: path.display().to_string(),
            environment: environment.clone(),
            sha256: Some(sha256),
            size,
            at: jiff::Timestamp::now(),
        };
        let manifest = serde_json::to_vec_pretty(&backup).unwrap_or_default();
        let io = |e: std::io::Error| fail("backup", ErrorKind::Other, e.to_string());
        tokio::fs::rename(&partial, &path).await.map_err(io)?;
        tokio::fs::write(path.with_extension("dump.json.part"), manifest).await.map_err(io)?;
        tokio::fs::rename(path.with_extension("dump.json.part"), path.with_extension("dump.json")).await.map_err(io)?;
        Ok(backup)
    }

    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError> {
        let path = self.check("verify", backup).await?;
        let url = self.database("verify", &backup.environment)?.clone();
        let scratch = format!(
            "shipwarden_verify_{}_{:x}",
            file_name_of(backup.environment.as_str()).to_ascii_lowercase().replace(['-', '.'], "_"),
            fastrand_u64()
        );
        let maintenance = with_database(&url, "postgres");
        let psql = |database_url: String, sql: String| {
            vec![
                self.program("psql"),
                "--no-psqlrc".into(),
                "--no-password".into(),
                "--quiet".into(),
                "--tuples-only".into(),
                "--no-align".into(),
                "--set=ON_ERROR_STOP=1".into(),
                format!("--dbname={database_url}"),
                format!("--command={sql}"),
            ]
        };
        self.tool("verify", psql(maintenance.clone(), format!("CREATE DATABASE \"{scratch}\""))).await?;
        let restored = async {
            self.tool(
                "verify",
                vec![
                    self.program("pg_restore"),
                    "--no-password".into(),
                    "--no-owner".into(),
                    "--exit-on-error".into(),
                    format!("--dbname={}", with_database(&url, &scratch)),
                    path.display().to_string(),
                ],
            )
            .await?;
            self.tool(
                "verify",
                psql(
                    with_database(&url, &scratch),
                    "SELECT count(*) FROM information_schema.tables \
                     WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                        .into(),
                ),
            )
            .await
        }
        .await;
        // The scratch database goes, whatever happened.
        let dropped = self.tool("verify", psql(maintenance, format!("DROP DATABASE IF EXISTS \"{scratch}\""))).await;
        let tables = restored?;
        dropped?;
        Ok(format!(
            "restore tested: {} restored into a scratch database ({} tables), dropped",
            backup.id,
            tables.trim()
        ))
    }

    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError> {
        let path = self.check("restore", backup).await?;
        let url = self.database("restore", &backup.environment)?.clone();
        self.tool(
            "restore",
            vec![
                self.program("pg_restore"),
                "--no-password".into(),
                "--no-owner".into(),
                "--clean".into(),
                "--if-exists".into(),
                "--single-transaction".into(),
                "--exit-on-error".into(),
                format!("--dbname={url}"),
                path.display().to_string(),
            ],
        )
        .await?;
        Ok(format!("restored {} into the {} database", backup.id, backup.environment))
    }

    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        for environment in self.databases.keys() {
            if let Some(found) = Self::read_manifest(&self.path_of(environment, key)).await {
                return Ok(Lookup::Done(found));
            }
        }
        Ok(Lookup::NotFound)
    }
}

/// A random number for scratch names, without a dependency: the hash of a fresh `RandomState`.
fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(with_database("postgres://u@h:5432/shop", "x"), "postgres://u@h:5432/x");
        assert_eq!(with_database("postgres://u@h/shop?sslmode=require", "x"), "postgres://u@h/x?sslmode=require");
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn passwords_in_urls_are_found() {
        assert!(holds_password("postgres://app:secret@db/shop"));
        assert!(!holds_password("postgres://app@db/shop"));
        assert!(!holds_password("postgres://db:5432/shop"));
    }
}
