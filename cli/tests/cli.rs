//! The `shipwarden` binary: every verb, every exit code, every refusal path,
//! on a real git repository and a real SQLite store in a temp folder.

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::{Project, git};

const BASE: &str = r#"
[project]
name = "shop"
ticket_prefix = "SHOP"
repository = "repo"

[engine]
lease_wait = "1s"

[users.rita]
roles = ["release_manager"]
email = "rita@example.com"
[users.paul]
roles = ["product_owner"]
[users.quinn]
roles = ["qa_lead"]
[users.dana]
roles = ["deployment_engineer"]
[users.casey]
roles = ["cto"]

[[escalation]]
name = "Casey"
role = "cto"
email = "casey@example.com"

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
deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to prod-1"]
rollback = ["sh", "-c", "echo prod-1 rolled back"]

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.transitions.prod_readiness]
gates = []
steps = []
"#;

const OPEN_CALENDAR: &str = "\n[policy.calendar]\nblackouts = []\n";

impl Project {
    /// A project with a git repository holding two ticketed commits, and `extra` config.
    fn new(extra: &str) -> Project {
        let p = Project::with_commits(&[("a.txt", "SHOP-1: checkout"), ("b.txt", "SHOP-2: cart rounding")]);
        std::fs::write(p.repo().join("lcov.info"), "SF:a\nLH:95\nLF:100\nend_of_record\n").expect("write");
        p.write_config(&format!("{BASE}{extra}"));
        p
    }

    fn export(&self, release: &str) -> String {
        self.ok(&["audit", release, "--export", "jsonl"])
    }

    fn lcov(&self) -> String {
        self.path().join("repo/lcov.info").display().to_string()
    }

    /// Drives shop-1.0.0 from plan to `accepted`.
    fn to_accepted(&self) {
        self.ok(&["plan", "1.0.0", "--as", "rita"]);
        self.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
        self.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
        self.ok(&["evidence", "shop-1.0.0", "coverage", "--lcov", &self.lcov(), "--as", "quinn"]);
        self.ok(&["evidence", "shop-1.0.0", "p95_latency", "--value", "120", "--as", "quinn"]);
        self.ok(&["approve", "shop-1.0.0", "qa_signoff", "--as", "quinn"]);
        self.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
        self.ok(&["report", "shop-1.0.0", "integration_tests", "--env", "staging", "--as", "quinn"]);
        self.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
        self.ok(&["report", "shop-1.0.0", "demo", "--env", "test", "--as", "paul"]);
        self.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
        self.ok(&["evidence", "shop-1.0.0", "docs_reviewed", "--value", "1", "--as", "paul"]);
        self.ok(&["approve", "shop-1.0.0", "acceptance", "--as", "paul"]);
    }

    fn stage(&self, release: &str) -> String {
        self.json(&["status", release, "--json"])["state"]["stage"].as_str().unwrap_or_default().to_owned()
    }
}

/// A server answering every request with 200 after 5 ms, for `evidence --http`.
fn http_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut stream = stream;
                let mut buffer = [0u8; 1024];
                let _ = stream.read(&mut buffer);
                std::thread::sleep(std::time::Duration::from_millis(5));
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            });
        }
    });
    format!("http://{address}/health")
}

