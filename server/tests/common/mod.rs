//! What the server's integration tests share: the `Names` test verifier, an
//! in-process server on 127.0.0.1:0, and a small server-sent-events reader.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use shipwarden::Proof;
use shipwarden_server::{AppState, AuthError, Verified, Verify};

/// Bearer tokens that are user names (`test-rita`): for tests of routes, not of authentication.
pub struct Names;

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

/// A project name no other test run uses (for stores shared between runs).
pub fn unique_project() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("l{:x}", RandomState::new().hash_one(std::time::SystemTime::now()) & 0xffff_ffff_ffff)
}

/// The configuration template of `project`, on SQLite.
pub fn sqlite_config(project: &str) -> String {
    shipwarden_adapters::config::template(project)
}

/// The configuration template of `project`, on the PostgreSQL of `SHIPWARDEN_TEST_POSTGRES_URL`.
pub fn postgres_config(project: &str) -> String {
    shipwarden_adapters::config::template(project).replacen(
        "kind = \"sqlite\"",
        "kind = \"postgres\"\nurl_env = \"SHIPWARDEN_TEST_POSTGRES_URL\"\n#",
        1,
    )
}

/// The value of a variable that `scripts/test` sets when it starts a real
/// server. Without it the test is not run, with a note; with
/// `SHIPWARDEN_REQUIRE_SERVERS` set, a missing variable fails the test.
pub fn server_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) if std::env::var_os("SHIPWARDEN_REQUIRE_SERVERS").is_some() => {
            panic!("{name} is required (scripts/test starts the server and sets it)")
        }
        Err(_) => {
            eprintln!("NOTE: not run: set {name} (scripts/test starts the server and sets it)");
            None
        }
    }
}

/// A server in this process.
pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub state: Arc<AppState>,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// A server of the template project `shop` on SQLite.
    pub async fn start() -> Server {
        Server::with_config(&sqlite_config("shop")).await
    }

    /// A server of one project configured by `config`, in a new git repository.
    pub async fn with_config(config: &str) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        std::process::Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status().expect("git init");
        let path = dir.path().join("shipwarden.toml");
        std::fs::write(&path, config).expect("config");
        let state = AppState::open(&[&path]).await.expect("open").with_verifier(Arc::new(Names));
        Server::serve(state, dir).await
    }

    /// Serves `state` on a free loopback port.
    pub async fn serve(state: AppState, dir: tempfile::TempDir) -> Server {
        // reqwest is built without a default TLS provider (the workspace picks ring).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(shipwarden_server::serve(listener, state.clone(), std::future::pending()));
        Server { base, client: reqwest::Client::new(), state, dir }
    }

    pub async fn post(&self, user: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
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

    pub async fn get(&self, user: &str, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(format!("test-{user}"))
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    /// Subscribes to `path` as `user`, resuming after `last_id` if given.
    pub async fn subscribe(&self, user: &str, path: &str, last_id: Option<&str>) -> Events {
        let mut request = self.client.get(format!("{}{path}", self.base)).bearer_auth(format!("test-{user}"));
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("subscribe");
        assert_eq!(response.status().as_u16(), 200, "subscribe {path}");
        assert!(
            response.headers()["content-type"].to_str().is_ok_and(|t| t.starts_with("text/event-stream")),
            "{:?}",
            response.headers()
        );
        Events { response, buffer: String::new() }
    }

    /// Plans `{project}-{version}` as rita and has paul approve its scope.
    pub async fn plan_and_approve(&self, project: &str, version: &str) -> String {
        let (code, body) = self
            .post(
                "rita",
                &format!("/v1/projects/{project}/releases"),
                serde_json::json!({"version": version, "kind": "minor", "tickets": ["SHOP-1"]}),
            )
            .await;
        assert_eq!(code, 201, "{body}");
        let release = format!("{project}-{version}");
        let (code, body) = self
            .post("paul", &format!("/v1/releases/{release}/approvals"), serde_json::json!({"approval": "scope"}))
            .await;
        assert_eq!(code, 200, "{body}");
        release
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl Message {
    /// The data as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).expect("data is JSON")
    }
}

/// A stream of server-sent events, read as the text format says.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    /// The next event (comments skipped), or `None` when none comes within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut message = Message { id: None, event: "message".into(), data: String::new() };
                let mut any = false;
                for line in block.lines() {
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "" => continue, // a comment (keep-alive)
                        "id" => message.id = Some(value.to_owned()),
                        "event" => message.event = value.to_owned(),
                        "data" => {
                            if !message.data.is_empty() {
                                message.data.push('\n');
                            }
                            message.data.push_str(value);
                        }
                        _ => {}
                    }
                    any = true;
                }
                if any {
                    return Some(message);
                }
                continue;
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(std::str::from_utf8(&bytes).expect("utf-8")),
                _ => return None,
            }
        }
    }

    /// The next audit event, log lines skipped.
    pub async fn audit(&mut self, wait: Duration) -> Option<Message> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let message = self.next(left).await?;
            if message.event == "audit" {
                return Some(message);
            }
        }
    }

    /// Every audit event that comes within `wait` of the previous one.
    pub async fn audits_until_quiet(&mut self, wait: Duration) -> Vec<Message> {
        let mut all = Vec::new();
        while let Some(m) = self.audit(wait).await {
            all.push(m);
        }
        all
    }
}
