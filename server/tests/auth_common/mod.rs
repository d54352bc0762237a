//! What the identity and authorization tests share: projects on real SQLite
//! stores, the server on a loopback port, tokens from the real OpenID provider
//! that `scripts/test` starts (`sw_start_oidc`), API tokens from the real store.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::header::HeaderMap;
use serde_json::Value;
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

/// `[server.oidc]` of the provider at `issuer` and `[server.console]` with its console client (issue #22).
pub fn console_toml(issuer: &str) -> String {
    format!(
        "[server.oidc]\nissuer = \"{issuer}\"\naudience = \"shipwarden\"\n\n\
         [server.console]\nclient_id = \"shipwarden-console\"\nresource = \"urn:shipwarden\"\n\
         scopes = [\"openid\", \"api\"]\n"
    )
}

/// A browser: no redirect followed by itself, one cookie jar for every
/// server on 127.0.0.1 (cookies do not tell ports apart).
pub struct Browser {
    client: reqwest::Client,
    cookies: BTreeMap<String, String>,
    /// Every `Set-Cookie` line of the last answer.
    pub set_cookies: Vec<String>,
}

impl Browser {
    pub fn new() -> Browser {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Browser { client, cookies: BTreeMap::new(), set_cookies: Vec::new() }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn go(&mut self, method: &str, url: &str, form: Option<&[(&str, &str)]>) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, url).header("cookie", self.cookie_header());
        if let Some(form) = form {
            let body: String = form
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace('%', "%25").replace('&', "%26").replace('=', "%3D")))
                .collect::<Vec<_>>()
                .join("&");
            request = request.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let response = request.send().await.expect("send");
        self.take(response.headers());
        response
    }

    pub fn take(&mut self, headers: &HeaderMap) {
        self.set_cookies =
            headers.get_all("set-cookie").iter().filter_map(|h| h.to_str().ok()).map(str::to_owned).collect();
        for line in &self.set_cookies {
            let pair = line.split(';').next().unwrap_or_default();
            let Some((name, value)) = pair.split_once('=') else { continue };
            let expired = line.to_ascii_lowercase().contains("max-age=0");
            if value.is_empty() || expired {
                self.cookies.remove(name.trim());
            } else {
                self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }

    /// The `Set-Cookie` line of the last answer for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&String> {
        self.set_cookies.iter().find(|l| l.starts_with(&format!("{name}=")))
    }

    /// Goes from `/console/login?next=…` through the provider's login and
    /// consent pages as `user`, up to (not into) the console's callback: its URL.
    pub async fn through_provider(&mut self, base: &str, next: &str, user: &str) -> String {
        let response = self.go("GET", &format!("{base}/console/login?next={next}"), None).await;
        assert_eq!(response.status().as_u16(), 302, "{:?}", response.text().await);
        assert!(self.set_cookie("sw_login").is_some(), "the sign-in is bound to this browser");
        let mut location = response.headers()["location"].to_str().expect("location").to_owned();
        let authorize = reqwest::Url::parse(&location).expect("url");
        let q: BTreeMap<String, String> = authorize.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "shipwarden-console");
        assert_eq!(q["redirect_uri"], format!("{base}/console/callback"));
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43, "S256 of a 32-byte verifier");
        assert_eq!(q["state"].len(), 43, "256 random bits");
        assert_eq!(q["resource"], "urn:shipwarden");
        for _ in 0..12 {
            if location.starts_with(&format!("{base}/console/callback")) {
                return location;
            }
            let url = reqwest::Url::parse(&location).expect("url");
            let response = if url.path().contains("/interaction/") {
                let page = self.go("GET", &location, None).await.text().await.expect("page");
                let form: &[(&str, &str)] = if page.contains("name=\"login\"") {
                    &[("prompt", "login"), ("login", user), ("password", "any")]
                } else {
                    &[("prompt", "consent")]
                };
                self.go("POST", &location, Some(form)).await
            } else {
                self.go("GET", &location, None).await
            };
            let here = response.url().clone();
            let Some(next) = response.headers().get("location") else {
                panic!("the sign-in stopped at {}: {}", response.status(), response.text().await.unwrap_or_default())
            };
            location = here.join(next.to_str().expect("location")).expect("url").to_string();
        }
        panic!("the sign-in did not come back to the console");
    }

    /// Signs in as `user`; the callback's answer.
    pub async fn sign_in(&mut self, base: &str, next: &str, user: &str) -> reqwest::Response {
        let callback = self.through_provider(base, next, user).await;
        self.go("GET", &callback, None).await
    }

    /// `method path` on the server with the cookies, `extra` headers and a JSON body (non-GET).
    pub async fn call(&mut self, base: &str, method: &str, path: &str, extra: &[(&str, &str)], body: Value) -> Answer {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request =
            self.client.request(m.clone(), format!("{base}{path}")).header("cookie", self.cookie_header());
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        if m != reqwest::Method::GET {
            request = request.json(&body);
        }
        let response = request.send().await.expect("send");
        self.take(response.headers());
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Answer { status, headers, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }
}
