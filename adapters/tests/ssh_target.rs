//! The SSH deploy target against a real sshd (`scripts/test` starts one on
//! loopback with a generated host key and user key): upload, deploy, status
//! after a crash, rollback to the previous release (R-8e, R-8g), host key
//! checking, and which failures are retryable.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use shipwarden::ports::{ArtifactStore, DeployRequest, DeployTarget, ErrorKind, LogSink, Lookup, RollbackRequest};
use shipwarden::{ArtifactRef, Version};
use shipwarden_adapters::artifacts::fs::FsArtifactStore;
use shipwarden_adapters::targets::ssh::{SshHost, SshTarget};

fn host() -> Option<SshHost> {
    Some(SshHost {
        host: common::server_env("SHIPWARDEN_TEST_SSH_HOST")?,
        port: common::server_env("SHIPWARDEN_TEST_SSH_PORT")?.parse().expect("port"),
        user: common::server_env("SHIPWARDEN_TEST_SSH_USER")?,
        identity: common::server_env("SHIPWARDEN_TEST_SSH_KEY")?.into(),
        known_hosts: common::server_env("SHIPWARDEN_TEST_SSH_KNOWN_HOSTS")?.into(),
    })
}

fn sh(script: &str) -> Vec<String> {
    vec!["sh".into(), "-c".into(), script.into()]
}

/// Deploy: point `current` at the release folder; rollback: point it at the previous one.
fn target(host: SshHost, dir: &Path, store: Arc<dyn ArtifactStore>) -> SshTarget {
    SshTarget::new(
        "web-1",
        host,
        dir.display().to_string(),
        sh("echo installing $SHIPWARDEN_VERSION from {artifacts}; ln -sfn releases/$SHIPWARDEN_VERSION current; \
            echo deployed {version} to {environment}"),
        sh(
            "test -n \"$SHIPWARDEN_PREVIOUS_VERSION\" || exit 9; ln -sfn releases/$SHIPWARDEN_PREVIOUS_VERSION current; \
            echo rolled back to $SHIPWARDEN_PREVIOUS_VERSION",
        ),
        store,
    )
}

async fn publish(store: &FsArtifactStore, scratch: &Path, version: &Version, content: &[u8]) -> ArtifactRef {
    let path = scratch.join(format!("app-{version}.tar"));
    std::fs::write(&path, content).expect("write");
    store.put("app.tar", version, &path).await.expect("put")
}

fn request(version: &Version, artifacts: Vec<ArtifactRef>, key: &str) -> DeployRequest {
    DeployRequest {
        release: format!("shop-{version}").parse().expect("release"),
        version: version.clone(),
        environment: "prod".parse().expect("env"),
        artifacts,
        key: key.into(),
    }
}

fn link(dir: &Path) -> PathBuf {
    std::fs::read_link(dir.join("current")).expect("current")
}

#[tokio::test]
async fn deploys_over_ssh_and_rolls_back_to_the_previous_release_r8e_r8g() {
    let Some(host) = host() else { return };
    let scratch = tempfile::tempdir().expect("tempdir");
    let remote = tempfile::tempdir().expect("remote dir");
    let store = Arc::new(FsArtifactStore::new(scratch.path().join("store")));
    let (v1, v2) = (Version::new(1, 0, 0), Version::new(1, 1, 0));
    let a1 = publish(&store, scratch.path(), &v1, b"release one").await;
    let a2 = publish(&store, scratch.path(), &v2, b"release two").await;
    let web = target(host, remote.path(), store.clone());

    let log = LogSink::default();
    let summary = web.deploy(&request(&v1, vec![a1.clone()], "deploy:prod:web-1:1"), &log).await.expect("deploy v1");
    assert_eq!(summary, "deployed 1.0.0 to prod");
    assert_eq!(std::fs::read(remote.path().join("releases/1.0.0/app.tar")).expect("uploaded"), b"release one");
    let log2 = LogSink::default();
    web.deploy(&request(&v2, vec![a2.clone()], "deploy:prod:web-1:2"), &log2).await.expect("deploy v2");
    assert_eq!(link(remote.path()), Path::new("releases/1.1.0"));
    // The remote command's output streamed into the step's log.
    let lines: Vec<String> = log2.take().into_iter().map(|l| l.text).collect();
    assert!(lines.iter().any(|l| l == "installing 1.1.0 from releases/1.1.0/app.tar"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("uploaded app.tar (11 bytes)")), "{lines:?}");

    // After a crash the engine asks instead of deploying again.
    assert_eq!(web.status("deploy:prod:web-1:2").await.expect("status"), Lookup::Done("deployed 1.1.0 to prod".into()));
    assert_eq!(web.status("deploy:prod:web-1:never").await.expect("status"), Lookup::Unsupported);

    // Deploying the same files again uploads nothing: the digest on the host is checked.
    let again = LogSink::default();
    web.deploy(&request(&v2, vec![a2.clone()], "deploy:prod:web-1:3"), &again).await.expect("again");
    assert!(again.take().iter().any(|l| l.text.contains("already on")));

    // Rollback (R-8g): the previous release's artifacts, re-uploaded if they were removed.
    std::fs::remove_dir_all(remote.path().join("releases/1.0.0")).expect("remove");
    let rollback = RollbackRequest {
        release: "shop-1.1.0".parse().expect("release"),
        environment: "prod".parse().expect("env"),
        previous: vec![a1.clone()],
        key: "rollback:prod:web-1:1".into(),
    };
    let summary = web.rollback(&rollback, &LogSink::default()).await.expect("rollback");
    assert_eq!(summary, "rolled back to 1.0.0");
    assert_eq!(link(remote.path()), Path::new("releases/1.0.0"));
    assert_eq!(std::fs::read(remote.path().join("releases/1.0.0/app.tar")).expect("re-uploaded"), b"release one");
    assert!(matches!(web.status("rollback:prod:web-1:1").await.expect("status"), Lookup::Done(_)));
}

