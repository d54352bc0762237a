//! PostgreSQL backups against the real PostgreSQL `scripts/test` starts:
//! back up before prod, prove the dump restores into a scratch database
//! (R-8c "restore tested"), restore on rollback (R-8g).

mod common;

use shipwarden::EnvName;
use shipwarden::ports::{Backup, ErrorKind, Lookup};
use shipwarden_adapters::backup::postgres::PgBackup;

/// A fresh database with an `orders` table of three rows; returns its URL.
fn app_database(server: &str) -> String {
    let url = common::new_database(server, "app_");
    common::psql(
        &url,
        "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1,'a'),(2,'b'),(3,'c')",
    );
    url
}

fn prod() -> EnvName {
    "prod".parse().expect("env")
}

#[tokio::test]
async fn back_up_verify_by_restoring_and_restore_on_rollback_r8c_r8g() {
    let Some(server) = common::server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let url = app_database(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let backups = PgBackup::new(dir.path()).with_database(prod(), &url).expect("database");

    let backup = backups.backup(&prod(), "backup:prod:1").await.expect("backup");
    assert!(backup.size > 0 && backup.sha256.is_some());
    // Idempotent by key, and findable after a crash.
    assert_eq!(backups.backup(&prod(), "backup:prod:1").await.expect("again"), backup);
    assert_eq!(backups.find("backup:prod:1").await.expect("find"), Lookup::Done(backup.clone()));
    assert_eq!(backups.find("backup:prod:2").await.expect("find"), Lookup::NotFound);

    // Restore tested: into a scratch database that is dropped afterwards.
    let verified = backups.verify(&backup).await.expect("verify");
    assert!(verified.contains("restore tested") && verified.contains("(1 tables)"), "{verified}");
    assert_eq!(common::psql(&server, "SELECT count(*) FROM pg_database WHERE datname LIKE 'shipwarden_verify_%'"), "0");

    // The release damages the data; the rollback restores it.
    common::psql(&url, "DELETE FROM orders WHERE id > 1; ALTER TABLE orders ADD COLUMN broken int");
    backups.restore(&backup).await.expect("restore");
    assert_eq!(common::psql(&url, "SELECT string_agg(item, ',' ORDER BY id) FROM orders"), "a,b,c");
    assert_eq!(common::psql(&url, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'broken'"), "0");
}

#[tokio::test]
async fn a_changed_dump_is_refused_and_nothing_is_restored() {
    let Some(server) = common::server_env("SHIPWARDEN_TEST_POSTGRES_URL") else { return };
    let url = app_database(&server);
    let dir = tempfile::tempdir().expect("tempdir");
    let backups = PgBackup::new(dir.path()).with_database(prod(), &url).expect("database");
    let backup = backups.backup(&prod(), "k").await.expect("backup");
    let mut bytes = std::fs::read(&backup.id).expect("dump");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&backup.id, bytes).expect("tamper");
    common::psql(&url, "DELETE FROM orders");
    for err in
        [backups.restore(&backup).await.expect_err("restore"), backups.verify(&backup).await.expect_err("verify")]
    {
        assert_eq!(err.kind, ErrorKind::Invalid, "{err}");
        assert!(err.to_string().contains("does not match its digest"), "{err}");
    }
    assert_eq!(common::psql(&url, "SELECT count(*) FROM orders"), "0");
}

#[tokio::test]
async fn errors_name_the_environment_and_passwords_stay_out_of_urls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = PgBackup::new(dir.path()).with_database(prod(), "postgres://app:hunter2@db/shop").expect_err("password");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    let backups = PgBackup::new(dir.path())
        .with_database(prod(), "postgres://app@127.0.0.1:1/shop")
        .expect("database")
        .with_password("hunter2".to_owned().into());
    assert!(!format!("{backups:?}").contains("hunter2"));
    let err = backups.backup(&"staging".parse().expect("env"), "k").await.expect_err("no staging");
    assert_eq!(err.kind, ErrorKind::NotFound);
    // Nothing listens on port 1: a connection failure, retryable, without the password.
    let err = backups.backup(&prod(), "k").await.expect_err("down");
    assert!(err.retryable, "{err}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}
