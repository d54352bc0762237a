//! `shipwarden.toml` read as a library (what the bindings use): a checked
//! configuration and the manager it describes (R-2a, R-2e).

mod common;

use shipwarden::{Plan, ReleaseKind, Version};
use shipwarden_adapters::config::{ConfigError, Loaded, template};

#[tokio::test]
async fn a_project_opens_as_a_manager_with_its_adapters_r2a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shipwarden.toml");
    let text = "[project]\nname = \"shop\"\n[users.rita]\nroles = [\"release_manager\"]\n[policy.calendar]\ntime_zone = \"Europe/Berlin\"\n";
    std::fs::write(&path, text).expect("write");
    let loaded = Loaded::read(&path).expect("config");
    assert_eq!(loaded.policy.calendar.time_zone, "Europe/Berlin");
    let rita = loaded.actor("rita").expect("rita");
    assert!(matches!(loaded.actor("mallory"), Err(ConfigError::Invalid(m)) if m.contains("mallory")));
    let (manager, tickets) = loaded.manager(None).await.expect("manager");
    assert!(tickets.is_some(), "SQLite stores carry shipwarden's own tickets");
    let plan = Plan::new("shop-1.0.0".parse().expect("id"), "shop", Version::new(1, 0, 0), ReleaseKind::Minor);
    manager.plan(&rita, plan).await.expect("plan");
    assert!(dir.path().join(".shipwarden/releases.db").exists());
}

