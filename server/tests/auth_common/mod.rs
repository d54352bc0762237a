//! What the identity and authorization tests share: projects on real SQLite
//! stores, the server on a loopback port, tokens from the real OpenID provider
//! that `scripts/test` starts (`sw_start_oidc`), API tokens from the real store.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use shipwarden_server::{AppState, Verify};

/// The value of a variable `scripts/test` sets when it starts a server; without
/// it the test is not run (a note says so), unless `SHIPWARDEN_REQUIRE_SERVERS`
/// is set: then it fails.
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

/// The trusted OpenID issuer, if the provider runs.
pub fn issuer() -> Option<String> {
    server_env("SHIPWARDEN_TEST_OIDC_ISSUER")
}

/// A project `name` in a fresh folder (a git repository): the template's
/// configuration plus `extra` TOML; returns its `shipwarden.toml`.
pub fn project(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("folder");
    std::process::Command::new("git").args(["init", "-q"]).current_dir(&folder).status().expect("git init");
    let config = folder.join("shipwarden.toml");
    std::fs::write(&config, format!("{}\n{extra}\n", shipwarden_adapters::config::template(name))).expect("config");
    config
}

/// A running server.
pub struct Served {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client for it.
    pub client: reqwest::Client,
}

/// Serves `configs` (with the verifiers they configure, plus `extra`).
pub async fn serve(configs: &[PathBuf], extra: Vec<Arc<dyn Verify>>) -> Served {
    // reqwest is built without a default TLS provider (the workspace picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let state = AppState::open(configs).await.expect("open");
    let state = extra.into_iter().fold(state, AppState::with_verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(shipwarden_server::serve(listener, Arc::new(state), std::future::pending()));
    Served { base, client: reqwest::Client::new() }
}

/// An answer: status, headers, body (JSON, or the text as a JSON string).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: serde_json::Value,
}

impl Served {
    /// `method path` with `token` (none: no Authorization header) and a JSON body for non-GET.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: serde_json::Value) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if method != reqwest::Method::GET && method != reqwest::Method::HEAD {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Answer { status, headers, body }
    }

    /// `GET path` with `token`.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), serde_json::Value::Null).await
    }

    /// `POST path` with `token` and `body`.
    pub async fn post(&self, path: &str, token: &str, body: serde_json::Value) -> Answer {
        self.call("POST", path, Some(token), body).await
    }
}

/// An access token (JWT) for `user` from the provider at `issuer`, obtained
/// through its authorization-code flow with PKCE (its `/__test/token` helper
/// drives its own login and consent pages), for `resource`; `other`: from the
/// other issuer (same keys).
pub async fn oidc_token(issuer: &str, user: &str, resource: &str, other: bool) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut url = format!("{issuer}/__test/token?user={user}&resource={resource}");
    if other {
        url.push_str("&issuer=other");
    }
    let response = reqwest::get(&url).await.expect("the OpenID provider answers");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "token for {user}: {status} {text}");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["access_token"].as_str().expect("access_token").to_owned()
}

/// An API token for `user` with `scopes`, created in the store of the project at `config`.
pub async fn api_token(config: &Path, user: &str, scopes: &[&str], expires: Option<jiff::Timestamp>) -> String {
    use secrecy::ExposeSecret;
    let loaded = shipwarden_adapters::config::Loaded::read(config).expect("read");
    let store = shipwarden_adapters::tokens::TokenStore::open(&loaded).await.expect("tokens");
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let (_, token) = store.create(user, &scopes, expires, "tests").await.expect("create");
    token.expose_secret().to_owned()
}

/// Base64url (no padding) of `bytes`.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The JSON of a JWT's part `i` (0: header, 1: claims).
pub fn jwt_part(token: &str, i: usize) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(i).expect("part");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}
