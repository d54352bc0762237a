//! Attacks on the audit trail of a closed release (#19, R-9d, R-2c), with the
//! real binary and its real SQLite file: a rewrite with every hash recomputed,
//! a cut tail, an edited listing row, heads known from elsewhere. Each is an
//! integrity failure (exit 6) naming what and where, or is not trusted on read.

mod common;

use std::path::{Path, PathBuf};

use common::{Project, shop_with_three_environments};
use secrecy::SecretString;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::machine::Event;
use shipwarden::ports::Signer as _;

const SEED: &str = "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";

/// The project, its signing key named (not set).
fn config() -> String {
    let users = "\n[users.rita]\nroles = [\"release_manager\"]\n[users.paul]\nroles = [\"product_owner\"]\n\
                 [users.quinn]\nroles = [\"qa_lead\"]\n[users.dana]\nroles = [\"deployment_engineer\"]\n";
    format!("{}\n[evidence]\nsigning_key_env = \"SHOP_ANCHOR_TEST_KEY\"\n", shop_with_three_environments(users))
}

fn public_key() -> String {
    shipwarden_adapters::bundle::Ed25519Signer::from_seed_hex(&SecretString::from(SEED)).expect("seed").public_key()
}

impl Project {
    /// A project whose signing key is set (`signed`) and whose public key is pinned (`pinned`).
    fn new(signed: bool, pinned: bool) -> Project {
        let mut p = Project::with_commits(&[("a.txt", "SHOP-1: checkout")]);
        let mut config = if signed { config() } else { config().replace("[evidence]\nsigning_key_env", "# ") };
        if pinned {
            config.push_str(&format!("public_key = \"{}\"\n", public_key()));
        }
        p.write_config(&config);
        p.set_env("SHOP_ANCHOR_TEST_KEY", SEED);
        p
    }

    fn db(&self) -> PathBuf {
        self.path().join(".shipwarden/releases.db")
    }

    /// Drives shop-1.0.0 from plan to `closed`, scope approved by paul.
    fn closed(&self) {
        let lcov = self.path().join("lcov.info");
        std::fs::write(&lcov, "SF:a\nLH:95\nLF:100\nend_of_record\n").expect("write");
        let lcov = lcov.display().to_string();
        for args in [
            &["plan", "1.0.0", "--as", "rita"][..],
            &["approve", "shop-1.0.0", "scope", "--as", "paul"],
            &["advance", "shop-1.0.0", "--as", "dana"],
            &["evidence", "shop-1.0.0", "coverage", "--lcov", &lcov, "--as", "quinn"],
            &["evidence", "shop-1.0.0", "p95_latency", "--value", "120", "--as", "quinn"],
            &["approve", "shop-1.0.0", "qa_signoff", "--as", "quinn"],
            &["advance", "shop-1.0.0", "--as", "dana"],
            &["report", "shop-1.0.0", "integration_tests", "--env", "staging", "--as", "quinn"],
            &["advance", "shop-1.0.0", "--as", "dana"],
            &["report", "shop-1.0.0", "demo", "--env", "test", "--as", "paul"],
            &["advance", "shop-1.0.0", "--as", "dana"],
            &["evidence", "shop-1.0.0", "docs_reviewed", "--value", "1", "--as", "paul"],
            &["approve", "shop-1.0.0", "acceptance", "--as", "paul"],
            &[
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
            ],
            &["advance", "shop-1.0.0", "--as", "dana"],
            &["report", "shop-1.0.0", "smoke_test", "--env", "prod", "--as", "dana"],
            &["evidence", "shop-1.0.0", "response_time", "--value", "42", "--env", "prod", "--as", "dana"],
            &["verify", "shop-1.0.0"],
        ] {
            self.ok(args);
        }
        assert_eq!(self.stage(), "closed");
    }

    fn stage(&self) -> String {
        self.json(&["status", "shop-1.0.0", "--json"])["state"]["stage"].as_str().unwrap_or_default().to_owned()
    }

    fn verified(&self) -> serde_json::Value {
        let json = self.json(&["audit", "shop-1.0.0", "--verify", "--json"]);
        assert_eq!(json["verified"], true, "{json}");
        json
    }

    /// A copy of the store, to attack one copy per case.
    fn copy_store(&self, to: &Path) {
        let from = self.path().join(".shipwarden");
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(&from).expect("read dir").flatten() {
            if entry.path().is_file() {
                std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
            }
        }
    }

    fn restore_store(&self, from: &Path) {
        let to = self.path().join(".shipwarden");
        for entry in std::fs::read_dir(&to).expect("read dir").flatten() {
            if entry.path().is_file() {
                std::fs::remove_file(entry.path()).expect("remove");
            }
        }
        self.copy_store_into(from, &to);
    }

