//! What outlives the store (#19, R-9d, R-2c), with the real binary: signed
//! chain heads published where the team keeps records (the notes folder, a
//! wiki git repository, the release ticket) and a rewrite caught against
//! them; and a release approved through SSH signatures verified end to end,
//! offline, from its evidence bundle alone.

mod common;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use common::{Project, ok, shop_with_three_environments};
use secrecy::SecretString;
use shipwarden::ReleaseId;
use shipwarden::audit::Envelope;
use shipwarden::machine::Event;
use shipwarden::ports::Signer as _;

const SEED: &str = "1f3c2a1b0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b";

/// `[users.*]` for the approvers without keys (`trust = "local"`).
/// `[users.*]` for the release manager and the deployment engineer.
const RITA_AND_DANA: &str =
    "\n[users.rita]\nroles = [\"release_manager\"]\n[users.dana]\nroles = [\"deployment_engineer\"]\n";

const LOCAL_USERS: &str = r#"
[users.paul]
roles = ["product_owner"]
[users.quinn]
roles = ["qa_lead"]
"#;

fn public_key() -> String {
    shipwarden_adapters::bundle::Ed25519Signer::from_seed_hex(&SecretString::from(SEED)).expect("seed").public_key()
}

/// `[evidence]`: the signing key, pinned, and where heads are published.
fn evidence(publish: &str) -> String {
    format!(
        "\n[evidence]\nsigning_key_env = \"SHOP_OFFLINE_TEST_KEY\"\npublic_key = \"{}\"\npublish_heads = [{publish}]\n",
        public_key()
    )
}

impl Project {
    /// A project with `extra` configuration and a repository with one ticketed
    /// commit; every command runs with the signing key in its environment.
    fn new(extra: &str) -> Project {
        let mut p = Project::with_commits(&[("a.txt", "SHOP-1: checkout")]);
        p.set_env("SHOP_OFFLINE_TEST_KEY", SEED);
        p.configure(extra);
        p
    }

    fn configure(&self, extra: &str) {
        self.write_config(&format!("{}{extra}", shop_with_three_environments(RITA_AND_DANA)));
    }

    /// A new ed25519 key pair `name` / `name.pub`; gives the public key line.
    fn key(&self, name: &str) -> String {
        ok("ssh-keygen", &["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", &self.file(name)], self.path());
        std::fs::read_to_string(self.path().join(format!("{name}.pub"))).expect("pub").trim().to_owned()
    }

