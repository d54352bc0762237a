//! `serve-load`: `shipwarden serve` under load (issue #21), for
//! `benches/RESULTS.md`.
//!
//! ```text
//! serve-load [--smoke] [--store sqlite|postgres|both] [--auth oidc|jwt|token]
//!            [--clients 64] [--seconds 10] [--subscribers 1000] [--events 20]
//!            [--approvals 15000] [--lifecycles 50] [--only get|approvals|sse|lifecycle]
//! serve-load --url http://host:8080 --release ID [--token T | SHIPWARDEN_LOAD_TOKEN=T] [--clients N] [--seconds S]
//! ```
//!
//! By default it starts the server itself, as a child process (this binary
//! with `--serve`), beside the load on the same machine, and measures:
//!
//! 1. `GET /v1/releases/{id}` at `--clients` concurrent clients (one
//!    connection each, keep-alive) for `--seconds`: throughput, p50, p99;
//!    on SQLite and on PostgreSQL (`SHIPWARDEN_TEST_POSTGRES_URL`), each
//!    request's bearer token verified by the server: an RS256 JWT checked
//!    by the server's own OIDC verifier against the OpenID provider of
//!    `SHIPWARDEN_TEST_OIDC_ISSUER` (discovery, JWKS cached; `--auth oidc`,
//!    the default when that variable is set), or in process with
//!    `jsonwebtoken` against a key of its own (signature, issuer, audience,
//!    expiry, not-before; `--auth jwt`, the default otherwise), or an
//!    API-token-like hash look-up (`--auth token`);
//! 2. `--subscribers` server-sent-event subscribers of one release: the
//!    server's RSS per subscriber, then `--events` envelopes appended, each
//!    one's delivery time to every subscriber (from its envelope's time to
//!    its arrival), p50/p99/max, and that none is lost;
//! 3. on PostgreSQL, two replicas of the server on one database:
//!    `--approvals` approvals `POST`ed by two people at `--clients` clients,
//!    alternating replicas (throughput, p50/p99), then every release read
//!    back: none lost, none twice; then each approval of fresh releases sent
//!    to both replicas at once: exactly one of each pair accepted;
//! 4. `--lifecycles` releases taken through the whole lifecycle (plan,
//!    approvals, evidence, steps, deployments, to `closed`) by the Rust API
//!    in the server's process, then as many through the HTTP API by the same
//!    people with the same answers: the ratio of the two.
//!
//! With `--url`, only (1), against a server already running, with the
//! bearer token of `--token` or `SHIPWARDEN_LOAD_TOKEN` (a real OIDC JWT).
//! `--smoke` makes everything tiny (a few seconds): for `scripts/test`.

use std::io::Write;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use shipwarden::Proof;
use shipwarden_server::{AppState, AuthError, Project, Verified, Verify};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What to measure, and how much.
#[derive(Debug, Clone)]
struct Options {
    smoke: bool,
    stores: Vec<String>,
    auth: String,
    clients: usize,
    seconds: f64,
    subscribers: usize,
    events: usize,
    approvals: usize,
    lifecycles: usize,
    only: Option<String>,
    url: Option<String>,
    release: Option<String>,
    token: Option<String>,
}

fn options(args: &[String]) -> Result<Options, Failure> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let mut o = Options {
        smoke,
        stores: vec!["sqlite".into(), "postgres".into()],
        auth: if std::env::var_os("SHIPWARDEN_TEST_OIDC_ISSUER").is_some() { "oidc" } else { "jwt" }.into(),
        clients: if smoke { 4 } else { 64 },
        seconds: if smoke { 0.5 } else { 10.0 },
        subscribers: if smoke { 20 } else { 1000 },
        events: if smoke { 3 } else { 20 },
        approvals: if smoke { 30 } else { 15000 },
        lifecycles: if smoke { 2 } else { 50 },
        only: None,
        url: None,
        release: None,
        token: std::env::var("SHIPWARDEN_LOAD_TOKEN").ok(),
    };
    let mut it = args.iter().filter(|a| *a != "--smoke");
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--store" => {
                o.stores = match value()?.as_str() {
                    "both" => vec!["sqlite".into(), "postgres".into()],
                    one => vec![one.to_owned()],
                }
            }
            "--auth" => o.auth = value()?,
            "--clients" => o.clients = value()?.parse()?,
            "--seconds" => o.seconds = value()?.parse()?,
            "--subscribers" => o.subscribers = value()?.parse()?,
            "--events" => o.events = value()?.parse()?,
            "--approvals" => o.approvals = value()?.parse()?,
            "--lifecycles" => o.lifecycles = value()?.parse()?,
            "--only" => o.only = Some(value()?),
            "--url" => o.url = Some(value()?),
            "--release" => o.release = Some(value()?),
            "--token" => o.token = Some(value()?),
            other => return Err(format!("unknown argument `{other}` (see the top of serve_load.rs)").into()),
        }
    }
    Ok(o)
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if args.first().map(String::as_str) == Some("--serve") {
        return runtime.block_on(child::serve(&args[1..]));
    }
    let o = options(&args)?;
    runtime.block_on(run(o))
}

