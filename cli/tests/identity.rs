//! Who acted is verified (issue #19, R-2b, R-2d): approvals signed with SSH
//! keys, checked by the real binary, and the attacks on them refused.

mod common;

use std::path::{Path, PathBuf};

use common::{Project, ok};

const BASE: &str = r#"
[project]
name = "shop"
ticket_prefix = "SHOP"
repository = "repo"

[engine]
lease_wait = "1s"

[users.rita]
roles = ["release_manager"]
[users.dana]
roles = ["deployment_engineer"]
"#;

impl Project {
    /// A project with `users` (TOML for `[users.*]` with keys) and `extra` config; a repo with one ticketed commit.
    fn new(extra: &str) -> Project {
        let p = Project::with_commits(&[("a.txt", "SHOP-1: checkout")]);
        p.configure(extra);
        p
    }

    fn configure(&self, extra: &str) {
        self.write_config(&format!("{BASE}{extra}"));
    }

    /// A new ed25519 key pair `name` / `name.pub`; gives the public key line.
    fn key(&self, name: &str) -> String {
        let file = self.path().join(name);
        ok(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", &file.display().to_string()],
            self.path(),
        );
        std::fs::read_to_string(self.path().join(format!("{name}.pub"))).expect("pub").trim().to_owned()
    }

    /// The statement to sign for an approval, written to `name`.
    fn statement(&self, name: &str, args: &[&str]) -> PathBuf {
        let mut all = vec!["approve"];
        all.extend_from_slice(args);
        all.push("--print-statement");
        let text = self.ok(&all);
        let path = self.path().join(name);
        std::fs::write(&path, text).expect("write statement");
        path
    }

    /// Signs `statement` with `ssh-keygen -Y sign -n shipwarden`; gives the `.sig` path.
    fn ssh_sign(&self, key: &str, statement: &Path) -> String {
        ok(
            "ssh-keygen",
            &["-q", "-Y", "sign", "-n", "shipwarden", "-f", &self.file(key), &statement.display().to_string()],
            self.path(),
        );
        format!("{}.sig", statement.display())
    }
}

fn users(paul: &str, casey: &str) -> String {
    format!(
        "\n[users.paul]\nroles = [\"product_owner\"]\nssh_keys = [\"{paul}\"]\n[users.casey]\nroles = [\"cto\", \"product_owner\"]\nssh_keys = [\"{casey}\"]\n"
    )
}

const VERIFIED: &str = "\n[identity]\ntrust = \"verified\"\n";

/// A verified project with keys for paul and casey, and shop-1.0.0 and shop-1.1.0 planned.
fn verified_project() -> Project {
    let p = Project::new("");
    let (paul, casey) = (p.key("paul"), p.key("casey"));
    p.configure(&format!("{}{VERIFIED}", users(&paul, &casey)));
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    p
}

#[test]
fn an_unsigned_approval_is_refused_where_the_policy_needs_a_signature_r2d() {
    let p = verified_project();
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "paul"]);
    assert!(out.contains("R-2d") && out.contains("ssh_signature") && out.contains("local"), "{out}");
    assert!(out.contains("--sign"), "the refusal says how to sign: {out}");
}

#[test]
fn a_signed_approval_is_recorded_with_its_proof_and_verifies_with_ssh_keygen_r2c() {
    let p = verified_project();
    let out =
        p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--key", &p.file("paul"), "--comment", "scope ok"]);
    assert!(out.contains("approved scope") && out.contains("ssh signature by SHA256:"), "{out}");
    let trail = p.ok(&["audit", "shop-1.0.0"]);
    assert!(trail.contains("ssh signature by SHA256:"), "the audit shows the proof: {trail}");
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify"]).contains("verified"));
    // Interop: shipwarden's signature verifies with `ssh-keygen -Y verify`.
    let export = p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]);
    let approved = export
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"]["event"] == "approved")
        .expect("an approved event");
    let proof = &approved["event"]["proof"];
    assert_eq!(proof["kind"], "ssh_signature", "{approved}");
    std::fs::write(p.path().join("signed"), proof["statement"].as_str().expect("statement")).expect("write");
    std::fs::write(p.path().join("signed.sig"), proof["signature"].as_str().expect("signature")).expect("write");
    let paul = std::fs::read_to_string(p.path().join("paul.pub")).expect("pub");
    std::fs::write(p.path().join("allowed"), format!("paul {paul}")).expect("write");
    let verify = std::process::Command::new("sh")
        .args(["-c", "ssh-keygen -Y verify -f allowed -I paul -n shipwarden -s signed.sig < signed"])
        .current_dir(p.path())
        .output()
        .expect("ssh-keygen");
    assert!(verify.status.success(), "ssh-keygen -Y verify: {}", String::from_utf8_lossy(&verify.stderr));
}

