//! The SQLite store opened read-only (issue #18): reading verbs work on a
//! store they may not write, never change it, and say so when its schema is
//! older than this build needs (R-9d: the audit trail is read, not touched).
#![cfg(feature = "sqlite")]

use std::time::Duration;

use shipwarden::ports::{EventStore, ReleaseQuery};
use shipwarden_adapters::store::sqlite::SqliteStore;

#[tokio::test]
async fn a_read_only_store_reads_and_refuses_every_write_r9d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("releases.db");
    let store = SqliteStore::open(&path).await.expect("create");
    store.pool().close().await;
    let bytes = std::fs::read(&path).expect("db");

    let read_only = SqliteStore::open_read_only(&path).await.expect("open read-only");
    assert!(read_only.list(&ReleaseQuery::default()).await.expect("list").is_empty());
    assert!(read_only.load(&"shop-1.0.0".parse().expect("id")).await.expect("load").is_empty());
    let now = jiff::Timestamp::now();
    assert!(read_only.try_lease("x", "me", Duration::from_secs(30), now).await.is_err(), "a write is refused");
    let write = sqlx::query("CREATE TABLE t (a)").execute(read_only.pool()).await;
    assert!(write.expect_err("read-only").to_string().contains("readonly"));
    read_only.pool().close().await;
    assert_eq!(std::fs::read(&path).expect("db"), bytes, "the file is unchanged");
}

#[tokio::test]
async fn a_schema_older_than_needed_is_a_clear_error_r9d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("releases.db");
    let store = SqliteStore::open(&path).await.expect("create");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version >= 3").execute(store.pool()).await.expect("downgrade");
    store.pool().close().await;
    let err = SqliteStore::open_read_only(&path).await.expect_err("old schema").to_string();
    assert!(err.contains("schema is version 2") && err.contains("needs 4"), "{err}");
}

#[tokio::test]
async fn a_missing_file_is_not_created_by_a_read_only_open_r9d() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("releases.db");
    assert!(SqliteStore::open_read_only(&path).await.is_err());
    assert!(!path.exists());
}