async fn run(o: Options) -> Result<(), Failure> {
    // reqwest is built without a default TLS provider (the workspace picks ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    println!(
        "serve-load: {} cores, {} clients, {} s{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        o.clients,
        o.seconds,
        if o.smoke { " (smoke: figures meaningless)" } else { "" }
    );
    if let Some(url) = &o.url {
        let token = o.token.clone().ok_or("--url needs --token or SHIPWARDEN_LOAD_TOKEN")?;
        let release = o.release.clone().ok_or("--url needs --release")?;
        let report = get_load(url, &token, &release, o.clients, o.seconds).await?;
        println!("GET /v1/releases/{{id}} at {url}: {report}");
        return Ok(());
    }
    let mut auth = Auth::new(&o.auth).await?;
    // Approvals and lifecycles need several people: an API token here is one person.
    let mut people = if o.auth == "token" { Auth::new("jwt").await? } else { Auth::new(&o.auth).await? };
    let postgres = std::env::var("SHIPWARDEN_TEST_POSTGRES_URL").ok();
    let require = std::env::var_os("SHIPWARDEN_REQUIRE_SERVERS").is_some();
    if postgres.is_none() && require {
        return Err("SHIPWARDEN_TEST_POSTGRES_URL is required (scripts/test starts PostgreSQL and sets it)".into());
    }
    let phase = |name: &str| o.only.as_deref().is_none_or(|only| only == name);
    for store in o.stores.iter().filter(|_| phase("get")) {
        if store == "postgres" && postgres.is_none() {
            println!("GET on postgres: not run (set SHIPWARDEN_TEST_POSTGRES_URL)");
            continue;
        }
        let mut server = Child::start(store, &auth.spec, &project_name(), "plan").await?;
        let token = auth.token("quinn").await?;
        if let Some(keys) = &auth.keys {
            let n = if o.smoke { 50 } else { 5000 };
            let each = jwt::verify_cost(&keys.path().join("public.der"), &token, n)?;
            println!(
                "RS256 verification in process (jsonwebtoken, ring; signature and claims): {each:.1} µs each, mean of {n}"
            );
        }
        // Warm up (connections, caches), then measure.
        get_load(&server.base, &token, &server.release, o.clients, (o.seconds / 5.0).min(1.0)).await?;
        let report = get_load(&server.base, &token, &server.release, o.clients, o.seconds).await?;
        println!("GET /v1/releases/{{id}}, {store}, {} auth, {} clients: {report}", o.auth, o.clients);
        server.stop().await;
    }
    if !phase("approvals") {
    } else if postgres.is_some() {
        let report = approvals::load(&mut people, o.approvals, o.clients).await?;
        println!("POST approvals, postgres, two replicas, {} auth, {} clients: {report}", people.kind, o.clients);
    } else {
        println!("POST approvals on postgres: not run (set SHIPWARDEN_TEST_POSTGRES_URL)");
    }
    if phase("sse") {
        let mut server = Child::start("sqlite", &auth.spec, &project_name(), "plan").await?;
        let token = auth.token("quinn").await?;
        let sse = sse_load(&mut server, &token, o.subscribers, o.events).await;
        server.stop().await;
        println!("SSE, {} subscribers of one release, {} events: {}", o.subscribers, o.events, sse?);
    }
    if phase("lifecycle") {
        let report = lifecycle::compare(&mut people, o.lifecycles).await?;
        println!("lifecycle, sqlite, {} releases each way, {} auth: {report}", o.lifecycles, people.kind);
    }
    Ok(())
}

/// A project name of this run's own (the PostgreSQL database is shared).
fn project_name() -> String {
    format!("load{:x}", nanos() & 0xffff_ffff)
}

/// How the load's requests prove who sends them, and each person's bearer token.
struct Auth {
    /// `oidc`, `jwt` or `token`.
    kind: String,
    /// The verifier the server child is started with.
    spec: String,
    /// `jwt`: the key pair the tokens are signed with.
    keys: Option<tempfile::TempDir>,
    tokens: std::collections::BTreeMap<String, String>,
}

impl Auth {
    async fn new(kind: &str) -> Result<Auth, Failure> {
        let mut tokens = std::collections::BTreeMap::new();
        let (spec, keys) = match kind {
            "token" => {
                let token = format!("swt_{:032x}", u128::from(std::process::id()) << 64 | u128::from(nanos()));
                tokens.insert("quinn".to_owned(), token.clone());
                (format!("token:{token}"), None)
            }
            "jwt" => {
                let keys = tempfile::tempdir()?;
                let public = jwt::keys(keys.path())?;
                (format!("jwt:{}", public.display()), Some(keys))
            }
            "oidc" => {
                let issuer = std::env::var("SHIPWARDEN_TEST_OIDC_ISSUER")
                    .map_err(|_| "--auth oidc needs SHIPWARDEN_TEST_OIDC_ISSUER (scripts/test starts the provider)")?;
                (format!("oidc:{issuer}"), None)
            }
            other => return Err(format!("--auth {other}: oidc, jwt or token").into()),
        };
        Ok(Auth { kind: kind.to_owned(), spec, keys, tokens })
    }

    /// `user`'s bearer token: signed here (`jwt`), or issued by the OpenID provider through its own flow (`oidc`).
    async fn token(&mut self, user: &str) -> Result<String, Failure> {
        if let Some(token) = self.tokens.get(user) {
            return Ok(token.clone());
        }
        let token = match (&self.keys, self.spec.strip_prefix("oidc:")) {
            (Some(keys), _) => jwt::mint(keys.path(), user)?,
            (None, Some(issuer)) => {
                let body: serde_json::Value = reqwest::Client::new()
                    .get(format!("{issuer}/__test/token"))
                    .query(&[("user", user), ("resource", "urn:shipwarden")])
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                body["access_token"].as_str().ok_or("the provider gave no access token")?.to_owned()
            }
            _ => return Err(format!("--auth {} has a token for quinn only", self.kind).into()),
        };
        self.tokens.insert(user.to_owned(), token.clone());
        Ok(token)
    }
}

