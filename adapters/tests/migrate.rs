//! Database migrations (R-7e, R-8b): the built-in SQL runner against the
//! real PostgreSQL `scripts/test` starts, and a migration tool behind
//! commands.

mod common;

use shipwarden::EnvName;
use shipwarden::ports::{ErrorKind, LogSink, Migrator};
use shipwarden_adapters::migrate::command::CommandMigrator;
use shipwarden_adapters::migrate::postgres::PgMigrator;

fn staging() -> EnvName {
    "staging".parse().expect("env")
}

fn write(dir: &std::path::Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("write");
    }
}

const ORDERS: [(&str, &str); 4] = [
    ("0001_orders.up.sql", "CREATE TABLE orders (id int PRIMARY KEY, item text);\nINSERT INTO orders VALUES (1, 'a');"),
    ("0001_orders.down.sql", "DROP TABLE orders;"),
    ("0002_total.up.sql", "ALTER TABLE orders ADD COLUMN total int NOT NULL DEFAULT 0;"),
    ("0002_total.down.sql", "ALTER TABLE orders DROP COLUMN total;"),
];

#[tokio::test]
async fn sql_migrations_apply_revert_and_record_their_digests_r7e_r8b() {
    let Some(server) = common::server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let url = common::new_database(&server, "mig_");
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &ORDERS);
    // Ordered by number, not by text: 10 after 2.
    write(
        dir.path(),
        &[
            ("10_index.up.sql", "CREATE INDEX orders_item ON orders (item);"),
            ("10_index.down.sql", "DROP INDEX orders_item;"),
        ],
    );
    let runner = PgMigrator::new(&url, None, dir.path()).expect("runner");
    let set = runner.scripts().await.expect("scripts");
    let ids: Vec<&str> = set.scripts.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["0001_orders", "0002_total", "10_index"]);
    assert!(set.scripts.iter().all(|s| s.down.is_some()));

    let log = LogSink::default();
    let applied = runner.apply(&staging(), &set, "shop-1.4.0:migrate:staging#1", &log).await.expect("apply");
    assert_eq!(applied, "applied 3 of 3 migrations on staging");
    assert_eq!(common::psql(&url, "SELECT count(*) FROM orders WHERE total = 0"), "1");
    let recorded = runner.applied().await.expect("applied");
    assert_eq!(recorded.len(), 3);
    assert_eq!(recorded[0], ("0001_orders".to_owned(), set.scripts[0].up.to_string()));
    // Idempotent: nothing runs twice.
    let again = runner.apply(&staging(), &set, "again", &LogSink::default()).await.expect("again");
    assert_eq!(again, "applied 0 of 3 migrations on staging");

    // The rollback test: revert newest first, then apply again.
    let reverted = runner.revert(&staging(), &set, "k", &LogSink::default()).await.expect("revert");
    assert_eq!(reverted, "reverted 3 migrations on staging");
    assert_eq!(common::psql(&url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'orders'"), "0");
    runner.apply(&staging(), &set, "k2", &LogSink::default()).await.expect("re-apply");
    assert_eq!(common::psql(&url, "SELECT count(*) FROM orders"), "1");
}

#[tokio::test]
async fn a_failing_script_leaves_nothing_half_done_and_edits_are_refused_r7e() {
    let Some(server) = common::server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let url = common::new_database(&server, "mig_");
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), &ORDERS[..2]);
    write(
        dir.path(),
        &[("0002_total.up.sql", "ALTER TABLE orders ADD COLUMN total int;\nALTER TABLE nowhere ADD COLUMN x int;")],
    );
    let runner = PgMigrator::new(&url, None, dir.path()).expect("runner");
    let set = runner.scripts().await.expect("scripts");
    let e = runner.apply(&staging(), &set, "k", &LogSink::default()).await.expect_err("fails");
    assert!(!e.retryable && e.kind == ErrorKind::Rejected, "{e:?}");
    assert!(e.message.contains("0002_total.up.sql failed") && e.message.contains("nowhere"), "{e}");
    // 0001 stays applied; 0002's first statement was rolled back with its transaction.
    assert_eq!(runner.applied().await.expect("applied").len(), 1);
    assert_eq!(common::psql(&url, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'total'"), "0");

    // Without a rollback script, the rollback test fails naming it.
    let e = runner.revert(&staging(), &set, "k", &LogSink::default()).await;
    assert!(e.is_ok(), "0001 has a rollback script: {e:?}");
    std::fs::write(dir.path().join("0002_total.up.sql"), "ALTER TABLE orders ADD COLUMN total int;").expect("fix");
    let fixed = runner.scripts().await.expect("scripts");
    runner.apply(&staging(), &fixed, "k", &LogSink::default()).await.expect("apply fixed");
    let e = runner.revert(&staging(), &fixed, "k", &LogSink::default()).await.expect_err("no down");
    assert!(e.message.contains("0002_total has no rollback script (0002_total.down.sql)"), "{e}");

    // A file edited after it was checked is refused before anything runs...
    std::fs::write(dir.path().join("0001_orders.up.sql"), "CREATE TABLE orders (id bigint);").expect("edit");
    let e = runner.apply(&staging(), &fixed, "k", &LogSink::default()).await.expect_err("changed");
    assert!(e.message.contains("the migration files changed since they were checked: 0001_orders changed"), "{e}");
    // ...and a set whose applied script differs from the database's record is refused too.
    let edited = runner.scripts().await.expect("scripts");
    let e = runner.apply(&staging(), &edited, "k", &LogSink::default()).await.expect_err("digest");
    assert!(e.message.contains("0001_orders was applied with sha256:"), "{e}");
}

#[tokio::test]
async fn configuration_mistakes_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = PgMigrator::new("postgres://app:hunter2@db/shop", None, dir.path()).expect_err("password");
    assert!(e.message.contains("holds a password") && !e.message.contains("hunter2"), "{e}");
    assert!(PgMigrator::new("postgres://app@db/shop", None, dir.path()).expect("ok").table("drop table").is_err());
    write(dir.path(), &[("0001_x.sql", "select 1"), ("0002_y.down.sql", "select 1")]);
    let runner = PgMigrator::new("postgres://app@db/shop", None, dir.path()).expect("ok");
    let e = runner.scripts().await.expect_err("names");
    assert!(e.message.contains("expected `<id>.up.sql` or `<id>.down.sql`"), "{e}");
    std::fs::remove_file(dir.path().join("0001_x.sql")).expect("rm");
    let e = runner.scripts().await.expect_err("orphan");
    assert!(e.message.contains("0002_y.down.sql has no 0002_y.up.sql"), "{e}");
}