#[test]
fn every_problem_is_reported_with_its_path_r2e() {
    let text = "[project]\nname = \"\"\n[[escalation]]\nname = \"X\"\nrole = \"pilot\"\nemail = \"x@example.com\"\n[environments.moon]\n";
    let Err(ConfigError::Problems(problems)) = Loaded::parse(text, std::path::Path::new("shipwarden.toml")) else {
        panic!("problems expected");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert!(
        paths.contains(&"project.name")
            && paths.contains(&"escalation[0].role")
            && paths.contains(&"environments.moon"),
        "{paths:?}"
    );
    // The template `shipwarden init` writes is itself valid.
    Loaded::parse(&template("shop"), std::path::Path::new("shipwarden.toml")).expect("template");
}

#[tokio::test]
async fn webhooks_are_checked_and_their_secret_comes_from_the_environment_r9a() {
    let bad = "[project]\nname = \"shop\"\n[[notify.webhooks]]\nurl = \"ftp://x\"\ntimeout = \"soon\"\n";
    let Err(ConfigError::Problems(problems)) = Loaded::parse(bad, std::path::Path::new("shipwarden.toml")) else {
        panic!("problems expected");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["notify.webhooks[0].timeout", "notify.webhooks[0].url"]);

    let dir = tempfile::tempdir().expect("tempdir");
    let text = "[project]\nname = \"shop\"\n[[notify.webhooks]]\nurl = \"https://hooks.example.com/releases\"\nsecret_env = \"SHIPWARDEN_TEST_UNSET_WEBHOOK_SECRET\"\n";
    let loaded = Loaded::parse(text, &dir.path().join("shipwarden.toml")).expect("config");
    let Err(ConfigError::Invalid(message)) = loaded.manager(None).await else { panic!("the secret is missing") };
    assert!(
        message.contains("notify.webhooks[0].secret_env") && message.contains("SHIPWARDEN_TEST_UNSET_WEBHOOK_SECRET")
    );
}

#[test]
fn the_adapters_for_real_servers_are_checked_with_their_paths() {
    let bad = r#"
[project]
name = "shop"
[artifacts]
kind = "oci"
[ticketing]
kind = "jira"
url = "https://acme.atlassian.net"
[backup.postgres.databases]
prod = "postgres://app:hunter2@db/shop"
[[environments.prod.targets]]
name = "web-1"
kind = "ssh"
host = "web-1.internal"
deploy = ["./deploy.sh"]
rollback = ["./rollback.sh"]
[[notify.smtp]]
host = "smtp.example.com"
from = "releases@example.com"
security = "ssl"
[[notify.slack]]
channel = "C0123"
[[notify.slack]]
webhook_env = "SLACK_HOOK"
approvals = "direct"
[[notify.slack]]
webhook_env = "SLACK_HOOK"
approvals = "everyone"
"#;
    let Err(ConfigError::Problems(problems)) = Loaded::parse(bad, std::path::Path::new("shipwarden.toml")) else {
        panic!("problems expected");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "artifacts.registry",
        "ticketing.email",
        "ticketing.token_env",
        "ticketing.project",
        "backup.postgres.databases.prod",
        "environments.prod.targets[0].user",
        "environments.prod.targets[0].identity",
        "environments.prod.targets[0].known_hosts",
        "environments.prod.targets[0].dir",
        "notify.smtp[0].security",
        "notify.smtp[0].to",
        "notify.slack[0]",
        "notify.slack[1].approvals",
        "notify.slack[2].approvals",
    ] {
        assert!(paths.contains(&expected), "{expected} not in {paths:?}");
    }
    assert!(!format!("{problems:?}").contains("hunter2"), "a password in a URL is not repeated");
}

#[tokio::test]
async fn every_new_adapter_is_wired_and_its_secrets_come_from_their_source_r9a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (api, seen) = common::http::server(std::sync::Arc::new(|_: &common::http::Seen| {
        (200, r#"{"number":1,"title":"Checkout","state":"open","labels":[]}"#.into(), vec![])
    }))
    .await;
    let text = format!(
        r#"
[project]
name = "shop"
[artifacts]
kind = "oci"
registry = "registry.example.com"
namespace = "acme/releases"
user = "robot"
password_env = "SHIPWARDEN_TEST_CFG_OCI_PASSWORD"
[ticketing]
kind = "github"
url = "{api}"
owner = "acme"
repo = "shop"
token_env = "SHIPWARDEN_TEST_CFG_GITHUB_TOKEN"
[backup.postgres]
password_env = "SHIPWARDEN_TEST_CFG_PG_PASSWORD"
[backup.postgres.databases]
prod = "postgres://app@db.internal:5432/shop"
[[environments.prod.targets]]
name = "web-1"
kind = "ssh"
host = "web-1.internal"
user = "deploy"
identity = "keys/deploy"
known_hosts = "keys/known_hosts"
dir = "/srv/shop"
deploy = ["./deploy.sh", "{{version}}"]
rollback = ["./rollback.sh"]
[[notify.smtp]]
host = "smtp.example.com"
from = "Releases <releases@example.com>"
user = "releases"
password_env = "SHIPWARDEN_TEST_CFG_SMTP_PASSWORD"
to = {{ teams = ["eng@example.com"], clients = ["ops@client.example"] }}
[[notify.slack]]
webhook_env = "SHIPWARDEN_TEST_CFG_SLACK_WEBHOOK"
[[notify.slack]]
channel = "C0123"
token_env = "SHIPWARDEN_TEST_CFG_SLACK_TOKEN"
audiences = ["stakeholders"]
"#
    );
    let loaded = Loaded::parse(&text, &dir.path().join("shipwarden.toml")).expect("config");
    // The first missing variable is named, with where it is asked for.
    let Err(ConfigError::Invalid(message)) = loaded.manager(None).await else { panic!("variables are missing") };
    assert!(
        message.contains("SHIPWARDEN_TEST_CFG_OCI_PASSWORD") && message.contains("artifacts.password_env"),
        "{message}"
    );
    // Secrets from a source of the embedder's (a vault client; here a map).
    let secrets: std::collections::BTreeMap<&str, &str> = [
        ("SHIPWARDEN_TEST_CFG_OCI_PASSWORD", "oci-pw-s3cret"),
        ("SHIPWARDEN_TEST_CFG_GITHUB_TOKEN", "ghp_s3cret"),
        ("SHIPWARDEN_TEST_CFG_PG_PASSWORD", "pg-s3cret"),
        ("SHIPWARDEN_TEST_CFG_SMTP_PASSWORD", "smtp-s3cret"),
        ("SHIPWARDEN_TEST_CFG_SLACK_WEBHOOK", "https://hooks.slack.com/services/T1/B1/s3cret"),
        ("SHIPWARDEN_TEST_CFG_SLACK_TOKEN", "xoxb-s3cret"),
    ]
    .into();
    let loaded = loaded.with_secrets(std::sync::Arc::new(move |var: &str| secrets.get(var).map(|v| (*v).to_owned())));
    loaded.artifacts().expect("oci store");
    let (builder, _) = loaded.builder(None).await.expect("every adapter");
    drop(builder);
    assert!(!format!("{:?}", loaded.config).contains("s3cret"), "the file holds names of secrets, never values");
    // The token named in the file is the one GitHub receives, only in its header.
    let ticketing = loaded.ticketing().expect("github").expect("configured");
    let ticket = ticketing.get(&shipwarden::TicketKey::Issue(1)).await.expect("get");
    assert_eq!(ticket.summary, "Checkout");
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen[0].header("authorization"), Some("Bearer ghp_s3cret"));
    assert_eq!(seen[0].path, "/repos/acme/shop/issues/1");
}