/// The person of the load who gives what `role` gives.
fn person_of(role: &str) -> &'static str {
    match role {
        "product_owner" => "paul",
        "qa_lead" => "quinn",
        "deployment_engineer" => "dana",
        "cto" => "casey",
        _ => "rita",
    }
}

/// What a GET run measured.
struct GetReport {
    requests: u64,
    errors: u64,
    seconds: f64,
    latency: Histogram<u64>,
}

impl std::fmt::Display for GetReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |q: f64| self.latency.value_at_quantile(q) as f64 / 1000.0;
        write!(
            f,
            "{:.0} requests/s ({} in {:.1} s, {} errors), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.requests as f64 / self.seconds,
            self.requests,
            self.seconds,
            self.errors,
            ms(0.50),
            ms(0.99),
            self.latency.max() as f64 / 1000.0
        )
    }
}

fn histogram() -> Result<Histogram<u64>, Failure> {
    // Microseconds, 1 µs .. 100 s, 3 significant digits.
    Ok(Histogram::new_with_bounds(1, 100_000_000, 3)?)
}

/// `clients` tasks, each with its own connection, GET the release for `seconds`.
async fn get_load(base: &str, token: &str, release: &str, clients: usize, seconds: f64) -> Result<GetReport, Failure> {
    let url = format!("{base}/v1/releases/{release}");
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    let empty = histogram()?;
    for _ in 0..clients {
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        let (url, token) = (url.clone(), format!("Bearer {token}"));
        let mut latency = empty.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors) = (0u64, 0u64);
            while Instant::now() < deadline {
                let t = Instant::now();
                let result = client.get(&url).header("authorization", &token).send().await;
                let good = match result {
                    Ok(r) => r.status().is_success() & r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if good {
                    ok += 1;
                    let _ = latency.record(t.elapsed().as_micros().max(1) as u64);
                } else {
                    errors += 1;
                }
            }
            (ok, errors, latency)
        }));
    }
    let mut report = GetReport { requests: 0, errors: 0, seconds: 0.0, latency: empty };
    for task in tasks {
        let (ok, errors, latency) = task.await?;
        report.requests += ok;
        report.errors += errors;
        report.latency.add(&latency)?;
    }
    report.seconds = started.elapsed().as_secs_f64();
    if report.requests == 0 || report.errors > 0 {
        // A refused request (429, 401) would make the figure measure the refusal, not the work.
        return Err(format!(
            "{} of {} requests failed: is the token accepted, the rate limit high enough?",
            report.errors,
            report.requests + report.errors
        )
        .into());
    }
    Ok(report)
}

/// `subscribers` subscribers of one release; RSS per subscriber; `events` appends, each timed to every subscriber.
async fn sse_load(server: &mut Child, token: &str, subscribers: usize, events: usize) -> Result<String, Failure> {
    let url = format!("{}/v1/releases/{}/events", server.base, server.release);
    let rss_before = server.ask("rss").await?.parse::<u64>()?;
    let delays = Arc::new(Mutex::new(histogram()?));
    let connected = Arc::new(tokio::sync::Semaphore::new(0));
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let request = client.get(&url).bearer_auth(token);
        let (delays, connected) = (delays.clone(), connected.clone());
        tasks.push(tokio::spawn(async move {
            let mut response = match request.send().await {
                Ok(r) if r.status().is_success() => r,
                _ => {
                    connected.add_permits(1);
                    return 0usize;
                }
            };
            connected.add_permits(1);
            let (mut buffer, mut got) = (String::new(), 0usize);
            while got < events {
                let chunk = match tokio::time::timeout(Duration::from_secs(30), response.chunk()).await {
                    Ok(Ok(Some(chunk))) => chunk,
                    _ => break,
                };
                let arrived = jiff::Timestamp::now();
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    if !block.lines().any(|l| l == "event: audit") {
                        continue;
                    }
                    let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("{}");
                    let at = serde_json::from_str::<serde_json::Value>(data)
                        .ok()
                        .and_then(|d| d["at"].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()));
                    if let Some(at) = at {
                        let micros = arrived.duration_since(at).as_micros().max(1) as u64;
                        let _ = delays.lock().map(|mut h| h.record(micros));
                        got += 1;
                    }
                }
            }
            got
        }));
    }
    let all = connected.acquire_many(u32::try_from(subscribers)?).await?;
    all.forget();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = server.ask("rss").await?.parse::<u64>()?;
    for _ in 0..events {
        server.ask("append").await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut received = 0usize;
    for task in tasks {
        received += task.await?;
    }
    let h = delays.lock().map_err(|_| "poisoned")?.clone();
    let ms = |v: u64| v as f64 / 1000.0;
    Ok(format!(
        "delivered {received} of {} ({} lost); delay from append to arrival p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         server RSS {:.1} MB -> {:.1} MB: {:.1} KiB per subscriber",
        subscribers * events,
        subscribers * events - received,
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 / subscribers.max(1) as f64,
    ))
}

/// The server, a child process of this binary (`--serve`), answering on stdin/stdout.
struct Child {
    process: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    base: String,
    /// The release it planned (`plan`), or `-`.
    release: String,
}

