//! The API over HTTP, in process, on a real SQLite store: a whole release
//! through every route (plan to closed, deployments running real target
//! commands), each route's main refusal, and the problem documents of
//! refusals and bad requests.

mod common;

use std::sync::Arc;

use common::Names;
use shipwarden_server::AppState;

const LIFECYCLE: &str = r#"
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
[users.quinn]
roles = ["qa_lead"]
[users.dana]
roles = ["deployment_engineer"]
[users.casey]
roles = ["cto"]

[build]
command = ["sh", "-c", "mkdir -p dist && echo shop $SHIPWARDEN_VERSION > dist/shop-$SHIPWARDEN_VERSION.txt"]
artifacts = { "shop.txt" = "dist/shop-{version}.txt" }

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to staging-1"]
rollback = ["sh", "-c", "echo staging-1 rolled back"]

[[environments.test.targets]]
name = "test-1"
deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to test-1"]
rollback = ["sh", "-c", "echo test-1 rolled back"]

[[environments.prod.targets]]
name = "prod-1"
deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to prod-1 >> {log}; echo deployed $SHIPWARDEN_VERSION to prod-1"]
rollback = ["sh", "-c", "echo prod-1 rolled back"]

[[environments.dev.targets]]
name = "dev-1"
deploy = ["sh", "-c", "echo no disk left >&2; exit 75"]
rollback = ["true"]

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.transitions.prod_readiness]
gates = []
steps = []

[policy.calendar]
blackouts = []

[server.projects.shop]
readers = ["rory"]
"#;

/// 95 % line coverage.
const LCOV: &str = "SF:a\nLH:95\nLF:100\nend_of_record\n";

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/tests/fixtures/evidence").join(name);
    std::fs::read(path).expect("fixture")
}

