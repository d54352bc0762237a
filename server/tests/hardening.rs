//! What stands between the network and the routes (issue #21, item 7), over
//! real sockets on a real SQLite store: malformed and oversized bodies (also
//! with a lying `Content-Length` and chunked), path tricks, unknown routes and
//! methods — each a 4xx problem document that changes nothing in the store —
//! the rate limit per identity, CORS, security headers, the request timeout
//! that never stops a step, TLS (rustls) and a log without tokens.

use std::sync::{Arc, Mutex, OnceLock};

use shipwarden::Proof;
use shipwarden_server::{AppState, AuthError, Verified, Verify};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bearer tokens `secret-<user>`: the proof names a token id, never the secret.
struct Secrets;

#[async_trait::async_trait]
impl Verify for Secrets {
    async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError> {
        Ok(token.strip_prefix("secret-").map(|user| Verified {
            user: user.to_owned(),
            groups: Default::default(),
            proof: Proof::Token { id: format!("tok-{user}") },
            scopes: None,
        }))
    }
}

const CONFIG: &str = r#"
[project]
name = "shop"
ticket_prefix = "SHOP"
repository = "repo"

[users.rita]
roles = ["release_manager"]
[users.paul]
roles = ["product_owner"]
[users.dana]
roles = ["deployment_engineer"]

[build]
command = ["sh", "-c", "sleep {sleep}; mkdir -p dist && echo shop > dist/shop.txt && echo built >> {log}"]
artifacts = { "shop.txt" = "dist/shop.txt" }

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "-c", "echo deployed to staging-1"]
rollback = ["sh", "-c", "echo rolled back"]

[policy.calendar]
blackouts = []

[server]
max_body_bytes = 4096
max_upload_bytes = 8192
request_timeout = "{timeout}"
rate_limit = {rate}
cors_origins = ["https://console.example.com"]
"#;

struct Server {
    addr: std::net::SocketAddr,
    dir: tempfile::TempDir,
}

struct Settings {
    sleep: &'static str,
    timeout: &'static str,
    rate: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { sleep: "0", timeout: "30s", rate: 1000 }
    }
}