    /// Drives shop-1.0.0 from plan to `closed`; each approval signed with the
    /// approver's key file when `signed`. Gives everything the commands printed.
    fn closed(&self, signed: bool) -> String {
        let lcov = self.path().join("lcov.info");
        std::fs::write(&lcov, "SF:a\nLH:95\nLF:100\nend_of_record\n").expect("write");
        let lcov = lcov.display().to_string();
        let (paul, quinn) = (self.file("paul"), self.file("quinn"));
        let key = |file: &str| if signed { vec!["--key".to_owned(), file.to_owned()] } else { Vec::new() };
        let mut printed = String::new();
        let steps: Vec<Vec<String>> = vec![
            words(&["plan", "1.0.0", "--as", "rita"]),
            [words(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--comment", "scope ok"]), key(&paul)].concat(),
            words(&["advance", "shop-1.0.0", "--as", "dana"]),
            words(&["evidence", "shop-1.0.0", "coverage", "--lcov", &lcov, "--as", "quinn"]),
            words(&["evidence", "shop-1.0.0", "p95_latency", "--value", "120", "--as", "quinn"]),
            [words(&["approve", "shop-1.0.0", "qa_signoff", "--as", "quinn"]), key(&quinn)].concat(),
            words(&["advance", "shop-1.0.0", "--as", "dana"]),
            words(&["report", "shop-1.0.0", "integration_tests", "--env", "staging", "--as", "quinn"]),
            words(&["advance", "shop-1.0.0", "--as", "dana"]),
            words(&["report", "shop-1.0.0", "demo", "--env", "test", "--as", "paul"]),
            words(&["advance", "shop-1.0.0", "--as", "dana"]),
            words(&["evidence", "shop-1.0.0", "docs_reviewed", "--value", "1", "--as", "paul"]),
            [words(&["approve", "shop-1.0.0", "acceptance", "--as", "paul"]), key(&paul)].concat(),
            words(&[
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
            ]),
            words(&["advance", "shop-1.0.0", "--as", "dana"]),
            words(&["report", "shop-1.0.0", "smoke_test", "--env", "prod", "--as", "dana"]),
            words(&["evidence", "shop-1.0.0", "response_time", "--value", "42", "--env", "prod", "--as", "dana"]),
            words(&["verify", "shop-1.0.0"]),
        ];
        for args in &steps {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            printed.push_str(&self.ok(&args));
        }
        let stage = self.json(&["status", "shop-1.0.0", "--json"])["state"]["stage"].clone();
        assert_eq!(stage, "closed", "{printed}");
        printed
    }

    /// The verified chain's head and length.
    fn verified(&self) -> (String, u64) {
        let json = self.json(&["audit", "shop-1.0.0", "--verify", "--json"]);
        assert_eq!(json["verified"], true, "{json}");
        (json["head"].as_str().expect("head").to_owned(), json["events"].as_u64().expect("events"))
    }
}

fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// The binary, run in `cwd` with the signing key in its environment.
fn shipwarden(cwd: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("shipwarden")
        .expect("binary")
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("SHOP_OFFLINE_TEST_KEY", SEED)
        .env_remove("SHIPWARDEN_USER")
        .env_remove("SHIPWARDEN_CONFIG")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run")
}

fn expect(cwd: &Path, code: i32, args: &[&str]) -> String {
    let out = shipwarden(cwd, args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "shipwarden {}:\n{text}", args.join(" "));
    text
}

/// Runs `work` on a connection to the project's SQLite file, behind shipwarden's back.
fn with_db<T>(p: &Project, work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        use sqlx::Connection as _;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(p.path().join(".shipwarden/releases.db"));
        let mut conn = sqlx::sqlite::SqliteConnection::connect_with(&options).await.expect("open");
        let out = work(&mut conn).await;
        conn.close().await.expect("close");
        out
    })
}

fn execute(p: &Project, statement: &str) -> u64 {
    with_db(p, async |conn| sqlx::query(statement).execute(&mut *conn).await.expect("statement").rows_affected())
}

/// The attacker who can write the store but holds no key: the scope approver
/// becomes mallory, every envelope is resealed as the product seals them, and
/// the checkpoints that would give it away are deleted.
fn rewrite_scope_approver_and_drop_checkpoints(p: &Project) {
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
        for e in chain {
            let (mut actor, mut event) = (e.actor.clone(), e.event.clone());
            if let Event::Approved(a) = &mut event
                && a.approval.as_str() == "scope"
            {
                a.user = "mallory".into();
                actor = "mallory".into();
            }
            forged.push(Envelope::seal(&e.stream, forged.last(), e.at, &actor, event));
        }
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
        sqlx::query("DELETE FROM checkpoints").execute(&mut *conn).await.expect("delete checkpoints");
    });
}

fn ticket_comments(p: &Project) -> Vec<String> {
    with_db(p, async |conn| {
        sqlx::query_scalar("SELECT body FROM ticket_comments ORDER BY key, seq")
            .fetch_all(&mut *conn)
            .await
            .expect("comments")
    })
}

fn newest(heads: &serde_json::Value) -> &serde_json::Value {
    heads["checkpoints"].as_array().and_then(|c| c.last()).expect("a checkpoint")
}