    fn copy_store_into(&self, from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
}

/// Runs `work` on a connection to the project's SQLite file, behind shipwarden's back.
fn with_db<T>(p: &Project, work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(p.db());
        let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await.expect("open");
        let out = work(&mut conn).await;
        conn.close().await.expect("close");
        out
    })
}

fn execute(p: &Project, statement: &str) -> u64 {
    with_db(p, async |conn| sqlx::query(statement).execute(&mut *conn).await.expect("statement").rows_affected())
}

/// The attacker's tool: replaces the `approval` approver (`from`) with mallory and
/// reseals every envelope from there on with the core's own sealing, exactly as
/// the product does, then writes the rows back. Returns the approval's sequence.
fn rewrite_approver(p: &Project, approval: &str, from: &str) -> u64 {
    with_db(p, async |conn| {
        let rows: Vec<shipwarden_adapters::store::EventRow> = sqlx::query_as(
            "SELECT seq, at, actor, rule, event, prev_hash, hash FROM events WHERE stream = 'shop-1.0.0' ORDER BY seq",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("rows");
        let id: ReleaseId = "shop-1.0.0".parse().expect("id");
        let chain = shipwarden_adapters::store::decode_events("sqlite", &id, rows).expect("a verified chain");
        let mut forged: Vec<Envelope> = Vec::new();
        let mut at = 0;
        for e in chain {
            let (mut actor, mut event) = (e.actor.clone(), e.event.clone());
            if let Event::Approved(a) = &mut event
                && a.approval.as_str() == approval
            {
                assert_eq!(a.user, from);
                a.user = "mallory".into();
                actor = "mallory".into();
                at = e.sequence;
            }
            forged.push(Envelope::seal(&e.stream, forged.last(), e.at, &actor, event));
        }
        assert!(at > 0, "the {approval} approval is in the chain");
        for e in &forged {
            sqlx::query("UPDATE events SET actor = ?, event = ?, prev_hash = ?, hash = ? WHERE stream = ? AND seq = ?")
                .bind(&e.actor)
                .bind(serde_json::to_string(&e.event).expect("json"))
                .bind(e.prev_hash.as_str())
                .bind(e.hash.as_str())
                .bind(&e.stream)
                .bind(e.sequence as i64)
                .execute(&mut *conn)
                .await
                .expect("write back");
        }
        at
    })
}

fn rewrite_scope_approver(p: &Project) -> u64 {
    rewrite_approver(p, "scope", "paul")
}

fn checkpoint_sequences(p: &Project) -> Vec<i64> {
    with_db(p, async |conn| {
        sqlx::query_scalar("SELECT seq FROM checkpoints WHERE stream = 'shop-1.0.0' ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .expect("checkpoints")
    })
}

#[test]
fn attacks_on_a_closed_release_are_found_r9d_r2c() {
    let p = Project::new(true, true);
    p.closed();
    let good = p.verified();
    let events = good["events"].as_u64().expect("events");
    let head = good["head"].as_str().expect("head").to_owned();
    assert_eq!(good["anchored"], true, "{good}");
    assert_eq!(good["anchored_at"].as_u64(), Some(events), "the close is signed: {good}");
    let checkpoints = checkpoint_sequences(&p);
    assert!(checkpoints.len() >= 5, "one per stage change: {checkpoints:?}");
    assert_eq!(good["warnings"].as_array().map(Vec::len), Some(0), "{good}");
    let bundle = p.ok(&["evidence", "bundle", "shop-1.0.0", "-o", "bundle.json"]);
    assert!(!bundle.contains(SEED));
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify", "--bundle", "bundle.json"]).contains("verified"));
    let backup = p.path().join("backup");
    p.copy_store(&backup);

    // 1. The scope approver rewritten from paul to mallory, every hash recomputed: the chain alone
    // verifies, the checkpoint after the approval does not match it.
    let approval = rewrite_scope_approver(&p);
    let named = checkpoints.iter().copied().find(|&s| s as u64 >= approval).expect("a later checkpoint");
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("rewritten") && out.contains(&format!("at sequence {named}")), "{out}");
    let json = p.json(&["audit", "shop-1.0.0", "--verify", "--json"]);
    assert_eq!((json["code"].as_u64(), json["error"].as_str()), (Some(6), Some("integrity")), "{json}");
    assert!(p.expect(6, &["audit", "shop-1.0.0", "--verify", "--bundle", "bundle.json"]).contains("rewritten"));
    p.restore_store(&backup);
    p.verified();

    // 2. The tail cut by 1 and by 10 events: the close checkpoint names a sequence beyond the end.
    for cut in [1, 10] {
        let deleted =
            execute(&p, &format!("DELETE FROM events WHERE stream = 'shop-1.0.0' AND seq > {}", events - cut));
        assert_eq!(deleted, cut);
        let beyond = checkpoints.iter().copied().find(|&s| s as u64 > events - cut).expect("a checkpoint beyond");
        let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
        assert!(out.contains("tail was cut") && out.contains(&format!("vouches for sequence {beyond}")), "{out}");
        assert!(out.contains(&format!("ends at {}", events - cut)), "{out}");
        p.restore_store(&backup);
    }

    // 3. The listing row edited: list shows what the chain says, audit --verify names the row.
    execute(
        &p,
        "UPDATE streams SET stage = 'cancelled', summary = replace(summary, '\"stage\":\"closed\"', \
         '\"stage\":\"cancelled\"') WHERE stream = 'shop-1.0.0'",
    );
    let listed = p.json(&["list", "--json"]);
    assert_eq!(listed[0]["stage"], "closed", "{listed}");
    assert!(p.stdout(&["list", "--stage", "closed"]).contains("shop-1.0.0"));
    assert!(!p.stdout(&["list", "--stage", "cancelled"]).contains("shop-1.0.0"));
    assert!(p.ok(&["list", "--stage", "cancelled"]).contains("stage: cancelled (stored) ≠ closed (chain)"));
    assert_eq!(p.stage(), "closed");
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("listing row") && out.contains("stage: cancelled (stored) ≠ closed (chain)"), "{out}");
    p.restore_store(&backup);

    // 4. A head known from elsewhere: the right one passes, a wrong one fails.
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify", "--head", &head]).contains("verified"));
    let wrong = format!("{}0", &head[..63]).replace(&head, &"1".repeat(64));
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify", "--head", &wrong]);
    assert!(out.contains("does not hold the expected head"), "{out}");
    p.expect(2, &["audit", "shop-1.0.0", "--verify", "--head", "not-a-hash"]);

    // 5. What is outside the hashed payload is not trusted: the kind column, whitespace and
    // extra JSON fields are ignored on read, the hashed payload is what counts.
    execute(&p, "UPDATE events SET kind = 'cancelled' WHERE stream = 'shop-1.0.0'");
    execute(&p, "UPDATE events SET event = ' ' || replace(event, '{\"type\"', '{ \"forged\": 1, \"type\"') || ' '");
    p.verified();
    assert_eq!(p.stage(), "closed");
    let export = p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]);
    assert!(!export.contains("forged") && !export.contains("cancelled"), "{export}");
}