impl Server {
    async fn state(s: &Settings) -> (AppState, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("mkdir");
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(&repo)
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .status()
                .expect("git");
            assert!(ok.success(), "git {args:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.txt"), "a").expect("write");
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "SHOP-1: checkout"]);
        let log = dir.path().join("build.log").display().to_string();
        let config = dir.path().join("shipwarden.toml");
        let text = CONFIG
            .replace("{sleep}", s.sleep)
            .replace("{log}", &log)
            .replace("{timeout}", s.timeout)
            .replace("{rate}", &s.rate.to_string());
        std::fs::write(&config, text).expect("config");
        let state = AppState::open(&[&config]).await.expect("open").with_verifier(Arc::new(Secrets));
        (state, dir)
    }

    async fn start(s: Settings) -> Server {
        let (state, dir) = Server::state(&s).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(shipwarden_server::serve(listener, Arc::new(state), std::future::pending()));
        Server { addr, dir }
    }

    /// Sends `request` as it is and reads the answer to the end.
    async fn send(&self, request: &[u8]) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(self.addr).await.expect("connect");
        stream.write_all(request).await.expect("write");
        read_answer(&mut stream).await
    }

    /// A request with a JSON body as user `user`.
    async fn call(&self, method: &str, path: &str, user: Option<&str>, body: Option<&str>) -> Answer {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
        if let Some(user) = user {
            request.push_str(&format!("Authorization: Bearer secret-{user}\r\n"));
        }
        if let Some(body) = body {
            request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        request.push_str(body.unwrap_or_default());
        self.send(request.as_bytes()).await
    }

    async fn plan(&self) {
        let a = self
            .call(
                "POST",
                "/v1/projects/shop/releases",
                Some("rita"),
                Some(r#"{"version":"1.0.0","kind":"minor","tickets":["SHOP-1"]}"#),
            )
            .await;
        assert_eq!(a.status, 201, "{}", a.body);
    }

    /// The release's history length and stage.
    async fn record(&self) -> (usize, String) {
        let history = self.call("GET", "/v1/releases/shop-1.0.0/history", Some("rita"), None).await;
        let status = self.call("GET", "/v1/releases/shop-1.0.0", Some("rita"), None).await;
        (
            history.json().as_array().map_or(0, Vec::len),
            status.json()["state"]["stage"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

/// An HTTP answer, read from the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A 4xx problem document with a detail people can read.
    fn assert_problem(&self, status: u16) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{self:?}");
        let doc = self.json();
        assert_eq!(doc["status"], status, "{self:?}");
        assert!(doc["detail"].as_str().is_some_and(|d| !d.is_empty()), "{self:?}");
        assert!(doc["code"].is_string() && doc["type"].is_string() && doc["title"].is_string(), "{self:?}");
    }
}

async fn read_answer(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Answer {
    let mut raw = Vec::new();
    // The server may close before reading all of an oversized body: a reset after the answer is fine.
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_owned() };
    Answer { status, headers, body }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

#[tokio::test]
async fn malformed_bodies_are_400_problems_and_change_nothing() {
    let s = Server::start(Settings::default()).await;
    s.plan().await;
    let before = s.record().await;
    let approvals = "/v1/releases/shop-1.0.0/approvals";
    for (body, why) in [
        (r#"{"approval": "scope""#, "malformed JSON"),
        (r#"{"approval": 42}"#, "a wrong type"),
        (r#"{"approval": "scope", "sneaky": true}"#, "an unknown field"),
        (r#"[]"#, "an array"),
        ("", "an empty body"),
    ] {
        let a = s.call("POST", approvals, Some("paul"), Some(body)).await;
        a.assert_problem(400);
        assert!(a.json()["detail"].as_str().is_some_and(|d| d.contains("body")), "{why}: {a:?}");
    }
    let unknown = s.call("POST", approvals, Some("paul"), Some(r#"{"approval": "scope", "sneaky": true}"#)).await;
    assert!(unknown.body.contains("sneaky"), "the unknown field is named: {unknown:?}");
    // No content type.
    let a = s
        .send(b"POST /v1/releases/shop-1.0.0/approvals HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer secret-paul\r\nContent-Length: 20\r\n\r\n{\"approval\":\"scope\"}")
        .await;
    a.assert_problem(415);
    // A query that does not parse.
    s.call("GET", "/v1/releases?limit=-1", Some("rita"), None).await.assert_problem(400);
    assert_eq!(s.record().await, before, "nothing changed");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_however_they_come() {
    let s = Server::start(Settings::default()).await;
    s.plan().await;
    let before = s.record().await;
    let big = format!(r#"{{"approval": "scope", "comment": "{}"}}"#, "x".repeat(10_000));
    // An honest Content-Length over max_body_bytes.
    s.call("POST", "/v1/releases/shop-1.0.0/approvals", Some("paul"), Some(&big)).await.assert_problem(413);
    // A lying one: it says more than max_body_bytes, and sends less.
    let head = "POST /v1/releases/shop-1.0.0/approvals HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer secret-paul\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
    let a = s.send(format!("{head}{{\"approval\": \"scope\"}}").as_bytes()).await;
    a.assert_problem(413);
    // A lying one the other way: it says little, and sends a huge body after it.
    let head = "POST /v1/releases/shop-1.0.0/approvals HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret-paul\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n";
    let a = s.send(format!("{head}{big}").as_bytes()).await;
    assert_eq!(a.status, 400, "the first 5 bytes are not JSON: {a:?}");
    // Chunked, with no length up front.
    let mut chunked = String::from(
        "POST /v1/releases/shop-1.0.0/approvals HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer secret-paul\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for piece in big.as_bytes().chunks(1000) {
        chunked.push_str(&format!("{:x}\r\n{}\r\n", piece.len(), String::from_utf8_lossy(piece)));
    }
    chunked.push_str("0\r\n\r\n");
    s.send(chunked.as_bytes()).await.assert_problem(413);
    assert_eq!(s.record().await, before, "nothing changed");
    // An upload may be larger than max_body_bytes, up to max_upload_bytes.
    let mut lcov = String::from("SF:a\n");
    for n in 1..800 {
        lcov.push_str(&format!("DA:{n},1\n"));
    }
    lcov.push_str("end_of_record\n");
    assert!(lcov.len() > 4096 && lcov.len() < 8192, "{}", lcov.len());
    let request = format!(
        "POST /v1/releases/shop-1.0.0/evidence/files?format=coverage HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer secret-paul\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n{lcov}",
        lcov.len()
    );
    let a = s.send(request.as_bytes()).await;
    assert_eq!(a.status, 200, "{a:?}");
    let before = s.record().await;
    // An upload over max_upload_bytes, chunked.
    let mut upload = String::from(
        "POST /v1/releases/shop-1.0.0/evidence/files?format=coverage HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer secret-paul\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let line = "DA:1,1\n".repeat(200);
    for _ in 0..10 {
        upload.push_str(&format!("{:x}\r\n{line}\r\n", line.len()));
    }
    upload.push_str("0\r\n\r\n");
    s.send(upload.as_bytes()).await.assert_problem(413);
    assert_eq!(s.record().await, before, "nothing changed");
}

#[tokio::test]
async fn path_tricks_are_4xx_problems_and_change_nothing() {
    let s = Server::start(Settings::default()).await;
    s.plan().await;
    let before = s.record().await;
    let long = "a".repeat(300);
    let tricks = [
        "/v1/releases/../releases/shop-1.0.0/approvals".to_owned(),
        "/v1/releases/%2e%2e/approvals".to_owned(),
        "/v1/releases/..%2fshop-1.0.0/approvals".to_owned(),
        "/v1/releases/shop%2F1.0.0/approvals".to_owned(),
        "/v1/releases/shop-1.0.0%00/approvals".to_owned(),
        "/v1/releases/shop-1.0.0%0d%0aX-Evil:%201/approvals".to_owned(),
        "/v1/releases/%ff%fe/approvals".to_owned(),
        format!("/v1/releases/shop-{long}/approvals"),
        "/v1/releases//approvals".to_owned(),
        "/v1/releases/shop-1.0.0/approvals/..".to_owned(),
    ];
    for path in &tricks {
        let a = s.call("POST", path, Some("paul"), Some(r#"{"approval": "scope"}"#)).await;
        assert!((400..500).contains(&a.status), "{path}: {a:?}");
        assert_eq!(a.header("content-type"), Some("application/problem+json"), "{path}: {a:?}");
        assert!(a.header("x-evil").is_none(), "{path}");
    }
    assert_eq!(s.record().await, before, "nothing changed");
    // Unknown routes and methods.
    let a = s.call("GET", "/v1/nothing/here", Some("rita"), None).await;
    a.assert_problem(404);
    let a = s.call("GET", "/v1/releases/shop-1.0.0/advance", Some("rita"), None).await;
    a.assert_problem(405);
    let a = s.call("DELETE", "/v1/releases/shop-1.0.0", Some("rita"), None).await;
    a.assert_problem(405);
}

#[tokio::test]
async fn the_rate_limit_is_per_identity_with_retry_after() {
    let s = Server::start(Settings { rate: 5, ..Settings::default() }).await;
    let mut limited = None;
    for _ in 0..20 {
        let a = s.call("GET", "/v1/releases", Some("rita"), None).await;
        if a.status == 429 {
            limited = Some(a);
            break;
        }
        assert_eq!(a.status, 200, "{a:?}");
    }
    let a = limited.expect("rita is limited after her burst");
    a.assert_problem(429);
    assert_eq!(a.json()["code"], "RATE_LIMITED");
    assert!(a.header("retry-after").and_then(|r| r.parse::<u64>().ok()).is_some_and(|r| r >= 1), "{a:?}");
    // Another identity has a bucket of its own.
    assert_eq!(s.call("GET", "/v1/releases", Some("paul"), None).await.status, 200);
    // Without identity, the peer's address is the key.
    let mut anonymous = Vec::new();
    for _ in 0..20 {
        anonymous.push(s.call("GET", "/v1/releases", None, None).await.status);
    }
    assert!(anonymous.contains(&401) && anonymous.contains(&429), "{anonymous:?}");
}

#[tokio::test]
async fn cors_allows_only_the_listed_origins_and_headers_are_set() {
    let s = Server::start(Settings::default()).await;
    let preflight = |origin: &str| {
        format!(
            "OPTIONS /v1/releases HTTP/1.1\r\nHost: x\r\nConnection: close\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization, content-type\r\n\r\n"
        )
    };
    let a = s.send(preflight("https://console.example.com").as_bytes()).await;
    assert!(a.status < 300, "{a:?}");
    assert_eq!(a.header("access-control-allow-origin"), Some("https://console.example.com"), "{a:?}");
    assert!(a.header("access-control-allow-headers").is_some_and(|h| h.contains("authorization")), "{a:?}");
    let a = s.send(preflight("https://evil.example.com").as_bytes()).await;
    assert!(a.header("access-control-allow-origin").is_none(), "{a:?}");
    // Security headers, on an answer and on a problem.
    for a in [
        s.call("GET", "/v1/releases", Some("rita"), None).await,
        s.call("GET", "/v1/releases/shop-9.9.9", None, None).await,
    ] {
        assert_eq!(a.header("x-content-type-options"), Some("nosniff"), "{a:?}");
        assert_eq!(a.header("referrer-policy"), Some("no-referrer"), "{a:?}");
        assert!(a.header("content-security-policy").is_some_and(|c| c.starts_with("default-src 'none'")), "{a:?}");
        assert_eq!(a.header("cache-control"), Some("no-store"), "{a:?}");
        assert!(a.header("strict-transport-security").is_none(), "HSTS only over TLS: {a:?}");
    }
}

#[tokio::test]
async fn a_timeout_is_503_and_the_step_goes_on() {
    let s = Server::start(Settings { sleep: "2", timeout: "500ms", ..Settings::default() }).await;
    s.plan().await;
    let a = s.call("POST", "/v1/releases/shop-1.0.0/approvals", Some("paul"), Some(r#"{"approval": "scope"}"#)).await;
    assert_eq!(a.status, 200, "{a:?}");
    let started = std::time::Instant::now();
    let a = s.call("POST", "/v1/releases/shop-1.0.0/advance", Some("dana"), Some("{}")).await;
    a.assert_problem(503);
    assert_eq!(a.json()["code"], "TIMEOUT");
    assert!(a.header("retry-after").is_some(), "{a:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(1900), "answered before the build ended");
    // The build was not stopped with the request: it ends, once, and the release goes on.
    let log = s.dir.path().join("build.log");
    for _ in 0..100 {
        if s.record().await.1 != "scope_approved" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "built\n", "the build ran once, to its end");
    assert_ne!(s.record().await.1, "scope_approved", "the release went on");
}

#[tokio::test]
async fn tls_with_rustls_from_pem_files() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
    let (state, dir) = Server::state(&Settings::default()).await;
    let cert_file = dir.path().join("cert.pem");
    let key_file = dir.path().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).expect("cert");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("key");
    let config = shipwarden_server::hardening::tls_config(&cert_file, &key_file).expect("tls config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(shipwarden_server::serve_tls(listener, config, Arc::new(state), std::future::pending()));
    // A client that trusts only this certificate.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).expect("root");
    let client = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    // A client that does not speak TLS holds up no one, and gets no answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await.expect("connect");
    plain.write_all(b"GET /v1/releases HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("handshake");
    tls.write_all(b"GET /v1/releases HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer secret-rita\r\n\r\n")
        .await
        .expect("write");
    let a = read_answer(&mut tls).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.json()["releases"].is_array(), "{a:?}");
    assert!(a.header("strict-transport-security").is_some_and(|h| h.contains("max-age")), "HSTS over TLS: {a:?}");
    let mut nothing = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_millis(300), plain.read_to_end(&mut nothing)).await;
    assert!(!String::from_utf8_lossy(&nothing).contains("releases"), "no API over plain HTTP on the TLS port");
}

/// Everything every span and event writes, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> &'static Captured {
    static LOG: OnceLock<Captured> = OnceLock::new();
    LOG.get_or_init(|| {
        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        log
    })
}

#[tokio::test]
async fn no_token_reaches_the_log() {
    let log = captured();
    let s = Server::start(Settings::default()).await;
    s.plan().await;
    // A valid token, an invalid one, and one in a query string.
    let a = s.call("GET", "/v1/releases/shop-1.0.0", Some("rita"), None).await;
    assert_eq!(a.status, 200);
    let bad = s
        .send(b"GET /v1/releases HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer hunter2-not-a-token\r\n\r\n")
        .await;
    assert_eq!(bad.status, 401);
    s.call("GET", "/v1/releases?token=secret-rita", Some("rita"), None).await;
    let text = String::from_utf8_lossy(&log.0.lock().expect("log")).into_owned();
    assert!(text.contains("shipwarden_server::request"), "the requests are logged: {text}");
    assert!(text.contains("rita"), "with the user: {text}");
    assert!(!text.contains("secret-rita") && !text.contains("secret-paul"), "a token in the log: {text}");
    assert!(!text.contains("hunter2"), "a rejected token in the log: {text}");
}

#[tokio::test]
async fn streams_mounted_beside_the_api_are_exempt_from_the_timeout() {
    let (state, _dir) = Server::state(&Settings { timeout: "300ms", ..Settings::default() }).await;
    let slow = || async {
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        "still here"
    };
    let streams = axum::Router::new().route("/v1/slow-stream", axum::routing::get(slow));
    let app = shipwarden_server::router_with(Arc::new(state), streams);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(shipwarden_server::serve_app(listener, app, std::future::pending()));
    let s = Server { addr, dir: tempfile::tempdir().expect("tempdir") };
    let a = s.call("GET", "/v1/slow-stream", Some("rita"), None).await;
    assert_eq!((a.status, a.body.as_str()), (200, "still here"), "{a:?}");
    // Every other layer applies: the security headers are there.
    assert_eq!(a.header("x-content-type-options"), Some("nosniff"), "{a:?}");
}