#[test]
fn a_statement_signed_by_ssh_keygen_verifies_in_shipwarden_from_an_allowed_signers_file() {
    let p = Project::new("");
    let paul = p.key("paul");
    std::fs::write(p.path().join("allowed_signers"), format!("paul namespaces=\"git,shipwarden\" {paul}\n"))
        .expect("write");
    p.configure(&format!(
        "\n[users.paul]\nroles = [\"product_owner\"]\n{VERIFIED}allowed_signers = \"allowed_signers\"\n"
    ));
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let statement = p.statement("scope.txt", &["shop-1.0.0", "scope", "--as", "paul", "--comment", "looks right"]);
    let text = std::fs::read_to_string(&statement).expect("statement");
    assert!(text.starts_with("shipwarden approval statement v1\nproject: shop\nrelease: shop-1.0.0\n"), "{text}");
    let sig = p.ssh_sign("paul", &statement);
    let out =
        p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--comment", "looks right", "--signature", &sig]);
    assert!(out.contains("ssh signature"), "{out}");
}

#[test]
fn casey_with_pauls_key_is_refused_r2d() {
    let p = verified_project();
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "casey", "--key", &p.file("paul")]);
    assert!(out.contains("R-2d") && out.contains("not listed for casey") && out.contains("it is paul's"), "{out}");
    // And paul's statement, signed by paul, presented as casey's.
    let statement = p.statement("s", &["shop-1.0.0", "scope", "--as", "paul"]);
    let sig = p.ssh_sign("paul", &statement);
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "casey", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("not listed for casey"), "{out}");
}

#[test]
fn a_key_not_listed_is_refused_r2d() {
    let p = verified_project();
    p.key("stranger");
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--key", &p.file("stranger")]);
    assert!(out.contains("R-2d") && out.contains("is not listed for paul"), "{out}");
}

#[test]
fn a_signature_over_another_release_another_approval_or_an_older_head_is_refused_r2d() {
    let p = verified_project();
    p.ok(&["plan", "1.1.0", "--as", "rita"]);
    let statement = p.statement("scope-1.0.0", &["shop-1.0.0", "scope", "--as", "paul"]);
    let sig = p.ssh_sign("paul", &statement);
    // Another release.
    let out = p.expect(3, &["approve", "shop-1.1.0", "scope", "--as", "paul", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("release is `shop-1.0.0`"), "{out}");
    // Another approval.
    let out = p.expect(3, &["approve", "shop-1.0.0", "acceptance", "--as", "paul", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("approval is `scope`"), "{out}");
    // An older chain head: casey approves first, then paul's statement is stale.
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "casey", "--key", &p.file("casey")]);
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("chain head"), "{out}");
    // The valid one, then the same again: a replay.
    let statement = p.statement("scope-now", &["shop-1.0.0", "scope", "--as", "paul"]);
    let sig = p.ssh_sign("paul", &statement);
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", &sig]);
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", &sig]);
    assert!(out.contains("R-2d"), "{out}");
    // A statement changed after it was signed.
    let text = std::fs::read_to_string(&statement).expect("statement").replace("comment: \"\"", "comment: \"later\"");
    std::fs::write(&statement, text).expect("write");
    let out =
        p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--comment", "later", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("does not verify"), "{out}");
}

#[test]
fn a_key_removed_after_it_signed_leaves_the_approval_valid_and_flagged_in_audit_r2d() {
    let p = verified_project();
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--key", &p.file("paul")]);
    let (new, casey) = (p.key("paul-new"), std::fs::read_to_string(p.path().join("casey.pub")).expect("pub"));
    p.configure(&format!("{}{VERIFIED}", users(&new, casey.trim())));
    let trail = p.ok(&["audit", "shop-1.0.0"]);
    assert!(trail.contains("no longer listed for paul") && trail.contains("valid when recorded"), "{trail}");
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify"]).contains("verified"));
    let status = p.ok(&["status", "shop-1.0.0", "--json"]);
    assert!(status.contains("\"scope\""), "the approval still counts: {status}");
    // The removed key no longer signs new approvals.
    let out = p.expect(3, &["approve", "shop-1.0.0", "scope", "--as", "paul", "--key", &p.file("paul")]);
    assert!(out.contains("not listed for paul"), "{out}");
}