#[tokio::test]
async fn migrations_dependencies_monitors_and_smoke_steps_are_wired_r7e_r7f_r8e_r8f() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("db/migrations")).expect("mkdir");
    std::fs::write(dir.path().join("db/migrations/0001_orders.up.sql"), "CREATE TABLE orders (id int);")
        .expect("write");
    let text = r#"
[project]
name = "shop"
[environments.staging.migrations]
kind = "postgres"
dir = "db/migrations"
url = "postgres://app@db.staging:5432/shop"
password_env = "SHIPWARDEN_TEST_CFG_DB_PASSWORD"
[environments.prod.migrations]
kind = "command"
name = "flyway"
dir = "db/migrations"
apply = ["flyway", "-environment={environment}", "migrate"]
revert = ["flyway", "undo"]
[[environments.prod.dependencies]]
kind = "http"
url = "https://prod.internal/versions"
pointers = { payments = "/services/payments/version" }
[[environments.prod.dependencies]]
kind = "command"
command = ["./versions.sh", "{environment}"]
[[environments.prod.monitors]]
kind = "prometheus"
url = "http://prometheus:9090"
queries = [{ gate = "response_time", query = "p95{env=\"{environment}\"}", scale = 1000.0 }]
[[environments.prod.smoke]]
kind = "steps"
name = "checkout"
secrets = { password = "SHIPWARDEN_TEST_CFG_SMOKE_PASSWORD" }
[[environments.prod.smoke.steps]]
name = "login"
method = "POST"
url = "https://shop.example/api/login"
body = { user = "smoke", password = "${password}" }
capture = { token = "$.token" }
[[environments.prod.smoke.steps]]
name = "orders"
url = "https://shop.example/api/orders"
headers = { authorization = "Bearer ${token}" }
expect = { "$.items[0].status" = "paid" }
exists = ["/count"]
max_latency = "500ms"
"#;
    let loaded = Loaded::parse(text, &dir.path().join("shipwarden.toml")).expect("config");
    let secrets: std::collections::BTreeMap<&str, &str> =
        [("SHIPWARDEN_TEST_CFG_DB_PASSWORD", "db-s3cret"), ("SHIPWARDEN_TEST_CFG_SMOKE_PASSWORD", "smoke-s3cret")]
            .into();
    let loaded = loaded.with_secrets(std::sync::Arc::new(move |var: &str| secrets.get(var).map(|v| (*v).to_owned())));
    let (mut builder, _) = loaded.builder(None).await.expect("every adapter");
    let ports = builder.ports_mut();
    let env = |n: &str| -> shipwarden::EnvName { n.parse().expect("env") };
    assert_eq!(ports.migrators.get(&env("staging")).map(|m| m.name().to_owned()).as_deref(), Some("postgres"));
    assert_eq!(ports.migrators.get(&env("prod")).map(|m| m.name().to_owned()).as_deref(), Some("flyway"));
    let set = ports.migrators[&env("staging")].scripts().await.expect("scripts");
    assert_eq!(set.scripts[0].id, "0001_orders");
    assert_eq!(ports.dependencies.get(&env("prod")).map(Vec::len), Some(2));
    assert_eq!(ports.monitors.get(&env("prod")).map(Vec::len), Some(1));
    assert_eq!(ports.smoke[&env("prod")][0].name(), "checkout");

    // Mistakes are named with their paths.
    let bad = r#"
