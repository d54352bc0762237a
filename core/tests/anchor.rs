//! Signed checkpoints of the chain head (R-9d): a rewrite with recomputed
//! hashes or a cut tail is found whenever a later checkpoint exists.

mod common;

use common::*;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use shipwarden::audit::{
    AnchorError, ChainHash, Checkpoint, Envelope, verify, verify_anchored, verify_head, verify_head_at,
};
use shipwarden::*;

/// A stand-in signature for the core's tests: SHA-256 of key and message (the
/// real Ed25519 check lives in the adapters and is tested there and in the CLI).
fn toy_sign(key: &str, message: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update(message);
    format!("{:x}", h.finalize())
}

fn toy_check(algorithm: &str, key: &str, message: &[u8], signature: &str) -> bool {
    algorithm == "toy" && toy_sign(key, message) == signature
}

const KEY: &str = "ab12";

fn trusted() -> Vec<String> {
    vec![KEY.to_owned()]
}

/// A chain of `n` envelopes, cycling through a real release's events.
fn chain(n: usize) -> Vec<Envelope> {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    let events = sim.events;
    let mut out: Vec<Envelope> = Vec::new();
    for event in events.iter().cycle().take(n) {
        let envelope = Envelope::seal("shop-1.4.0", out.last(), saturday(), "rita", event.clone());
        out.push(envelope);
    }
    out
}

fn checkpoint(chain: &[Envelope], sequence: u64, key: &str) -> Checkpoint {
    let e = &chain[usize::try_from(sequence).expect("seq") - 1];
    let stage: Stage = "built".parse().expect("stage");
    let message = Checkpoint::statement(&e.stream, sequence, &e.hash, &stage, &saturday(), "toy", key);
    Checkpoint {
        stream: e.stream.clone(),
        sequence,
        head: e.hash.clone(),
        stage,
        at: saturday(),
        algorithm: "toy".into(),
        public_key: key.into(),
        signature: toy_sign(key, &message),
    }
}

/// Rewrites the actor of envelope `position` and recomputes every later hash,
/// exactly as the product seals them.
fn rewrite(chain: &[Envelope], position: usize) -> Vec<Envelope> {
    let mut out: Vec<Envelope> = chain[..position].to_vec();
    for (i, e) in chain[position..].iter().enumerate() {
        let actor = if i == 0 { "mallory" } else { e.actor.as_str() };
        let sealed = Envelope::seal(&e.stream, out.last(), e.at, actor, e.event.clone());
        out.push(sealed);
    }
    out
}

#[test]
fn a_chain_with_matching_checkpoints_is_anchored_at_the_newest_r9d() {
    let log = chain(12);
    let cps = [checkpoint(&log, 4, KEY), checkpoint(&log, 10, KEY)];
    let report = verify_anchored(&log, &cps, &trusted(), &toy_check).expect("anchored");
    assert_eq!(report.checkpoints, 2);
    assert_eq!(report.anchored_at, Some(10));
    assert_eq!(report.unanchored_events, 2);
    assert!(report.unpinned_keys.is_empty());
    let unanchored = verify_anchored(&log, &[], &trusted(), &toy_check).expect("no checkpoints");
    assert_eq!((unanchored.anchored_at, unanchored.unanchored_events), (None, 12));
}

#[test]
fn a_rewritten_prefix_with_recomputed_hashes_fails_on_the_checkpoint_r9d() {
    let log = chain(12);
    let cps = [checkpoint(&log, 6, KEY), checkpoint(&log, 12, KEY)];
    let forged = rewrite(&log, 2);
    assert!(verify(&forged).is_ok(), "the recomputed chain verifies on its own");
    let err = verify_anchored(&forged, &cps, &trusted(), &toy_check).expect_err("rewritten");
    assert!(matches!(err, AnchorError::Rewritten { sequence: 6, .. }), "{err}");
    assert!(err.to_string().contains("sequence 6"), "{err}");
}

#[test]
fn a_cut_tail_is_named_by_the_checkpoint_beyond_the_end_r9d() {
    let log = chain(20);
    let cps = [checkpoint(&log, 8, KEY), checkpoint(&log, 20, KEY)];
    for cut in [1, 10] {
        let short = &log[..20 - cut];
        let err = verify_anchored(short, &cps, &trusted(), &toy_check).expect_err("cut");
        assert!(
            matches!(err, AnchorError::CutTail { sequence: 20, events, .. } if events == (20 - cut) as u64),
            "{err}"
        );
    }
}

