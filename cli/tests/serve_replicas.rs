//! Three `shipwarden serve` replicas on one PostgreSQL (issue #21): a client
//! drives 50 releases of 5 projects through the API, playing the procedure's
//! people (approvals by different users, evidence, reported steps); the
//! replicas do the automatic work. One replica is killed with SIGKILL while
//! it deploys, another is stopped with SIGTERM and started again. Every
//! release finishes, every deployment ran once (the targets' own journal),
//! and every audit trail verifies. A deployment the SIGKILL cut short is in
//! doubt (R-9d): the client, as the deployment engineer, checks the target's
//! journal and resolves it through the API, then tries the step again.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

const PROJECTS: [&str; 5] = ["alpha", "bravo", "charlie", "delta", "echo"];
const RELEASES_PER_PROJECT: u32 = 10;

/// One project's `shipwarden.toml`: the shared PostgreSQL store, targets that
/// write their own journal (a prod deployment takes a moment, so a replica can
/// be killed in the middle of one), a status command answering from the journal.
fn config_text(name: &str, dir: &Path, extra: &str) -> String {
    let journal = dir.join("journal.log").display().to_string();
    let starts = dir.join("starts.log").display().to_string();
    let deploy = |env: &str, pause: &str| {
        format!(
            r#"deploy = ["sh", "-c", "echo \"$SHIPWARDEN_DRIVER_PID $SHIPWARDEN_KEY\" >> {starts}; sleep {pause}; echo \"$SHIPWARDEN_KEY\" >> {journal}"]
rollback = ["sh", "-c", "echo rolled back {env}"]
status = ["sh", "-c", "grep -qx \"$SHIPWARDEN_KEY\" {journal}"]"#
        )
    };
    format!(
        r#"
[project]
name = "{name}"
ticket_prefix = "{prefix}"
repository = "repo"

[store]
kind = "postgres"
url_env = "SHIPWARDEN_DATABASE_URL"

[engine]
lease_ttl = "5s"
lease_wait = "2s"

[users.rita]
roles = ["release_manager"]
[users.paul]
roles = ["product_owner"]
[users.quinn]
roles = ["qa_lead"]
[users.dana]
roles = ["deployment_engineer"]

[build]
command = ["sh", "-c", "mkdir -p dist && echo {name} $SHIPWARDEN_VERSION > dist/{name}-$SHIPWARDEN_VERSION.txt"]
artifacts = {{ "{name}.txt" = "dist/{name}-{{version}}.txt" }}

[[environments.staging.targets]]
name = "staging-1"
{staging}

[[environments.test.targets]]
name = "test-1"
{test}

[[environments.prod.targets]]
name = "prod-1"
{prod}

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.transitions.prod_readiness]
gates = []
steps = []

[policy.calendar]
blackouts = []
{extra}
"#,
        prefix = name.to_ascii_uppercase(),
        staging = deploy("staging", "0"),
        test = deploy("test", "0"),
        prod = deploy("prod", "0.7"),
    )
}

/// A `shipwarden serve` child process, killed when dropped.
struct Replica {
    child: Option<Child>,
    port: u16,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Replica {
    fn start(args: Vec<String>, env: Vec<(String, String)>, log: PathBuf) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let mut r = Replica { child: None, port, args, env, log };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_shipwarden"))
            .args(&self.args)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("SHIPWARDEN_LOG", "shipwarden=info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("shipwarden serve starts");
        self.child = Some(child);
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn signal(&mut self, signal: &str) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args([signal, &pid.to_string()]).status();
        }
    }

    fn wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.take().and_then(|mut c| c.wait().ok())
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The procedure's people, behind the API: each with an OIDC access token
/// the provider issued through its own flows.
struct People {
    tokens: BTreeMap<String, String>,
    client: reqwest::Client,
}

impl People {
    async fn new(issuer: &str) -> People {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("client");
        let mut tokens = BTreeMap::new();
        for user in ["rita", "paul", "quinn", "dana"] {
            let body: serde_json::Value = client
                .get(format!("{issuer}/__test/token"))
                .query(&[("user", user), ("resource", "urn:shipwarden")])
                .send()
                .await
                .expect("the provider answers")
                .json()
                .await
                .expect("a token response");
            let token = body["access_token"].as_str().expect("an access token").to_owned();
            tokens.insert(user.to_owned(), token);
        }
        People { tokens, client }
    }