#[test]
fn init_writes_a_file_that_checks_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |args: &[&str]| {
        Command::cargo_bin("shipwarden")
            .expect("bin")
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("run")
    };
    let dry = run(&["init", "--project", "shop", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("name = \"shop\""));
    assert!(!dir.path().join("shipwarden.toml").exists(), "--dry-run writes nothing");
    assert_eq!(run(&["init", "--project", "shop"]).status.code(), Some(0));
    let text = std::fs::read_to_string(dir.path().join("shipwarden.toml")).expect("written");
    assert!(text.contains("url_env"), "secrets are named, never written");
    let again = run(&["init"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let check = run(&["policy", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(String::from_utf8_lossy(&check.stdout).contains("project shop"));
}

#[test]
fn policy_show_and_graph_without_a_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let show = Command::cargo_bin("shipwarden")
        .expect("bin")
        .args(["policy", "show"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&show.stdout).contains("[gates.coverage]"));
    let graph = Command::cargo_bin("shipwarden")
        .expect("bin")
        .args(["policy", "graph"])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&graph.stdout).contains("planned"));
}

#[test]
fn a_bad_config_is_exit_2_with_every_problem_and_its_path() {
    let p = Project::new(
        r#"
[users.zed]
roles = ["astronaut"]

[environments.moon]

[[environments.prod.checks]]
kind = "database"
url = "postgres://admin:hunter2@db/shop"

[policy.gates.coverage.threshold]
at_least = 1.5
"#,
    );
    let out = p.expect(2, &["policy", "check"]);
    for needle in
        ["users.zed.roles[0]", "environments.moon", "environments.prod.checks[0].url", "policy.gates.coverage"]
    {
        assert!(out.contains(needle), "{needle} missing in:\n{out}");
    }
    let json = p.json(&["policy", "check", "--json"]);
    assert_eq!(json["code"], 2);
    assert!(json["problems"].as_array().is_some_and(|p| p.len() >= 4), "{json}");
    // A typo in a key is caught too.
    std::fs::write(p.path().join("shipwarden.toml"), "[project]\nname = \"shop\"\nrepositry = \".\"\n").expect("write");
    let out = p.expect(2, &["policy", "check"]);
    assert!(out.contains("repositry"), "{out}");
}

#[test]
fn usage_errors_are_exit_2() {
    let p = Project::new(OPEN_CALENDAR);
    p.expect(2, &["launch"]);
    p.expect(2, &["plan", "one.two", "--as", "rita"]);
    let out = p.expect(2, &["plan", "1.0.0", "--as", "mallory"]);
    assert!(out.contains("mallory") && out.contains("[users]"), "{out}");
    p.expect(2, &["status", "shop-9.9.9"]);
    p.expect(2, &["evidence", "shop-1.0.0", "coverage", "--as", "quinn"]);
    p.expect(2, &["--config", "missing.toml", "list"]);
    assert!(p.ok(&["--version"]).contains("shipwarden"));
}

#[test]
fn a_whole_release_through_every_verb_r3() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["ticket", "new", "Checkout", "--kind", "Story"]);
    p.ok(&["ticket", "new", "Rounding", "--kind", "Bug", "--severity", "high"]);
    assert!(p.ok(&["ticket", "list", "--open"]).contains("SHOP-2"));
    // --dry-run shows the decision and records nothing.
    assert!(p.ok(&["plan", "1.0.0", "--as", "rita", "--dry-run"]).contains("would record"));
    assert!(p.ok(&["list"]).contains("no releases"));
    let planned = p.ok(&["plan", "1.0.0", "--as", "rita"]);
    assert!(planned.contains("scope: SHOP-1, SHOP-2"), "scope from the commits: {planned}");
    // R-2d: only a product owner approves scope; the refusal names the rule (exit 3).
    let refused = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "quinn"]);
    assert!(refused.contains("R-2d") && refused.contains("product_owner"), "{refused}");
    let before = p.export("shop-1.0.0");
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--dry-run"]);
    assert_eq!(p.export("shop-1.0.0"), before, "--dry-run changes nothing");
    assert!(p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]).contains("approved scope"));
    assert!(p.ok(&["advance", "shop-1.0.0", "--dry-run"]).contains("build"));
    let advanced = p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(advanced.contains("waiting in staging_deployed"), "{advanced}");
    assert!(advanced.contains("critical_bugs"), "the open bug blocks QA (R-7b): {advanced}");
    p.ok(&["evidence", "shop-1.0.0", "coverage", "--lcov", &p.lcov(), "--as", "quinn"]);
    let url = http_server();
    let measured = p.ok(&["evidence", "shop-1.0.0", "p95_latency", "--http", &url, "--requests", "5", "--as", "quinn"]);
    assert!(measured.contains("p95_latency"), "{measured}");
    p.ok(&["approve", "shop-1.0.0", "qa_signoff", "--as", "quinn", "--channel", "email"]);
    let blocked = p.expect(3, &["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(blocked.contains("R-7b"), "{blocked}");
    p.ok(&["ticket", "comment", "SHOP-2", "fixed"]);
    p.ok(&["ticket", "close", "SHOP-2"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert_eq!(p.stage("shop-1.0.0"), "qa_verified");
    p.ok(&["report", "shop-1.0.0", "integration_tests", "--env", "staging", "--detail", "48 passed", "--as", "quinn"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    p.ok(&["report", "shop-1.0.0", "demo", "--env", "test", "--as", "paul"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    p.ok(&["evidence", "shop-1.0.0", "docs_reviewed", "--value", "1", "--as", "paul"]);
    p.ok(&["approve", "shop-1.0.0", "acceptance", "--as", "paul"]);
    assert!(
        p.ok(&[
            "schedule",
            "shop-1.0.0",
            "--env",
            "prod",
            "--start",
            "2030-01-05 10:00",
            "--duration",
            "2h",
            "--as",
            "rita",
            "--dry-run"
        ])
        .contains("would record")
    );
    assert!(
        p.ok(&[
            "schedule",
            "shop-1.0.0",
            "--env",
            "prod",
            "--start",
            "2030-01-05 10:00",
            "--duration",
            "2h",
            "--as",
            "rita"
        ])
        .contains("booked")
    );
    assert!(p.ok(&["deploy", "shop-1.0.0", "--env", "prod", "--dry-run"]).contains("prod-1"));
    // Goes to production and waits for the smoke tests nobody automated.
    let waiting = p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(waiting.contains("deployed 1.0.0 to prod-1"), "{waiting}");
    assert_eq!(p.stage("shop-1.0.0"), "verifying");
    p.ok(&["report", "shop-1.0.0", "smoke_test", "--env", "prod", "--as", "dana"]);
    p.ok(&["evidence", "shop-1.0.0", "response_time", "--value", "42", "--env", "prod", "--as", "dana"]);
    assert!(p.ok(&["verify", "shop-1.0.0"]).contains("closed"));
    assert_eq!(p.stage("shop-1.0.0"), "closed");
    // Records.
    let verified = p.ok(&["audit", "shop-1.0.0", "--verify"]);
    assert!(verified.contains("verified"), "{verified}");
    let trail = p.ok(&["audit", "shop-1.0.0"]);
    assert!(trail.contains("R-2b") && trail.contains("advanced") || trail.contains("→"), "{trail}");
    let jsonl = p.export("shop-1.0.0");
    assert!(jsonl.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    let notes = p.ok(&["notes", "shop-1.0.0"]);
    assert!(notes.contains("# shop 1.0.0") && notes.contains("SHOP-1"), "{notes}");
    assert!(p.path().join(".shipwarden/notes/shop-1.0.0.md").exists());
    let ics = p.ok(&["calendar", "--days", "3650", "--ics"]);
    assert!(ics.contains("BEGIN:VCALENDAR") && ics.contains("Deploy shop-1.0.0 to prod"), "{ics}");
    p.ok(&["calendar"]);
    let list = p.json(&["list", "--json"]);
    assert_eq!(list[0]["stage"], "closed");
    assert!(p.ok(&["list", "--stage", "closed"]).contains("shop-1.0.0"));
    // The release ticket was filed and closed (R-9d).
    assert!(p.ok(&["ticket", "list"]).contains("Release shop 1.0.0"));
    // R-4c: a version not newer than the last release is refused.
    let old = p.expect(3, &["plan", "0.9.0", "--as", "rita"]);
    assert!(old.contains("R-4c"), "{old}");
}

#[test]
fn an_emergency_without_the_ctos_approval_is_refused_r5a() {
    let p = Project::new(OPEN_CALENDAR);
    let no_ticket = p.expect(3, &["plan", "1.0.1", "--kind", "emergency", "--as", "rita"]);
    assert!(no_ticket.contains("R-5b"), "{no_ticket}");
    p.ok(&[
        "plan",
        "1.0.1",
        "--kind",
        "emergency",
        "--hotfix",
        "HOTFIX-1",
        "--summary",
        "down",
        "--justification",
        "outage",
        "--as",
        "rita",
    ]);
    p.ok(&["approve", "shop-1.0.1", "scope", "--as", "paul"]);
    p.ok(&["advance", "shop-1.0.1", "--as", "dana"]);
    let refused = p.expect(3, &["advance", "shop-1.0.1", "--as", "dana", "--to", "prod_ready"]);
    assert!(refused.contains("R-5a") && refused.contains("emergency"), "{refused}");
    let json = p.json(&["advance", "shop-1.0.1", "--as", "dana", "--to", "prod_ready", "--json"]);
    assert_eq!(json["code"], 3);
    assert!(json["refusal"]["unmet"].as_array().is_some_and(|u| u.iter().any(|x| x["rule"] == "R-5a")), "{json}");
    // Only a CTO or tech lead may give it (R-2d).
    let not_allowed = p.expect(3, &["approve", "shop-1.0.1", "emergency", "--as", "dana"]);
    assert!(not_allowed.contains("R-2d") && not_allowed.contains("cto"), "{not_allowed}");
    p.ok(&["approve", "shop-1.0.1", "emergency", "--as", "casey"]);
}

#[test]
fn a_blackout_refuses_the_production_deployment_r6b() {
    let p = Project::new(
        "\n[[policy.calendar.blackouts]]\nname = \"always\"\nenvironments = [\"prod\"]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\nstart = \"00:00:00\"\nend = \"23:59:59\"\n",
    );
    p.to_accepted();
    let refused = p.expect(3, &["advance", "shop-1.0.0", "--as", "dana", "--to", "deploying"]);
    assert!(refused.contains("R-6b") && refused.contains("always"), "{refused}");
    assert_eq!(p.stage("shop-1.0.0"), "prod_ready");
}

#[test]
fn rollback_and_cancel_r8g_r3() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "2.0.0", "--kind", "minor", "--ticket", "SHOP-9", "--id", "shop-two", "--as", "rita"]);
    let early = p.expect(3, &["rollback", "shop-two", "--reason", "nothing to undo", "--as", "dana"]);
    assert!(early.contains("R-8g") || early.contains("refused"), "{early}");
    p.ok(&["cancel", "shop-two", "--reason", "descoped", "--as", "rita", "--dry-run"]);
    assert_eq!(p.stage("shop-two"), "planned");
    p.ok(&["cancel", "shop-two", "--reason", "descoped", "--as", "rita"]);
    assert_eq!(p.stage("shop-two"), "cancelled");
    p.expect(3, &["cancel", "shop-two", "--reason", "again", "--as", "rita"]);
    // A release in verifying is rolled back on request.
    p.to_accepted();
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert_eq!(p.stage("shop-1.0.0"), "verifying");
    p.ok(&["rollback", "shop-1.0.0", "--reason", "error rate up", "--as", "dana", "--dry-run"]);
    let out = p.ok(&["rollback", "shop-1.0.0", "--reason", "error rate up", "--as", "dana"]);
    assert!(out.contains("prod-1 rolled back") && out.contains("rolled_back"), "{out}");
}

#[test]
fn a_failing_target_is_exit_5_after_retries() {
    let p = Project::new(&format!(
        "{OPEN_CALENDAR}\n[[environments.dev.targets]]\nname = \"dev-1\"\ndeploy = [\"sh\", \"-c\", \"echo tmp fail >&2; exit 75\"]\nrollback = [\"true\"]\n"
    ));
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    let out = p.expect(5, &["deploy", "shop-1.0.0", "--env", "dev"]);
    assert!(out.contains("exited 75"), "{out}");
    let trail = p.ok(&["audit", "shop-1.0.0"]);
    assert!(trail.matches("dev-1").count() >= 3, "three attempts are recorded: {trail}");
}

#[test]
fn an_unreachable_database_is_exit_5_and_the_password_is_never_printed() {
    let p = Project::new("\n[store]\nkind = \"postgres\"\nurl_env = \"SHOP_PG\"\n");
    let out = Command::cargo_bin("shipwarden")
        .expect("bin")
        .args(["list"])
        .current_dir(p.path())
        .env("SHOP_PG", "postgres://shop:hunter2@127.0.0.1:1/shop")
        .output()
        .expect("run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let missing = p.expect(2, &["list"]);
    assert!(missing.contains("SHOP_PG"), "{missing}");
}

#[test]
fn another_driver_holding_the_release_is_exit_4_and_named_r6e() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let db = p.path().join(".shipwarden/releases.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
        let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await.expect("open");
        sqlx::query(
            "INSERT INTO leases (name, holder, expires_at, since) VALUES ('release:shop-1.0.0', 'another-machine', ?, ?)",
        )
        .bind(i64::MAX / 2)
        .bind(jiff::Timestamp::from_second(1_764_576_000).expect("time").as_microsecond())
        .execute(&mut conn)
        .await
        .expect("insert");
    });
    let out = p.expect(4, &["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(out.contains("held by another driver"), "{out}");
    // While it waits, it says who holds the lease and since when (R-6e).
    assert!(out.contains("held by another-machine since 2025-12-01 08:00:00 UTC"), "{out}");
}

#[test]
fn json_output_is_parseable_for_every_reading_verb() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let planned = p.json(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--json"]);
    assert_eq!(planned["stage"], "planned");
    let status = p.json(&["status", "shop-1.0.0", "--json"]);
    assert_eq!(status["next"][0][0], "scope_approved");
    let advanced = p.json(&["advance", "shop-1.0.0", "--as", "dana", "--json"]);
    assert_eq!(advanced["outcome"]["outcome"], "waiting");
    assert!(p.json(&["audit", "shop-1.0.0", "--verify", "--json"])["verified"].as_bool().unwrap_or(false));
    assert!(p.json(&["notes", "shop-1.0.0", "--json"])["markdown"].as_str().is_some());
    assert!(p.json(&["calendar", "--json"]).is_array());
    assert!(p.json(&["policy", "show", "--json"])["gates"].is_object());
    assert!(p.json(&["ticket", "list", "--json"]).is_array());
}

#[test]
fn overlapping_bookings_are_refused_r6e() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["plan", "1.1.0", "--as", "rita", "--ticket", "SHOP-7"]);
    p.ok(&[
        "schedule",
        "shop-1.0.0",
        "--env",
        "prod",
        "--start",
        "2030-01-05T10:00:00Z",
        "--duration",
        "2h",
        "--as",
        "rita",
    ]);
    let clash = p.expect(
        3,
        &[
            "schedule",
            "shop-1.1.0",
            "--env",
            "prod",
            "--start",
            "2030-01-05T11:00:00Z",
            "--duration",
            "1h",
            "--as",
            "rita",
        ],
    );
    assert!(clash.contains("R-6e") && clash.contains("shop-1.0.0"), "{clash}");
    p.ok(&[
        "schedule",
        "shop-1.1.0",
        "--env",
        "prod",
        "--start",
        "2030-01-05 12:00",
        "--duration",
        "1h",
        "--as",
        "rita",
    ]);
    let bad = p.expect(2, &["schedule", "shop-1.1.0", "--env", "prod", "--start", "next tuesday", "--as", "rita"]);
    assert!(bad.contains("--start"), "{bad}");
}

fn commit_in(repo: &Path, message: &str) {
    git(repo, &["commit", "-q", "--allow-empty", "-m", message]);
}

#[test]
fn notes_from_history_in_markdown_json_and_a_template_r9b() {
    let p = Project::new(OPEN_CALENDAR);
    let repo = p.path().join("repo");
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "1.0.0"]);
    commit_in(&repo, "feat(api)!: drop v1 PAY-9\n\nBREAKING CHANGE: clients call /v2");
    commit_in(&repo, "Fix #123: login bug");
    git(&repo, &["tag", "v2.0.0"]);
    git(&repo, &["tag", "vNext"]);
    commit_in(&repo, "perf: faster cart SHOP-3");
    let md = p.ok(&["notes"]);
    assert!(
        md.contains("## shop (unreleased)") && md.contains("## shop 2.0.0") && md.contains("## shop 1.0.0"),
        "{md}"
    );
    assert!(md.contains("### Breaking changes\n\n- **api:** drop v1 PAY-9"), "{md}");
    assert!(md.contains("  - clients call /v2"), "{md}");
    assert!(md.contains("vNext is not v<SemVer>: ignored"), "{md}");
    let range = p.ok(&["notes", "--from", "v1.0.0", "--to", "v2.0.0"]);
    assert!(range.contains("## shop 2.0.0") && !range.contains("1.0.0 (") && !range.contains("unreleased"), "{range}");
    let json = p.json(&["notes", "--format", "json", "--from", "v2.0.0"]);
    assert_eq!(json[0]["sections"][0]["group"], "performance");
    std::fs::write(p.path().join("t.j2"), "{% for r in releases %}{{ r.version or 'next' }}:{% for s in r.sections %}{{ s.title }}={{ s.entries|length }};{% endfor %}\n{% endfor %}").expect("write");
    let rendered = p.ok(&["notes", "--template", "t.j2"]);
    assert_eq!(rendered.lines().next(), Some("next:Performance=1;"), "{rendered}");
    std::fs::write(p.path().join("bad.j2"), "{% for r in releases %}").expect("write");
    assert!(p.expect(2, &["notes", "--template", "bad.j2"]).contains("template"));
    p.expect(2, &["notes", "--format", "pdf"]);
}

#[test]
fn changes_check_lists_commits_without_keys_r4a() {
    let p = Project::new(OPEN_CALENDAR);
    let repo = p.path().join("repo");
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "1.0.0"]);
    assert!(p.ok(&["changes", "check"]).contains("all with ticket keys"));
    commit_in(&repo, "chore(deps): bump serde");
    commit_in(&repo, "tidy up");
    let out = p.expect(3, &["changes", "check"]);
    assert!(
        out.contains("R-4a") && out.contains("`tidy up` has no ticket key") && out.contains("chore(deps)"),
        "{out}"
    );
    let json = p.json(&["changes", "check", "--json"]);
    assert_eq!(json["refusal"]["unmet"].as_array().map(Vec::len), Some(2));
    // The policy exempts dependency bumps.
    let config = std::fs::read_to_string(p.path().join("shipwarden.toml")).expect("read");
    std::fs::write(
        p.path().join("shipwarden.toml"),
        format!("{config}\n[policy.vcs]\nexempt_types = [\"chore(deps)\"]\n"),
    )
    .expect("write");
    let out = p.expect(3, &["changes", "check"]);
    assert!(!out.contains("chore(deps)") && out.contains("tidy up"), "{out}");
}