impl Child {
    /// Starts a server of `project` on `store` trusting `verifier`; `mode` is `plan` (the
    /// project's configuration, one release planned), `join` (the same, nothing planned: a
    /// second replica) or `lifecycle` (a configuration whose every step runs here).
    async fn start(store: &str, verifier: &str, project: &str, mode: &str) -> Result<Child, Failure> {
        let mut process = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--serve", store, verifier, project, mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdin = process.stdin.take().ok_or("no stdin")?;
        let mut lines = tokio::io::BufReader::new(process.stdout.take().ok_or("no stdout")?).lines();
        let ready = lines.next_line().await?.ok_or("the server ended before it was ready")?;
        let mut words = ready.split(' ');
        let (Some("READY"), Some(addr), Some(release)) = (words.next(), words.next(), words.next()) else {
            return Err(format!("the server said `{ready}`").into());
        };
        Ok(Child { base: format!("http://{addr}"), release: release.to_owned(), process, stdin, lines })
    }

    /// Sends a command line, returns the answer line.
    async fn ask(&mut self, command: &str) -> Result<String, Failure> {
        self.stdin.write_all(format!("{command}\n").as_bytes()).await?;
        self.stdin.flush().await?;
        let answer = self.lines.next_line().await?.ok_or("the server ended")?;
        answer.strip_prefix("OK ").map(str::to_owned).ok_or_else(|| format!("{command}: {answer}").into())
    }

    async fn stop(&mut self) {
        let _ = self.process.kill().await;
    }
}

fn nanos() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// RS256 JWTs for the load: a key made with the `openssl` command, tokens
/// signed and verified with `jsonwebtoken` (ring).
mod jwt {
    use std::path::{Path, PathBuf};

    use super::Failure;

    /// The issuer and audience of the load's tokens.
    pub const ISSUER: &str = "http://127.0.0.1/serve-load";
    /// The audience.
    pub const AUDIENCE: &str = "shipwarden";

    /// The claims checked.
    #[derive(Debug, serde::Serialize, serde::Deserialize)]
    pub struct Claims {
        pub iss: String,
        pub aud: String,
        pub sub: String,
        pub exp: u64,
        pub nbf: u64,
        #[serde(default)]
        pub groups: Vec<String>,
    }

    /// The mean time of one verification of `token` as the server does it (`child::verifier`), in µs.
    pub fn verify_cost(public: &Path, token: &str, n: u32) -> Result<f64, Failure> {
        let verifier = super::child::jwt_validation(public)?;
        let started = std::time::Instant::now();
        for _ in 0..n {
            jsonwebtoken::decode::<Claims>(token, &verifier.0, &verifier.1)?;
        }
        Ok(started.elapsed().as_secs_f64() * 1e6 / f64::from(n.max(1)))
    }

    /// A 2048-bit RSA key in `dir` (the `openssl` command); returns its public key (DER).
    pub fn keys(dir: &Path) -> Result<PathBuf, Failure> {
        let private = dir.join("key.der");
        let public = dir.join("public.der");
        let pem = dir.join("key.pem");
        let run = |args: &[&str]| -> Result<(), Failure> {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .map_err(|e| format!("--auth jwt needs the openssl command to make a key: {e}"))?;
            if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned().into()) }
        };
        let (pem_s, private_s, public_s) = (pem.to_string_lossy(), private.to_string_lossy(), public.to_string_lossy());
        run(&["genrsa", "-out", &pem_s, "2048"])?;
        run(&["rsa", "-in", &pem_s, "-traditional", "-outform", "DER", "-out", &private_s])?;
        run(&["rsa", "-in", &pem_s, "-RSAPublicKey_out", "-outform", "DER", "-out", &public_s])?;
        Ok(public)
    }

    /// A token for `user`, valid for an hour, signed with the key of [`keys`].
    pub fn mint(dir: &Path, user: &str) -> Result<String, Failure> {
        let now = super::nanos() / 1_000_000_000;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user.into(),
            exp: now + 3600,
            nbf: now - 60,
            groups: Vec::new(),
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_der(&std::fs::read(dir.join("key.der"))?);
        Ok(jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key)?)
    }
}

/// The server side: `serve-load --serve STORE VERIFIER`.
mod child {
    use super::*;

    /// An API-token-like verifier: the token's SHA-256 looked up (as a stored, hashed API token is).
    struct HashedToken {
        sha256: Vec<u8>,
    }

    #[async_trait::async_trait]
    impl Verify for HashedToken {
        async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError> {
            let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            if digest.as_ref() != self.sha256.as_slice() {
                return Ok(None);
            }
            Ok(Some(Verified {
                user: "quinn".into(),
                groups: Default::default(),
                proof: Proof::Token { id: "load".into() },
                scopes: None,
            }))
        }
    }

    /// RS256 JWTs verified in process: signature, issuer, audience, expiry, not-before (60 s leeway).
    struct Jwt {
        key: jsonwebtoken::DecodingKey,
        validation: jsonwebtoken::Validation,
    }

    #[async_trait::async_trait]
    impl Verify for Jwt {
        async fn verify(&self, token: &str) -> Result<Option<Verified>, AuthError> {
            let data = jsonwebtoken::decode::<jwt::Claims>(token, &self.key, &self.validation)
                .map_err(|e| AuthError::Invalid(format!("the token does not verify: {e}")))?;
            let claims = data.claims;
            Ok(Some(Verified {
                user: claims.sub.clone(),
                groups: claims.groups.into_iter().collect(),
                proof: Proof::Oidc { issuer: claims.iss, subject: claims.sub },
                scopes: None,
            }))
        }
    }

    /// The verifier of `spec`; none for `oidc:` (the configuration's `[server.oidc]` is the server's own).
    fn verifier(spec: &str) -> Result<Option<Arc<dyn Verify>>, Failure> {
        if let Some(token) = spec.strip_prefix("token:") {
            let sha256 = ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().to_vec();
            return Ok(Some(Arc::new(HashedToken { sha256 })));
        }
        if let Some(path) = spec.strip_prefix("jwt:") {
            let (key, validation) = jwt_validation(std::path::Path::new(path))?;
            return Ok(Some(Arc::new(Jwt { key, validation })));
        }
        if spec.starts_with("oidc:") {
            return Ok(None);
        }
        Err(format!("verifier `{spec}`").into())
    }

