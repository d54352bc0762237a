//! Attacks on the audit trail of a closed release (#19, R-9d, R-2c), with the
//! real binary and its real SQLite file: a rewrite with every hash recomputed,
//! a cut tail, an edited listing row, heads known from elsewhere. Each is an
//! integrity failure (exit 6) naming what and where, or is not trusted on read.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use secrecy::SecretString;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::machine::Event;
use shipwarden::ports::Signer as _;

const SEED: &str = "4f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";

const CONFIG: &str = r#"
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

[build]
command = ["sh", "-c", "mkdir -p dist && echo shop $SHIPWARDEN_VERSION > dist/shop-$SHIPWARDEN_VERSION.txt"]
artifacts = { "shop.txt" = "dist/shop-{version}.txt" }

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "-c", "echo deployed to staging-1"]
rollback = ["sh", "-c", "echo rolled back"]

[[environments.test.targets]]
name = "test-1"
deploy = ["sh", "-c", "echo deployed to test-1"]
rollback = ["sh", "-c", "echo rolled back"]

[[environments.prod.targets]]
name = "prod-1"
deploy = ["sh", "-c", "echo deployed to prod-1"]
rollback = ["sh", "-c", "echo rolled back"]

[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.transitions.prod_readiness]
gates = []
steps = []

[policy.calendar]
blackouts = []

[evidence]
signing_key_env = "SHOP_ANCHOR_TEST_KEY"
"#;

struct Project {
    dir: tempfile::TempDir,
}

fn git(repo: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", repo)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

fn public_key() -> String {
    shipwarden_adapters::bundle::Ed25519Signer::from_seed_hex(&SecretString::from(SEED)).expect("seed").public_key()
}

impl Project {
    /// A project whose signing key is set (`signed`) and whose public key is pinned (`pinned`).
    fn new(signed: bool, pinned: bool) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(&repo).expect("mkdir");
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.txt"), "a").expect("write");
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "SHOP-1: checkout"]);
        let mut config = if signed { CONFIG.to_owned() } else { CONFIG.replace("[evidence]\nsigning_key_env", "# ") };
        if pinned {
            config.push_str(&format!("public_key = \"{}\"\n", public_key()));
        }
        std::fs::write(dir.path().join("shipwarden.toml"), config).expect("write");
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn db(&self) -> PathBuf {
        self.path().join(".shipwarden/releases.db")
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::cargo_bin("shipwarden")
            .expect("binary")
            .args(args)
            .current_dir(self.path())
            .env("NO_COLOR", "1")
            .env("SHOP_ANCHOR_TEST_KEY", SEED)
            .env_remove("SHIPWARDEN_USER")
            .env_remove("SHIPWARDEN_CONFIG")
            .output()
            .expect("run")
    }

    fn expect(&self, code: i32, args: &[&str]) -> String {
        let out = self.cmd(args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(code), "shipwarden {}:\n{text}", args.join(" "));
        text
    }

    fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args)
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd(args);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
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

/// The attacker's tool: replaces the scope approver with mallory and reseals
/// every envelope from there on with the core's own sealing, exactly as the
/// product does, then writes the rows back. Returns the approval's sequence.
fn rewrite_scope_approver(p: &Project) -> u64 {
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
        let mut approval = 0;
        for e in chain {
            let (mut actor, mut event) = (e.actor.clone(), e.event.clone());
            if let Event::Approved(a) = &mut event
                && a.approval.as_str() == "scope"
            {
                assert_eq!(a.user, "paul");
                a.user = "mallory".into();
                actor = "mallory".into();
                approval = e.sequence;
            }
            forged.push(Envelope::seal(&e.stream, forged.last(), e.at, &actor, event));
        }
        assert!(approval > 0, "the scope approval is in the chain");
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
        approval
    })
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
    assert!(p.ok(&["list", "--stage", "closed"]).contains("shop-1.0.0"));
    assert!(!p.ok(&["list", "--stage", "cancelled"]).contains("shop-1.0.0"));
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
