//! A release from plan to prod and back through rollback, on the adapters
//! teams run, against the real servers `scripts/test` starts: artifacts in an
//! OCI registry, targets deployed over SSH, a PostgreSQL backup taken before
//! prod and restored on rollback, notices by SMTP (R-1d, R-8c, R-8e, R-8f,
//! R-8g, R-9a).
//!
//! Release 1.0.0 goes all the way to closed. Release 2.0.0 migrates the
//! database on its way to prod, its smoke test fails there (the new version's
//! health check answers 500), and the engine rolls every prod target back to
//! 1.0.0 over SSH, restores the database from the backup it took before
//! deploying, and tells the teams by mail.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use shipwarden::engine::{EngineConfig, ReleaseManager};
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;
use shipwarden_adapters::artifacts::oci::{OciArtifactStore, OciAuth, OciOptions};
use shipwarden_adapters::backup::postgres::PgBackup;
use shipwarden_adapters::notify::smtp::{SmtpNotifier, SmtpSecurity, SmtpSettings};
use shipwarden_adapters::targets::ssh::{SshHost, SshTarget};
use shipwarden_e2e::{drive_version, psql, server_env, unique};

struct Servers {
    registry: String,
    ssh: SshHost,
    postgres: String,
    smtp_port: u16,
    smtp_ca: Vec<u8>,
    maildir: PathBuf,
}

fn servers() -> Option<Servers> {
    Some(Servers {
        registry: server_env("SHIPWARDEN_TEST_OCI_REGISTRY")?,
        ssh: SshHost {
            host: server_env("SHIPWARDEN_TEST_SSH_HOST")?,
            port: server_env("SHIPWARDEN_TEST_SSH_PORT")?.parse().expect("port"),
            user: server_env("SHIPWARDEN_TEST_SSH_USER")?,
            identity: server_env("SHIPWARDEN_TEST_SSH_KEY")?.into(),
            known_hosts: server_env("SHIPWARDEN_TEST_SSH_KNOWN_HOSTS")?.into(),
        },
        postgres: server_env("SHIPWARDEN_TEST_POSTGRES_URL")?,
        smtp_port: server_env("SHIPWARDEN_TEST_SMTP_STARTTLS_PORT")?.parse().expect("port"),
        smtp_ca: std::fs::read(server_env("SHIPWARDEN_TEST_SMTP_CA")?).expect("ca"),
        maildir: server_env("SHIPWARDEN_TEST_SMTP_MAILDIR")?.into(),
    })
}

/// The smoke test of prod: the version a host runs answers its health check, except 2.0.0, which answers 500.
struct HealthCheck {
    hosts: Vec<PathBuf>,
}

#[async_trait]
impl Probe for HealthCheck {
    fn name(&self) -> &str {
        "GET /health"
    }

    async fn check(&self, _environment: &EnvName) -> Result<Vec<Measurement>, PortError> {
        let mut out = Vec::new();
        for dir in &self.hosts {
            let current = std::fs::read_link(dir.join("current")).unwrap_or_default();
            if current.ends_with("2.0.0") {
                return Err(PortError::permanent(
                    "smoke GET /health",
                    "check",
                    format!("{} answered 500", dir.display()),
                ));
            }
            out.push(Measurement {
                gate: GateId::ResponseTime,
                value: 80.0,
                target: None,
                source: "GET /health".into(),
            });
        }
        Ok(out)
    }
}

struct World {
    servers: Servers,
    scratch: tempfile::TempDir,
    namespace: String,
    app_db: String,
    /// The folder each target deploys into, by environment.
    dirs: Vec<(String, String, PathBuf)>,
}