#[test]
fn local_trust_is_the_default_for_sqlite_and_records_the_os_user() {
    let p = Project::new("\n[users.paul]\nroles = [\"product_owner\"]\n");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let out = p.expect_with(0, &["approve", "shop-1.0.0", "scope", "--as", "paul"], &[("USER", "pbrown")]);
    assert!(out.contains("local (OS user pbrown)"), "{out}");
    assert!(p.ok(&["policy", "show"]).contains("trust = \"local\""));
}

#[test]
fn sign_goes_through_ssh_agent_with_a_listed_key() {
    let p = verified_project();
    let sock = p.file("agent.sock");
    let mut agent = std::process::Command::new("ssh-agent")
        .args(["-D", "-a", &sock])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("ssh-agent");
    for _ in 0..100 {
        if Path::new(&sock).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = std::process::Command::new("ssh-add")
        .arg(p.file("paul"))
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    // Moved away: only the agent holds paul's private key now.
    std::fs::rename(p.path().join("paul"), p.path().join("paul.moved")).expect("move");
    let out = p.cmd(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--sign"], &[("SSH_AUTH_SOCK", &sock)]);
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(added.status.success(), "ssh-add: {}", String::from_utf8_lossy(&added.stderr));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("ssh signature by SHA256:"), "{text}");
}

/// The event `kind` of `release`'s exported trail, with its proof.
fn proof_of(p: &Project, release: &str, kind: &str) -> serde_json::Value {
    let export = p.ok(&["audit", release, "--export", "jsonl"]);
    export
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .rfind(|e| e["event"]["event"] == kind)
        .map(|e| e["event"]["proof"].clone())
        .unwrap_or_else(|| panic!("no {kind} event in {export}"))
}

const EMERGENCY: [&str; 9] =
    ["plan", "1.0.1", "--kind", "emergency", "--hotfix", "HOTFIX-1", "--summary", "down", "--justification"];

#[test]
fn an_emergency_plan_a_window_override_and_a_rollback_are_signed_where_the_policy_says_so_r2d() {
    let p = verified_project();
    // Emergency plan: refused unsigned, refused with another's key, recorded signed.
    let mut plan: Vec<&str> = EMERGENCY.to_vec();
    plan.extend(["outage", "--as", "casey"]);
    let out = p.expect(3, &plan);
    assert!(out.contains("R-2d") && out.contains("emergency_plan") && out.contains("ssh_signature"), "{out}");
    let paul_key = p.file("paul");
    let casey_key = p.file("casey");
    let out = p.expect(3, &[&plan[..], &["--key", paul_key.as_str()]].concat());
    assert!(out.contains("R-2d") && out.contains("not listed for casey"), "{out}");
    let statement = p.ok(&[&plan[..], &["--print-statement"]].concat());
    assert!(
        statement.starts_with("shipwarden action statement v1\naction: emergency_plan\nproject: shop\nrelease: shop-1.0.1\nrole: cto\nuser: casey\n")
            && statement.contains("comment: \"outage\""),
        "{statement}"
    );
    p.ok(&[&plan[..], &["--key", casey_key.as_str()]].concat());
    assert_eq!(proof_of(&p, "shop-1.0.1", "planned")["kind"], "ssh_signature");
    // A plain plan is not signed.
    let out = p.expect(2, &["plan", "1.2.0", "--as", "rita", "--key", &p.file("casey")]);
    assert!(out.contains("only an emergency plan is signed"), "{out}");

    // Window override.
    let out = p.expect(3, &["override", "shop-1.0.0", "--reason", "regulator deadline", "--as", "casey"]);
    assert!(out.contains("R-2d") && out.contains("override_window"), "{out}");
    let out = p.ok(&["override", "shop-1.0.0", "--reason", "regulator deadline", "--as", "casey", "--key", &casey_key]);
    assert!(out.contains("overridden by casey") && out.contains("ssh signature by SHA256:"), "{out}");
    assert_eq!(proof_of(&p, "shop-1.0.0", "window_overridden")["kind"], "ssh_signature");

    // Rollback: unsigned, the proof is unmet besides the stage (R-8g); signed, only the stage is.
    let out = p.expect(3, &["rollback", "shop-1.0.0", "--reason", "errors up", "--as", "casey"]);
    assert!(out.contains("R-8g") && out.contains("R-2d"), "{out}");
    let out = p.expect(3, &["rollback", "shop-1.0.0", "--reason", "errors up", "--as", "casey", "--key", &casey_key]);
    assert!(out.contains("R-8g") && !out.contains("R-2d"), "the signature is accepted: {out}");
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify"]).contains("verified"));
}

#[test]
fn a_statement_for_one_action_does_not_prove_another_r2d() {
    let p = verified_project();
    // paul's approval statement, signed, presented for a rollback by paul.
    let statement = p.statement("scope", &["shop-1.0.0", "scope", "--as", "paul"]);
    let sig = p.ssh_sign("paul", &statement);
    let out = p.expect(
        3,
        &[
            "rollback",
            "shop-1.0.0",
            "--reason",
            "",
            "--as",
            "paul",
            "--signature",
            &sig,
            "--statement",
            &statement.display().to_string(),
        ],
    );
    assert!(out.contains("R-2d") && out.contains("signed for approve"), "{out}");
    // A rollback statement presented as an override.
    let text = p.ok(&["rollback", "shop-1.0.0", "--reason", "x", "--as", "casey", "--print-statement"]);
    let path = p.path().join("rollback");
    std::fs::write(&path, text).expect("write");
    let sig = p.ssh_sign("casey", &path);
    let out = p.expect(3, &["override", "shop-1.0.0", "--reason", "x", "--as", "casey", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("signed for rollback"), "{out}");
}

#[test]
fn an_old_statement_is_refused_even_over_the_current_head_and_a_dry_run_says_so_r2d() {
    let p = verified_project();
    let statement = p.statement("old", &["shop-1.0.0", "scope", "--as", "paul"]);
    let text = std::fs::read_to_string(&statement).expect("statement");
    let at = text.lines().find(|l| l.starts_with("at: ")).expect("an at line").to_owned();
    std::fs::write(&statement, text.replace(&at, "at: 2026-01-01T09:00:00Z")).expect("write");
    let sig = p.ssh_sign("paul", &statement);
    for dry in [true, false] {
        let mut args = vec!["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", &sig];
        if dry {
            args.insert(0, "--dry-run");
        }
        let out = p.expect(3, &args);
        assert!(out.contains("R-2d") && out.contains("statement_max_age"), "dry run {dry}: {out}");
    }
    // The policy can allow older statements.
    let key = |name: &str| std::fs::read_to_string(p.path().join(format!("{name}.pub"))).expect("pub");
    let (paul, casey) = (key("paul"), key("casey"));
    p.configure(&format!("{}{VERIFIED}statement_max_age = \"10000h\"\n", users(paul.trim(), casey.trim())));
    p.ok(&["--dry-run", "approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", &sig]);
    // A dry run checks the chain head too: casey approves, paul's statement is now stale.
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "casey", "--key", &p.file("casey")]);
    let out = p.expect(3, &["--dry-run", "approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", &sig]);
    assert!(out.contains("R-2d") && out.contains("chain head"), "{out}");
}