#[test]
fn signed_heads_are_published_to_the_notes_a_wiki_and_the_release_ticket_and_catch_a_rewrite_r9d() {
    let p = Project::new("");
    let wiki = p.path().join("wiki.git");
    ok("git", &["init", "-q", "--bare", "-b", "master", &wiki.display().to_string()], p.path());
    p.configure(&format!(
        "{LOCAL_USERS}\n[notes.wiki]\nremote = \"{}\"\n{}",
        wiki.display(),
        evidence("\"notes\", \"ticket\"")
    ));
    p.closed(false);
    let (head, events) = p.verified();

    // The notes folder: every checkpoint, the newest the close, at the chain's head.
    let notes = p.path().join(".shipwarden/notes/shop-1.0.0.heads.json");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&notes).expect("heads in the notes")).expect("json");
    assert_eq!(kept["format"], "shipwarden.heads.v1", "{kept}");
    assert!(kept["checkpoints"].as_array().is_some_and(|c| c.len() >= 5), "one per stage change: {kept}");
    let close = newest(&kept);
    assert_eq!((close["stage"].as_str(), close["sequence"].as_u64()), (Some("closed"), Some(events)), "{kept}");
    assert_eq!(close["head"], head.as_str());

    // The wiki repository: the same document, pushed once per checkpoint.
    let git_dir = format!("--git-dir={}", wiki.display());
    let pushed = ok("git", &[&git_dir, "show", "master:shop-1.0.0.heads.json"], p.path());
    assert_eq!(serde_json::from_str::<serde_json::Value>(&pushed).expect("json"), kept);
    let commits = ok("git", &[&git_dir, "log", "--oneline", "master", "--", "shop-1.0.0.heads.json"], p.path());
    assert!(commits.lines().count() >= 5, "{commits}");
    let wiki_copy = p.path().join("wiki-heads.json");
    std::fs::write(&wiki_copy, &pushed).expect("write");

    // The release ticket: a comment with the close's head, readable back.
    let comments = ticket_comments(&p);
    let comment = comments.iter().find(|c| c.contains("signed chain head")).expect("a head comment").clone();
    assert!(comment.contains(&head) && comment.contains("`closed`") && comment.contains("--published"), "{comment}");
    let saved = p.path().join("ticket-comment.txt");
    std::fs::write(&saved, &comment).expect("write");

    // Each published record verifies the untouched chain.
    for published in [None, Some(&wiki_copy), Some(&saved)] {
        let mut args = vec!["audit", "shop-1.0.0", "--verify", "--published"];
        let path = published.map(|p| p.display().to_string());
        args.extend(path.as_deref());
        let out = p.ok(&args);
        assert!(out.contains("verified") && out.contains("signed heads published in"), "{out}");
    }
    // And the retry publishes again, to both.
    let again = p.ok(&["audit", "shop-1.0.0", "--publish"]);
    assert!(again.contains("published to the notes") && again.contains("published to the ticket"), "{again}");

    // The attacker rewrites the scope approval, reseals the chain and deletes the checkpoints:
    // the store alone passes (unanchored), every published head catches it.
    rewrite_scope_approver_and_drop_checkpoints(&p);
    let alone = p.ok(&["audit", "shop-1.0.0", "--verify"]);
    assert!(alone.contains("unanchored"), "{alone}");
    for published in [&wiki_copy, &saved] {
        let out = p.expect(6, &["audit", "shop-1.0.0", "--verify", "--published", &published.display().to_string()]);
        assert!(out.contains("rewritten") && out.contains("heads published in"), "{out}");
    }
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify", "--head", &head]);
    assert!(out.contains("does not hold the expected head"), "{out}");

    // The tail cut as well: the published close names a sequence beyond the end.
    execute(&p, &format!("DELETE FROM events WHERE stream = 'shop-1.0.0' AND seq > {}", events - 3));
    let out = p.expect(6, &["audit", "shop-1.0.0", "--verify", "--published", &saved.display().to_string()]);
    assert!(out.contains("tail was cut") && out.contains(&format!("sequence {events}")), "{out}");
}