[project]
name = "shop"
[environments.prod.migrations]
kind = "postgres"
dir = "db"
url = "postgres://app:hunter2@db/shop"
[environments.staging.migrations]
kind = "command"
dir = "db"
[[environments.prod.smoke]]
kind = "steps"
name = "x"
[[environments.prod.smoke.steps]]
name = "a"
url = "https://x"
max_latency = "soon"
expect = { "items.status" = "paid" }
"#;
    let Err(ConfigError::Problems(problems)) = Loaded::parse(bad, std::path::Path::new("shipwarden.toml")) else {
        panic!("problems expected");
    };
    let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
    for expected in [
        "environments.prod.migrations.url: this URL holds a password",
        "environments.staging.migrations.apply: give the command as an argv",
        "environments.staging.migrations.revert",
        "environments.prod.smoke[0].steps[0].max_latency",
        "environments.prod.smoke[0].steps[0]: `items.status`: expected a JSON Pointer",
    ] {
        assert!(text.iter().any(|t| t.starts_with(expected)), "{expected} missing in {text:#?}");
    }
    assert!(!text.join("\n").contains("hunter2"));
}

#[test]
fn a_lease_ttl_under_five_seconds_is_refused_with_its_path_r6e() {
    for ttl in ["0s", "4s", "500ms"] {
        let text = format!("[project]\nname = \"shop\"\n[engine]\nlease_ttl = \"{ttl}\"\n");
        let Err(ConfigError::Problems(problems)) = Loaded::parse(&text, std::path::Path::new("shipwarden.toml")) else {
            panic!("{ttl} is too short");
        };
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "engine.lease_ttl");
        assert!(problems[0].message.contains("at least 5s"), "{}", problems[0].message);
    }
    let text = "[project]\nname = \"shop\"\n[engine]\nlease_ttl = \"5s\"\nlease_wait = \"1m\"\n";
    Loaded::parse(text, std::path::Path::new("shipwarden.toml")).expect("5s is enough");
}

fn problems_of(text: &str) -> Vec<String> {
    match Loaded::parse(text, std::path::Path::new("shipwarden.toml")) {
        Err(ConfigError::Problems(problems)) => problems.iter().map(ToString::to_string).collect(),
        Err(other) => panic!("problems expected, got {other}"),
        Ok(_) => panic!("problems expected"),
    }
}

#[test]
fn an_unknown_kind_names_its_path_and_the_kinds_there_are_r2e() {
    let target = "[project]\nname = \"shop\"\n[[environments.prod.targets]]\nname = \"web-1\"\nkind = \"foo\"\ndeploy = [\"d\"]\nrollback = [\"r\"]\n";
    assert_eq!(
        problems_of(target),
        ["environments.prod.targets[0].kind: unknown kind \"foo\"; expected one of command, ssh"]
    );
    let probe = "[project]\nname = \"shop\"\n[[environments.prod.checks]]\nkind = \"host\"\n[[environments.prod.checks]]\nkind = \"ping\"\n";
    let found = problems_of(probe);
    assert!(
        found[0]
            .starts_with("environments.prod.checks[1].kind: unknown kind \"ping\"; expected one of host, http, tls"),
        "{found:?}"
    );
    let store = "[project]\nname = \"shop\"\n[store]\nkind = \"mysql\"\n";
    assert_eq!(problems_of(store), ["store.kind: unknown kind \"mysql\"; expected one of sqlite, postgres"]);
}

