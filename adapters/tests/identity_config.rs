//! `[identity]` and users' SSH keys in `shipwarden.toml` (issue #19, R-2d).

use std::path::Path;

use shipwarden::ProofKind;
use shipwarden::policy::Trust;
use shipwarden_adapters::config::{ConfigError, Loaded};

const USERS: &str = "[users.paul]\nroles = [\"product_owner\"]\nssh_keys = [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL9JVZ+P2JlYsUpnzyFX2UcM/3dSL4EPFkfajZp8BETB paul@laptop\"]\n";

fn parse(text: &str) -> Result<Loaded, ConfigError> {
    Loaded::parse(&format!("[project]\nname = \"shop\"\n{USERS}{text}"), Path::new("shipwarden.toml"))
}

#[test]
fn a_sqlite_project_trusts_local_users_and_a_postgres_one_needs_proofs_r2d() {
    let sqlite = parse("").expect("config");
    assert_eq!(sqlite.policy.identity.trust, Trust::Local);
    let postgres = parse("[store]\nkind = \"postgres\"\nurl_env = \"SHIPWARDEN_DATABASE_URL\"\n").expect("config");
    assert_eq!(postgres.policy.identity.trust, Trust::Verified);
    assert_eq!(
        postgres.policy.identity.approve,
        [ProofKind::SshSignature, ProofKind::Token, ProofKind::Oidc, ProofKind::Chat]
    );
    let local =
        parse("[store]\nkind = \"postgres\"\nurl_env = \"X\"\n[identity]\ntrust = \"local\"\n").expect("config");
    assert_eq!(local.policy.identity.trust, Trust::Local, "the file's word wins");
    let strict =
        parse("[identity]\ntrust = \"verified\"\nrollback = [\"local\", \"ssh_signature\"]\n").expect("config");
    assert_eq!(strict.policy.identity.rollback, [ProofKind::Local, ProofKind::SshSignature]);
    let keys = strict.signers().expect("signers");
    assert_eq!(keys.keys_of("paul").count(), 1);
}

#[test]
fn a_bad_key_or_proof_kind_is_a_problem_with_its_path() {
    let Err(ConfigError::Problems(problems)) = parse(
        "[users.casey]\nroles = [\"cto\"]\nssh_keys = [\"ssh-ed25519 nope\"]\n[identity]\napprove = [\"password\"]\n",
    ) else {
        panic!("problems expected");
    };
    let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
    assert!(text.iter().any(|p| p.starts_with("policy.identity")), "{text:?}");
    let Err(ConfigError::Problems(problems)) =
        parse("[users.casey]\nroles = [\"cto\"]\nssh_keys = [\"ssh-ed25519 nope\"]\n")
    else {
        panic!("problems expected");
    };
    assert!(problems.iter().any(|p| p.path == "users.casey.ssh_keys[0]"), "{problems:?}");
}