#[test]
fn without_a_signing_key_the_chain_is_unanchored_a_warning_not_a_failure_r9d() {
    let p = Project::new(false, false);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let out = p.ok(&["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("verified") && out.contains("unanchored"), "{out}");
    let json = p.verified();
    assert_eq!(json["anchored"], false, "{json}");
    assert!(checkpoint_sequences(&p).is_empty());
}

#[test]
fn a_checkpoint_by_an_untrusted_key_or_edited_is_refused_r9d() {
    let p = Project::new(true, false);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    // The configured signing key's own public key is trusted.
    let warnings = p.verified()["warnings"].to_string();
    assert!(!warnings.contains("trusted key") && !warnings.contains("unanchored"), "{warnings}");
    execute(&p, "UPDATE checkpoints SET stage = 'closed'");
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("bad signature"), "{out}");
    execute(&p, &format!("UPDATE checkpoints SET public_key = '{}'", "ab".repeat(32)));
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("not trusted"), "{out}");
}

#[test]
fn deleted_checkpoints_and_a_rewritten_tail_are_found_naming_each_stage_change_r9d() {
    let p = Project::new(true, true);
    p.closed();
    let checkpoints = checkpoint_sequences(&p);
    let backup = p.path().join("backup");
    p.copy_store(&backup);

    // The checkpoints after the scope approval's stage change deleted, the QA sign-off after it
    // rewritten with every hash recomputed: the stage changes after it have no checkpoint.
    let kept = checkpoints[1];
    let deleted = execute(&p, &format!("DELETE FROM checkpoints WHERE stream = 'shop-1.0.0' AND seq > {kept}"));
    assert_eq!(deleted as usize, checkpoints.len() - 2);
    let signoff = rewrite_approver(&p, "qa_signoff", "quinn");
    assert!(signoff as i64 > kept, "the rewritten approval is after the kept checkpoint");
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    let missing: Vec<String> = checkpoints[2..].iter().map(i64::to_string).collect();
    assert!(out.contains("a checkpoint is missing"), "{out}");
    assert!(out.contains(&format!("at sequence {} have none", missing.join(", "))), "{out}");
    assert!(out.contains(&format!("newest checkpoint is at sequence {kept}")), "{out}");
    let json = p.json(&["audit", "shop-1.0.0", "--verify", "--json"]);
    assert_eq!(json["code"].as_u64(), Some(6), "{json}");
    p.restore_store(&backup);

    // The same deletion without a rewrite is found just as well: nothing tells the two apart.
    execute(&p, &format!("DELETE FROM checkpoints WHERE stream = 'shop-1.0.0' AND seq > {kept}"));
    assert!(p.expect(6, &["audit", "shop-1.0.0", "--verify"]).contains("a checkpoint is missing"));
    p.restore_store(&backup);

    // One checkpoint deleted mid-chain: the later ones still pin every event before them, so the
    // chain verifies; the stage change is named in a warning.
    let middle = checkpoints[2];
    execute(&p, &format!("DELETE FROM checkpoints WHERE stream = 'shop-1.0.0' AND seq = {middle}"));
    let json = p.verified();
    let warnings = json["warnings"].to_string();
    assert!(
        warnings.contains(&format!("stage changes at sequence {middle} have no checkpoint of their own")),
        "{json}"
    );
    p.restore_store(&backup);
    assert_eq!(p.verified()["warnings"].as_array().map(Vec::len), Some(0));
}