#[test]
fn a_missing_field_names_its_path_r2e() {
    let probe = "[project]\nname = \"shop\"\n[[environments.prod.checks]]\nkind = \"host\"\n[[environments.prod.checks]]\nkind = \"tls\"\nhost = \"example.com\"\n";
    assert_eq!(problems_of(probe), ["environments.prod.checks[1].port: is required but missing"]);
    let target = "[project]\nname = \"shop\"\n[[environments.staging.targets]]\nname = \"s-1\"\nrollback = [\"r\"]\n";
    assert_eq!(problems_of(target), ["environments.staging.targets[0].deploy: is required but missing"]);
    let typo = "[project]\nname = \"shop\"\n[[environments.prod.targets]]\nname = \"web-1\"\nkind = \"ssh\"\nhots = \"x\"\ndeploy = [\"d\"]\nrollback = [\"r\"]\n";
    let found = problems_of(typo);
    assert!(
        found[0].starts_with("environments.prod.targets[0].hots: is not a known key; the keys here are"),
        "{found:?}"
    );
}

#[tokio::test]
async fn a_secret_is_read_by_the_step_that_uses_it_and_named_with_its_full_path_r2a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = r#"
[project]
name = "shop"
[[environments.prod.checks]]
kind = "host"
[[environments.prod.checks]]
kind = "database"
url_env = "SHIPWARDEN_TEST_CFG_UNSET_DATABASE_URL"
[[notify.webhooks]]
url = "https://hooks.example.com/releases"
secret_env = "SHIPWARDEN_TEST_CFG_UNSET_WEBHOOK_SECRET"
[evidence]
signing_key_env = "SHIPWARDEN_TEST_CFG_UNSET_SIGNING_KEY"
"#;
    let loaded = Loaded::parse(text, &dir.path().join("shipwarden.toml")).expect("config");
    // `policy check` warns of every secret the file names and the environment lacks.
    let warnings: Vec<String> = loaded.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert!(
        warnings[0].starts_with(
            "notify.webhooks[0].secret_env: environment variable `SHIPWARDEN_TEST_CFG_UNSET_WEBHOOK_SECRET` is not set"
        ),
        "{warnings:#?}"
    );
    assert!(warnings.iter().any(|w| w.starts_with("environments.prod.checks[1].url_env: ")), "{warnings:#?}");
    assert!(warnings.iter().any(|w| w.starts_with("evidence.signing_key_env: ")), "{warnings:#?}");

    // Deferred, the manager opens without them; the check that needs one fails, not retryable.
    let (mut builder, _) = loaded.defer_secrets().builder(None).await.expect("opens without its secrets");
    let ports = builder.ports_mut();
    let prod: shipwarden::EnvName = "prod".parse().expect("env");
    let checks = &ports.checks[&prod];
    checks[0].check(&prod).await.expect("the host check needs no secret");
    let e = checks[1].check(&prod).await.expect_err("the database check needs its URL");
    assert!(!e.retryable, "{e}");
    assert!(
        e.message.contains(
            "environments.prod.checks[1].url_env: environment variable `SHIPWARDEN_TEST_CFG_UNSET_DATABASE_URL` is not set"
        ),
        "{e}"
    );
    let signer = ports.signer.clone().expect("a signer");
    assert!(signer.sign(b"bundle").await.is_err_and(|e| e.message.contains("evidence.signing_key_env")));
}