#[test]
fn a_forged_or_foreign_key_checkpoint_is_refused_r9d() {
    let log = chain(6);
    let mut edited = checkpoint(&log, 6, KEY);
    edited.stage = "closed".parse().expect("stage");
    let err = verify_anchored(&log, &[edited], &trusted(), &toy_check).expect_err("edited");
    assert_eq!(err, AnchorError::BadSignature { sequence: 6 });
    let mallory = checkpoint(&log, 6, "ff00");
    let err = verify_anchored(&log, std::slice::from_ref(&mallory), &trusted(), &toy_check).expect_err("untrusted");
    assert!(matches!(err, AnchorError::UntrustedKey { sequence: 6, .. }), "{err}");
    let report = verify_anchored(&log, &[mallory], &[], &toy_check).expect("no trusted key given");
    assert_eq!(report.unpinned_keys, vec!["ff00".to_owned()], "reported as not pinned");
}

#[test]
fn a_head_from_elsewhere_must_end_the_chain_or_sit_at_its_sequence_r9d() {
    let log = chain(10);
    let head = log[9].hash.clone();
    assert!(verify_head(&log, &head).is_ok());
    let err = verify_head(&log[..9], &head).expect_err("cut");
    assert!(err.to_string().contains("does not hold"), "{err}");
    let err = verify_head(&log, &log[4].hash).expect_err("continues");
    assert!(err.to_string().contains("continues past"), "{err}");
    assert!(verify_head_at(&log, 5, &log[4].hash).is_ok());
    assert!(verify_head_at(&log[..3], 5, &log[4].hash).is_err());
    assert!(verify_head_at(&rewrite(&log, 1), 5, &log[4].hash).is_err());
    assert!("zz".parse::<ChainHash>().is_err());
    assert_eq!(head.as_str().to_uppercase().parse::<ChainHash>(), Ok(head));
}

#[test]
fn the_statement_is_domain_separated_and_covers_every_field_r9d() {
    let log = chain(3);
    let c = checkpoint(&log, 3, KEY);
    let message = c.message();
    assert!(message.starts_with(b"shipwarden.checkpoint.v1\n"));
    let mut other = c.clone();
    other.sequence = 2;
    assert_ne!(other.message(), message);
    let mut other = c.clone();
    other.at = saturday().checked_add(jiff::SignedDuration::from_secs(1)).expect("t");
    assert_ne!(other.message(), message);
    let mut other = c;
    other.public_key = "ab13".into();
    assert_ne!(other.message(), message);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any rewrite (recomputed) at or before a checkpoint's sequence, and any
    /// cut below a checkpoint's sequence, is found; the first such checkpoint is named.
    #[test]
    fn rewrites_and_cuts_below_a_checkpoint_are_always_found_r9d(
        n in 2usize..40,
        marks in proptest::collection::btree_set(1u64..40, 1..5),
        at in 0usize..40,
        cut in 1usize..40,
        rewrite_not_cut in any::<bool>(),
    ) {
        let log = chain(n);
        let marks: Vec<u64> = marks.into_iter().filter(|&m| m as usize <= n).collect();
        prop_assume!(!marks.is_empty());
        let cps: Vec<Checkpoint> = marks.iter().map(|&m| checkpoint(&log, m, KEY)).collect();
        prop_assert!(verify_anchored(&log, &cps, &trusted(), &toy_check).is_ok());
        if rewrite_not_cut {
            let position = at % n;
            let forged = rewrite(&log, position);
            let first = marks.iter().copied().find(|&m| m as usize > position);
            let result = verify_anchored(&forged, &cps, &trusted(), &toy_check);
            match first {
                Some(m) => prop_assert!(
                    matches!(result, Err(AnchorError::Rewritten { sequence, .. }) if sequence == m),
                    "{:?}", result
                ),
                None => prop_assert!(result.is_ok(), "no checkpoint after the rewrite: not detectable"),
            }
        } else {
            let keep = n.saturating_sub(cut % n + 1);
            let short = &log[..keep];
            let first = marks.iter().copied().find(|&m| m as usize > keep);
            let result = verify_anchored(short, &cps, &trusted(), &toy_check);
            match first {
                Some(m) => prop_assert!(
                    matches!(result, Err(AnchorError::CutTail { sequence, .. }) if sequence == m),
                    "{:?}", result
                ),
                None => prop_assert!(result.is_ok()),
            }
        }
    }
}
