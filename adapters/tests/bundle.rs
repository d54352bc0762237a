//! The evidence bundle of a closed release (R-9d): written beside the notes,
//! attached to the release ticket, signed with Ed25519 and verified; any
//! change after signing, a foreign key, or a chain that does not say what the
//! bundle says is caught.

use std::sync::Arc;

use secrecy::SecretString;
use shipwarden::bundle::{BundleError, SignedBundle};
use shipwarden::engine::{ReleaseManager, RunOutcome};
use shipwarden::ports::memory::*;
use shipwarden::ports::*;
use shipwarden::*;
use shipwarden_adapters::bundle::{Ed25519Signer, verify};

const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

fn actor(name: &str, role: Role) -> Actor {
    Actor::new(name, [role])
}

async fn closed_release() -> (SignedBundle, Arc<MemoryTicketing>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let signer = Ed25519Signer::from_seed_hex(&SecretString::from(SEED)).expect("key");
    let public = signer.public_key();
    let notes = Arc::new(MemoryNotes::new());
    let ticketing = Arc::new(MemoryTicketing::new());
    let mut ports = shipwarden::engine::Ports {
        artifacts: Some(Arc::new(MemoryArtifacts::new())),
        builder: Some(Arc::new(MemoryBuilder::new(dir.path(), vec![("app.tar".into(), b"app".to_vec())]))),
        backup: Some(Arc::new(MemoryBackup::new())),
        notes: Some(notes.clone()),
        ticketing: Some(ticketing.clone()),
        notifiers: vec![Arc::new(RecordingNotifier::new())],
        signer: Some(Arc::new(signer)),
        vcs: Some(Arc::new(MemoryVcs::new(
            vec![Commit {
                sha: "a1b2c3d4".into(),
                subject: "SHOP-9: HOTFIX: login".into(),
                body: String::new(),
                author: "dev".into(),
                parents: 1,
            }],
            vec!["main".into()],
        ))),
        ..Default::default()
    };
    for env in ["staging", "test", "prod"] {
        ports.targets.insert(env.parse().expect("env"), vec![Arc::new(MemoryTarget::new(format!("{env}-1")))]);
    }
    let clock = Arc::new(ManualClock::new("2026-11-28T10:00:00Z".parse().expect("time")));
    let manager = ReleaseManager::builder(Arc::new(MemoryStore::new())).clock(clock).ports(ports).build();
    let id: ReleaseId = "shop-3.0.0".parse().expect("id");
    let mut plan = Plan::new(id.clone(), "shop", Version::new(3, 0, 0), ReleaseKind::Emergency);
    plan.hotfix = Some(Hotfix {
        ticket: "SHOP-9".parse().expect("key"),
        summary: "HOTFIX: login".into(),
        justification: "nobody can log in".into(),
    });
    manager.plan(&actor("rita", Role::ReleaseManager), plan).await.expect("plan");
    // paul rejects the scope first, then approves it: the rejection stays on record (R-2c).
    let paul = actor("paul", Role::ProductOwner);
    let role = Role::ProductOwner;
    manager.reject(&id, &paul, ApprovalId::Scope, role, Channel::Email, "name the ticket").await.expect("reject");
    for (who, approval, role) in
        [("paul", ApprovalId::Scope, Role::ProductOwner), ("carla", ApprovalId::Emergency, Role::Cto)]
    {
        manager.approve(&id, &actor(who, role.clone()), approval, role, Channel::Api, "ok").await.expect("approve");
    }
    for gate in
        [GateId::Cpu, GateId::Memory, GateId::DiskFree, GateId::TlsDaysLeft, GateId::DbConnectivity, GateId::Network]
    {
        let value = match gate {
            GateId::DiskFree => 50.0,
            GateId::TlsDaysLeft => 90.0,
            GateId::DbConnectivity | GateId::Network => 1.0,
            _ => 10.0,
        };
        let e = Evidence::new(gate, value, "probe").in_env("prod".parse().expect("env"));
        manager.record_evidence(&id, &actor("ci", Role::DeploymentEngineer), e).await.expect("evidence");
    }
    let outcome = manager.run(&id, None).await.expect("run");
    let RunOutcome::Waiting(w) = outcome else { panic!("{outcome:?}") };
    assert_eq!(w.stage, Stage::Verifying, "{}", w.refusal);
    manager
        .report_step(
            &id,
            &actor("dana", Role::DeploymentEngineer),
            StepKind::SmokeTest,
            Some("prod".parse().expect("env")),
            StepOutcome::ok("smoke ok"),
        )
        .await
        .expect("report");
    let e = Evidence::new(GateId::ResponseTime, 80.0, "smoke").in_env("prod".parse().expect("env"));
    manager.record_evidence(&id, &actor("ci", Role::DeploymentEngineer), e).await.expect("evidence");
    assert_eq!(manager.run(&id, None).await.expect("run"), RunOutcome::Final { stage: Stage::Closed });
    let bytes = notes.file("shop-3.0.0.evidence.json").expect("written beside the notes");
    (serde_json::from_slice(&bytes).expect("json"), ticketing, public)
}