#[test]
fn version_next_from_kind_and_commits_r4e_r4c() {
    let p = Project::new(OPEN_CALENDAR);
    let repo = p.path().join("repo");
    git(&repo, &["tag", "-a", "v1.4.2", "-m", "1.4.2"]);
    commit_in(&repo, "fix: a SHOP-3");
    assert!(p.ok(&["version", "next"]).starts_with("1.4.3"));
    commit_in(&repo, "JIRA-456: Add payment API");
    assert!(p.ok(&["version", "next"]).starts_with("1.5.0"));
    assert!(p.ok(&["version", "next", "--kind", "major"]).starts_with("2.0.0"));
    assert_eq!(p.json(&["version", "next", "--pre", "rc", "--json"])["version"], "1.5.0-rc.1");
    let refused = p.expect(3, &["version", "next", "--set", "1.4.0", "--reason", "marketing"]);
    assert!(refused.contains("R-4c"), "{refused}");
    assert!(p.ok(&["version", "next", "--set", "3.0.0", "--reason", "marketing"]).contains("set by hand: marketing"));
    p.expect(2, &["version", "next", "--set", "3.0.0"]);
}

#[test]
fn a_releases_notes_are_published_to_the_wiki_repository_r9b() {
    let p = Project::new(&format!("{OPEN_CALENDAR}\n[notes.wiki]\nremote = \"wiki.git\"\n"));
    git(p.path(), &["init", "-q", "--bare", "-b", "master", "wiki.git"]);
    let repo = p.path().join("repo");
    git(&repo, &["tag", "-a", "v0.9.0", "-m", "0.9.0"]);
    commit_in(&repo, "JIRA-456: Add payment API");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["notes", "shop-1.0.0", "--publish", "--dry-run"]);
    let out = p.ok(&["notes", "shop-1.0.0", "--publish"]);
    assert!(out.contains("Release-notes-1.0.0.md"), "{out}");
    let check = p.path().join("check");
    git(p.path(), &["clone", "-q", "wiki.git", check.to_str().expect("utf-8")]);
    let page = std::fs::read_to_string(check.join("Release-notes-1.0.0.md")).expect("page");
    assert!(page.contains("- Add payment API JIRA-456"), "{page}");
    assert!(p.path().join(".shipwarden/notes/shop-1.0.0.md").exists());
    // GitHub needs its token from the environment.
    let config = std::fs::read_to_string(p.path().join("shipwarden.toml")).expect("read");
    std::fs::write(
        p.path().join("shipwarden.toml"),
        format!("{config}\n[notes.github]\nowner = \"acme\"\nrepo = \"shop\"\ntoken_env = \"SHOP_GH_TOKEN\"\n"),
    )
    .expect("write");
    assert!(p.expect(2, &["notes", "shop-1.0.0", "--publish"]).contains("SHOP_GH_TOKEN"));
}