#[test]
fn endless_or_hostile_signature_key_and_bundle_files_are_refused_and_nothing_is_written() {
    let p = verified_project();
    let before = p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]);
    std::fs::write(p.path().join("bad.sig"), b"-----BEGIN SSH SIGNATURE-----\n\xff\xfe\n").expect("write");
    std::fs::write(p.path().join("garbage.sig"), "-----BEGIN SSH SIGNATURE-----\nnot base64 !!\n").expect("write");
    let cases: [&[&str]; 6] = [
        &["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", "/dev/zero", "--statement", "/dev/zero"],
        &["approve", "shop-1.0.0", "scope", "--as", "paul", "--key", "/dev/zero"],
        &["audit", "shop-1.0.0", "--verify", "--bundle", "/dev/zero"],
        &["evidence", "verify", "/dev/zero"],
        &["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", "bad.sig", "--statement", "bad.sig"],
        &["rollback", "shop-1.0.0", "--reason", "x", "--as", "casey", "--key", "/dev/zero"],
    ];
    for args in cases {
        let out = p.cmd(args, &[]);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains("larger than") || text.contains("UTF-8"), "{args:?}: {text}");
    }
    // A readable but malformed signature is a refused proof (R-2d), not a crash.
    let out = p.expect(
        3,
        &["approve", "shop-1.0.0", "scope", "--as", "paul", "--signature", "garbage.sig", "--statement", "paul.pub"],
    );
    assert!(out.contains("R-2d") && out.contains("cannot be read"), "{out}");
    assert_eq!(p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]), before, "nothing was recorded");
}

