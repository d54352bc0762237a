//! shipwarden's own tickets in the SQLite store's file (R-4b, R-7b, R-9d),
//! and the command builder (R-8b).

use shipwarden::ports::{BuildRequest, Builder, LogSink, Ticketing};
use shipwarden::{Plan, ReleaseKind, TicketKey, Version};
use shipwarden_adapters::build::command::CommandBuilder;
use shipwarden_adapters::store::sqlite::SqliteStore;
use shipwarden_adapters::ticketing::local::LocalTicketing;

fn key(s: &str) -> TicketKey {
    s.parse().expect("key")
}

#[tokio::test]
async fn tickets_are_numbered_per_project_and_bugs_counted_by_severity_r7b() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("releases.db")).await.expect("open");
    let tickets = LocalTicketing::new(store.pool().clone());
    let story = tickets.create("shop", "Story", "Checkout with PayPal", None).await.expect("create");
    let bug = tickets.create("SHOP", "Bug", "Cart total off by one cent", Some("High")).await.expect("create");
    let minor = tickets.create("SHOP", "Bug", "Typo in footer", Some("low")).await.expect("create");
    let other = tickets.create("OPS", "Bug", "Disk alarm", Some("critical")).await.expect("create");
    assert_eq!(
        (story.key.to_string(), bug.key.to_string(), minor.key.to_string()),
        ("SHOP-1".into(), "SHOP-2".into(), "SHOP-3".into())
    );
    assert_eq!(other.key.to_string(), "OPS-1");
    assert_eq!(bug.severity.as_deref(), Some("high"));
    let scope = [key("SHOP-1"), key("SHOP-2"), key("SHOP-3"), key("SHOP-99")];
    let blocking = ["critical".to_owned(), "high".to_owned()];
    let open = tickets.open_bugs(&scope, &blocking).await.expect("bugs");
    assert_eq!(open.iter().map(|t| t.key.to_string()).collect::<Vec<_>>(), ["SHOP-2"]);
    tickets.comment(&bug.key, "fixed in 1f00d").await.expect("comment");
    tickets.transition(&bug.key, "Done").await.expect("close");
    assert!(tickets.open_bugs(&scope, &blocking).await.expect("bugs").is_empty());
    assert_eq!(tickets.comments(&bug.key).await.expect("comments"), ["fixed in 1f00d"]);
    assert_eq!(tickets.list(true).await.expect("list").len(), 3);
    assert!(tickets.get(&key("SHOP-99")).await.expect_err("missing").to_string().contains("no ticket SHOP-99"));
    assert!(tickets.create("9x", "Bug", "bad prefix", None).await.is_err());
    // Reopening the store keeps the tickets (they live in its file).
    drop(tickets);
    let again =
        LocalTicketing::new(SqliteStore::open(dir.path().join("releases.db")).await.expect("reopen").pool().clone());
    assert_eq!(again.get(&bug.key).await.expect("get").status, "Done");
}

#[tokio::test]
async fn the_release_ticket_is_created_once_and_closed_r9d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("releases.db")).await.expect("open");
    let tickets = LocalTicketing::new(store.pool().clone());
    let mut plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    plan.scope = vec![key("SHOP-12")];
    let first = tickets.create_release_ticket(&plan).await.expect("create");
    let second = tickets.create_release_ticket(&plan).await.expect("again");
    assert_eq!(first, second);
    tickets.transition(&first, "Done").await.expect("close");
    let t = tickets.get(&first).await.expect("get");
    assert_eq!((t.kind.as_str(), t.summary.as_str(), t.status.as_str()), ("Release", "Release shop 1.4.0", "Done"));
}

#[tokio::test]
async fn the_command_builder_runs_an_argv_and_collects_declared_files_r8b() {
    let dir = tempfile::tempdir().expect("tempdir");
    let builder = CommandBuilder::new(vec![
        "sh".into(),
        "-c".into(),
        "mkdir -p dist && echo \"shop $SHIPWARDEN_VERSION\" > dist/shop-$1.txt && echo built".into(),
        "build".into(),
        "{version}".into(),
    ])
    .artifact("shop.txt", "dist/shop-{version}.txt")
    .with_workdir(dir.path());
    let request = BuildRequest {
        release: "shop-1.4.0".parse().expect("id"),
        version: Version::new(1, 4, 0),
        key: "build#1".into(),
    };
    let log = LogSink::default();
    let built = builder.build(&request, &log).await.expect("build");
    assert_eq!(built.len(), 1);
    assert_eq!(std::fs::read_to_string(&built[0].path).expect("read"), "shop 1.4.0\n");
    assert!(log.take().iter().any(|l| l.text == "built"));
    let missing = CommandBuilder::new(vec!["true".into()]).artifact("x", "nowhere/x").with_workdir(dir.path());
    let e = missing.build(&request, &log).await.expect_err("a declared file is missing");
    assert!(e.to_string().contains("did not leave x"), "{e}");
    let failing = CommandBuilder::new(vec!["sh".into(), "-c".into(), "exit 3".into()]);
    assert!(!failing.build(&request, &log).await.expect_err("exit 3").retryable);
    let retry = CommandBuilder::new(vec!["sh".into(), "-c".into(), "exit 75".into()]);
    assert!(retry.build(&request, &log).await.expect_err("exit 75").retryable);
}