#[test]
fn production_cannot_be_deployed_outside_the_lifecycle_r3() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let refused = p.expect(3, &["deploy", "shop-1.0.0", "--env", "prod"]);
    assert!(refused.contains("R-3") && refused.contains("deploying"), "{refused}");
}

#[test]
fn ci_report_files_are_evidence_and_a_bad_one_names_its_line_r7a_r7c() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/tests/fixtures/evidence");
    let file = |name: &str| fixtures.join(name).display().to_string();
    let (coverage, junit, perf) = (file("cobertura.xml"), file("junit-surefire.xml"), file("results.jtl"));
    let out =
        p.ok(&["evidence", "shop-1.0.0", "--coverage", &coverage, "--junit", &junit, "--perf", &perf, "--as", "quinn"]);
    for expected in ["coverage", "test_failures", "p95_latency", "error_rate"] {
        assert!(out.contains(expected), "{expected} not in {out}");
    }
    let shown = p.ok(&["status", "shop-1.0.0", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&shown).expect("json");
    let results = json["state"]["gate_results"].as_array().cloned().unwrap_or_default();
    let value = |gate: &str| {
        results.iter().rev().find(|r| r["gate"] == gate).map(|r| r["measured"]["value"].as_f64().unwrap_or(-1.0))
    };
    assert_eq!(value("coverage"), Some(0.924));
    assert_eq!(value("test_failures"), Some(2.0));
    assert_eq!(value("p95_latency"), Some(2400.0));
    assert_eq!(value("error_rate"), Some(0.1));
    // A malformed file: exit 2, with the file, the line and what was expected; nothing recorded.
    let out = p.expect(2, &["evidence", "shop-1.0.0", "--perf", &file("bad-results.jtl"), "--as", "quinn"]);
    assert!(out.contains("bad-results.jtl:3: expected a whole number of ms in `elapsed`"), "{out}");
    p.expect(2, &["evidence", "shop-1.0.0", "coverage", "--coverage", &coverage, "--as", "quinn"]);
}