#[tokio::test]
async fn a_closed_release_leaves_a_signed_bundle_that_verifies_r9d() {
    let (signed, ticketing, public) = closed_release().await;
    let b = &signed.bundle;
    assert_eq!(b.format, "shipwarden.evidence.v1");
    assert_eq!(b.approvals.len(), 2);
    assert_eq!(b.rejections.len(), 1, "the lifted rejection is in the bundle");
    assert_eq!((b.rejections[0].user.as_str(), b.rejections[0].comment.as_str()), ("paul", "name the ticket"));
    assert_eq!(b.commits[0].subject, "SHOP-9: HOTFIX: login");
    assert!(b.gates.iter().any(|g| g.gate == GateId::ResponseTime && g.measured.value == 80.0));
    assert_eq!(b.artifacts[0].sha256, Sha256::of(b"app"));
    assert!(
        b.steps
            .iter()
            .any(|s| s.step == StepKind::Deploy && s.environment.as_ref().is_some_and(|e| e.as_str() == "prod"))
    );
    assert!(b.steps.iter().any(|s| s.key.starts_with("duty:emergency-notice:prod#")), "the R-5c notice is on record");
    assert_eq!(b.audit.chain.last().map(|e| e.hash.to_string()), Some(b.audit.head.clone()));
    let verified = verify(&signed, Some(&public)).expect("verifies");
    assert_eq!((verified.release.as_str(), verified.events), ("shop-3.0.0", b.audit.events));
    // Attached to the release ticket (R-9d): this tracker keeps a comment with the digest.
    let comments = ticketing.comments();
    assert!(comments.iter().any(|(_, c)| c.starts_with("Attached shop-3.0.0.evidence.json: sha256:")), "{comments:?}");
}

#[tokio::test]
async fn a_changed_foreign_or_inconsistent_bundle_is_refused_r9d() {
    let (signed, _, public) = closed_release().await;
    // Changed after signing.
    let mut changed = signed.clone();
    changed.bundle.gates[0].measured.value = 0.99;
    let e = verify(&changed, None).expect_err("changed");
    assert!(matches!(&e, BundleError::Signature(m) if m.contains("changed after signing")), "{e}");
    // Signed by someone else: refused when the verifier pins the key.
    let other = Ed25519Signer::from_seed_hex(&Ed25519Signer::generate_seed_hex().expect("seed")).expect("key");
    let mut forged = changed.clone();
    let sig = forged.signature.as_mut().expect("signed");
    sig.public_key = other.public_key();
    sig.value = other.sign(&forged.bundle.message()).await.expect("sign");
    let e = verify(&forged, Some(&public)).expect_err("foreign");
    assert!(e.to_string().contains("not by the expected"), "{e}");
    // Signed correctly, but the gates no longer say what the chain says.
    let e = verify(&forged, None).expect_err("inconsistent");
    assert_eq!(e, BundleError::Differs("gates"));
    // A bundle that drops the rejection, re-signed by its own key: the chain still has it (R-2c).
    let mut dropped = signed.clone();
    dropped.bundle.rejections.clear();
    let sig = dropped.signature.as_mut().expect("signed");
    sig.public_key = other.public_key();
    sig.value = other.sign(&dropped.bundle.message()).await.expect("sign");
    assert_eq!(verify(&dropped, None).expect_err("inconsistent"), BundleError::Differs("rejections"));
    // A chain with an edited event does not verify.
    let mut edited = signed.clone();
    edited.bundle.audit.chain[1].actor = "mallory".into();
    let sig = edited.signature.as_mut().expect("signed");
    sig.public_key = other.public_key();
    sig.value = other.sign(&edited.bundle.message()).await.expect("sign");
    let e = verify(&edited, None).expect_err("edited chain");
    assert!(matches!(&e, BundleError::Chain(m) if m.contains("was edited")), "{e}");
    // Unsigned.
    let mut unsigned = signed.clone();
    unsigned.signature = None;
    assert!(verify(&unsigned, None).expect_err("unsigned").to_string().contains("not signed"));
    // The signing key never shows in Debug.
    let signer = Ed25519Signer::from_seed_hex(&SecretString::from(SEED)).expect("key");
    assert!(!format!("{signer:?}").contains(SEED));
}