impl World {
    fn manager(&self, store: Arc<dyn EventStore>, content: &[u8]) -> ReleaseManager {
        let s = &self.servers;
        let artifacts: Arc<dyn ArtifactStore> = Arc::new(
            OciArtifactStore::new(
                &s.registry,
                &self.namespace,
                OciAuth::Anonymous,
                OciOptions { insecure_http: true, ..OciOptions::default() },
            )
            .expect("registry"),
        );
        let build = self.scratch.path().join(format!("build-{}", content.len()));
        let mut ports = shipwarden::engine::Ports {
            artifacts: Some(artifacts.clone()),
            builder: Some(Arc::new(MemoryBuilder::new(build, vec![("app.tar".into(), content.to_vec())]))),
            backup: Some(Arc::new(
                PgBackup::new(self.scratch.path().join("backups"))
                    .with_database("prod".parse().expect("env"), &self.app_db)
                    .expect("database"),
            )),
            notes: Some(Arc::new(MemoryNotes::new())),
            ..Default::default()
        };
        let smtp = SmtpSettings {
            host: "localhost".into(),
            port: s.smtp_port,
            security: SmtpSecurity::StartTls,
            credentials: None,
            extra_roots_pem: vec![s.smtp_ca.clone()],
            timeout: Duration::from_secs(10),
        };
        let mail = SmtpNotifier::new("Releases <releases@shop.example>", smtp)
            .expect("smtp")
            .with_recipients("teams", &[format!("eng+{}@shop.example", self.namespace.replace('/', "."))])
            .expect("teams");
        ports.notifiers = vec![Arc::new(mail)];
        // Deploy: point `current` at the release; on prod-1 also migrate the database (a column per version).
        let deploy = vec![
            "sh".into(),
            "-c".into(),
            "ln -sfn releases/$SHIPWARDEN_VERSION current && \
             if [ -n \"$MIGRATE_DB\" ]; then psql -X -q -d \"$MIGRATE_DB\" -c \
             \"ALTER TABLE orders ADD COLUMN v_$(echo $SHIPWARDEN_VERSION | tr . _) int\"; fi && \
             echo now running $SHIPWARDEN_VERSION"
                .into(),
        ];
        let rollback = vec![
            "sh".into(),
            "-c".into(),
            "ln -sfn releases/$SHIPWARDEN_PREVIOUS_VERSION current && echo back on $SHIPWARDEN_PREVIOUS_VERSION".into(),
        ];
        for (env, name, dir) in &self.dirs {
            let mut target = SshTarget::new(
                name.clone(),
                s.ssh.clone(),
                dir.display().to_string(),
                deploy.clone(),
                rollback.clone(),
                artifacts.clone(),
            );
            if name == "prod-1" {
                target = target.with_env("MIGRATE_DB", &self.app_db);
            }
            ports.targets.entry(env.parse().expect("env")).or_default().push(Arc::new(target));
        }
        let prod_dirs = self.dirs.iter().filter(|(e, _, _)| e == "prod").map(|(_, _, d)| d.clone()).collect();
        let env = |name: &str| -> EnvName { name.parse().expect("env") };
        let host = [
            (GateId::Cpu, 20.0),
            (GateId::Memory, 30.0),
            (GateId::DiskFree, 60.0),
            (GateId::TlsDaysLeft, 80.0),
            (GateId::DbConnectivity, 1.0),
            (GateId::Network, 1.0),
        ];
        ports.checks.insert(env("prod"), vec![Arc::new(StaticProbe::new("host", &host))]);
        ports.smoke.insert(env("prod"), vec![Arc::new(HealthCheck { hosts: prod_dirs })]);
        let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().expect("time")));
        ReleaseManager::builder(store).clock(clock).ports(ports).config(EngineConfig::default()).build()
    }

    fn current(&self, name: &str) -> PathBuf {
        let dir = &self.dirs.iter().find(|(_, n, _)| n == name).expect("target").2;
        std::fs::read_link(dir.join("current")).expect("current")
    }

    /// The mails to the teams address, by subject.
    fn subjects(&self) -> Vec<String> {
        let to = format!("eng+{}@shop.example", self.namespace.replace('/', "."));
        let mut subjects = Vec::new();
        for entry in std::fs::read_dir(self.servers.maildir.join("new")).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if text.contains(&to)
                && let Some(subject) = text.lines().find_map(|l| l.strip_prefix("Subject: "))
            {
                subjects.push(subject.to_owned());
            }
        }
        subjects.sort();
        subjects
    }
}

