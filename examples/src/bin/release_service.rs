//! A small service that embeds shipwarden: its own deploy target (a folder
//! per host, where "installing" writes the version), a SQLite event store,
//! and a release driven from plan to close, with people's approvals and
//! evidence recorded between the engine's runs.
//!
//! Run it with `cargo run -p shipwarden-examples --bin release-service`.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use shipwarden::engine::{Ports, ReleaseManager, RunOutcome};
use shipwarden::ports::memory::{MemoryArtifacts, MemoryBackup, MemoryBuilder, StaticProbe};
use shipwarden::ports::{
    DeployRequest, DeployTarget, ErrorKind, LogSink, LogStream, Lookup, PortError, RollbackRequest,
};
use shipwarden::*;
use shipwarden_adapters::store::sqlite::SqliteStore;

/// Our own deploy target: a host is a folder; deploying writes the version
/// to `current`, keeps the one before in `previous`, and records the key.
struct FolderHost {
    name: String,
    dir: PathBuf,
}

impl FolderHost {
    fn io(&self, operation: &str) -> impl Fn(std::io::Error) -> PortError + '_ {
        let operation = operation.to_owned();
        move |e| PortError::new(format!("host {}", self.name), operation.clone(), ErrorKind::Unavailable, e.to_string())
    }
}