struct Server {
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    /// The project's name.
    project: String,
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
        Server { base, client: reqwest::Client::new(), _dir: dir, project: "shop".to_owned() }
    }

    /// A project like the CLI's tests use: a git repository with two ticketed
    /// commits, targets that run `sh`, an open calendar, fast retries.
    /// On SQLite in the project folder, or on the PostgreSQL at `postgres`.
    async fn lifecycle(postgres: Option<&str>) -> Server {
        Server::lifecycle_with(postgres, |c| c).await
    }

    /// [`Server::lifecycle`] with its configuration changed by `edit`.
    async fn lifecycle_with(postgres: Option<&str>, edit: impl Fn(String) -> String) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
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
        for (file, message) in [("a.txt", "SHOP-1: checkout"), ("b.txt", "SHOP-2: cart rounding")] {
            std::fs::write(repo.join(file), file).expect("write");
            git(&["add", "."]);
            git(&["commit", "-q", "-m", message]);
        }
        let config = dir.path().join("shipwarden.toml");
        let log = dir.path().join("prod.log").display().to_string();
        let project = match postgres {
            Some(_) => format!(
                "shop{:x}",
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_nanos()
            ),
            None => "shop".to_owned(),
        };
        let mut text = LIFECYCLE.replace("{log}", &log).replace("name = \"shop\"", &format!("name = \"{project}\""));
        if postgres.is_some() {
            text.push_str("\n[store]\nkind = \"postgres\"\nurl_env = \"SHIPWARDEN_TEST_POSTGRES_URL\"\n");
        }
        std::fs::write(&config, edit(text)).expect("config");
        let state = AppState::open(&[&config]).await.expect("open").with_verifier(Arc::new(Names));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(shipwarden_server::serve(listener, Arc::new(state), std::future::pending()));
        Server { base, client: reqwest::Client::new(), _dir: dir, project }
    }

    async fn raw(&self, user: &str, path: &str) -> (u16, String, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(format!("test-{user}"))
            .send()
            .await
            .expect("send");
        let status = r.status().as_u16();
        let kind = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        (status, kind, r.text().await.expect("text"))
    }

    async fn upload(&self, user: &str, path: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(format!("test-{user}"))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .expect("send");
        (r.status().as_u16(), r.json().await.expect("json"))
    }

    async fn stage(&self, release: &str) -> String {
        let (code, body) = self.get("rita", &format!("/v1/releases/{release}")).await;
        assert_eq!(code, 200, "{body}");
        body["state"]["stage"].as_str().unwrap_or_default().to_owned()
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

/// The rejections recorded in a release's state.
fn rejections(state: &serde_json::Value) -> Vec<serde_json::Value> {
    state["rejections"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_rejection_is_recorded_with_its_reason_and_blocks_the_advance_until_its_author_approves_r2b_r2c() {
    let s = Server::lifecycle(None).await;
    let r = "/v1/releases/shop-1.0.0";
    let (code, body) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({"version": "1.0.0", "kind": "minor", "tickets": ["SHOP-1"]}),
        )
        .await;
    assert_eq!(code, 201, "{body}");

    // Without a reason: refused by R-2c, naming the field; nothing recorded.
    for body in [serde_json::json!({"approval": "scope"}), serde_json::json!({"approval": "scope", "comment": "  "})] {
        let doc = refused(&s, "paul", &format!("{r}/rejections"), body.clone()).await;
        assert_eq!((doc["status"].as_u64(), doc["rule"].as_str()), (Some(422), Some("R-2c")), "{body}: {doc}");
        assert!(doc["unmet"].to_string().contains("comment"), "{doc}");
    }
    // Without the role: answered as an approval by the same caller is, nothing recorded.
    let (approve_code, _) = s.post("quinn", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    let doc =
        refused(&s, "quinn", &format!("{r}/rejections"), serde_json::json!({"approval": "scope", "comment": "no"}))
            .await;
    assert_eq!(doc["status"].as_u64(), Some(u64::from(approve_code)), "as approve answers: {doc}");
    assert!(approve_code == 403 || approve_code == 422, "{doc}");
    // A value that does not parse: 400, naming the field.
    let doc = refused(
        &s,
        "paul",
        &format!("{r}/rejections"),
        serde_json::json!({"approval": "scope", "comment": "no", "channel": "pigeon"}),
    )
    .await;
    assert_eq!(doc["status"], 400, "{doc}");
    let (_, status) = s.get("rita", r).await;
    assert!(rejections(&status["state"]).is_empty(), "nothing was recorded: {status}");
    assert!(status["state"]["approvals"].as_array().is_some_and(Vec::is_empty), "{status}");

    // The product owner rejects the scope, with a reason: who, role, channel (`cli` by default), reason, when.
    let (code, body) = s
        .post(
            "paul",
            &format!("{r}/rejections"),
            serde_json::json!({"approval": "scope", "comment": "SHOP-1 is not ready"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let given = rejections(&body);
    assert_eq!(given.len(), 1, "{body}");
    let g = &given[0];
    assert_eq!(
        (&g["approval"], &g["user"], &g["role"], &g["channel"], &g["comment"]),
        (
            &serde_json::json!("scope"),
            &serde_json::json!("paul"),
            &serde_json::json!("product_owner"),
            &serde_json::json!("cli"),
            &serde_json::json!("SHOP-1 is not ready")
        ),
        "{g}"
    );
    assert!(g["at"].is_string(), "{g}");
    let (_, history) = s.get("rita", &format!("{r}/history")).await;
    assert!(history.to_string().contains("\"rejected\""), "the audit trail names it: {history}");
    // Twice: refused (R-2d, a duplicate), still one.
    let doc =
        refused(&s, "paul", &format!("{r}/rejections"), serde_json::json!({"approval": "scope", "comment": "again"}))
            .await;
    assert!(doc["unmet"].to_string().contains("duplicate_rejection"), "{doc}");

    // The advance stops at the rejection, naming who rejected and why.
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    let refusal = if code == 200 { body["outcome"]["refusal"].clone() } else { body.clone() };
    assert!(code == 200 || code == 422, "{body}");
    let rejected = refusal["unmet"]
        .as_array()
        .and_then(|u| u.iter().find(|x| x["requirement"] == "rejected").cloned())
        .unwrap_or_else(|| panic!("a `rejected` requirement: {body}"));
    assert_eq!(
        (&rejected["approval"], &rejected["user"], &rejected["role"], &rejected["reason"]),
        (
            &serde_json::json!("scope"),
            &serde_json::json!("paul"),
            &serde_json::json!("product_owner"),
            &serde_json::json!("SHOP-1 is not ready")
        ),
        "{rejected}"
    );
    assert_eq!(s.stage("shop-1.0.0").await, "planned");
    let (_, status) = s.get("rita", r).await;
    assert!(status.to_string().contains("\"requirement\":\"rejected\""), "the status's ways forward name it: {status}");

    // paul approves: the rejection is lifted, the release moves on.
    let (code, body) = s.post("paul", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(rejections(&body).len(), 1, "the rejection stays in the record: {body}");
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({"until": "scope_approved"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(s.stage("shop-1.0.0").await, "scope_approved", "{body}");
}

/// `(requirement, approval)` of each inbox item of `user` for `release`, with its standing rejections' users.
async fn inbox_of(s: &Server, user: &str, release: &str) -> Vec<(String, String, Vec<String>)> {
    let (code, inbox) = s.get(user, "/v1/inbox").await;
    assert_eq!(code, 200, "{inbox}");
    inbox["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["release"] == release)
        .map(|i| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            let by = i["rejections"].as_array().into_iter().flatten().map(|r| text(&r["user"])).collect();
            (text(&i["unmet"]["requirement"]), text(&i["unmet"]["approval"]), by)
        })
        .collect()
}

#[tokio::test]
async fn the_inbox_names_a_standing_rejection_and_asks_its_author_alone_to_lift_it_r2b() {
    let s = Server::lifecycle_with(None, |c| {
        c.replace("[users.paul]", "[users.pia]\nroles = [\"product_owner\"]\n[users.paul]")
    })
    .await;
    let r = "/v1/releases/shop-1.0.0";
    let (code, body) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({"version": "1.0.0", "kind": "minor", "tickets": ["SHOP-1"]}),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    let scope = |by: &[&str]| {
        ("approval".to_owned(), "scope".to_owned(), by.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>())
    };
    assert!(inbox_of(&s, "paul", "shop-1.0.0").await.contains(&scope(&[])));

    let (code, body) = s
        .post("paul", &format!("{r}/rejections"), serde_json::json!({"approval": "scope", "comment": "too big"}))
        .await;
    assert_eq!(code, 200, "{body}");
    // Both product owners are asked for the scope approval; the item names paul's rejection.
    for user in ["paul", "pia"] {
        let items = inbox_of(&s, user, "shop-1.0.0").await;
        assert!(items.contains(&scope(&["paul"])), "{user}: {items:?}");
        assert!(!items.iter().any(|i| i.0 == "rejected"), "{user}: one item per approval: {items:?}");
    }
    // pia approves: the count is met, paul's rejection alone blocks, and only paul is asked to lift it.
    let (code, body) = s.post("pia", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    assert_eq!(code, 200, "{body}");
    let items = inbox_of(&s, "paul", "shop-1.0.0").await;
    assert!(items.contains(&("rejected".to_owned(), "scope".to_owned(), vec![])), "{items:?}");
    let items = inbox_of(&s, "pia", "shop-1.0.0").await;
    assert!(!items.iter().any(|i| i.1 == "scope"), "{items:?}");
    let (code, body) = s.post("paul", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    assert_eq!(code, 200, "{body}");
    let items = inbox_of(&s, "paul", "shop-1.0.0").await;
    assert!(!items.iter().any(|i| i.1 == "scope"), "{items:?}");
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

/// The outcome of a run answered by `advance` or `verification`.
fn outcome(body: &serde_json::Value) -> &str {
    body["outcome"]["outcome"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_whole_release_through_every_route_r3() {
    let s = Server::lifecycle(None).await;
    whole_release(&s).await;
}

/// The server's store is the PostgreSQL of `SHIPWARDEN_TEST_POSTGRES_URL`
/// (`scripts/lib/services.sh` starts one); the project's name is new on each
/// run, so a database kept between runs holds no release of it yet.
#[tokio::test]
async fn a_whole_release_through_every_route_on_postgres_r3() {
    let Some(url) = postgres() else { return };
    let s = Server::lifecycle(Some(&url)).await;
    whole_release(&s).await;
}

fn postgres() -> Option<String> {
    match std::env::var("SHIPWARDEN_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("SHIPWARDEN_REQUIRE_SERVERS").is_some() => {
            panic!("SHIPWARDEN_TEST_POSTGRES_URL is required (scripts/test starts PostgreSQL and sets it)")
        }
        Err(_) => {
            eprintln!("NOTE: not run: set SHIPWARDEN_TEST_POSTGRES_URL (scripts/test starts PostgreSQL and sets it)");
            None
        }
    }
}

/// Plan to closed through the API, then every record route.
async fn whole_release(s: &Server) {
    let p = s.project.as_str();
    let id = format!("{p}-1.0.0");
    let r = &format!("/v1/releases/{id}");
    // R-4a: without tickets, the scope is the ticket keys of the commits.
    let (code, body) = s
        .post("rita", &format!("/v1/projects/{p}/releases"), serde_json::json!({"version": "1.0.0", "kind": "minor"}))
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["plan"]["scope"], serde_json::json!(["SHOP-1", "SHOP-2"]), "{body}");
    let (code, body) = s.post("paul", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    assert_eq!(code, 200, "{body}");
    // Build and staging run (real commands); QA's gates wait.
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(outcome(&body), "waiting", "{body}");
    assert_eq!(body["stage"], "staging_deployed", "{body}");
    // Evidence: a coverage report uploaded through the importers, and a value.
    let (code, body) =
        s.upload("quinn", &format!("{r}/evidence/files?format=coverage"), LCOV.as_bytes().to_vec()).await;
    assert_eq!(code, 200, "{body}");
    let coverage =
        body["gate_results"].as_array().and_then(|g| g.iter().rev().find(|x| x["gate"] == "coverage")).cloned();
    assert!(coverage.is_some_and(|c| c["source"].as_str().is_some_and(|s| s.contains("upload"))), "{body}");
    let (code, body) =
        s.post("quinn", &format!("{r}/evidence"), serde_json::json!({"gate": "p95_latency", "value": 120.0})).await;
    assert_eq!(code, 200, "{body}");
    // Without a ticketing system of its own (on PostgreSQL), open bugs are evidence people give.
    let (code, body) =
        s.post("quinn", &format!("{r}/evidence"), serde_json::json!({"gate": "critical_bugs", "value": 0.0})).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = s
        .post("quinn", &format!("{r}/approvals"), serde_json::json!({"approval": "qa_signoff", "channel": "email"}))
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({"until": "qa_verified"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(outcome(&body), "reached", "{body}");
    let (code, body) = s
        .post(
            "quinn",
            &format!("{r}/reports"),
            serde_json::json!({"step": "integration_tests", "environment": "staging", "detail": "48 passed"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    let (code, body) =
        s.post("paul", &format!("{r}/reports"), serde_json::json!({"step": "demo", "environment": "test"})).await;
    assert_eq!(code, 200, "{body}");
    s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    let (code, body) =
        s.post("paul", &format!("{r}/evidence"), serde_json::json!({"gate": "docs_reviewed", "value": 1.0})).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = s.post("paul", &format!("{r}/approvals"), serde_json::json!({"approval": "acceptance"})).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = s
        .post(
            "rita",
            &format!("{r}/bookings"),
            serde_json::json!({"environment": "prod", "start": "2030-01-05T10:00:00Z", "duration": "2h"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body["bookings"].as_array().is_some_and(|b| !b.is_empty()), "{body}");
    // To production (the target's command runs) and waiting for the smoke tests.
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["stage"], "verifying", "{body}");
    let log = std::fs::read_to_string(s._dir.path().join("prod.log")).expect("the prod target ran");
    assert_eq!(log.lines().collect::<Vec<_>>(), ["deployed 1.0.0 to prod-1"], "deployed once");
    s.post("dana", &format!("{r}/reports"), serde_json::json!({"step": "smoke_test", "environment": "prod"})).await;
    let (code, body) = s
        .post(
            "dana",
            &format!("{r}/evidence"),
            serde_json::json!({"gate": "response_time", "value": 42.0, "environment": "prod"}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = s.post("dana", &format!("{r}/verification"), serde_json::json!(null)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["stage"], "closed", "{body}");
    // The records.
    let (code, body) = s.get("quinn", &format!("{r}/audit")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["verified"], true, "{body}");
    let (code, history) = s.get("quinn", &format!("{r}/history")).await;
    assert_eq!(code, 200, "{history}");
    let events = history.as_array().map_or(0, Vec::len);
    assert_eq!(body["events"], events, "{body}");
    let (code, kind, jsonl) = s.raw("quinn", &format!("{r}/history?format=jsonl")).await;
    assert_eq!((code, kind.as_str()), (200, "application/jsonl"));
    assert_eq!(jsonl.lines().count(), events);
    assert!(jsonl.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    let (code, kind, notes) = s.raw("quinn", &format!("{r}/notes")).await;
    assert_eq!(code, 200, "{notes}");
    assert!(kind.starts_with("text/markdown"), "{kind}");
    assert!(notes.contains(&format!("# {p} 1.0.0")) && notes.contains("SHOP-1"), "{notes}");
    let (code, kind, ics) = s.raw("rita", "/v1/calendar?days=3660&format=ics").await;
    assert_eq!(code, 200, "{ics}");
    assert!(kind.starts_with("text/calendar"), "{kind}");
    assert!(ics.contains("BEGIN:VCALENDAR") && ics.contains(&format!("Deploy {id} to prod")), "{ics}");
    let (code, cal) = s.get("rita", &format!("/v1/calendar?days=3660&project={p}")).await;
    assert_eq!(code, 200, "{cal}");
    assert!(cal.as_array().is_some_and(|c| !c.is_empty()), "{cal}");
    let (code, list) = s.get("rita", &format!("/v1/releases?stage=closed&project={p}")).await;
    assert_eq!(code, 200, "{list}");
    assert_eq!(list["releases"][0]["release"], id.as_str(), "{list}");
    let (code, bundle) = s.get("rita", &format!("{r}/evidence/bundle")).await;
    assert_eq!(code, 200, "{bundle}");
    assert_eq!(bundle["bundle"]["release"], id.as_str(), "{bundle}");
    let (code, duties) = s.get("rita", &format!("/v1/duties?project={p}")).await;
    assert_eq!(code, 200, "{duties}");
    assert!(duties.is_array(), "{duties}");
    // R-4c: a version not newer than the last release is refused.
    let (code, body) = s
        .post("rita", &format!("/v1/projects/{p}/releases"), serde_json::json!({"version": "0.9.0", "kind": "minor"}))
        .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["rule"], "R-4c", "{body}");
}

/// The problem a refusal is answered with: 4xx, problem+json, the code and (for a refusal) the rule.
async fn refused(s: &Server, user: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
    let r = s
        .client
        .post(format!("{}{path}", s.base))
        .bearer_auth(format!("test-{user}"))
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    assert_eq!(r.headers()["content-type"], "application/problem+json", "{path}");
    let doc: serde_json::Value = r.json().await.expect("json");
    assert!((400..500).contains(&status), "{path}: {status} {doc}");
    assert_eq!(doc["status"], status, "{doc}");
    if doc["code"] == "REFUSED" {
        assert!(doc["rule"].is_string() && doc["stage"].is_string(), "{doc}");
        assert!(doc["unmet"].as_array().is_some_and(|u| !u.is_empty()), "{doc}");
    }
    doc
}

#[tokio::test]
async fn each_route_answers_its_refusal_as_a_problem_r3_r8g() {
    let s = Server::lifecycle(None).await;
    let r = "/v1/releases/shop-2.0.0";
    let (code, body) = s
        .post(
            "rita",
            "/v1/projects/shop/releases",
            serde_json::json!({
                "version": "2.0.0", "kind": "minor", "tickets": ["SHOP-9"], "target_date": "2030-02-01",
                "dependencies": [{"name": "payments-gateway", "version": ">=2.4, <3"}],
            }),
        )
        .await;
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["plan"]["target_date"], "2030-02-01", "{body}");
    assert_eq!(body["plan"]["dependencies"][0]["name"], "payments-gateway", "{body}");
    // R-3: no production deployment outside the lifecycle.
    let doc = refused(&s, "dana", &format!("{r}/deployments"), serde_json::json!({"environment": "prod"})).await;
    assert_eq!((doc["code"].as_str(), doc["rule"].as_str()), (Some("REFUSED"), Some("R-3")), "{doc}");
    // R-8g: nothing to roll back yet.
    let doc = refused(&s, "dana", &format!("{r}/rollback"), serde_json::json!({"reason": "nothing to undo"})).await;
    assert_eq!(doc["code"], "REFUSED", "{doc}");
    // Verification only of a release in production.
    let doc = refused(&s, "dana", &format!("{r}/verification"), serde_json::json!(null)).await;
    assert_eq!(doc["code"], "REFUSED", "{doc}");
    // Unknown gate, step and environment; a bad time; an empty reason: 400 naming the field.
    let doc = refused(&s, "quinn", &format!("{r}/evidence"), serde_json::json!({"gate": "nope!", "value": 1.0})).await;
    assert!(doc["detail"].as_str().is_some_and(|d| d.contains("gate")), "{doc}");
    let doc = refused(&s, "quinn", &format!("{r}/reports"), serde_json::json!({"step": "no such step!"})).await;
    assert!(doc["detail"].as_str().is_some_and(|d| d.contains("step")), "{doc}");
    let doc =
        refused(&s, "rita", &format!("{r}/bookings"), serde_json::json!({"environment": "prod", "start": "soon"}))
            .await;
    assert!(doc["detail"].as_str().is_some_and(|d| d.contains("start")), "{doc}");
    let doc = refused(&s, "rita", &format!("{r}/override"), serde_json::json!({"reason": "  "})).await;
    assert_eq!(doc["code"], "INVALID_INPUT", "{doc}");
    // An advance short of `until` waits, with the refusal that stops it.
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({"until": "prod_ready"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(outcome(&body), "waiting", "{body}");
    assert!(body["outcome"]["refusal"]["rule"].is_string(), "{body}");
    // A step that is not in doubt cannot be resolved.
    let doc = refused(
        &s,
        "dana",
        &format!("{r}/resolutions"),
        serde_json::json!({"step": "deploy:prod:prod-1#1", "done": true, "reason": "checked"}),
    )
    .await;
    assert!(doc["code"] == "REFUSED" || doc["code"] == "INVALID_INPUT", "{doc}");
    // A report file that is not its format: 400 naming the line, nothing recorded.
    let (_, before) = s.get("rita", &format!("{r}/history")).await;
    let (code, doc) = s.upload("quinn", &format!("{r}/evidence/files?format=perf"), fixture("bad-results.jtl")).await;
    assert_eq!(code, 400, "{doc}");
    assert!(doc["detail"].as_str().is_some_and(|d| d.contains(":3:") && d.contains("elapsed")), "{doc}");
    let (code, doc) = s.upload("quinn", &format!("{r}/evidence/files?format=pdf"), fixture("lcov.info")).await;
    assert_eq!(code, 400, "{doc}");
    let (code, doc) = s.upload("quinn", &format!("{r}/evidence/files"), fixture("lcov.info")).await;
    assert_eq!(code, 400, "a missing format: {doc}");
    let (_, after) = s.get("rita", &format!("{r}/history")).await;
    assert_eq!(before, after, "refused uploads change nothing");
    // JUnit and k6 uploads are evidence for their gates (R-7a, R-7c).
    let (code, body) =
        s.upload("quinn", &format!("{r}/evidence/files?format=junit"), fixture("junit-surefire.xml")).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = s.upload("quinn", &format!("{r}/evidence/files?format=perf"), fixture("k6-summary.json")).await;
    assert_eq!(code, 200, "{body}");
    let gates: Vec<&str> =
        body["gate_results"].as_array().into_iter().flatten().filter_map(|g| g["gate"].as_str()).collect();
    assert!(gates.contains(&"test_failures") && gates.contains(&"p95_latency"), "{gates:?}");
    // Cancel, then cancel again: R-3.
    let (code, body) = s.post("rita", &format!("{r}/cancellation"), serde_json::json!({"reason": "descoped"})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(s.stage("shop-2.0.0").await, "cancelled");
    let doc = refused(&s, "rita", &format!("{r}/cancellation"), serde_json::json!({"reason": "again"})).await;
    assert_eq!(doc["code"], "REFUSED", "{doc}");
    // Someone who may not see the project: 404 on every route, as for a release that does not exist.
    let bodies = [
        ("evidence", serde_json::json!({"gate": "coverage", "value": 1.0})),
        ("advance", serde_json::json!({})),
        ("bookings", serde_json::json!({"environment": "prod", "start": "2030-01-05T10:00:00Z"})),
        ("override", serde_json::json!({"reason": "r"})),
        ("deployments", serde_json::json!({"environment": "prod"})),
        ("verification", serde_json::json!(null)),
        ("rollback", serde_json::json!({"reason": "r"})),
        ("cancellation", serde_json::json!({"reason": "r"})),
        ("resolutions", serde_json::json!({"step": "s", "done": true, "reason": "r"})),
        ("reports", serde_json::json!({"step": "demo"})),
    ];
    for (path, body) in bodies {
        let doc = refused(&s, "mallory", &format!("{r}/{path}"), body).await;
        assert_eq!(doc["status"], 404, "{path}: {doc}");
    }
    for path in ["history", "audit", "notes", "evidence/bundle"] {
        let (code, body) = s.get("mallory", &format!("{r}/{path}")).await;
        assert_eq!(code, 404, "{path}: {body}");
    }
    // A reader sees the release, and starts none of its steps.
    let (code, body) = s.get("rory", r).await;
    assert_eq!(code, 200, "{body}");
    for (path, body) in [
        ("advance", serde_json::json!({})),
        ("deployments", serde_json::json!({"environment": "staging"})),
        ("verification", serde_json::json!(null)),
    ] {
        let doc = refused(&s, "rory", &format!("{r}/{path}"), body).await;
        assert_eq!((doc["status"].as_u64(), doc["code"].as_str()), (Some(403), Some("FORBIDDEN")), "{path}: {doc}");
    }
    let (code, body) = s.get("mallory", "/v1/releases").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["releases"], serde_json::json!([]), "nothing visible: {body}");
}

#[tokio::test]
async fn the_list_filters_and_pages() {
    let s = Server::lifecycle(None).await;
    for (version, kind) in [("1.0.0", "minor"), ("1.1.0", "minor"), ("2.0.0", "major")] {
        let (code, body) = s
            .post(
                "rita",
                "/v1/projects/shop/releases",
                serde_json::json!({"version": version, "kind": kind, "tickets": ["SHOP-1"]}),
            )
            .await;
        assert_eq!(code, 201, "{body}");
    }
    let (code, page) = s.get("rita", "/v1/releases?limit=2").await;
    assert_eq!(code, 200, "{page}");
    assert_eq!(page["releases"].as_array().map(Vec::len), Some(2), "{page}");
    assert_eq!(page["next_offset"], 2, "{page}");
    let (_, rest) = s.get("rita", "/v1/releases?limit=2&offset=2").await;
    assert_eq!(rest["releases"].as_array().map(Vec::len), Some(1), "{rest}");
    assert!(rest["next_offset"].is_null(), "{rest}");
    let (_, major) = s.get("rita", "/v1/releases?kind=major").await;
    assert_eq!(major["releases"].as_array().map(Vec::len), Some(1), "{major}");
    let (_, planned) = s.get("rita", "/v1/releases?stage=planned&project=shop").await;
    assert_eq!(planned["releases"].as_array().map(Vec::len), Some(3), "{planned}");
    let (code, body) = s.get("rita", "/v1/releases?limit=many").await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = s.get("rita", "/v1/releases?colour=blue").await;
    assert_eq!(code, 400, "unknown query parameters are refused: {body}");
    let (code, body) = s.get("rita", "/v1/releases?project=elsewhere").await;
    assert_eq!(code, 404, "{body}");
}

#[tokio::test]
async fn a_failed_deployment_is_a_problem_naming_its_step_r8e() {
    let s = Server::lifecycle(None).await;
    let r = "/v1/releases/shop-1.0.0";
    let (code, body) =
        s.post("rita", "/v1/projects/shop/releases", serde_json::json!({"version": "1.0.0", "kind": "minor"})).await;
    assert_eq!(code, 201, "{body}");
    s.post("paul", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    assert_eq!(code, 200, "{body}");
    let (code, doc) = s.post("dana", &format!("{r}/deployments"), serde_json::json!({"environment": "dev"})).await;
    assert_eq!(code, 502, "{doc}");
    assert_eq!((doc["code"].as_str(), doc["kind"].as_str()), (Some("ADAPTER"), Some("step_failed")), "{doc}");
    assert_eq!(doc["step"]["target"], "dev-1", "{doc}");
    assert_eq!(doc["step"]["environment"], "dev", "{doc}");
    assert!(doc["step"]["cause"].as_str().is_some_and(|c| c.contains("75")), "{doc}");
    // The release is where it was; the failed attempts are in its history.
    assert_eq!(s.stage("shop-1.0.0").await, "staging_deployed");
    let (_, history) = s.get("rita", &format!("{r}/history")).await;
    assert!(history.to_string().matches("dev-1").count() >= 3, "three attempts are recorded: {history}");
}

#[tokio::test]
async fn a_run_that_fails_answers_the_outcome_with_the_steps_error_r8e() {
    let s = Server::lifecycle_with(None, |c| {
        c.replace("echo deployed $SHIPWARDEN_VERSION to staging-1", "echo staging is down >&2; exit 3")
    })
    .await;
    let r = "/v1/releases/shop-1.0.0";
    s.post("rita", "/v1/projects/shop/releases", serde_json::json!({"version": "1.0.0", "kind": "minor"})).await;
    s.post("paul", &format!("{r}/approvals"), serde_json::json!({"approval": "scope"})).await;
    let (code, body) = s.post("dana", &format!("{r}/advance"), serde_json::json!({})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(outcome(&body), "failed", "{body}");
    let error = &body["outcome"]["error"];
    assert_eq!((error["step"].as_str(), error["target"].as_str()), (Some("deploy"), Some("staging-1")), "{body}");
    assert!(error["cause"].as_str().is_some_and(|c| c.contains("exit")), "{body}");
    assert!(body["outcome"]["refusal"]["rule"].is_string(), "what advancing still needs: {body}");
}