    /// The key and the checks of the load's JWTs: RS256, issuer, audience, expiry, not-before, 60 s leeway.
    pub fn jwt_validation(
        public: &std::path::Path,
    ) -> Result<(jsonwebtoken::DecodingKey, jsonwebtoken::Validation), Failure> {
        let key = jsonwebtoken::DecodingKey::from_rsa_der(&std::fs::read(public)?);
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[jwt::ISSUER]);
        validation.set_audience(&[jwt::AUDIENCE]);
        validation.validate_nbf = true;
        validation.leeway = 60;
        Ok((key, validation))
    }

    fn rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:").and_then(|v| v.trim().trim_end_matches(" kB").parse().ok()))
            })
            .unwrap_or(0)
    }

    /// A configuration whose whole lifecycle runs on this machine: one
    /// target per environment that succeeds at once, a build that writes
    /// one file, no production checks, no blackouts.
    fn lifecycle_config(project: &str) -> String {
        let ok = r#"deploy = ["true"]
rollback = ["true"]"#;
        format!(
            r#"[project]
name = "{project}"
ticket_prefix = "{prefix}"
repository = "repo"

[store]
kind = "sqlite"

[users.rita]
roles = ["release_manager"]
[users.paul]
roles = ["product_owner"]
[users.quinn]
roles = ["qa_lead"]
[users.dana]
roles = ["deployment_engineer"]
[users.casey]
roles = ["cto"]

[build]
command = ["sh", "-c", "mkdir -p dist && echo $SHIPWARDEN_VERSION > dist/app-$SHIPWARDEN_VERSION.txt"]
artifacts = {{ "app.txt" = "dist/app-{{version}}.txt" }}

[[environments.staging.targets]]
name = "staging-1"
{ok}

[[environments.test.targets]]
name = "test-1"
{ok}

[[environments.prod.targets]]
name = "prod-1"
{ok}

[policy.transitions.prod_readiness]
gates = []
steps = []

[policy.calendar]
blackouts = []
"#,
            prefix = project.to_ascii_uppercase(),
        )
    }

    fn git(dir: &std::path::Path, args: &[&str]) -> Result<(), Failure> {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=Load", "-c", "user.email=load@example.com"])
            .args(args)
            .current_dir(dir)
            .status()?;
        if status.success() { Ok(()) } else { Err(format!("git {args:?}: {status}").into()) }
    }

    fn as_user(user: &str) -> Verified {
        Verified {
            user: user.into(),
            groups: Default::default(),
            proof: Proof::Token { id: format!("load-{user}") },
            scopes: None,
        }
    }

    /// Plans release `version` of `project` as rita, with the project's first ticket in scope.
    async fn plan(p: &Project, state: &AppState, version: &str) -> Result<shipwarden::ReleaseId, Failure> {
        let version: shipwarden::Version = version.parse()?;
        let release = shipwarden::ReleaseId::for_version(&p.name, &version)?;
        let mut plan = shipwarden::Plan::new(release.clone(), p.name.clone(), version, shipwarden::ReleaseKind::Minor);
        plan.scope = vec![format!("{}-1", p.name.to_ascii_uppercase()).parse()?];
        p.manager.plan(&p.actor(&as_user("rita"), &state.settings), plan).await?;
        Ok(release)
    }

    /// Takes release `version` from its plan to `closed` through the Rust API,
    /// the people supplying what each run waits for (as `lifecycle::api` does over HTTP).
    async fn lifecycle(p: &Project, state: &AppState, version: &str) -> Result<(), Failure> {
        use shipwarden::engine::RunOutcome;
        use shipwarden::machine::Requirement;
        let id = plan(p, state, version).await?;
        let person = |role: &str| p.actor(&as_user(super::person_of(role)), &state.settings);
        for _ in 0..100 {
            let waiting = match p.manager.run(&id, None).await? {
                RunOutcome::Final { .. } | RunOutcome::Reached { .. } => return Ok(()),
                RunOutcome::Waiting(w) | RunOutcome::Failed(shipwarden::engine::Failure { waiting: w, .. }) => w,
                other => return Err(format!("{id}: {other:?}").into()),
            };
            for unmet in &waiting.refusal.unmet {
                match &unmet.requirement {
                    Requirement::Approval { approval, roles, .. } => {
                        let role = roles.first().cloned().unwrap_or(shipwarden::Role::ProductOwner);
                        let actor = person(&role.to_string());
                        let channel = shipwarden::Channel::Api;
                        p.manager.approve(&id, &actor, approval.clone(), role, channel, "through the Rust API").await?;
                    }
                    Requirement::Gate { gate, environment, threshold, .. } => {
                        let value =
                            if gate.to_string() == "coverage" { 0.95 } else { shipwarden_e2e::passing(threshold) };
                        let mut evidence = shipwarden::machine::Evidence::new(gate.clone(), value, "reported by quinn");
                        evidence.environment = environment.clone();
                        p.manager.record_evidence(&id, &person("qa_lead"), evidence).await?;
                    }
                    Requirement::Step { step, environment, status } if status == "missing" => {
                        let outcome = shipwarden::machine::StepOutcome::ok("reported by quinn");
                        p.manager
                            .report_step(&id, &person("qa_lead"), step.clone(), environment.clone(), outcome)
                            .await?;
                    }
                    // A failed step: the next run tries it again.
                    Requirement::Step { .. } => {}
                    Requirement::Window { environment, .. } => {
                        let now = jiff::Timestamp::now();
                        let end = now + jiff::SignedDuration::from_hours(1);
                        p.manager.schedule(&id, &person("release_manager"), environment.clone(), now, end).await?;
                    }
                    other => return Err(format!("{id} waits in {} for {other:?}", waiting.stage).into()),
                }
            }
        }
        Err(format!("{id} did not finish in 100 runs").into())
    }

    pub async fn serve(args: &[String]) -> Result<(), Failure> {
        let [store, spec, project, mode] = args else {
            return Err("--serve STORE VERIFIER PROJECT plan|join|lifecycle".into());
        };
        let dir = tempfile::tempdir()?;
        let mut config = if mode == "lifecycle" {
            let repo = dir.path().join("repo");
            std::fs::create_dir_all(&repo)?;
            git(&repo, &["init", "-q", "-b", "main"])?;
            std::fs::write(repo.join("app.txt"), "app")?;
            git(&repo, &["add", "."])?;
            git(&repo, &["commit", "-q", "-m", &format!("{}-1: first", project.to_ascii_uppercase())])?;
            lifecycle_config(project)
        } else {
            git(dir.path(), &["init", "-q"])?;
            shipwarden_adapters::config::template(project)
        };
        if store == "postgres" {
            config = config.replacen(
                "kind = \"sqlite\"",
                "kind = \"postgres\"\nurl_env = \"SHIPWARDEN_TEST_POSTGRES_URL\"\n#",
                1,
            );
        }
        // One load generator is one identity: the per-identity rate limit (50/s by default) would measure itself.
        config.push_str("\n[server]\nrate_limit = 1000000\n");
        if let Some(issuer) = spec.strip_prefix("oidc:") {
            config.push_str(&format!("\n[server.oidc]\nissuer = \"{issuer}\"\naudience = \"shipwarden\"\n"));
        }
        let path = dir.path().join("shipwarden.toml");
        std::fs::write(&path, config)?;
        let mut state = AppState::open(&[&path]).await?;
        if let Some(verifier) = verifier(spec)? {
            state = state.with_verifier(verifier);
        }
        let state = Arc::new(state);
        let p = state.projects.get(project.as_str()).ok_or("no project")?;
        let release = match mode.as_str() {
            "plan" => plan(p, &state, "1.4.0").await?.to_string(),
            "join" | "lifecycle" => "-".to_owned(),
            other => return Err(format!("mode `{other}`: plan, join or lifecycle").into()),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(shipwarden_server::serve(listener, state.clone(), std::future::pending()));
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "READY {addr} {release}")?;
            out.flush()?;
        }
        let quinn = p.actor(&as_user("quinn"), &state.settings);
        let mut n = 0u32;
        // Read by a thread of its own: no worker of the server's runtime blocks.
        let (tx, mut commands) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        while let Some(line) = commands.recv().await {
            let words: Vec<&str> = line.split_whitespace().collect();
            let number = |i: usize| words.get(i).and_then(|w| w.parse::<u32>().ok()).unwrap_or(0);
            let answer = match words.first().copied().unwrap_or_default() {
                "rss" => format!("OK {}", rss_kib()),
                "append" => {
                    n += 1;
                    let gate: shipwarden::GateId = "coverage".parse()?;
                    let evidence = shipwarden::machine::Evidence::new(gate, 0.9, format!("serve-load append {n}"));
                    let release: shipwarden::ReleaseId = release.parse()?;
                    match p.manager.record_evidence(&release, &quinn, evidence).await {
                        Ok(_) => "OK appended".to_owned(),
                        Err(e) => format!("ERR {e}"),
                    }
                }
                // `plan FROM N`: releases 2.FROM.0 .. 2.(FROM+N-1).0.
                "plan" => {
                    let mut result = Ok(());
                    for i in number(1)..number(1) + number(2) {
                        result = plan(p, &state, &format!("2.{i}.0")).await.map(|_| ());
                        if result.is_err() {
                            break;
                        }
                    }
                    match result {
                        Ok(()) => format!("OK {}", number(2)),
                        Err(e) => format!("ERR {e}"),
                    }
                }
                // `lifecycle FROM N`: releases 1.FROM.0 .. to `closed`, one after the other; the time in µs.
                "lifecycle" => {
                    let started = Instant::now();
                    let mut result = Ok(());
                    for i in number(1)..number(1) + number(2) {
                        result = lifecycle(p, &state, &format!("1.{i}.0")).await;
                        if result.is_err() {
                            break;
                        }
                    }
                    match result {
                        Ok(()) => format!("OK {}", started.elapsed().as_micros()),
                        Err(e) => format!("ERR {e}"),
                    }
                }
                other => format!("ERR unknown command `{other}`"),
            };
            let mut out = std::io::stdout().lock();
            writeln!(out, "{answer}")?;
            out.flush()?;
        }
        server.abort();
        Ok(())
    }
}