#[test]
fn a_request_label_with_its_own_threshold_is_judged_by_it_r7c() {
    let policy = "\n[policy.gates.p95_latency.targets]\n\"GET /products\" = { below = 150.0 }\n\"POST /cart, add\" = { below = 3000.0 }\n";
    let p = Project::new(&format!("{OPEN_CALENDAR}{policy}"));
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../adapters/tests/fixtures/evidence");
    let perf = fixtures.join("results.jtl").display().to_string();
    p.ok(&["evidence", "shop-1.0.0", "--perf", &perf, "--as", "quinn"]);
    let shown = p.ok(&["status", "shop-1.0.0", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&shown).expect("json");
    let results = json["state"]["gate_results"].as_array().cloned().unwrap_or_default();
    let label = |name: &str| results.iter().find(|r| r["target"] == name).cloned().expect(name);
    let products = label("GET /products");
    assert_eq!((products["measured"]["value"].as_f64(), products["passed"].as_bool()), (Some(180.0), Some(false)));
    assert_eq!(products["threshold"]["below"].as_f64(), Some(150.0));
    let cart = label("POST /cart, add");
    assert_eq!((cart["measured"]["value"].as_f64(), cart["passed"].as_bool()), (Some(2400.0), Some(true)));
    // A label the policy names but the results do not hold is a usage error.
    let p = Project::new(&format!(
        "{OPEN_CALENDAR}\n[policy.gates.p95_latency.targets]\n\"GET /gone\" = {{ below = 100.0 }}\n"
    ));
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let out = p.expect(2, &["evidence", "shop-1.0.0", "--perf", &perf, "--as", "quinn"]);
    assert!(out.contains("request label `GET /gone`"), "{out}");
}

#[test]
fn tick_sends_each_due_notice_once_and_watch_stops_on_sigterm_r6d() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let start = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(2)).expect("time");
    let start = start.strftime("%Y-%m-%dT%H:%M:00Z").to_string();
    p.ok(&["schedule", "shop-1.0.0", "--env", "prod", "--start", &start, "--as", "rita"]);
    let shown = p.ok(&["status", "shop-1.0.0"]);
    assert!(shown.contains("duty [R-6d] due now: Scheduled: shop 1.0.0 to prod"), "{shown}");
    let listed = p.ok(&["tick", "--list"]);
    assert!(listed.contains("shop-1.0.0 Scheduled: shop 1.0.0 to prod on") && listed.contains("[R-6d]"), "{listed}");
    let done = p.ok(&["tick"]);
    assert!(done.contains("✓ shop-1.0.0 Scheduled: shop 1.0.0 to prod"), "{done}");
    assert!(done.contains("Coming on"), "stakeholders of a minor release: {done}");
    assert!(p.ok(&["tick"]).contains("nothing was due"));
    assert!(!p.ok(&["status", "shop-1.0.0"]).contains("Scheduled: shop"), "done duties are not listed");
    let notices = std::fs::read_to_string(p.path().join(".shipwarden/notices.jsonl")).expect("notices");
    assert_eq!(notices.lines().filter(|l| l.contains("Scheduled: shop 1.0.0")).count(), 1, "{notices}");
    assert_eq!(p.json(&["tick", "--json"]), serde_json::json!([]));

    // `watch` ticks until SIGTERM, then stops cleanly.
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shipwarden"))
        .args(["watch", "--every", "1s"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("watch");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("watching for duties every 1s") && text.contains("stopped"), "{text}");
    assert!(p.expect(2, &["watch", "--every", "soon"]).contains("--every soon"));
}

