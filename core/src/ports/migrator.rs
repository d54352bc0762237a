use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{LogSink, PortError};
use crate::model::{EnvName, Sha256};

/// One migration of a release: its id (`0002_add_orders`) and the digests of
/// its forward script and of its rollback script, if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationScript {
    /// The migration's id; migrations run in the order of their ids.
    pub id: String,
    /// SHA-256 of the forward (up) script.
    pub up: Sha256,
    /// SHA-256 of the rollback (down) script; `None` when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<Sha256>,
}

/// The database migrations a release carries (R-7e, R-8b), in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationSet {
    /// The migrations, in the order they run.
    pub scripts: Vec<MigrationScript>,
}

impl MigrationSet {
    /// One digest for the whole set: ids and both scripts' digests, in
    /// order. Two sets are the same release of migrations exactly when their
    /// digests are equal.
    pub fn digest(&self) -> Sha256 {
        let mut text = String::new();
        for s in &self.scripts {
            text.push_str(&format!("{} {} {}\n", s.id, s.up, s.down.as_ref().map_or("-", Sha256::as_str)));
        }
        Sha256::of(text.as_bytes())
    }

    /// True when the release carries no migrations.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// The migrations without a rollback script.
    pub fn without_rollback(&self) -> Vec<&str> {
        self.scripts.iter().filter(|s| s.down.is_none()).map(|s| s.id.as_str()).collect()
    }

    /// How this set differs from `other`: each migration added, removed or
    /// whose scripts changed, named by id.
    pub fn differences(&self, other: &MigrationSet) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.scripts {
            match other.scripts.iter().find(|o| o.id == s.id) {
                None => out.push(format!("{} is new", s.id)),
                Some(o) if o.up != s.up => out.push(format!("{} changed (up sha256:{} was {})", s.id, s.up, o.up)),
                Some(o) if o.down != s.down => out.push(format!("{} changed its rollback script", s.id)),
                Some(_) => {}
            }
        }
        for o in &other.scripts {
            if !self.scripts.iter().any(|s| s.id == o.id) {
                out.push(format!("{} is gone", o.id));
            }
        }
        out
    }
}

/// Applies and reverts a release's database migrations in an environment
/// (R-7e, R-8b): any migration tool behind a command, or the built-in
/// PostgreSQL runner. One migrator serves one environment's database.
///
/// Both operations are idempotent: applying skips what was applied before
/// with the same digest and refuses what was applied with another; reverting
/// skips what is not applied.
#[async_trait]
pub trait Migrator: Send + Sync {
    /// The migrator's name (`postgres`, `flyway`).
    fn name(&self) -> &str;

    /// The migrations the release carries, with their digests, read from
    /// the release's files.
    async fn scripts(&self) -> Result<MigrationSet, PortError>;

    /// Applies every migration of `set` that is not applied yet. Fails
    /// without applying anything when the files no longer match `set`.
    async fn apply(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError>;

    /// Reverts every applied migration of `set` with its rollback script,
    /// newest first.
    async fn revert(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError>;
}
