//! Adapters built the first time they are used, so that a secret is read
//! only by the step that needs it (R-2a): a project opens, lists and plans
//! without the production database's URL; the production check that names
//! it fails, not retryable, naming the variable and where the file names it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use shipwarden::ports::{
    ArtifactMeta, ArtifactStore, Backup, BackupRef, DependencyProbe, ErrorKind, LogSink, Lookup, Measurement,
    MigrationSet, Migrator, NotesPublisher, Notice, Notifier, PortError, Probe, Signer, Ticket, Ticketing,
};
use shipwarden::{ArtifactRef, EnvName, Plan, ReleaseId, TicketKey, Version};

use super::ConfigError;

type Make<P> = Box<dyn Fn() -> Result<Arc<P>, ConfigError> + Send + Sync>;

/// An adapter of port `P`, built on first use from its configuration at `at`.
pub(crate) struct Deferred<P: ?Sized> {
    at: String,
    make: Make<P>,
    made: OnceLock<Arc<P>>,
}

impl<P: ?Sized> Deferred<P> {
    pub(crate) fn new(at: &str, make: impl Fn() -> Result<Arc<P>, ConfigError> + Send + Sync + 'static) -> Self {
        Deferred { at: at.to_owned(), make: Box::new(make), made: OnceLock::new() }
    }

    /// The adapter, built now if it was not; a missing secret fails the
    /// operation, not retryable.
    fn get(&self, operation: &str) -> Result<&Arc<P>, PortError> {
        if let Some(made) = self.made.get() {
            return Ok(made);
        }
        let made = (self.make)().map_err(|e| {
            let mut error = PortError::new(self.at.clone(), operation, ErrorKind::Invalid, e.to_string());
            error.retryable = false;
            error
        })?;
        Ok(self.made.get_or_init(|| made))
    }

    /// The adapter's name, or where the file configures it while it cannot be built.
    fn label<'a>(&'a self, name: impl Fn(&'a P) -> &'a str) -> &'a str {
        match self.get("name") {
            Ok(made) => name(made),
            Err(_) => &self.at,
        }
    }
}

/// A port whose adapters may be deferred.
pub(crate) trait Deferrable {
    /// The deferred adapter as the port.
    fn deferred(deferred: Deferred<Self>) -> Arc<Self>;
}

macro_rules! deferrable {
    ($($port:ident),*) => {$(
        impl Deferrable for dyn $port {
            fn deferred(deferred: Deferred<Self>) -> Arc<Self> {
                Arc::new(deferred)
            }
        }
    )*};
}

deferrable!(Probe, DependencyProbe, Notifier, NotesPublisher, ArtifactStore, Ticketing, Backup, Migrator, Signer);

#[async_trait]
impl Probe for Deferred<dyn Probe> {
    fn name(&self) -> &str {
        self.label(|p| p.name())
    }

    async fn check(&self, environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        self.get("check")?.check(environment).await
    }
}

#[async_trait]
impl DependencyProbe for Deferred<dyn DependencyProbe> {
    fn name(&self) -> &str {
        self.label(|p| p.name())
    }

    async fn versions(&self, environment: &EnvName) -> Result<BTreeMap<String, String>, PortError> {
        self.get("versions")?.versions(environment).await
    }
}

#[async_trait]
impl Notifier for Deferred<dyn Notifier> {
    fn name(&self) -> &str {
        self.label(|p| p.name())
    }

    async fn send(&self, notice: &Notice) -> Result<(), PortError> {
        self.get("send")?.send(notice).await
    }
}

#[async_trait]
impl NotesPublisher for Deferred<dyn NotesPublisher> {
    async fn publish(&self, release: &ReleaseId, version: &Version, markdown: &str) -> Result<String, PortError> {
        self.get("publish")?.publish(release, version, markdown).await
    }

    async fn attach(&self, release: &ReleaseId, name: &str, bytes: &[u8]) -> Result<Option<String>, PortError> {
        self.get("attach")?.attach(release, name, bytes).await
    }

