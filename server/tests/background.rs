//! The server's background work on a real SQLite store: after the scope
//! approval given through the API, the server itself builds, tags and deploys
//! to staging (the automatic steps up to the next human decision), once.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::Names;
use shipwarden_server::AppState;

fn git(repo: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

const CONFIG: &str = r#"
[project]
name = "shop"
ticket_prefix = "SHOP"
repository = "repo"

[engine]
lease_wait = "1s"

[users.rita]
roles = ["release_manager"]
[users.paul]
roles = ["product_owner"]

[build]
command = ["sh", "-c", "mkdir -p dist && echo shop $SHIPWARDEN_VERSION > dist/shop-$SHIPWARDEN_VERSION.txt"]
artifacts = { "shop.txt" = "dist/shop-{version}.txt" }

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "-c", "echo \"$SHIPWARDEN_KEY\" >> {LOG}"]
rollback = ["sh", "-c", "echo rolled back"]

[[environments.test.targets]]
name = "test-1"
deploy = ["sh", "-c", "echo \"$SHIPWARDEN_KEY\" >> {LOG}"]
rollback = ["sh", "-c", "echo rolled back"]

[[environments.prod.targets]]
name = "prod-1"
deploy = ["sh", "-c", "echo \"$SHIPWARDEN_KEY\" >> {LOG}"]
rollback = ["sh", "-c", "echo rolled back"]

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.calendar]
blackouts = []
"#;

#[tokio::test]
async fn the_server_drives_a_release_to_its_next_human_decision_once() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).expect("repo");
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("app.txt"), "v1").expect("file");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "SHOP-1: checkout"]);
    let config = dir.path().join("shipwarden.toml");
    let log = dir.path().join("deployments.log");
    std::fs::write(&config, CONFIG.replace("{LOG}", &log.display().to_string())).expect("config");
    let state = Arc::new(AppState::open(&[&config]).await.expect("open").with_verifier(Arc::new(Names)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(shipwarden_server::serve(listener, state.clone(), std::future::pending()));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let background = shipwarden_server::background::spawn(state.clone(), stopped).expect("background on by default");

    let client = reqwest::Client::new();
    let r = client
        .post(format!("{base}/v1/projects/shop/releases"))
        .bearer_auth("test-rita")
        .json(&serde_json::json!({"version": "1.0.0", "kind": "minor", "tickets": ["SHOP-1"]}))
        .send()
        .await
        .expect("plan");
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap_or_default());
    let r = client
        .post(format!("{base}/v1/releases/shop-1.0.0/approvals"))
        .bearer_auth("test-paul")
        .json(&serde_json::json!({"approval": "scope"}))
        .send()
        .await
        .expect("approve");
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap_or_default());

    // Nobody advances it: the server does, up to QA's evidence on staging.
    let mut stage = String::new();
    for _ in 0..300 {
        let status: serde_json::Value = client
            .get(format!("{base}/v1/releases/shop-1.0.0"))
            .bearer_auth("test-rita")
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("json");
        stage = status["state"]["stage"].as_str().unwrap_or_default().to_owned();
        if log.exists() && stage != "planned" && stage != "scope_approved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deployed = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(deployed.lines().count(), 1, "one deployment to staging, by the server: {deployed:?} (stage {stage})");
    // More passes change nothing: the release waits for people.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), deployed, "nothing ran twice");
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(10), background).await.expect("stops").expect("joined");
}