#[tokio::test]
async fn command_failures_say_whether_a_retry_can_help() {
    let Some(host) = host() else { return };
    let scratch = tempfile::tempdir().expect("tempdir");
    let remote = tempfile::tempdir().expect("remote dir");
    let store: Arc<dyn ArtifactStore> = Arc::new(FsArtifactStore::new(scratch.path().join("store")));
    let v = Version::new(2, 0, 0);
    let fail = |script: &str| {
        SshTarget::new(
            "web-2",
            host.clone(),
            remote.path().display().to_string(),
            sh(script),
            sh("true"),
            store.clone(),
        )
    };
    let err =
        fail("echo busy >&2; exit 75").deploy(&request(&v, vec![], "k1"), &LogSink::default()).await.expect_err("75");
    assert!(err.retryable && err.kind == ErrorKind::Unavailable, "{err}");
    let err = fail("echo broken config >&2; exit 2")
        .deploy(&request(&v, vec![], "k2"), &LogSink::default())
        .await
        .expect_err("2");
    assert!(!err.retryable, "{err}");
    assert!(
        err.to_string().contains("deploy-target web-2 deploy") && err.to_string().contains("exit 2: broken config"),
        "{err}"
    );
    // A failed deployment leaves no marker: the engine will not take it for done.
    assert_eq!(fail("true").status("k2").await.expect("status"), Lookup::Unsupported);
}

#[tokio::test]
async fn an_unknown_host_key_is_refused_and_not_retried() {
    let Some(mut host) = host() else { return };
    let scratch = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn ArtifactStore> = Arc::new(FsArtifactStore::new(scratch.path().join("store")));
    // A known_hosts file that names another key for this host.
    let other = scratch.path().join("other_key");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let public = std::fs::read_to_string(other.with_extension("pub")).expect("pub");
    let known = scratch.path().join("known_hosts");
    let line =
        format!("[{}]:{} {}", host.host, host.port, public.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
    std::fs::write(&known, line + "\n").expect("known_hosts");
    host.known_hosts = known;
    let web = SshTarget::new("web-3", host.clone(), "/tmp", sh("true"), sh("true"), store.clone());
    let err = web.status("k").await.expect_err("host key");
    assert_eq!(err.kind, ErrorKind::Rejected, "{err}");
    assert!(!err.retryable);
    assert!(err.to_string().to_lowercase().contains("host key"), "{err}");

    // Nothing listening: retryable.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    host.port = listener.local_addr().expect("addr").port();
    drop(listener);
    let web = SshTarget::new("web-4", host, "/tmp", sh("true"), sh("true"), store);
    let err = web.status("k").await.expect_err("refused");
    assert!(err.retryable, "{err}");
}

/// Whether process `pid` still runs (a zombie does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

#[tokio::test]
async fn a_remote_command_dies_with_its_connection_r8e_r9d() {
    // Issue #18: killing ssh (the driver gone, a timeout, a step dropped) left the remote command running,
    // so a deployment resolved as failed and run again overlapped the first one on the host.
    let Some(host) = host() else { return };
    let scratch = tempfile::tempdir().expect("tempdir");
    let remote = tempfile::tempdir().expect("remote dir");
    let store: Arc<dyn ArtifactStore> = Arc::new(FsArtifactStore::new(scratch.path().join("store")));
    let pid_file = remote.path().join("deploy.pid");
    let deploy = sh("echo $$ > deploy.pid; exec sleep 30");
    let web = SshTarget::new("web-5", host, remote.path().display().to_string(), deploy, sh("true"), store)
        .with_timeout(std::time::Duration::from_secs(3));
    let started = std::time::Instant::now();
    let err = web.deploy(&request(&Version::new(3, 0, 0), vec![], "deploy:prod:web-5:1"), &LogSink::default()).await;
    let err = err.expect_err("cut short by the timeout");
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    let pid: u32 = std::fs::read_to_string(&pid_file).expect("the remote command started").trim().parse().expect("pid");
    // The sshd here is local, so the remote process is visible: it is gone within a couple of seconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while alive(pid) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!alive(pid), "the remote `sleep 30` (pid {pid}) outlived its connection");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // A command that ends by itself is not disturbed, and its exit status and output come back as before.
    let ok = LogSink::default();
    let web = SshTarget::new(
        "web-6",
        self::host().expect("host"),
        remote.path().display().to_string(),
        sh("sleep 0.3; echo deployed"),
        sh("true"),
        Arc::new(FsArtifactStore::new(scratch.path().join("store"))),
    );
    let summary = web.deploy(&request(&Version::new(3, 0, 1), vec![], "deploy:prod:web-6:1"), &ok).await;
    assert_eq!(summary.expect("deploy"), "deployed");
}