fn folder(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_rolls_back_over_ssh_restores_postgres_and_mails_the_teams_r8g() {
    let Some(servers) = servers() else { return };
    let scratch = tempfile::tempdir().expect("tempdir");
    let app = unique("shop_");
    psql(&servers.postgres, &format!("CREATE DATABASE {app}"));
    let app_db = format!("{}/{app}", servers.postgres.rsplit_once('/').expect("url").0);
    psql(&app_db, "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1,'a'),(2,'b')");
    let hosts = folder(scratch.path(), "hosts");
    let dirs = [("staging", "staging-1"), ("test", "test-1"), ("prod", "prod-1"), ("prod", "prod-2")]
        .into_iter()
        .map(|(e, n)| (e.to_owned(), n.to_owned(), folder(&hosts, n)))
        .collect();
    let world = World { servers, namespace: unique("e2e/shop-"), scratch, app_db, dirs };
    let store = shipwarden_e2e::open_store(&format!("sqlite:{}", world.scratch.path().join("releases.db").display()))
        .await
        .expect("store");

    // 1.0.0: all the way.
    let v1 = Version::new(1, 0, 0);
    let manager = world.manager(store.clone(), b"shop 1.0.0");
    assert_eq!(drive_version(&manager, "shop", &v1).await.expect("1.0.0"), Stage::Closed);
    for name in ["staging-1", "test-1", "prod-1", "prod-2"] {
        assert_eq!(world.current(name), Path::new("releases/1.0.0"), "{name}");
    }
    let prod_dir = &world.dirs[2].2;
    assert_eq!(std::fs::read(prod_dir.join("releases/1.0.0/app.tar")).expect("uploaded"), b"shop 1.0.0");
    assert_eq!(
        psql(&world.app_db, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'v_1_0_0'"),
        "1"
    );

    // 2.0.0: migrates, fails its smoke test in prod, is rolled back.
    let v2 = Version::new(2, 0, 0);
    let manager = world.manager(store.clone(), b"shop 2.0.0, slower");
    assert_eq!(drive_version(&manager, "shop", &v2).await.expect("2.0.0"), Stage::RolledBack);
    for name in ["prod-1", "prod-2"] {
        assert_eq!(world.current(name), Path::new("releases/1.0.0"), "{name} is back on 1.0.0 (R-8g)");
    }
    // The database is as the backup taken before prod left it: 1.0.0's column, not 2.0.0's, every row.
    let columns = psql(
        &world.app_db,
        "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns \
         WHERE table_name = 'orders'",
    );
    assert_eq!(columns, "id,item,v_1_0_0");
    assert_eq!(psql(&world.app_db, "SELECT count(*) FROM orders"), "2");

    // The registry holds both versions: the previous one stays for rollback (R-8c).
    let registry = OciArtifactStore::new(
        &world.servers.registry,
        &world.namespace,
        OciAuth::Anonymous,
        OciOptions { insecure_http: true, ..OciOptions::default() },
    )
    .expect("registry");
    assert_eq!(registry.versions("app.tar").await.expect("versions"), vec![v1, v2.clone()]);

    // What the record says, and what the teams were told by mail (R-9a).
    let state = manager.status(&ReleaseId::for_version("shop", &v2).expect("id")).await.expect("status").state;
    let kinds: Vec<String> = state.steps.iter().map(|s| format!("{:?}", s.step)).collect();
    for step in ["Backup", "RestoreTest", "Rollback", "RestoreDatabase"] {
        assert!(kinds.iter().any(|k| k == step), "{step} not in {kinds:?}");
    }
    let subjects = world.subjects();
    assert!(subjects.iter().any(|s| s == "Released shop 1.0.0"), "{subjects:?}");
    assert!(subjects.iter().any(|s| s == "Rollback on prod"), "{subjects:?}");
}