/// One HTTP call of the load: its status and its JSON body (`null` when it has none).
async fn call(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    method: reqwest::Method,
    body: Option<&serde_json::Value>,
) -> Result<(u16, serde_json::Value), Failure> {
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        request = request.json(b);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null)))
}

/// `POST` approvals on PostgreSQL with two replicas (issue #21's third figure).
mod approvals {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// The approvals a planned release takes, and who gives each in the load.
    const APPROVALS: [(&str, &str); 3] = [("scope", "paul"), ("qa_signoff", "quinn"), ("acceptance", "paul")];

    /// Plans `approvals / 3` releases, `POST`s their approvals at `clients`
    /// clients alternating two replicas, reads every release back, then races
    /// each approval of fresh releases on both replicas at once.
    pub async fn load(auth: &mut Auth, approvals: usize, clients: usize) -> Result<String, Failure> {
        let project = project_name();
        let mut a = Child::start("postgres", &auth.spec, &project, "join").await?;
        let b = Child::start("postgres", &auth.spec, &project, "join").await?;
        let bases = [a.base.clone(), b.base.clone()];
        let releases = approvals.div_ceil(APPROVALS.len()).max(1);
        let race = (releases / 10).clamp(2, 100);
        a.ask(&format!("plan 0 {}", releases + race)).await?;
        let mut tokens = std::collections::BTreeMap::new();
        for (_, user) in APPROVALS {
            tokens.insert(user, auth.token(user).await?);
        }
        let tokens = Arc::new(tokens);
        let id = |i: usize| format!("{project}-2.{i}.0");
        // Each kind of approval of every release before the next kind: concurrent requests go to different releases.
        let jobs: Arc<Vec<(String, &str, &str)>> = Arc::new(
            APPROVALS
                .iter()
                .flat_map(|(approval, user)| (0..releases).map(move |i| (id(i), *approval, *user)))
                .collect(),
        );
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let (jobs, next, tokens, bases) = (jobs.clone(), next.clone(), tokens.clone(), bases.clone());
            let mut latency = histogram()?;
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
                let (mut ok, mut conflicts) = (0u64, 0u64);
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some((release, approval, user)) = jobs.get(n) else { break };
                    let url = format!("{}/v1/releases/{release}/approvals", bases[n % 2]);
                    let body = serde_json::json!({"approval": approval, "comment": "serve-load"});
                    let t = Instant::now();
                    loop {
                        let (status, answer) =
                            call(&client, &url, &tokens[user], reqwest::Method::POST, Some(&body)).await?;
                        match status {
                            200 => break,
                            // Another replica appended to the same release first: try again, as a client would.
                            409 => conflicts += 1,
                            _ => return Err::<_, Failure>(format!("{release} {approval}: {status} {answer}").into()),
                        }
                    }
                    ok += 1;
                    let _ = latency.record(t.elapsed().as_micros().max(1) as u64);
                }
                Ok((ok, conflicts, latency))
            }));
        }
        let (mut ok, mut conflicts, mut latency) = (0u64, 0u64, histogram()?);
        for task in tasks {
            let (o, c, l) = task.await??;
            ok += o;
            conflicts += c;
            latency.add(&l)?;
        }
        let seconds = started.elapsed().as_secs_f64();

        // Every release read back from the store, through either replica.
        let client = reqwest::Client::new();
        let (mut lost, mut doubled) = (0usize, 0usize);
        for i in 0..releases {
            let (lo, du) = count(&client, &bases[i % 2], &tokens["paul"], &id(i)).await?;
            lost += lo;
            doubled += du;
        }

        // The same approval to both replicas at once: exactly one may be recorded.
        let (mut accepted_once, mut race_doubled, mut race_lost) = (0usize, 0usize, 0usize);
        for i in releases..releases + race {
            for (approval, user) in APPROVALS {
                let url = |base: &str| format!("{base}/v1/releases/{}/approvals", id(i));
                let body = serde_json::json!({"approval": approval, "comment": "serve-load race"});
                let (url_a, url_b) = (url(&bases[0]), url(&bases[1]));
                let (one, two) = tokio::join!(
                    post_until_decided(&client, &url_a, &tokens[user], &body),
                    post_until_decided(&client, &url_b, &tokens[user], &body),
                );
                match (one?, two?) {
                    (200, 200) => race_doubled += 1,
                    (200, _) | (_, 200) => accepted_once += 1,
                    _ => race_lost += 1,
                }
            }
            let (lo, du) = count(&client, &bases[i % 2], &tokens["paul"], &id(i)).await?;
            race_lost += lo;
            race_doubled += du;
        }
        a.stop().await;
        drop(b);
        if lost + doubled + race_doubled + race_lost > 0 {
            return Err(format!(
                "approvals lost {lost}, recorded twice {doubled}; in the race: lost {race_lost}, recorded twice {race_doubled}"
            )
            .into());
        }
        let ms = |q: f64| latency.value_at_quantile(q) as f64 / 1000.0;
        Ok(format!(
            "{:.0} approvals/s ({ok} in {seconds:.1} s on {releases} releases, {conflicts} conflicts retried), \
             p50 {:.2} ms, p99 {:.2} ms; read back: 0 lost, 0 twice; {} approvals sent to both replicas at once: \
             {accepted_once} recorded once, 0 twice",
            ok as f64 / seconds,
            ms(0.5),
            ms(0.99),
            race * APPROVALS.len(),
        ))
    }

    /// POSTs until the answer is not a conflict; the final status.
    async fn post_until_decided(
        client: &reqwest::Client,
        url: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> Result<u16, Failure> {
        loop {
            let (status, answer) = call(client, url, token, reqwest::Method::POST, Some(body)).await?;
            match status {
                409 => continue,
                // The loser of the race is refused by R-2d: the same person approved this already.
                200 | 422 => return Ok(status),
                _ => return Err(format!("{url}: {status} {answer}").into()),
            }
        }
    }

    /// How many of the release's three approvals are missing, and how many were recorded more than once.
    async fn count(
        client: &reqwest::Client,
        base: &str,
        token: &str,
        release: &str,
    ) -> Result<(usize, usize), Failure> {
        let (status, body) =
            call(client, &format!("{base}/v1/releases/{release}"), token, reqwest::Method::GET, None).await?;
        if status != 200 {
            return Err(format!("GET {release}: {status} {body}").into());
        }
        let given = body["state"]["approvals"].as_array().cloned().unwrap_or_default();
        let (mut lost, mut doubled) = (0, 0);
        for (approval, user) in APPROVALS {
            let n = given.iter().filter(|a| a["approval"] == approval && a["user"] == user).count();
            lost += usize::from(n == 0);
            doubled += n.saturating_sub(1);
        }
        Ok((lost, doubled))
    }
}