#[async_trait]
impl DeployTarget for FolderHost {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &DeployRequest, log: &LogSink) -> Result<String, PortError> {
        tokio::fs::create_dir_all(&self.dir).await.map_err(self.io("deploy"))?;
        let current = self.dir.join("current");
        if let Ok(old) = tokio::fs::read_to_string(&current).await {
            tokio::fs::write(self.dir.join("previous"), old).await.map_err(self.io("deploy"))?;
        }
        tokio::fs::write(&current, request.version.to_string()).await.map_err(self.io("deploy"))?;
        tokio::fs::write(self.dir.join(&request.key), "done").await.map_err(self.io("deploy"))?;
        log.line(LogStream::Stdout, format!("{} now runs {}", self.name, request.version));
        Ok(format!("{} runs {}", self.name, request.version))
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let done = tokio::fs::try_exists(self.dir.join(key)).await.map_err(self.io("status"))?;
        Ok(if done { Lookup::Done(format!("{} has {key}", self.name)) } else { Lookup::NotFound })
    }

    async fn rollback(&self, request: &RollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let previous = tokio::fs::read_to_string(self.dir.join("previous")).await.unwrap_or_default();
        tokio::fs::write(self.dir.join("current"), &previous).await.map_err(self.io("rollback"))?;
        tokio::fs::write(self.dir.join(&request.key), "done").await.map_err(self.io("rollback"))?;
        log.line(LogStream::Stdout, format!("{} back on {previous}", self.name));
        Ok(format!("{} back on {previous}", self.name))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(dir.path().join("releases.db")).await?);

    let env = |name: &str| -> Result<EnvName, ParseError> { name.parse() };
    let mut ports = Ports {
        builder: Some(Arc::new(MemoryBuilder::new(
            dir.path().join("build"),
            vec![("shop.tar.gz".into(), b"shop 1.4.0".to_vec())],
        ))),
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        backup: Some(Arc::new(MemoryBackup::new())),
        ..Ports::default()
    };
    for e in ["staging", "test", "prod"] {
        let hosts: Vec<Arc<dyn DeployTarget>> = (1..=2)
            .map(|i| {
                Arc::new(FolderHost {
                    name: format!("{e}-{i}"),
                    dir: dir.path().join("hosts").join(format!("{e}-{i}")),
                }) as Arc<dyn DeployTarget>
            })
            .collect();
        ports.targets.insert(env(e)?, hosts);
    }
    let host = [
        (GateId::Cpu, 22.0),
        (GateId::Memory, 41.0),
        (GateId::DiskFree, 63.0),
        (GateId::TlsDaysLeft, 75.0),
        (GateId::DbConnectivity, 1.0),
        (GateId::Network, 1.0),
    ];
    ports.checks.insert(env("prod")?, vec![Arc::new(StaticProbe::new("host metrics", &host))]);
    ports.smoke.insert(env("prod")?, vec![Arc::new(StaticProbe::new("GET /health", &[(GateId::ResponseTime, 64.0)]))]);

    // Deployments happen on Saturday morning, outside the Mon-Fri blackout.
    let clock = Arc::new(shipwarden::ports::ManualClock::new("2026-11-28T09:30:00Z".parse()?));
    let manager = ReleaseManager::builder(store).clock(clock).ports(ports).build();

    let rita = Actor::new("rita", [Role::ReleaseManager]);
    let paul = Actor::new("paul", [Role::ProductOwner]);
    let quinn = Actor::new("quinn", [Role::QaLead]);
    let ci = Actor::new("ci", []);
    let mut plan = Plan::new("shop-1.4.0".parse()?, "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    plan.scope = vec!["SHOP-12".parse()?, "SHOP-13".parse()?];
    let id = plan.release.clone();
    manager.plan(&rita, plan).await?;

    // People act between the engine's runs; each run goes as far as it can.
    loop {
        match manager.run(&id, None).await? {
            RunOutcome::Waiting(waiting) => {
                println!("waiting in {}:\n  {}", waiting.stage, waiting.refusal);
                match waiting.stage {
                    Stage::Planned => {
                        manager
                            .approve(
                                &id,
                                &paul,
                                ApprovalId::Scope,
                                Role::ProductOwner,
                                Channel::TicketComment,
                                "scope ok",
                            )
                            .await?;
                    }
                    Stage::StagingDeployed => {
                        manager
                            .record_evidence(&id, &ci, Evidence::new(GateId::Coverage, 0.92, "target/lcov.info"))
                            .await?;
                        manager
                            .record_evidence(&id, &ci, Evidence::new(GateId::P95Latency, 143.0, "jmeter/results.jtl"))
                            .await?;
                        manager
                            .record_evidence(
                                &id,
                                &ci,
                                Evidence::new(GateId::CriticalBugs, 0.0, "jira: fixVersion = 1.4.0"),
                            )
                            .await?;
                        manager
                            .approve(&id, &quinn, ApprovalId::QaSignoff, Role::QaLead, Channel::Email, "tests pass")
                            .await?;
                    }
                    Stage::QaVerified => {
                        manager
                            .report_step(
                                &id,
                                &quinn,
                                StepKind::IntegrationTests,
                                Some(env("staging")?),
                                StepOutcome::ok("412 passed"),
                            )
                            .await?;
                    }
                    Stage::IntegrationTested => {
                        manager
                            .report_step(&id, &paul, StepKind::Demo, Some(env("test")?), StepOutcome::ok("demoed"))
                            .await?;
                    }
                    Stage::TestDeployed => {
                        manager
                            .record_evidence(
                                &id,
                                &paul,
                                Evidence::new(GateId::DocsReviewed, 1.0, "wiki/shop/1.4.0 reviewed by paul"),
                            )
                            .await?;
                        manager
                            .approve(
                                &id,
                                &paul,
                                ApprovalId::Acceptance,
                                Role::ProductOwner,
                                Channel::TicketComment,
                                "accepted",
                            )
                            .await?;
                    }
                    Stage::ScopeApproved => {
                        manager
                            .record_evidence(
                                &id,
                                &ci,
                                Evidence::new(GateId::UntrackedCommits, 0.0, "git log v1.3.0..HEAD"),
                            )
                            .await?;
                        manager
                            .report_step(&id, &rita, StepKind::Tag, None, StepOutcome::ok("git tag -a v1.4.0 pushed"))
                            .await?;
                    }
                    other => return Err(format!("nobody here knows what to do in {other}").into()),
                }
            }
            outcome => {
                println!("done: {outcome:?}");
                break;
            }
        }
    }

    let history = manager.history(&id).await?;
    let head = shipwarden::audit::verify(&history)?;
    println!("{} events, audit chain verified, head {}", history.len(), &head.as_str()[..16]);
    let prod = std::fs::read_to_string(dir.path().join("hosts/prod-1/current"))?;
    println!("prod-1 runs {prod}");
    assert_eq!(prod, "1.4.0");
    Ok(())
}
