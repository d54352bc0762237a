//! `serve-load`: `shipwarden serve` under load (issue #21), for
//! `benches/RESULTS.md`.
//!
//! ```text
//! serve-load [--smoke] [--store sqlite|postgres|both] [--auth jwt|token]
//!            [--clients 64] [--seconds 10] [--subscribers 1000] [--events 20]
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
//!    in process with `jsonwebtoken` (signature, issuer, audience, expiry,
//!    not-before; `--auth jwt`, the default), or an API-token-like hash
//!    look-up (`--auth token`);
//! 2. `--subscribers` server-sent-event subscribers of one release: the
//!    server's RSS per subscriber, then `--events` envelopes appended, each
//!    one's delivery time to every subscriber (from its envelope's time to
//!    its arrival), p50/p99/max, and that none is lost.
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
use shipwarden_server::{AppState, AuthError, Verified, Verify};
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
    url: Option<String>,
    release: Option<String>,
    token: Option<String>,
}

fn options(args: &[String]) -> Result<Options, Failure> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let mut o = Options {
        smoke,
        stores: vec!["sqlite".into(), "postgres".into()],
        auth: "jwt".into(),
        clients: if smoke { 4 } else { 64 },
        seconds: if smoke { 0.5 } else { 10.0 },
        subscribers: if smoke { 20 } else { 1000 },
        events: if smoke { 3 } else { 20 },
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
    let postgres = std::env::var("SHIPWARDEN_TEST_POSTGRES_URL").ok();
    for store in &o.stores {
        if store == "postgres" && postgres.is_none() {
            if std::env::var_os("SHIPWARDEN_REQUIRE_SERVERS").is_some() {
                return Err(
                    "SHIPWARDEN_TEST_POSTGRES_URL is required (scripts/test starts PostgreSQL and sets it)".into()
                );
            }
            println!("GET on postgres: not run (set SHIPWARDEN_TEST_POSTGRES_URL)");
            continue;
        }
        let mut server = Child::start(store, &o.auth).await?;
        // The child trusts the key (or token) it was started with; --token is for --url.
        let token = server.token.clone();
        if let Some(keys) = &server.keys {
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
    let mut server = Child::start("sqlite", &o.auth).await?;
    let sse = sse_load(&mut server, o.subscribers, o.events).await;
    server.stop().await;
    println!("SSE, {} subscribers of one release, {} events: {}", o.subscribers, o.events, sse?);
    Ok(())
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
async fn sse_load(server: &mut Child, subscribers: usize, events: usize) -> Result<String, Failure> {
    let url = format!("{}/v1/releases/{}/events", server.base, server.release);
    let rss_before = server.ask("rss").await?.parse::<u64>()?;
    let delays = Arc::new(Mutex::new(histogram()?));
    let connected = Arc::new(tokio::sync::Semaphore::new(0));
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let request = client.get(&url).bearer_auth(&server.token);
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
    release: String,
    token: String,
    keys: Option<tempfile::TempDir>,
}

impl Child {
    async fn start(store: &str, auth: &str) -> Result<Child, Failure> {
        let (token, verifier, keys) = match auth {
            "token" => {
                let token = format!("swt_{:032x}", u128::from(std::process::id()) << 64 | u128::from(nanos()));
                (token.clone(), format!("token:{token}"), None)
            }
            "jwt" => {
                let keys = tempfile::tempdir()?;
                let (token, public) = jwt::make(keys.path())?;
                (token, format!("jwt:{}", public.display()), Some(keys))
            }
            other => return Err(format!("--auth {other}: jwt or token").into()),
        };
        let mut process = tokio::process::Command::new(std::env::current_exe()?)
            .args(["--serve", store, &verifier])
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
        Ok(Child { base: format!("http://{addr}"), release: release.to_owned(), process, stdin, lines, token, keys })
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

    /// A 2048-bit RSA key in `dir`, and a token for quinn signed with it; returns the token and the public key (DER).
    pub fn make(dir: &Path) -> Result<(String, PathBuf), Failure> {
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
        let now = super::nanos() / 1_000_000_000;
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: "quinn".into(),
            exp: now + 3600,
            nbf: now - 60,
            groups: vec!["qa".into()],
        };
        let key = jsonwebtoken::EncodingKey::from_rsa_der(&std::fs::read(&private)?);
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key)?;
        Ok((token, public))
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

    fn verifier(spec: &str) -> Result<Arc<dyn Verify>, Failure> {
        if let Some(token) = spec.strip_prefix("token:") {
            let sha256 = ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().to_vec();
            return Ok(Arc::new(HashedToken { sha256 }));
        }
        if let Some(path) = spec.strip_prefix("jwt:") {
            let (key, validation) = jwt_validation(std::path::Path::new(path))?;
            return Ok(Arc::new(Jwt { key, validation }));
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

    pub async fn serve(args: &[String]) -> Result<(), Failure> {
        let (Some(store), Some(spec)) = (args.first(), args.get(1)) else {
            return Err("--serve STORE VERIFIER".into());
        };
        let dir = tempfile::tempdir()?;
        std::process::Command::new("git").args(["init", "-q"]).current_dir(dir.path()).status()?;
        let project = format!("load{:x}", nanos() & 0xffff_ffff);
        let mut config = shipwarden_adapters::config::template(&project);
        if store == "postgres" {
            config = config.replacen(
                "kind = \"sqlite\"",
                "kind = \"postgres\"\nurl_env = \"SHIPWARDEN_TEST_POSTGRES_URL\"\n#",
                1,
            );
        }
        // One load generator is one identity: the per-identity rate limit (50/s by default) would measure itself.
        config.push_str("\n[server]\nrate_limit = 1000000\n");
        let path = dir.path().join("shipwarden.toml");
        std::fs::write(&path, config)?;
        let state = AppState::open(&[&path]).await?.with_verifier(verifier(spec)?);
        let state = Arc::new(state);
        let p = state.projects.get(&project).ok_or("no project")?;
        let as_user = |user: &str| Verified {
            user: user.into(),
            groups: Default::default(),
            proof: Proof::Token { id: format!("load-{user}") },
            scopes: None,
        };
        let version: shipwarden::Version = "1.4.0".parse()?;
        let release = shipwarden::ReleaseId::for_version(&project, &version)?;
        let mut plan = shipwarden::Plan::new(release.clone(), project.clone(), version, shipwarden::ReleaseKind::Minor);
        plan.scope = vec![format!("{}-1", project.to_ascii_uppercase()).parse()?];
        p.manager.plan(&p.actor(&as_user("rita"), &state.settings), plan).await?;
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
            let answer = match line.trim() {
                "rss" => format!("OK {}", rss_kib()),
                "append" => {
                    n += 1;
                    let gate: shipwarden::GateId = "coverage".parse()?;
                    let evidence = shipwarden::machine::Evidence::new(gate, 0.9, format!("serve-load append {n}"));
                    match p.manager.record_evidence(&release, &quinn, evidence).await {
                        Ok(_) => "OK appended".to_owned(),
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