/// One release lifecycle through the HTTP API against the Rust API (issue #21's fourth figure).
mod lifecycle {
    use super::*;

    /// `n` releases through the Rust API in the server's process and `n` through its HTTP API, alternately.
    pub async fn compare(auth: &mut Auth, n: usize) -> Result<String, Failure> {
        let project = project_name();
        let mut server = Child::start("sqlite", &auth.spec, &project, "lifecycle").await?;
        let mut tokens = std::collections::BTreeMap::new();
        for user in ["rita", "paul", "quinn", "dana", "casey"] {
            tokens.insert(user, auth.token(user).await?);
        }
        // One of each first (caches, connections), then the measured ones.
        server.ask("lifecycle 0 1").await?;
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        api(&client, &server.base, &tokens, &project, "1.1.0").await?;
        // Alternately, one release each way: both see a store of the same size.
        let (mut rust_micros, mut api_micros, mut requests) = (0f64, 0f64, 0usize);
        for i in 0..n {
            rust_micros += server.ask(&format!("lifecycle {} 1", 2 + 2 * i)).await?.parse::<f64>()?;
            let started = Instant::now();
            requests += api(&client, &server.base, &tokens, &project, &format!("1.{}.0", 3 + 2 * i)).await?;
            api_micros += started.elapsed().as_secs_f64() * 1e6;
        }
        server.stop().await;
        let (rust_ms, api_ms) = (rust_micros / 1000.0 / n.max(1) as f64, api_micros / 1000.0 / n.max(1) as f64);
        Ok(format!(
            "Rust API {rust_ms:.1} ms per release, HTTP API {api_ms:.1} ms per release ({:.1} requests each): \
             ratio {:.2}",
            requests as f64 / n.max(1) as f64,
            api_ms / rust_ms
        ))
    }

