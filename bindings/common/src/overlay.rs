//! The ports a script passes, laid over the configured ports (or, for an
//! in-memory manager, over [`default_ports`]): the same rules in both
//! languages.

use std::path::PathBuf;
use std::sync::Arc;

use shipwarden::engine::Ports;
use shipwarden::ports::memory::{MemoryArtifacts, MemoryBackup, MemoryBuilder, MemoryNotes};
use shipwarden::ports::{ArtifactStore, Backup, DeployTarget, Notifier, Probe, Ticketing};
use shipwarden::{EnvName, ParseError};

/// The ports a script passed to `open`, before they are laid over others.
#[derive(Default)]
pub struct UserPorts {
    ports: Ports,
}

impl UserPorts {
    /// Adds the deploy targets of `environment`; they replace that environment's configured targets.
    pub fn target(&mut self, environment: &str, port: Arc<dyn DeployTarget>) -> Result<(), ParseError> {
        let env: EnvName = environment.parse()?;
        self.ports.targets.entry(env).or_default().push(port);
        Ok(())
    }

    /// Adds a pre-deployment check probe of `environment` (R-8a), beside the configured ones.
    pub fn check(&mut self, environment: &str, port: Arc<dyn Probe>) -> Result<(), ParseError> {
        let env: EnvName = environment.parse()?;
        self.ports.checks.entry(env).or_default().push(port);
        Ok(())
    }

    /// Adds a smoke-test probe of `environment` (R-8f), beside the configured ones.
    pub fn smoke(&mut self, environment: &str, port: Arc<dyn Probe>) -> Result<(), ParseError> {
        let env: EnvName = environment.parse()?;
        self.ports.smoke.entry(env).or_default().push(port);
        Ok(())
    }

    /// Adds a notifier, beside the configured ones.
    pub fn notifier(&mut self, port: Arc<dyn Notifier>) {
        self.ports.notifiers.push(port);
    }

    /// Sets the ticketing system, replacing the configured one.
    pub fn ticketing(&mut self, port: Arc<dyn Ticketing>) {
        self.ports.ticketing = Some(port);
    }

    /// Sets the artifact store, replacing the configured one.
    pub fn artifacts(&mut self, port: Arc<dyn ArtifactStore>) {
        self.ports.artifacts = Some(port);
    }

    /// Sets the backup port, replacing the configured one.
    pub fn backup(&mut self, port: Arc<dyn Backup>) {
        self.ports.backup = Some(port);
    }

    /// Lays these ports over `into` (see [`overlay`]).
    pub fn lay_over(self, into: &mut Ports) {
        overlay(into, self.ports);
    }
}

/// Lays `user` over `into`: a script's deploy targets replace an
/// environment's targets; its probes and notifiers are added; its ticketing,
/// artifact store and backup replace the configured ones.
pub fn overlay(into: &mut Ports, user: Ports) {
    for (env, list) in user.targets {
        into.targets.insert(env, list);
    }
    for (env, list) in user.checks {
        into.checks.entry(env).or_default().extend(list);
    }
    for (env, list) in user.smoke {
        into.smoke.entry(env).or_default().extend(list);
    }
    into.notifiers.extend(user.notifiers);
    if user.ticketing.is_some() {
        into.ticketing = user.ticketing;
    }
    if user.artifacts.is_some() {
        into.artifacts = user.artifacts;
    }
    if user.backup.is_some() {
        into.backup = user.backup;
    }
}

/// The ports of an in-memory manager: a build that makes `app.tar.gz` in a
/// scratch folder of its own (named after `language`, the process and a
/// counter), an in-memory artifact store, backup and notes.
pub fn default_ports(language: &str) -> Ports {
    Ports {
        builder: Some(Arc::new(MemoryBuilder::new(
            scratch_dir(language),
            vec![("app.tar.gz".into(), b"app".to_vec())],
        ))),
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(Arc::new(MemoryNotes::new())),
        ..Ports::default()
    }
}

/// A build folder of its own for each in-memory manager.
fn scratch_dir(language: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("shipwarden-{language}-{}-{n}", std::process::id()))
}