#[tokio::test]
async fn any_tool_runs_behind_commands_with_the_digest_checked_r7e() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = dir.path().join("db");
    std::fs::create_dir_all(files.join("versions")).expect("mkdir");
    write(&files, &[("V1__orders.sql", "create table orders()"), ("versions/a1.py", "def upgrade(): pass")]);
    let calls = dir.path().join("calls.txt");
    let tool = |verb: &str| {
        vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "echo \"{verb} $SHIPWARDEN_ENVIRONMENT $1 $SHIPWARDEN_MIGRATIONS_DIGEST\" >> {}; echo {verb}ed",
                calls.display()
            ),
            "tool".to_owned(),
            "{key}".to_owned(),
        ]
    };
    let migrator = CommandMigrator::new("flyway", &files, tool("migrate"), tool("undo"));
    let set = migrator.scripts().await.expect("scripts");
    let ids: Vec<&str> = set.scripts.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["V1__orders.sql", "versions/a1.py"]);
    let log = LogSink::default();
    let done = migrator.apply(&staging(), &set, "k1", &log).await.expect("apply");
    assert!(done.starts_with("flyway apply on staging: 2 files (sha256:") && done.ends_with(": migrateed"), "{done}");
    migrator.revert(&staging(), &set, "k2", &log).await.expect("revert");
    let recorded = std::fs::read_to_string(&calls).expect("calls");
    assert_eq!(recorded, format!("migrate staging k1 {d}\nundo staging k2 {d}\n", d = set.digest()));
    // A file changed since the check: the tool is not run.
    std::fs::write(files.join("V2__more.sql"), "alter table orders add x int").expect("write");
    let e = migrator.apply(&staging(), &set, "k3", &log).await.expect_err("changed");
    assert!(e.message.contains("V2__more.sql is new"), "{e}");
    assert_eq!(std::fs::read_to_string(&calls).expect("calls").lines().count(), 2);
    // Exit 75 asks for a retry.
    let failing =
        CommandMigrator::new("t", &files, vec!["sh".into(), "-c".into(), "echo busy >&2; exit 75".into()], vec![]);
    let set = failing.scripts().await.expect("scripts");
    let e = failing.apply(&staging(), &set, "k", &log).await.expect_err("busy");
    assert!(e.retryable && e.message.contains("exited 75: busy"), "{e}");
}
