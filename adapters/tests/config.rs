//! `shipwarden.toml` read as a library (what the bindings use): a checked
//! configuration and the manager it describes (R-2a, R-2e).

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