    /// The person who gives what a role gives.
    fn of(role: &str) -> &'static str {
        match role {
            "product_owner" => "paul",
            "qa_lead" => "quinn",
            "deployment_engineer" => "dana",
            _ => "rita",
        }
    }

    async fn call(
        &self,
        bases: &[String],
        user: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Option<(u16, serde_json::Value)> {
        // Any replica will do; one that is down is skipped, as a load balancer would.
        for base in bases.iter().cycle().skip(fastrand::usize(..bases.len())).take(bases.len()) {
            let mut request =
                self.client.request(method.clone(), format!("{base}{path}")).bearer_auth(&self.tokens[user]);
            if let Some(b) = &body {
                request = request.json(b);
            }
            if let Ok(r) = request.send().await {
                let status = r.status().as_u16();
                let value = r.json().await.unwrap_or(serde_json::Value::Null);
                return Some((status, value));
            }
        }
        None
    }
}

/// Plays the people of `release` until it is in a final stage; its stage.
async fn drive(
    people: Arc<People>,
    bases: Arc<Mutex<Vec<String>>>,
    journal: PathBuf,
    project: String,
    version: String,
) -> (String, String) {
    let release = format!("{project}-{version}");
    let started = Instant::now();
    let mut planned = false;
    let mut last = serde_json::Value::Null;
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{release} did not finish in time: {}",
            &last.to_string()[..last.to_string().len().min(3000)]
        );
        let bases = bases.lock().await.clone();
        if !planned {
            let body = serde_json::json!({"version": version, "kind": "minor", "tickets": [format!("{}-1", project.to_ascii_uppercase())]});
            match people
                .call(&bases, "rita", reqwest::Method::POST, &format!("/v1/projects/{project}/releases"), Some(body))
                .await
            {
                Some((201, _)) => planned = true,
                // Planned by an earlier try whose answer was lost with its replica.
                Some((409 | 422, _)) => planned = true,
                _ => {}
            }
            continue;
        }
        let Some((200, status)) =
            people.call(&bases, "rita", reqwest::Method::GET, &format!("/v1/releases/{release}"), None).await
        else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let stage = status["state"]["stage"].as_str().unwrap_or_default().to_owned();
        last = serde_json::json!({"stage": stage, "next": status["next"], "steps": status["state"]["steps"]});
        if ["closed", "rolled_back", "cancelled"].contains(&stage.as_str()) {
            return (release, stage);
        }
        let forward = status["next"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| !["cancelled", "rolling_back", "rolled_back"].contains(&n[0].as_str().unwrap_or_default()));
        let mut unmet = forward.and_then(|n| n[1]["unmet"].as_array().cloned()).unwrap_or_default();
        // Production deploys in a booked window (R-6a): the release manager books one now.
        let booked = status["state"]["bookings"].as_array().is_some_and(|b| !b.is_empty());
        if !booked && ["accepted", "prod_ready", "deploying"].contains(&stage.as_str()) {
            unmet.push(serde_json::json!({"requirement": "booking"}));
        }
        for u in unmet {
            let (user, path, body) = match u["requirement"].as_str().unwrap_or_default() {
                "approval" => {
                    let role = u["roles"][0].as_str().unwrap_or("product_owner");
                    (
                        People::of(role),
                        "approvals",
                        serde_json::json!({"approval": u["approval"], "comment": "through the API"}),
                    )
                }
                "gate" => {
                    // Coverage is a ratio, printed as a percentage.
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
                "booking" => {
                    let start = jiff::Timestamp::now().to_string();
                    ("rita", "bookings", serde_json::json!({"environment": "prod", "start": start, "duration": "10m"}))
                }
                // The steps people perform; deployments are the replicas' work.
                "step"
                    if u["status"].as_str() == Some("missing")
                        && ["integration_tests", "demo", "smoke_test"]
                            .contains(&u["step"].as_str().unwrap_or_default()) =>
                {
                    ("quinn", "reports", serde_json::json!({"step": u["step"], "environment": u["environment"]}))
                }
                // A step that failed (a deployment resolved as cut short): the deployment
                // engineer tries it again; the server does not retry a failure by itself.
                "step" if u["status"].as_str().is_some_and(|st| st.starts_with("failed")) => {
                    ("dana", "advance", serde_json::json!({}))
                }
                // A deployment whose replica died in the middle (R-9d): the deployment engineer
                // checks the target's own journal and says how it ended.
                "step_in_doubt" => {
                    let key = u["key"].as_str().unwrap_or_default();
                    let line = format!("{release}:{key}");
                    let done = std::fs::read_to_string(&journal).unwrap_or_default().lines().any(|l| l == line);
                    let reason =
                        if done { "in the target's journal" } else { "not in the target's journal: cut short" };
                    ("dana", "resolutions", serde_json::json!({"step": key, "done": done, "reason": reason}))
                }
                _ => continue,
            };
            let _ = people
                .call(&bases, user, reqwest::Method::POST, &format!("/v1/releases/{release}/{path}"), Some(body))
                .await;
        }
        // The replicas do the rest in the background.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_fifty_releases_and_survive_a_sigkill_mid_deploy() {
    let Some(server) = shipwarden_e2e::server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let Some(issuer) = shipwarden_e2e::server_env("SHIPWARDEN_TEST_OIDC_ISSUER") else { return };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let database = shipwarden_e2e::new_database(&server, "sw_replicas_");
    let dir = tempfile::tempdir().expect("tempdir");
    let oidc =
        format!("\n[server]\nrate_limit = 100000\n\n[server.oidc]\nissuer = \"{issuer}\"\naudience = \"shipwarden\"\n");
    let mut configs = Vec::new();
    for name in PROJECTS {
        let home = dir.path().join(name);
        let repo = home.join("repo");
        std::fs::create_dir_all(&repo).expect("repo");
        common::git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("app.txt"), name).expect("file");
        common::git(&repo, &["add", "."]);
        common::git(&repo, &["commit", "-q", "-m", &format!("{}-1: first", name.to_ascii_uppercase())]);
        let config = home.join("shipwarden.toml");
        std::fs::write(&config, config_text(name, dir.path(), if configs.is_empty() { &oidc } else { "" }))
            .expect("config");
        configs.push(config);
    }
    let mut args = vec!["serve".to_owned(), "--config".to_owned(), configs[0].display().to_string()];
    for c in &configs[1..] {
        args.extend(["--project".to_owned(), c.display().to_string()]);
    }
    let env = vec![
        ("SHIPWARDEN_DATABASE_URL".to_owned(), database.clone()),
        ("HOME".to_owned(), dir.path().display().to_string()),
        ("GIT_AUTHOR_NAME".to_owned(), "Dev".to_owned()),
        ("GIT_AUTHOR_EMAIL".to_owned(), "dev@example.com".to_owned()),
        ("GIT_COMMITTER_NAME".to_owned(), "Dev".to_owned()),
        ("GIT_COMMITTER_EMAIL".to_owned(), "dev@example.com".to_owned()),
    ];
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| Replica::start(args.clone(), env.clone(), dir.path().join(format!("replica-{i}.log"))))
        .collect();
    for r in &replicas {
        wait_ready(&r.base()).await;
    }
    let bases = Arc::new(Mutex::new(replicas.iter().map(Replica::base).collect::<Vec<_>>()));
    let people = Arc::new(People::new(&issuer).await);

    // The five projects at once; each releases its versions in order (R-4c: never older than the last).
    let mut drives = tokio::task::JoinSet::new();
    for name in PROJECTS {
        let (people, bases, journal) = (people.clone(), bases.clone(), dir.path().join("journal.log"));
        drives.spawn(async move {
            let mut stages = Vec::new();
            for n in 0..RELEASES_PER_PROJECT {
                let version = format!("1.{n}.0");
                stages.push(drive(people.clone(), bases.clone(), journal.clone(), name.to_owned(), version).await);
            }
            stages
        });
    }

    // Once a replica is deploying to production, it is killed with SIGKILL in the middle of it.
    let starts = dir.path().join("starts.log");
    let journal = dir.path().join("journal.log");
    let waiting = Instant::now();
    let victim = loop {
        if waiting.elapsed() > Duration::from_secs(240) {
            let bases = bases.lock().await.clone();
            let status = people.call(&bases, "rita", reqwest::Method::GET, "/v1/releases/alpha-1.0.0", None).await;
            let logs = std::fs::read_to_string(dir.path().join("replica-0.log")).unwrap_or_default();
            let tail: Vec<&str> = logs.lines().rev().take(20).collect();
            panic!("no replica deployed to production within 4 minutes; alpha-1.0.0: {status:?}\nreplica 0: {tail:#?}");
        }
        let started = std::fs::read_to_string(&starts).unwrap_or_default();
        let done = std::fs::read_to_string(&journal).unwrap_or_default();
        let running = started
            .lines()
            .filter_map(|l| l.split_once(' '))
            .find(|(_, key)| key.contains("prod") && !done.lines().any(|d| d == *key));
        if let Some((pid, _)) = running
            && let Some(i) = replicas.iter().position(|r| r.pid().is_some_and(|p| p.to_string() == pid))
        {
            break i;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    replicas[victim].signal("-KILL");
    replicas[victim].wait();
    bases.lock().await.retain(|b| *b != replicas[victim].base());
    // Another replica is stopped with SIGTERM (it lets its running steps finish) and started again.
    let other = (victim + 1) % replicas.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let base = replicas[other].base();
    bases.lock().await.retain(|b| *b != base);
    replicas[other].signal("-TERM");
    let stopped = replicas[other].wait();
    assert!(stopped.is_some_and(|s| s.success()), "SIGTERM ends serve cleanly: {stopped:?}");
    replicas[other].spawn();
    wait_ready(&base).await;
    bases.lock().await.push(base);

    let mut stages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    while let Some(done) = drives.join_next().await {
        for (release, stage) in done.expect("a project's drives") {
            stages.entry(stage).or_default().push(release);
        }
    }
    // Every release finished: released and closed, or (a deployment cut short by the SIGKILL,
    // resolved as not done by a person, R-9d) rolled back.
    let closed = stages.get("closed").map_or(0, Vec::len);
    let rolled_back = stages.get("rolled_back").map_or(0, Vec::len);
    assert_eq!(closed + rolled_back, 50, "every release finished: {stages:?}");
    assert!(rolled_back <= 1, "only the deployment the SIGKILL cut short is undone: {stages:?}");
    eprintln!(
        "replica {victim} killed mid-deploy, replica {other} restarted: {closed} releases closed, {rolled_back} rolled back ({:?})",
        stages.get("rolled_back")
    );

    // Each deployment ran once: the targets' own journal has every key once, and
    // every closed release was deployed to staging, test and production.
    let done = std::fs::read_to_string(&journal).unwrap_or_default();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for key in done.lines() {
        *counts.entry(key).or_insert(0) += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "deployed twice: {twice:?}");
    for release in stages.get("closed").into_iter().flatten() {
        let deployed: Vec<_> = counts.keys().filter(|k| k.starts_with(&format!("{release}:deploy:"))).collect();
        assert_eq!(deployed.len(), 3, "{release}: staging, test and prod once each: {deployed:?} of {counts:?}");
    }

    // Every audit trail verifies.
    let bases = bases.lock().await.clone();
    for name in PROJECTS {
        for n in 0..RELEASES_PER_PROJECT {
            let path = format!("/v1/releases/{name}-1.{n}.0/audit");
            let (code, body) = people.call(&bases, "rita", reqwest::Method::GET, &path, None).await.expect("answer");
            assert_eq!(code, 200, "{path}: {body}");
            assert_eq!(body["verified"], true, "{path}: {body}");
        }
    }
}

async fn wait_ready(base: &str) {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} did not become ready");
}
