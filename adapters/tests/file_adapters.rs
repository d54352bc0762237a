//! File backups, notices and notes, for real on disk (R-8c, R-8g, R-9a, R-9b).

use std::sync::Arc;

use shipwarden::ports::{Audience, Backup, ErrorKind, Lookup, NotesPublisher, Notice, Notifier};
use shipwarden::*;
use shipwarden_adapters::backup::file::FileBackup;
use shipwarden_adapters::notes::file::FileNotes;
use shipwarden_adapters::notify::file::FileNotifier;

fn env(name: &str) -> EnvName {
    name.parse().expect("env")
}

#[tokio::test]
async fn a_backup_is_verified_by_a_test_restore_and_restores_in_place_r8c_r8g() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, config) = (dir.path().join("app.db"), dir.path().join("app.toml"));
    std::fs::write(&db, b"rows v1").expect("db");
    std::fs::write(&config, b"pool = 10").expect("config");
    let backup =
        FileBackup::new(vec![db.clone(), config.clone()], dir.path().join("backups"), dir.path().join("scratch"));
    assert_eq!(backup.find("backup:prod#1").await.expect("find"), Lookup::NotFound);
    let taken = backup.backup(&env("prod"), "backup:prod#1").await.expect("backup");
    assert_eq!(taken.size, 16);
    assert_eq!(backup.find("backup:prod#1").await.expect("find"), Lookup::Done(taken.clone()));
    assert_eq!(backup.backup(&env("prod"), "backup:prod#1").await.expect("again"), taken, "idempotent by key");
    let verified = backup.verify(&taken).await.expect("verify");
    assert!(verified.contains("2 files, digests match"), "{verified}");
    std::fs::write(&db, b"rows v2, migrated").expect("migrate");
    backup.restore(&taken).await.expect("restore");
    assert_eq!(std::fs::read(&db).expect("db"), b"rows v1");
    // A damaged copy is found before anything is restored.
    let copy = std::fs::read_dir(dir.path().join("backups/backup_prod_1"))
        .expect("dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().ends_with("app.db"))
        .expect("copy");
    std::fs::write(copy.path(), b"garbage").expect("damage");
    assert_eq!(backup.verify(&taken).await.expect_err("damaged").kind, ErrorKind::Invalid);
    assert_eq!(backup.restore(&taken).await.expect_err("damaged").kind, ErrorKind::Invalid);
}

#[tokio::test]
async fn notices_are_appended_as_json_lines_r9a() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notices.jsonl");
    let notifier = FileNotifier::new(&path);
    for key in ["notify:released", "notify:rollback:prod#1"] {
        let notice = Notice {
            key: key.into(),
            release: "shop-1.4.0".parse().expect("id"),
            subject: "s".into(),
            body: "b".into(),
            audience: vec![Audience::Teams],
            ask: None,
        };
        notifier.send(&notice).await.expect("send");
    }
    let lines: Vec<Notice> =
        std::fs::read_to_string(&path).expect("read").lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines.iter().map(|n| n.key.as_str()).collect::<Vec<_>>(), ["notify:released", "notify:rollback:prod#1"]);
}

#[tokio::test]
async fn notes_are_written_and_replaced_r9b() {
    let dir = tempfile::tempdir().expect("tempdir");
    let notes = FileNotes::new(dir.path().join("notes"));
    let id: ReleaseId = "shop-1.4.0".parse().expect("id");
    let at = notes.publish(&id, &Version::new(1, 4, 0), "# first").await.expect("publish");
    notes.publish(&id, &Version::new(1, 4, 0), "# second").await.expect("again");
    assert_eq!(std::fs::read_to_string(at).expect("read"), "# second");
}

#[tokio::test]
async fn the_engine_restores_the_database_from_a_file_backup_when_prod_fails_r8g() {
    use shipwarden::engine::{Ports, ReleaseManager};
    use shipwarden::ports::memory::{MemoryStore, MemoryTarget};
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("app.db");
    std::fs::write(&db, b"before the release").expect("db");
    let backup = Arc::new(FileBackup::new(vec![db.clone()], dir.path().join("backups"), dir.path().join("scratch")));
    let failing = Arc::new(MemoryTarget::new("prod-1"));
    failing.fail_next(1, false);
    let mut ports = Ports { backup: Some(backup), ..Ports::default() };
    ports.targets.insert(env("prod"), vec![failing]);
    // Production is deployed only as a step of the way out of the current
    // stage: this policy deploys straight from `planned`.
    let policy = shipwarden::Policy::from_toml_str(
        "[transitions.straight_to_prod]\nfrom = \"planned\"\nto = \"deploying\"\nrule = \"R-8e\"\nsteps = [{ step = \"deploy\", environment = \"prod\" }]\n",
    )
    .expect("policy");
    let manager = ReleaseManager::builder(Arc::new(MemoryStore::new())).policy(policy).ports(ports).build();
    let plan = Plan::new("shop-1.4.0".parse().expect("id"), "shop", Version::new(1, 4, 0), ReleaseKind::Minor);
    let id = plan.release.clone();
    manager.plan(&Actor::new("rita", [Role::ReleaseManager]), plan).await.expect("plan");
    // Take the backup as the prod-readiness step would, then let a migration change the database.
    let engine = Actor::new("shipwarden", [Role::DeploymentEngineer]);
    let taken = FileBackup::new(vec![db.clone()], dir.path().join("backups"), dir.path().join("scratch"))
        .backup(&env("prod"), "backup:prod#1")
        .await
        .expect("backup");
    let output = serde_json::to_value(&taken).expect("json");
    manager
        .execute(
            &id,
            &engine,
            Action::StartStep {
                step: StepKind::Backup,
                environment: Some(env("prod")),
                target: None,
                key: "backup:prod#1".into(),
                held: Vec::new(),
            },
        )
        .await
        .expect("start");
    manager
        .execute(
            &id,
            &engine,
            Action::FinishStep {
                key: "backup:prod#1".into(),
                outcome: StepOutcome::Succeeded { detail: "backup".into(), output: Some(output) },
                log: vec![],
            },
        )
        .await
        .expect("finish");
    std::fs::write(&db, b"migrated by 1.4.0").expect("migrate");
    let outcome = manager.deploy(&id, &env("prod")).await.expect("deploy");
    assert!(!outcome.succeeded());
    assert!(
        matches!(&outcome, StepOutcome::Failed { error, .. } if error.contains("database restored from backup:prod#1")),
        "{outcome:?}"
    );
    assert_eq!(std::fs::read(&db).expect("db"), b"before the release");
}