#[test]
fn a_signed_rejection_is_recorded_blocks_the_stage_until_its_author_approves_r2c_r2d() {
    let p = verified_project();
    // An unsigned rejection is refused like an unsigned approval.
    let out = p.expect(3, &["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "too big"]);
    assert!(out.contains("R-2d") && out.contains("ssh_signature"), "{out}");
    // A rejection needs a reason, whoever signs it.
    let out =
        p.expect(3, &["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", " ", "--key", &p.file("paul")]);
    assert!(out.contains("R-2c") && out.contains("a rejection needs a reason"), "{out}");
    let statement =
        p.ok(&["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "too big", "--print-statement"]);
    assert!(statement.starts_with("shipwarden rejection statement v1\n"), "{statement}");
    let out = p.ok(&["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "too big", "--key", &p.file("paul")]);
    assert!(out.contains("rejected scope") && out.contains("ssh signature by SHA256:"), "{out}");
    // casey approves too: the count is met, paul's rejection still stands.
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "casey", "--key", &p.file("casey")]);
    let out = p.expect(3, &["advance", "shop-1.0.0", "--to", "scope_approved", "--as", "dana"]);
    assert!(out.contains("R-2b") && out.contains("rejected by paul") && out.contains("too big"), "{out}");
    let trail = p.ok(&["audit", "shop-1.0.0"]);
    assert!(trail.contains("scope rejected by paul") && trail.contains("too big"), "{trail}");
    assert!(p.ok(&["audit", "shop-1.0.0", "--verify"]).contains("verified"));
    // Rejecting again is refused; paul's own approval lifts the rejection.
    let out =
        p.expect(3, &["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "still", "--key", &p.file("paul")]);
    assert!(out.contains("already rejected"), "{out}");
    p.ok(&["approve", "shop-1.0.0", "scope", "--as", "paul", "--key", &p.file("paul")]);
    p.ok(&["advance", "shop-1.0.0", "--to", "scope_approved", "--as", "dana"]);
}

#[test]
fn an_approval_signature_does_not_prove_a_rejection_nor_the_reverse_r2d() {
    let p = verified_project();
    let approval = p.statement("approval", &["shop-1.0.0", "scope", "--as", "paul", "--comment", "too big"]);
    let sig = p.ssh_sign("paul", &approval);
    let presented = approval.display().to_string();
    let out = p.expect(
        3,
        &[
            "reject",
            "shop-1.0.0",
            "scope",
            "--as",
            "paul",
            "--reason",
            "too big",
            "--signature",
            &sig,
            "--statement",
            &presented,
        ],
    );
    assert!(out.contains("R-2d") && out.contains("signed for approve"), "{out}");
    let text = p.ok(&["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "x", "--print-statement"]);
    let rejection = p.path().join("rejection");
    std::fs::write(&rejection, text).expect("write");
    let sig = p.ssh_sign("paul", &rejection);
    let presented = rejection.display().to_string();
    let out = p.expect(
        3,
        &[
            "approve",
            "shop-1.0.0",
            "scope",
            "--as",
            "paul",
            "--comment",
            "x",
            "--signature",
            &sig,
            "--statement",
            &presented,
        ],
    );
    assert!(out.contains("R-2d") && out.contains("signed for reject"), "{out}");
    let history = p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]);
    assert!(!history.contains("\"rejected\"") && !history.contains("\"approved\""), "nothing recorded: {history}");
}

#[test]
fn a_rejection_reason_cannot_colour_the_terminal_or_reorder_what_is_read_r2c() {
    let p = Project::new("\n[users.paul]\nroles = [\"product_owner\"]\n");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let reason = "fine\u{1b}[2J\u{1b}[31m approved \u{202e}evil";
    let out = p.ok(&["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", reason]);
    let trail = p.ok(&["audit", "shop-1.0.0"]);
    let status = p.ok(&["status", "shop-1.0.0"]);
    for text in [&out, &trail, &status] {
        assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'), "{text:?}");
        assert!(text.contains("\\u{1b}[2J") && text.contains("\\u{202e}evil"), "{text}");
    }
    // The data keeps what was typed.
    let export = p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]);
    assert!(export.contains("\\u001b[2J"), "{export}");
}

#[test]
fn a_dry_run_rejection_says_what_it_would_record_and_records_nothing_r2c() {
    let p = Project::new("\n[users.paul]\nroles = [\"product_owner\"]\n");
    p.ok(&["plan", "1.0.0", "--as", "rita"]);
    let out = p.ok(&["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "too big", "--dry-run"]);
    assert!(out.contains("rejected"), "{out}");
    let out = p.expect(3, &["reject", "shop-1.0.0", "scope", "--as", "paul", "--reason", "", "--dry-run"]);
    assert!(out.contains("R-2c") && out.contains("a rejection needs a reason"), "{out}");
    let export = p.ok(&["audit", "shop-1.0.0", "--export", "jsonl"]);
    assert!(!export.contains("\"rejected\""), "a dry run records nothing: {export}");
}