#[test]
fn a_project_name_that_cannot_start_a_release_id_is_a_problem_r1a() {
    // Issue #18: these passed `policy check` and failed only at `plan`.
    for bad in [".shop", "my shop", "shop/web", "-shop"] {
        let text = format!("[project]\nname = \"{bad}\"\n");
        let problems = problems_of(&text);
        assert!(
            problems.iter().any(|p| p.contains("project.name") && p.contains("cannot start a release id")),
            "{bad}: {problems:?}"
        );
    }
    Loaded::parse("[project]\nname = \"shop_2\"\n", std::path::Path::new("shipwarden.toml")).expect("a fine name");
}

/// The problems of a configuration built in code, as `(path, message)`.
fn value_problems(value: serde_json::Value) -> Vec<(String, String)> {
    match Loaded::from_value(value, std::path::Path::new("/srv/shop")) {
        Err(ConfigError::Problems(problems)) => problems.into_iter().map(|p| (p.path, p.message)).collect(),
        Err(other) => panic!("problems expected, got {other}"),
        Ok(_) => panic!("problems expected, got a configuration"),
    }
}

#[test]
fn a_configuration_from_code_names_key_paths_in_plain_words_and_no_file() {
    use serde_json::json;
    let base = std::path::Path::new("/srv/shop");
    // A missing key is reported at that key, with its index in the list.
    let p = value_problems(json!({"project": {"name": "shop"},
        "environments": {"prod": {"targets": [{"name": "web-1"}]}}}));
    assert_eq!(p, [("environments.prod.targets[0].deploy".to_owned(), "is required but missing".to_owned())]);
    // An unknown key names the keys of its table.
    let p = value_problems(json!({"project": {"name": "shop", "nmae": "x"}}));
    assert_eq!(p[0].0, "project.nmae");
    assert!(p[0].1.contains("not a known key") && p[0].1.contains("ticket_prefix"), "{p:?}");
    // A wrong type says what was expected and what was found.
    let p = value_problems(json!({"project": {"name": 7}}));
    assert_eq!(p[0].0, "project.name");
    assert!(p[0].1.starts_with("expected a string, found integer"), "{p:?}");
    // An unknown kind names the kinds.
    let p = value_problems(json!({"project": {"name": "shop"}, "store": {"kind": "mongo"}}));
    assert_eq!(p[0].0, "store.kind");
    assert!(p[0].1.contains("\"mongo\"") && p[0].1.contains("sqlite"), "{p:?}");
    // A null inside a list has no meaning; not a table of sections at all is said so.
    let p = value_problems(json!({"project": {"name": "shop"}, "users": {"rita": {"roles": [null]}}}));
    assert_eq!(p[0].0, "users.rita.roles[0]");
    assert_eq!(value_problems(json!(["project"]))[0].0, "(top level)");
    // No problem mentions a file that does not exist, or the CLI.
    for (path, message) in value_problems(json!({"project": {}})) {
        assert!(!path.contains("shipwarden.toml") && !message.contains("--config"), "{path}: {message}");
    }
    // A null in a table means "not given"; relative paths are relative to the base.
    let loaded = Loaded::from_value(json!({"project": {"name": "shop", "ticket_prefix": null}}), base).expect("config");
    assert_eq!(loaded.state_dir(), base.join(".shipwarden"));
}

#[test]
fn a_file_that_cannot_be_read_gives_no_cli_advice_to_a_library_user() {
    let Err(ConfigError::Invalid(message)) = Loaded::read(std::path::Path::new("/nonexistent/shipwarden.toml")) else {
        panic!("an error expected");
    };
    assert!(message.contains("/nonexistent/shipwarden.toml") && !message.contains("--config"), "{message}");
}