#[test]
fn evidence_bundles_are_signed_and_verified_r9d() {
    let p = Project::new(&format!("{OPEN_CALENDAR}\n[evidence]\nsigning_key_env = \"SHOP_TEST_SIGNING_KEY\"\n"));
    let keygen = p.cmd(&["evidence", "keygen"], &[]);
    assert_eq!(keygen.status.code(), Some(0));
    let seed = String::from_utf8_lossy(&keygen.stdout).trim().to_owned();
    let public = String::from_utf8_lossy(&keygen.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("public key (for [evidence] public_key): ").map(str::to_owned))
        .expect("public key");
    assert_eq!((seed.len(), public.len()), (64, 64));
    let with_key = |args: &[&str]| {
        Command::cargo_bin("shipwarden")
            .expect("binary")
            .args(args)
            .current_dir(p.path())
            .env("NO_COLOR", "1")
            .env("SHOP_TEST_SIGNING_KEY", &seed)
            .env_remove("SHIPWARDEN_CONFIG")
            .output()
            .expect("run")
    };
    assert_eq!(with_key(&["plan", "1.0.0", "--as", "rita"]).status.code(), Some(0));
    let out = with_key(&["evidence", "bundle", "shop-1.0.0", "-o", "bundle.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let verified = p.ok(&["evidence", "verify", "bundle.json", "--key", &public]);
    assert!(verified.contains("✓ shop-1.0.0 verified: 1 events, chain head"), "{verified}");
    assert!(!verified.contains(&seed));
    // Changed after signing: an integrity failure (exit 6), naming the file and the reason.
    let path = p.path().join("bundle.json");
    let text = std::fs::read_to_string(&path).expect("read").replace("\"minor\"", "\"major\"");
    std::fs::write(p.path().join("changed.json"), text).expect("write");
    let refused = p.expect(6, &["evidence", "verify", "changed.json"]);
    assert!(refused.contains("R-9d") && refused.contains("changed after signing"), "{refused}");
    // Recording evidence still works as before; without its key (R-2a) reading needs none, and signing
    // fails, not retryable, saying which variable is missing and where the file names it.
    let recorded = with_key(&["evidence", "shop-1.0.0", "coverage", "--value", "0.95", "--as", "quinn"]);
    assert_eq!(recorded.status.code(), Some(0));
    p.ok(&["status", "shop-1.0.0"]);
    let missing = p.expect(5, &["evidence", "bundle", "shop-1.0.0", "-o", "unsigned.json"]);
    assert!(
        missing.contains("evidence.signing_key_env: environment variable `SHOP_TEST_SIGNING_KEY` is not set")
            && !missing.contains("retryable"),
        "{missing}"
    );
    assert!(p.expect(2, &["evidence", "verify"]).contains("FILE"));
}

#[test]
fn env_diff_shows_changed_keys_but_never_secret_values_r9c() {
    let p = Project::new(&format!(
        "{OPEN_CALENDAR}\n[environments.staging.settings]\nfile = \"deploy/staging.env\"\n[environments.prod.settings]\nfile = \"deploy/prod.env\"\nsecret_keys = [\"STRIPE_*\"]\n"
    ));
    std::fs::create_dir_all(p.path().join("deploy")).expect("mkdir");
    std::fs::write(
        p.path().join("deploy/staging.env"),
        "LOG_LEVEL=debug\nDB_PASSWORD=staging-pw\nSTRIPE_KEY_ID=sk_test\nSAME=1\n",
    )
    .expect("write");
    std::fs::write(
        p.path().join("deploy/prod.env"),
        "LOG_LEVEL=info\nDB_PASSWORD=hunter2\nSTRIPE_KEY_ID=sk_live\nSAME=1\nNEW=x\n",
    )
    .expect("write");
    let out = p.ok(&["env", "diff", "staging", "prod"]);
    assert!(out.contains("LOG_LEVEL") && out.contains("debug") && out.contains("info"), "{out}");
    assert!(out.contains("DB_PASSWORD") && out.contains("(secret)") && out.contains("(values differ)"), "{out}");
    assert!(out.contains("NEW") && out.contains("(not set)"), "{out}");
    assert!(!out.contains("SAME"), "{out}");
    for secret in ["hunter2", "staging-pw", "sk_live", "sk_test"] {
        assert!(!out.contains(secret), "{secret} shown: {out}");
    }
    let json = p.json(&["env", "diff", "staging", "prod", "--json"]);
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert!(p.expect(2, &["env", "diff", "staging", "test"]).contains("[environments.test.settings]"));
}

/// Edits the SQLite store behind shipwarden's back.
fn tamper(p: &Project, statement: &str) {
    let db = p.path().join(".shipwarden/releases.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
        let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await.expect("open");
        let done = sqlx::query(statement).execute(&mut conn).await.expect("update");
        assert!(done.rows_affected() > 0, "{statement}");
    });
}

#[test]
fn a_failed_deploy_step_is_exit_5_with_the_steps_error_and_escalates_r8e_r2e() {
    let p = Project::new(OPEN_CALENDAR);
    let config = format!("{BASE}{OPEN_CALENDAR}").replace(
        "echo deployed $SHIPWARDEN_VERSION to staging-1",
        "echo staging-1: no space left on device >&2; exit 1",
    );
    std::fs::write(p.path().join("shipwarden.toml"), config).expect("write");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let out = p.expect(5, &["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(out.contains("deploy staging-1 on staging (attempt 1) failed"), "{out}");
    assert!(out.contains("no space left on device"), "{out}");
    // The outcome says the run failed, and which port call failed it (issue #20).
    assert!(
        out.contains("failed in built: deploy on staging (staging-1) failed: deploy-target staging-1 deploy"),
        "{out}"
    );
    // The engine names whom to call (R-2e).
    assert!(out.contains("escalate (R-2e): Casey (cto) <casey@example.com>"), "{out}");
    // Again, in JSON: one document, the error, with its code.
    let json = p.json(&["advance", "shop-1.0.0", "--as", "dana", "--json"]);
    assert_eq!((json["code"].as_u64(), json["error"].as_str()), (Some(5), Some("failed")), "{json}");
}

#[test]
fn a_tampered_store_fails_audit_verify_with_exit_6_r9d() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify"]).contains("verified"));
    tamper(&p, "UPDATE events SET event = replace(event, '\"minor\"', '\"major\"') WHERE stream = 'shop-1.0.0'");
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("integrity failure") && out.contains("does not verify"), "{out}");
    let json = p.json(&["audit", "shop-1.0.0", "--verify", "--json"]);
    assert_eq!((json["code"].as_u64(), json["error"].as_str()), (Some(6), Some("integrity")), "{json}");
}

#[test]
fn advance_to_a_stage_is_exit_0_when_reached_and_3_when_refused_r3_r2b() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    // Nothing can move without the scope approval: refused where it stands, every unmet requirement printed.
    let refused = p.expect(3, &["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(refused.contains("refused") && refused.contains("scope"), "{refused}");
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let reached = p.ok(&["advance", "shop-1.0.0", "--as", "dana", "--to", "staging_deployed"]);
    assert!(reached.contains("reached staging_deployed"), "{reached}");
    // Short of `--to` (QA has not signed off): a refusal naming what is missing.
    let short = p.expect(3, &["advance", "shop-1.0.0", "--as", "dana", "--to", "qa_verified"]);
    assert!(short.contains("qa_signoff"), "{short}");
}

#[test]
fn at_goes_only_with_dry_run_r6b() {
    let p = Project::new("");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let usage = p.expect(2, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--at", "2030-01-05 10:00"]);
    assert!(usage.contains("--at") && usage.contains("--dry-run"), "{usage}");
    p.expect(2, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--dry-run", "--at", "someday"]);
    assert!(
        p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--dry-run", "--at", "2030-01-05T10:00:00Z"])
            .contains("would record")
    );
    assert_eq!(p.stage("shop-1.0.0"), "planned", "a dry run records nothing");
}

#[test]
fn dash_v_logs_each_engine_step_to_stderr_and_bad_directives_only_warn_r9d() {
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let out = p.cmd(&["-v", "advance", "shop-1.0.0", "--as", "dana"], &[]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("INFO") && stderr.contains("step=build"), "{stderr}");
    assert!(!stdout.contains("INFO"), "logs go to stderr: {stdout}");
    let list = |log: Option<&str>| {
        let mut c = Command::cargo_bin("shipwarden").expect("binary");
        c.args(["list"]).current_dir(p.path()).env_remove("SHIPWARDEN_CONFIG").env_remove("RUST_LOG");
        match log {
            Some(l) => c.env("SHIPWARDEN_LOG", l),
            None => c.env_remove("SHIPWARDEN_LOG"),
        };
        c.output().expect("run")
    };
    assert!(String::from_utf8_lossy(&list(None).stderr).is_empty(), "no log without -v");
    let bad = list(Some("shipwarden=loud"));
    assert_eq!(bad.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("SHIPWARDEN_LOG=`shipwarden=loud` is ignored"));
}

#[test]
fn planning_a_version_older_than_the_newest_tag_is_refused_unless_overridden_r4c() {
    let p = Project::new(OPEN_CALENDAR);
    let repo = p.path().join("repo");
    git(&repo, &["tag", "-a", "v1.3.0", "-m", "1.3.0"]);
    commit_in(&repo, "SHOP-7: after 1.3.0");
    let refused = p.expect(3, &["plan", "1.2.3", "--kind", "patch", "--as", "rita"]);
    assert!(
        refused.contains("R-4c") && refused.contains("1.2.3 is not newer than the last release 1.3.0"),
        "{refused}"
    );
    // The dry run is the engine's decision: the same refusal, and nothing written.
    let dry = p.expect(3, &["plan", "1.2.3", "--kind", "patch", "--as", "rita", "--dry-run"]);
    assert!(dry.contains("R-4c"), "{dry}");
    p.expect(2, &["status", "shop-1.2.3"]);
    // Newer plans take only the commits since the tag as their scope.
    let planned = p.ok(&["plan", "1.3.1", "--kind", "patch", "--as", "rita"]);
    assert!(planned.contains("scope: SHOP-7") && !planned.contains("SHOP-1"), "{planned}");
    // A backport is planned with a reason, kept in the audit.
    p.ok(&["plan", "1.2.3", "--kind", "patch", "--as", "rita", "--override-version", "security backport to 1.2"]);
    assert!(p.export("shop-1.2.3").contains("security backport to 1.2"));
}

#[test]
fn reading_verbs_open_the_store_read_only_and_never_write_it_r9d() {
    // Issue #18: `status`, `list`, `audit --verify` and `notes` failed on a read-only store. Tests run as
    // root, who ignores file modes, so this checks the mode instead: a read-only open takes no lock file,
    // runs no migration and leaves every file of the store as it was.
    let p = Project::new(OPEN_CALENDAR);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let state = p.path().join(".shipwarden");
    let db = state.join("releases.db");
    let lock = state.join("releases.db.lock");
    std::fs::remove_file(&lock).expect("the writing open takes a lock file");
    // The database and its write-ahead log hold the data; SQLite may create an empty log and the shared-memory
    // index (`-shm`, where readers take their read marks) beside a WAL database it reads.
    let wal = state.join("releases.db-wal");
    let log = || std::fs::read(&wal).unwrap_or_default();
    let modified = || std::fs::metadata(&db).and_then(|m| m.modified()).expect("mtime");
    let (wal_before, mtime) = (log(), modified());
    let bytes = std::fs::read(&db).expect("db");
    assert!(p.ok(&["status", "shop-1.0.0"]).contains("planned"));
    assert!(p.ok(&["list"]).contains("shop-1.0.0"));
    p.ok(&["audit", "shop-1.0.0", "--verify"]);
    p.ok(&["notes", "shop-1.0.0"]);
    assert!(!lock.exists(), "a reading verb took the migration lock: it opened the store for writing");
    assert_eq!(std::fs::read(&db).expect("db"), bytes, "the database is unchanged");
    assert_eq!(modified(), mtime);
    assert_eq!(log(), wal_before, "nothing was written to the log");
    // A writing verb still opens it for writing.
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    assert!(lock.exists());
}

#[test]
fn ticket_kind_and_severity_are_known_values_r7b() {
    // Issue #18: any text was filed, so a bug of severity `hgih` never blocked a release (R-7b).
    let p = Project::new(OPEN_CALENDAR);
    let refused = p.expect(2, &["ticket", "new", "Typo", "--kind", "Bug", "--severity", "hgih"]);
    assert!(
        refused.contains("unknown severity `hgih`") && refused.contains("critical, high, medium, low"),
        "{refused}"
    );
    let refused = p.expect(2, &["ticket", "new", "Typo", "--kind", "Bgu"]);
    assert!(refused.contains("unknown kind `Bgu`") && refused.contains("Bug, Story, Task"), "{refused}");
    assert!(!p.path().join(".shipwarden/releases.db").exists(), "a usage error opens no store");
    let filed = p.ok(&["ticket", "new", "Crash", "--kind", "bug", "--severity", "HIGH"]);
    assert!(filed.contains("Bug") && filed.contains("high"), "{filed}");
}

#[test]
fn a_project_name_that_cannot_form_a_release_id_fails_before_any_store_exists_r1a() {
    let p = Project::new(OPEN_CALENDAR);
    let config = std::fs::read_to_string(p.path().join("shipwarden.toml")).expect("config");
    std::fs::write(p.path().join("shipwarden.toml"), config.replacen("name = \"shop\"", "name = \".shop\"", 1))
        .expect("write");
    let refused = p.expect(2, &["policy", "check"]);
    assert!(refused.contains("project.name") && refused.contains("cannot start a release id"), "{refused}");
    p.expect(2, &["plan", "1.0.0", "--as", "rita"]);
    assert!(!p.path().join(".shipwarden/releases.db").exists(), "a failed plan created the store");
}

#[test]
fn a_failed_first_plan_or_a_read_leaves_no_store_behind_r1a_r4c() {
    // Issue #18: a failed `plan` created `releases.db` first.
    let p = Project::new(OPEN_CALENDAR);
    let db = p.path().join(".shipwarden/releases.db");
    p.expect(2, &["plan", "1.x", "--as", "rita"]);
    assert!(!db.exists(), "a mistyped version created the store");
    // Refused by the engine: the version is not newer than the newest release tag (R-4c).
    git(&p.path().join("repo"), &["tag", "-a", "v2.0.0", "-m", "2.0.0"]);
    let refused = p.expect(3, &["plan", "1.0.0", "--as", "rita"]);
    assert!(refused.contains("R-4c"), "{refused}");
    assert!(!db.exists(), "a refused plan created the store");
    p.expect(3, &["plan", "1.0.0", "--as", "rita", "--dry-run"]);
    p.ok(&["plan", "3.0.0", "--as", "rita", "--dry-run"]);
    p.ok(&["list"]);
    p.expect(2, &["status", "shop-3.0.0"]);
    assert!(!db.exists(), "a dry run or a read created the store");
    p.ok(&["plan", "3.0.0", "--as", "rita"]);
    assert!(db.exists());
    p.ok(&["status", "shop-3.0.0"]);
}

#[test]
fn commit_subjects_reach_the_terminal_and_the_notes_escaped_r4a_r9b() {
    // Issue #18: ANSI escapes and bidi overrides in commit messages reached the terminal and the notes raw.
    let p = Project::new(OPEN_CALENDAR);
    let repo = p.path().join("repo");
    git(&repo, &["tag", "-a", "v1.0.0", "-m", "1.0.0"]);
    commit_in(&repo, "tidy \u{1b}[31mred\u{1b}[0m \u{202E}txt.exe");
    let out = p.expect(3, &["changes", "check"]);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202E}'), "{out:?}");
    assert!(out.contains(r"tidy \u{1b}[31mred\u{1b}[0m \u{202e}txt.exe"), "{out}");
    let json = p.json(&["changes", "check", "--json"]);
    let subject = json["refusal"]["unmet"][0]["subject"].as_str().unwrap_or_default().to_owned();
    assert!(subject.contains("\u{1b}[31m") && subject.contains('\u{202E}'), "the data keeps the original: {json}");
    commit_in(&repo, "feat: pay \u{1b}[31mnow\u{202E} SHOP-4");
    let md = p.ok(&["notes"]);
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202E}') && md.contains(r"pay \u{1b}[31mnow\u{202e}"), "{md}");
}

// ------------------------------------------------------------------ #18: exactly once under real crashes

/// One line of a target's log: (START|END, deployment key, pid).
fn target_log(path: &Path) -> Vec<(String, String, u32)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.to_owned(), w.next()?.parse().ok()?))
        })
        .collect()
}