    async fn publish_heads(&self, release: &ReleaseId, heads: &[u8]) -> Result<Option<String>, PortError> {
        self.get("publish heads")?.publish_heads(release, heads).await
    }
}

#[async_trait]
impl ArtifactStore for Deferred<dyn ArtifactStore> {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<ArtifactRef, PortError> {
        self.get("put")?.put(name, version, path).await
    }

    async fn put_with(
        &self,
        name: &str,
        version: &Version,
        path: &Path,
        meta: &ArtifactMeta,
    ) -> Result<ArtifactRef, PortError> {
        self.get("put")?.put_with(name, version, path, meta).await
    }

    async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, PortError> {
        Deferred::get(self, "get")?.get(artifact).await
    }

    async fn exists(&self, artifact: &ArtifactRef) -> Result<bool, PortError> {
        Deferred::get(self, "exists")?.exists(artifact).await
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        Deferred::get(self, "versions")?.versions(name).await
    }
}

#[async_trait]
impl Ticketing for Deferred<dyn Ticketing> {
    async fn get(&self, key: &TicketKey) -> Result<Ticket, PortError> {
        Deferred::get(self, "get")?.get(key).await
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        Deferred::get(self, "open_bugs")?.open_bugs(scope, severities).await
    }

    async fn open_bugs_for(&self, plan: &Plan, severities: &[String]) -> Result<Vec<Ticket>, PortError> {
        Deferred::get(self, "open_bugs")?.open_bugs_for(plan, severities).await
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        Deferred::get(self, "comment")?.comment(key, body).await
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        Deferred::get(self, "transition")?.transition(key, status).await
    }

    async fn create_release_ticket(&self, plan: &Plan) -> Result<TicketKey, PortError> {
        Deferred::get(self, "create_release_ticket")?.create_release_ticket(plan).await
    }

    async fn attach(&self, key: &TicketKey, name: &str, bytes: &[u8], kept_at: &str) -> Result<(), PortError> {
        Deferred::get(self, "attach")?.attach(key, name, bytes, kept_at).await
    }

    async fn reviewers(&self, pull: u64) -> Result<Lookup<u32>, PortError> {
        Deferred::get(self, "reviewers")?.reviewers(pull).await
    }
}

#[async_trait]
impl Backup for Deferred<dyn Backup> {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<BackupRef, PortError> {
        self.get("backup")?.backup(environment, key).await
    }

    async fn verify(&self, backup: &BackupRef) -> Result<String, PortError> {
        self.get("verify")?.verify(backup).await
    }

    async fn restore(&self, backup: &BackupRef) -> Result<String, PortError> {
        self.get("restore")?.restore(backup).await
    }

    async fn find(&self, key: &str) -> Result<Lookup<BackupRef>, PortError> {
        self.get("find")?.find(key).await
    }
}

#[async_trait]
impl Migrator for Deferred<dyn Migrator> {
    fn name(&self) -> &str {
        self.label(|p| p.name())
    }

    async fn scripts(&self) -> Result<MigrationSet, PortError> {
        self.get("scripts")?.scripts().await
    }

    async fn apply(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        self.get("apply")?.apply(environment, set, key, log).await
    }

    async fn revert(
        &self,
        environment: &EnvName,
        set: &MigrationSet,
        key: &str,
        log: &LogSink,
    ) -> Result<String, PortError> {
        self.get("revert")?.revert(environment, set, key, log).await
    }
}

#[async_trait]
impl Signer for Deferred<dyn Signer> {
    fn algorithm(&self) -> &str {
        self.get("algorithm").map_or("ed25519", |s| s.algorithm())
    }

    fn public_key(&self) -> String {
        self.get("public_key").map(|s| s.public_key()).unwrap_or_default()
    }

    async fn sign(&self, message: &[u8]) -> Result<String, PortError> {
        self.get("sign")?.sign(message).await
    }
}