#[test]
fn a_head_that_cannot_be_published_warns_and_never_blocks_the_close_r9d() {
    let p = Project::new(&format!("{LOCAL_USERS}{}", evidence("\"notes\"")));
    // Where the heads file goes, a folder: every publication to the notes fails.
    let blocked = p.path().join(".shipwarden/notes/shop-1.0.0.heads.json");
    std::fs::create_dir_all(&blocked).expect("mkdir");
    let printed = p.closed(false);
    assert!(
        printed.contains("was not published to the notes") && printed.contains("shipwarden audit shop-1.0.0 --publish"),
        "{printed}"
    );
    let (head, events) = p.verified();
    std::fs::remove_dir(&blocked).expect("rmdir");
    let out = p.ok(&["audit", "shop-1.0.0", "--publish"]);
    assert!(out.contains(&format!("at sequence {events} published to the notes")), "{out}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&blocked).expect("heads")).expect("json");
    assert_eq!(newest(&kept)["head"], head.as_str());
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify", "--published"]).contains("verified"));
}

#[test]
fn an_unknown_head_destination_is_a_config_error_naming_its_path() {
    let p = Project::new(&format!("{LOCAL_USERS}{}", evidence("\"notes\", \"wiki\"")));
    let out = p.cmd(&["list"], &[]);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("evidence.publish_heads[1]") && text.contains("unknown destination `wiki`"), "{text}");
    p.configure(&format!("{LOCAL_USERS}\n[evidence]\npublish_heads = [\"ticket\"]\n"));
    let out = p.cmd(&["list"], &[]);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success() && text.contains("set evidence.signing_key_env too"), "{text}");
}

/// The approvals of a verified bundle, from `evidence verify --json`.
fn approvals(verified: &serde_json::Value) -> &Vec<serde_json::Value> {
    verified["approvals"].as_array().expect("approvals")
}

/// The approved event of `approval` in a bundle's chain.
fn approved<'a>(bundle: &'a mut serde_json::Value, approval: &str) -> &'a mut serde_json::Value {
    let chain = bundle["bundle"]["audit"]["chain"].as_array_mut().expect("chain");
    chain
        .iter_mut()
        .find(|e| e["event"]["event"] == "approved" && e["event"]["approval"] == approval)
        .expect("the approval in the chain")
}

