//! The API over HTTP, in process, on a real SQLite store: plan, status,
//! approve, and the problem documents of refusals and bad requests.

use std::sync::Arc;

use shipwarden::Proof;
use shipwarden_server::{AppState, AuthError, Verified, Verify};

/// Bearer tokens that are user names: for tests of routes, not of authentication.
struct Names;

#[async_trait::async_trait]
impl Verify for Names {
    async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError> {
        Ok(token.strip_prefix("test-").map(|user| Verified {
            user: user.to_owned(),
            groups: Default::default(),
            proof: Proof::Token { id: format!("test-{user}") },
            scopes: None,
        }))
    }
}

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        // reqwest is built without a default TLS provider (the workspace picks ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("tempdir");
        std::process::Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status().expect("git init");
        let config = dir.path().join("shipwarden.toml");
        std::fs::write(&config, shipwarden_adapters::config::template("shop")).expect("config");
        let state = AppState::open(&[&config]).await.expect("open").with_verifier(Arc::new(Names));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(shipwarden_server::serve(listener, Arc::new(state), std::future::pending()));
        Server { base, client: reqwest::Client::new(), _dir: dir }
    }

    async fn post(&self, user: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(format!("test-{user}"))
            .json(&body)
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    async fn get(&self, user: &str, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(format!("test-{user}"))
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.expect("json"))
    }
}

#[tokio::test]
async fn plan_status_and_approve_through_the_api() {
    let s = Server::start().await;
    let (code, body) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["stage"], "planned", "{body}");
    let (code, body) = s.get("quinn", "/v1/releases/shop-1.4.0").await;
    assert_eq!(code, 200, "{body}");
    let (code, body) =
        s.post("paul", "/v1/releases/shop-1.4.0/approvals", serde_json::json!({"approval": "scope"})).await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test]
async fn a_refusal_is_problem_json_naming_the_rule_r5b() {
    let s = Server::start().await;
    // An emergency release without its hotfix ticket and justification.
    let (code, body) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({"version": "1.4.1", "kind": "emergency", "tickets": ["SHOP-1"]}),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["code"], "REFUSED", "{body}");
    assert_eq!(body["rule"], "R-5b", "{body}");
    assert!(body["unmet"].as_array().is_some_and(|u| !u.is_empty()), "{body}");
    // A role the caller does not hold.
    let (code, _) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({"version": "1.4.0", "kind": "minor", "tickets": ["SHOP-1"]}),
        )
        .await;
    assert_eq!(code, 201);
    let (code, body) =
        s.post("quinn", "/v1/releases/shop-1.4.0/approvals", serde_json::json!({"approval": "scope"})).await;
    assert_eq!(code, 403, "{body}");
}

#[tokio::test]
async fn no_identity_is_401_and_an_unseen_project_is_404() {
    let s = Server::start().await;
    let r = s.client.get(format!("{}/v1/releases/shop-1.4.0", s.base)).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (code, body) = s.get("mallory", "/v1/releases/shop-1.4.0").await;
    assert_eq!(code, 404, "{body}");
    let (code, body) = s
        .post("rita", "/v1/projects/elsewhere/releases", serde_json::json!({"version": "1.0.0", "kind": "minor"}))
        .await;
    assert_eq!(code, 404, "{body}");
}