    /// Takes release `version` of `project` from its plan to `closed` through the HTTP API, the people
    /// supplying what each `advance` waits for (as the server's `child::lifecycle` does in Rust);
    /// returns the number of requests.
    async fn api(
        client: &reqwest::Client,
        base: &str,
        tokens: &std::collections::BTreeMap<&str, String>,
        project: &str,
        version: &str,
    ) -> Result<usize, Failure> {
        let release = format!("{project}-{version}");
        let requests = std::cell::Cell::new(0usize);
        let post = async |user: &str, path: String, body: serde_json::Value| -> Result<serde_json::Value, Failure> {
            requests.set(requests.get() + 1);
            let (status, answer) =
                call(client, &format!("{base}{path}"), &tokens[user], reqwest::Method::POST, Some(&body)).await?;
            if !(200..300).contains(&status) {
                return Err(format!("POST {path}: {status} {answer}").into());
            }
            Ok(answer)
        };
        let tickets = [format!("{}-1", project.to_ascii_uppercase())];
        let body = serde_json::json!({"version": version, "kind": "minor", "tickets": tickets});
        post("rita", format!("/v1/projects/{project}/releases"), body).await?;
        for _ in 0..100 {
            let run = post("rita", format!("/v1/releases/{release}/advance"), serde_json::json!({})).await?;
            let outcome = &run["outcome"];
            let unmet = match outcome["outcome"].as_str().unwrap_or_default() {
                "final" | "reached" => return Ok(requests.get()),
                "waiting" => outcome["refusal"]["unmet"].clone(),
                "failed" => outcome["waiting"]["refusal"]["unmet"].clone(),
                _ => return Err(format!("{release}: {run}").into()),
            };
            for u in unmet.as_array().into_iter().flatten() {
                let (user, path, body) = match u["requirement"].as_str().unwrap_or_default() {
                    "approval" => {
                        let role = u["roles"][0].as_str().unwrap_or("product_owner");
                        let body = serde_json::json!({"approval": u["approval"], "comment": "through the HTTP API"});
                        (person_of(role), "approvals", body)
                    }
                    "gate" => {
                        let value = if u["gate"] == "coverage" {
                            0.95
                        } else {
                            shipwarden_e2e::passing(u["threshold"].as_str().unwrap_or(""))
                        };
                        (
                            "quinn",
                            "evidence",
                            serde_json::json!({"gate": u["gate"], "value": value, "environment": u["environment"]}),
                        )
                    }
                    "step" if u["status"] == "missing" => {
                        ("quinn", "reports", serde_json::json!({"step": u["step"], "environment": u["environment"]}))
                    }
                    // A failed step: the next advance tries it again.
                    "step" => continue,
                    "window" => {
                        let start = jiff::Timestamp::now().to_string();
                        let body =
                            serde_json::json!({"environment": u["environment"], "start": start, "duration": "1h"});
                        ("rita", "bookings", body)
                    }
                    _ => return Err(format!("{release} waits for {u}").into()),
                };
                post(user, format!("/v1/releases/{release}/{path}"), body).await?;
            }
        }
        Err(format!("{release} did not finish in 100 advances").into())
    }
}