#[test]
fn a_release_approved_through_ssh_signatures_verifies_offline_from_its_bundle_alone_r2c_r9d() {
    let p = Project::new("");
    let (paul, quinn) = (p.key("paul"), p.key("quinn"));
    p.configure(&format!(
        "\n[users.paul]\nroles = [\"product_owner\"]\nssh_keys = [\"{paul}\"]\n[users.quinn]\nroles = [\"qa_lead\"]\n\
         ssh_keys = [\"{quinn}\"]\n\n[identity]\ntrust = \"verified\"\n{}",
        evidence("")
    ));
    let printed = p.closed(true);
    assert!(printed.contains("ssh signature by SHA256:"), "{printed}");
    p.ok(&["evidence", "bundle", "shop-1.0.0", "-o", "bundle.json"]);

    // Elsewhere, years later: the bundle, the project's public key and nothing else.
    let offline = tempfile::tempdir().expect("tempdir");
    let bundle_path = offline.path().join("shop-1.0.0.evidence.json");
    std::fs::copy(p.path().join("bundle.json"), &bundle_path).expect("copy");
    let original: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle_path).expect("read")).expect("json");
    drop(p);
    let here = offline.path();
    let verify = |file: &str| expect(here, 0, &["evidence", "verify", file, "--key", &public_key(), "--json"]);
    let verified: serde_json::Value = serde_json::from_str(&verify("shop-1.0.0.evidence.json")).expect("json");
    assert_eq!(verified["verified"], true, "{verified}");
    assert!(verified["checkpoints"].as_u64().is_some_and(|n| n >= 5), "{verified}");
    let signed: Vec<(String, String, String)> = approvals(&verified)
        .iter()
        .map(|a| {
            assert_eq!(a["proof"], "ssh_signature", "{a}");
            (
                a["approval"].as_str().unwrap_or_default().to_owned(),
                a["user"].as_str().unwrap_or_default().to_owned(),
                a["public_key"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let key_of = |line: &str| line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert_eq!(
        signed,
        [
            ("scope".to_owned(), "paul".to_owned(), key_of(&paul)),
            ("qa_signoff".to_owned(), "quinn".to_owned(), key_of(&quinn)),
            ("acceptance".to_owned(), "paul".to_owned(), key_of(&paul)),
        ]
    );
    let human = expect(here, 0, &["evidence", "verify", "shop-1.0.0.evidence.json", "--key", &public_key()]);
    assert!(human.contains("signed checkpoints match the chain") && human.contains("verified over its statement"));

    // Interop: the qa sign-off's signature, taken from the bundle, verifies with ssh-keygen, with the
    // allowed signer written from what the bundle's verification gave.
    let mut bundle = original.clone();
    let proof = approved(&mut bundle, "qa_signoff")["event"]["proof"].clone();
    std::fs::write(here.join("statement"), proof["statement"].as_str().expect("statement")).expect("write");
    std::fs::write(here.join("statement.sig"), proof["signature"].as_str().expect("signature")).expect("write");
    std::fs::write(here.join("allowed_signers"), format!("quinn {}\n", signed[1].2)).expect("write");
    let ssh = std::process::Command::new("sh")
        .args(["-c", "ssh-keygen -Y verify -f allowed_signers -I quinn -n shipwarden -s statement.sig < statement"])
        .current_dir(here)
        .output()
        .expect("ssh-keygen");
    assert!(ssh.status.success(), "ssh-keygen -Y verify: {}", String::from_utf8_lossy(&ssh.stderr));

    // Tampered: the statement's comment, then the signature, of the scope approval.
    let sequence = approved(&mut bundle, "scope")["sequence"].as_u64().expect("sequence");
    let statement = approved(&mut bundle, "scope")["event"]["proof"]["statement"].as_str().expect("text").to_owned();
    approved(&mut bundle, "scope")["event"]["proof"]["statement"] =
        statement.replace("comment: \"scope ok\"", "comment: \"scope ok, and more\"").into();
    std::fs::write(here.join("statement-edited.json"), bundle.to_string()).expect("write");
    let out = expect(here, 6, &["evidence", "verify", "statement-edited.json", "--key", &public_key()]);
    assert!(out.contains(&format!("approval `scope` by paul at sequence {sequence}")), "{out}");
    assert!(out.contains("does not verify"), "{out}");

    let mut bundle = original.clone();
    let signature = approved(&mut bundle, "scope")["event"]["proof"]["signature"].as_str().expect("sig").to_owned();
    let mut lines: Vec<String> = signature.lines().map(str::to_owned).collect();
    // A character flipped inside the signature blob's last base64 line (the signature bytes).
    let last = lines.len() - 2;
    let flipped: String = lines[last]
        .chars()
        .enumerate()
        .map(|(i, c)| if i == 3 { if c == 'A' { 'B' } else { 'A' } } else { c })
        .collect();
    lines[last] = flipped;
    approved(&mut bundle, "scope")["event"]["proof"]["signature"] = lines.join("\n").into();
    std::fs::write(here.join("signature-edited.json"), bundle.to_string()).expect("write");
    let out = expect(here, 6, &["evidence", "verify", "signature-edited.json", "--key", &public_key()]);
    assert!(out.contains(&format!("approval `scope` by paul at sequence {sequence}")), "{out}");

    // Tampered: a checkpoint's stage, which its signature covers.
    let mut bundle = original;
    bundle["bundle"]["checkpoints"][0]["stage"] = "closed".into();
    std::fs::write(here.join("checkpoint-edited.json"), bundle.to_string()).expect("write");
    let out = expect(here, 6, &["evidence", "verify", "checkpoint-edited.json", "--key", &public_key()]);
    assert!(out.contains("does not verify"), "{out}");
}