#[test]
fn stage_changes_before_a_signing_key_was_configured_need_no_checkpoint_r9d() {
    let p = Project::new(false, false);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert!(checkpoint_sequences(&p).is_empty());
    // The key configured now: the next stage change is signed and covers everything before it.
    let mut config = config();
    config.push_str(&format!("public_key = \"{}\"\n", public_key()));
    std::fs::write(p.path().join("shipwarden.toml"), config).expect("write");
    let lcov = p.path().join("lcov.info");
    std::fs::write(&lcov, "SF:a\nLH:95\nLF:100\nend_of_record\n").expect("write");
    let lcov = lcov.display().to_string();
    p.ok(&["evidence", "shop-1.0.0", "coverage", "--lcov", &lcov, "--as", "quinn"]);
    p.ok(&["evidence", "shop-1.0.0", "p95_latency", "--value", "120", "--as", "quinn"]);
    p.ok(&["approve", "shop-1.0.0", "qa_signoff", "--as", "quinn"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert_eq!(checkpoint_sequences(&p).len(), 1);
    let json = p.verified();
    assert_eq!(json["anchored"], true, "{json}");
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(0), "{json}");
}

#[test]
fn a_deleted_listing_row_hides_no_release_r9d() {
    let p = Project::new(true, true);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    p.ok(&["advance", "shop-1.0.0", "--as", "dana"]);
    assert_eq!(execute(&p, "DELETE FROM streams WHERE stream = 'shop-1.0.0'"), 1);
    let out = p.ok(&["list"]);
    assert!(out.contains("shop-1.0.0") && out.contains("no listing row (it was deleted)"), "{out}");
    let listed = p.json(&["list", "--json"]);
    assert_eq!(listed[0]["release"], "shop-1.0.0", "{listed}");
    assert_eq!(listed[0]["stage"], p.stage(), "{listed}");
    assert!(p.ok(&["list", "--project", "shop"]).contains("shop-1.0.0"));
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify"]);
    assert!(out.contains("listing row") && out.contains("no listing row (it was deleted)"), "{out}");
    // The next event writes the row again.
    p.ok(&["evidence", "shop-1.0.0", "p95_latency", "--value", "120", "--as", "quinn"]);
    assert!(!p.ok(&["list"]).contains("does not match"));
    p.verified();
}

#[test]
fn list_filters_on_what_the_chain_says_not_the_row_r9d() {
    let p = Project::new(true, true);
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    let stage = p.stage();
    // The row moved to another project, another stage, planned long ago: no filter believes it.
    execute(
        &p,
        &format!(
            "UPDATE streams SET project = 'other', stage = 'closed', planned_at = 0, \
             summary = replace(replace(summary, '\"project\":\"shop\"', '\"project\":\"other\"'), \
             '\"stage\":\"{stage}\"', '\"stage\":\"closed\"') WHERE stream = 'shop-1.0.0'"
        ),
    );
    let out = p.ok(&["list", "--project", "shop"]);
    assert!(out.contains("shop-1.0.0") && out.contains("project: other (stored) ≠ shop (chain)"), "{out}");
    assert!(!p.stdout(&["list", "--project", "other"]).contains("shop-1.0.0"));
    assert!(p.stdout(&["list", "--stage", &stage]).contains("shop-1.0.0"));
    assert!(!p.stdout(&["list", "--stage", "closed"]).contains("shop-1.0.0"));
    let listed = p.json(&["list", "--project", "shop", "--stage", &stage, "--json"]);
    assert_eq!((listed[0]["project"].as_str(), listed[0]["stage"].as_str()), (Some("shop"), Some(stage.as_str())));
    assert_eq!(p.json(&["list", "--project", "other", "--json"]), serde_json::json!([]));
}