#[test]
fn slack_ids_and_the_slack_app_are_checked_with_their_paths_issue_23_r2d() {
    let text = r#"
[project]
name = "shop"
[users.paul]
roles = ["product_owner"]
slack = "U0PAUL"
[users.quinn]
roles = ["qa_lead"]
slack = "U0PAUL"
[users.mallory]
roles = ["qa_lead"]
slack = "u-lower"
[server.slack]
signing_secret_env = "SLACK SECRET"
team = "acme"
api = "http://slack.example.com/api"
response_hosts = ["hooks.slack.com", "evil.example.com/x"]
"#;
    let Err(ConfigError::Problems(problems)) = Loaded::parse(text, std::path::Path::new("shipwarden.toml")) else {
        panic!("problems expected");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "server.slack.signing_secret_env",
            "server.slack.team",
            "server.slack.api",
            "server.slack.response_hosts[1]",
            "users.mallory.slack",
            "users.quinn.slack",
        ]
    );
    assert!(problems[5].message.contains("users.paul"), "{}", problems[5]);
    let good = r#"
[project]
name = "shop"
[users.paul]
roles = ["product_owner"]
slack = "U0PAUL"
[users.quinn]
roles = ["qa_lead"]
slack = "W0QUINN"
[server.slack]
signing_secret_env = "SLACK_SIGNING_SECRET"
token_env = "SLACK_BOT_TOKEN"
team = "T0ACME"
"#;
    let loaded = Loaded::parse(good, std::path::Path::new("shipwarden.toml")).expect("a good [server.slack]");
    let vars: Vec<String> = loaded.secret_refs().into_iter().map(|s| s.var).collect();
    assert!(vars.contains(&"SLACK_SIGNING_SECRET".to_owned()) && vars.contains(&"SLACK_BOT_TOKEN".to_owned()));
    let slack = loaded.config.server.slack.as_ref().expect("slack");
    assert_eq!((slack.api(), slack.response_hosts()), ("https://slack.com/api", vec!["hooks.slack.com".to_owned()]));
}

#[test]
fn approval_links_and_their_ttl_are_checked_and_the_key_comes_from_its_source_issue_23_r2c() {
    let bad = "[project]\nname = \"shop\"\n[approval_links]\nsecret_env = \" \"\nconsole_url = \"releases.example.com?x\"\n\
               [policy.duties]\napproval_link_ttl = \"0s\"\n";
    let problems = problems_of(bad);
    let all = problems.join("\n");
    for path in ["approval_links.console_url", "approval_links.secret_env", "duties.approval_link_ttl"] {
        assert!(all.contains(path), "{path} in {all}");
    }
    let good = "[project]\nname = \"shop\"\n[approval_links]\nsecret_env = \"LINK_KEY\"\nconsole_url = \"https://releases.example.com/\"\n";
    let loaded = Loaded::parse(good, std::path::Path::new("shipwarden.toml")).expect("good [approval_links]");
    assert!(loaded.secret_refs().iter().any(|s| s.var == "LINK_KEY" && s.path == "approval_links.secret_env"));
    let links = loaded.config.approval_links.as_ref().expect("links");
    assert_eq!(links.confirm_url(), "https://releases.example.com/console/confirm?t=");
    assert_eq!(loaded.policy.duties.approval_link_ttl, jiff::SignedDuration::from_hours(24), "24 h by default");
    let short: shipwarden_adapters::config::SecretSource = std::sync::Arc::new(|_: &str| Some("too short".to_owned()));
    let reparsed = Loaded::parse(good, std::path::Path::new("shipwarden.toml")).expect("good");
    let err = reparsed.with_secrets(short).approval_link_key().expect_err("a short key");
    assert!(err.to_string().contains("at least 32 bytes") && !err.to_string().contains("too short"), "{err}");
    let long: shipwarden_adapters::config::SecretSource =
        std::sync::Arc::new(|_: &str| Some("a key of thirty-two bytes or more!".to_owned()));
    assert!(loaded.with_secrets(long).approval_link_key().expect("the key").is_some());
}