/// What a crash trial saw.
#[derive(Default, Debug)]
struct Trials {
    trials: u32,
    in_doubt: u32,
    resolved_done: u32,
    resolved_failed: u32,
    orphans: u32,
    overlaps: u32,
    reruns: u32,
    /// Runs of idempotent steps (build, migration) started again after a kill: allowed, counted.
    idempotent_reruns: u32,
}

/// One run of a tool: START and END with its key and pid in LOG, and OVERLAP
/// when it starts while another run of the same tool still lives (a lock
/// folder naming the running pid).
const RUN_SH: &str = r#"LOG="$1"; SECONDS_="$2"; KEY="${3:-$SHIPWARDEN_KEY}"; L="$LOG.lock"
if ! mkdir "$L" 2>/dev/null; then
  p=$(cat "$L/pid" 2>/dev/null)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo OVERLAP "$KEY" $$ >> "$LOG"; fi
fi
echo $$ > "$L/pid"
echo START "$KEY" $$ >> "$LOG"
sleep "$SECONDS_"
echo END "$KEY" $$ >> "$LOG"
rm -rf "$L"
"#;

/// What a crash trial runs: with or without the target's status command, and
/// with only the build, tag and deployment, or also a slow build, a backup of
/// production's data and staging's database migrations (with their rollback
/// rehearsal) in the same `advance`.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    with_status: bool,
    more_steps: bool,
}

/// One trial: `advance` killed with SIGKILL `kill_after` into its run, then the
/// release driven on by new processes as an operator would (resolving a step
/// in doubt from the target's own log), to the QA sign-off.
fn crash_trial(scenario: Scenario, kill_after: std::time::Duration, seen: &mut Trials) {
    let p = Project::new(OPEN_CALENDAR);
    let dir = p.path().display().to_string();
    let log = p.path().join("staging-1.log");
    std::fs::write(p.path().join("run.sh"), RUN_SH).expect("write");
    std::fs::write(p.path().join("status.sh"), "grep -q \"^END $1 \" staging-1.log 2>/dev/null\n").expect("write");
    let mut config = format!("{BASE}{OPEN_CALENDAR}")
        .replace("lease_wait = \"1s\"", "lease_wait = \"1s\"\nlease_ttl = \"5s\"")
        .replace(
            r#"deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to staging-1"]"#,
            &format!(r#"deploy = ["sh", "{dir}/run.sh", "{dir}/staging-1.log", "1.5"]"#),
        );
    if scenario.with_status {
        config = config.replace(
            r#"rollback = ["sh", "-c", "echo staging-1 rolled back"]"#,
            "rollback = [\"sh\", \"-c\", \"echo staging-1 rolled back\"]\nstatus = [\"sh\", \"status.sh\", \"{key}\"]",
        );
    }
    if scenario.more_steps {
        config = config.replace(
            r#"command = ["sh", "-c", "mkdir -p dist"#,
            &format!(r#"command = ["sh", "-c", "sh {dir}/run.sh {dir}/build.log 0.4 build-$SHIPWARDEN_VERSION && mkdir -p dist"#),
        );
        std::fs::create_dir_all(p.path().join("db")).expect("mkdir");
        std::fs::write(p.path().join("db/001-orders.sql"), "create table orders (id int);\n").expect("write");
        // Production's data, backed up before staging here so that one `advance` runs every kind of step.
        std::fs::write(p.path().join("data.bin"), vec![7u8; 24 << 20]).expect("write");
        config.push_str(&format!(
            r#"
[backup]
paths = ["data.bin"]

[environments.staging.migrations]
kind = "command"
dir = "db"
apply = ["sh", "{dir}/run.sh", "{dir}/migrate.log", "0.6"]
revert = ["sh", "{dir}/run.sh", "{dir}/migrate.log", "0.3"]

[policy.transitions.staging_deployment]
steps = [{{ step = "backup", environment = "prod" }}, {{ step = "deploy", environment = "staging" }}]
"#
        ));
    }
    std::fs::write(p.path().join("shipwarden.toml"), config).expect("write");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let mut driver = std::process::Command::new(assert_cmd::cargo::cargo_bin("shipwarden"))
        .args(["advance", "shop-1.0.0", "--as", "dana"])
        .current_dir(p.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("driver");
    std::thread::sleep(kill_after);
    driver.kill().expect("SIGKILL");
    driver.wait().expect("reaped");
    seen.trials += 1;
    let logs: Vec<std::path::PathBuf> =
        ["staging-1.log", "build.log", "migrate.log"].iter().map(|l| p.path().join(l)).collect();
    // The driver's children die with it: within a second no step it started runs on.
    std::thread::sleep(std::time::Duration::from_millis(800));
    for (what, _, pid) in logs.iter().flat_map(|l| target_log(l)) {
        if what == "START" && Path::new(&format!("/proc/{pid}")).exists() {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if !stat.contains(") Z ") {
                seen.orphans += 1;
            }
        }
    }
    // Drive on, as people would, until the release waits for the QA sign-off.
    for _ in 0..20 {
        // The killed driver may have got there already.
        if p.stage("shop-1.0.0") == "staging_deployed" {
            break;
        }
        let out = p.cmd(&["advance", "shop-1.0.0", "--as", "dana"], &[]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        match out.status.code() {
            Some(0) => {}
            Some(3) if text.contains("is in doubt") => {
                seen.in_doubt += 1;
                let key = text.split('`').nth(1).expect("the step's key").to_owned();
                // The operator looks at the target: did that deployment end?
                let port_key = format!("shop-1.0.0:{key}");
                let ended = target_log(&log).iter().any(|(w, k, _)| w == "END" && k == &port_key);
                let how = if ended { "--done" } else { "--failed" };
                if ended {
                    seen.resolved_done += 1
                } else {
                    seen.resolved_failed += 1
                }
                p.ok(&["resolve", "shop-1.0.0", &key, how, "--reason", "checked staging-1's log", "--as", "dana"]);
            }
            Some(4) => std::thread::sleep(std::time::Duration::from_millis(500)),
            // Waiting for people where it stood: the stage check above decides.
            Some(3) => {}
            // A failed deployment (resolved as failed) is undone; the next advance deploys anew.
            Some(5) => {}
            other => panic!("advance exited {other:?}:\n{text}"),
        }
    }
    assert_eq!(p.stage("shop-1.0.0"), "staging_deployed", "the release went on to the QA sign-off");
    p.ok(&["audit", "shop-1.0.0", "--verify"]);
    // No deployment key ran twice, and no run of any tool started while another still ran.
    for (i, l) in logs.iter().enumerate() {
        let mut starts: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
        for (what, key, _) in target_log(l) {
            match what.as_str() {
                "START" => *starts.entry(key).or_default() += 1,
                "OVERLAP" => seen.overlaps += 1,
                _ => {}
            }
        }
        let again = starts.values().filter(|n| **n > 1).count() as u32;
        // The deploy target is not idempotent; the build and the migration tool are.
        if i == 0 { seen.reruns += again } else { seen.idempotent_reruns += again }
    }
    if scenario.more_steps {
        // One backup, whole: a backup cut off by the kill was made again under its key, never kept half.
        let backups: Vec<_> = std::fs::read_dir(p.path().join(".shipwarden/backups"))
            .expect("the backups")
            .filter_map(Result::ok)
            .collect();
        assert_eq!(backups.len(), 1, "{backups:?}");
        assert!(backups[0].path().join("manifest.json").exists(), "the backup is whole");
        let copy = std::fs::read_dir(backups[0].path())
            .expect("backup")
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().ends_with("data.bin"))
            .expect("the copy");
        assert_eq!(std::fs::metadata(copy.path()).expect("copy").len(), 24 << 20);
        assert!(target_log(&p.path().join("migrate.log")).iter().any(|(w, _, _)| w == "END"), "migrated");
    }
}

#[test]
fn a_driver_killed_mid_step_leaves_no_orphan_and_no_deployment_runs_twice_r8e_r9d() {
    let trials: u32 = std::env::var("SHIPWARDEN_CRASH_TRIALS").ok().and_then(|t| t.parse().ok()).unwrap_or(10);
    let mut seen = Trials::default();
    for i in 0..trials {
        let scenario = Scenario { with_status: i % 2 == 0, more_steps: i % 4 >= 2 };
        // Kill times spread over the build, the tag, (the backup, the migrations,) and the 1.5 s deployment.
        let span = if scenario.more_steps { 4300 } else { 1900 };
        let kill_after = std::time::Duration::from_millis(300 + fastrand::u64(0..span));
        crash_trial(scenario, kill_after, &mut seen);
    }
    println!("crash trials: {seen:?}");
    assert_eq!((seen.orphans, seen.overlaps, seen.reruns), (0, 0, 0), "{seen:?}");
}

#[test]
fn a_huge_deploy_log_is_bounded_in_the_audit_and_kept_whole_in_a_file_r8e_r9d() {
    let p = Project::new(OPEN_CALENDAR);
    let config = format!("{BASE}{OPEN_CALENDAR}").replace(
        r#"deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to staging-1"]"#,
        r#"deploy = ["sh", "-c", "i=0; while [ $i -lt 6000 ]; do echo line $i of a very chatty deployment script, padded; i=$((i+1)); done"]"#,
    );
    std::fs::write(p.path().join("shipwarden.toml"), config).expect("write");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    let export = p.export("shop-1.0.0");
    let finished = export
        .lines()
        .find(|l| l.contains("step_finished") && l.contains("deploy:staging:staging-1#1"))
        .expect("the target's step");
    assert!(finished.len() < 140_000, "the event is bounded: {} bytes", finished.len());
    assert!(finished.contains("left out here; the whole log: 6000 lines"), "the excerpt says what it left out");
    assert!(finished.contains("line 0 of") && finished.contains("line 5999 of"), "the start and the end are kept");
    let kept = p.path().join(".shipwarden/logs/shop-1.0.0/deploy:staging:staging-1#1.log");
    let at = finished.split("is kept at ").nth(1).unwrap_or_default();
    assert!(
        at.contains(".shipwarden/logs/shop-1.0.0/deploy:staging:staging-1#1.log"),
        "the event points to the whole log: {}",
        &at[..at.len().min(200)]
    );
    let whole = std::fs::read_to_string(&kept).expect("the whole log");
    assert_eq!(whole.lines().count(), 6000);
}
