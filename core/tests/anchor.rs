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

/// A real release's events sealed one commit each (a second apart), and the
/// sequences where its stage changes, where the engine makes its checkpoints.
fn committed_chain() -> (Vec<Envelope>, Vec<u64>) {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_accepted();
    let mut out: Vec<Envelope> = Vec::new();
    let mut changes = Vec::new();
    let mut state = machine::ReleaseState::default();
    for (i, event) in sim.events.iter().enumerate() {
        let before = state.stage.clone();
        state = machine::apply(state, event);
        let at = saturday() + jiff::SignedDuration::from_secs(i as i64);
        out.push(Envelope::seal("shop-1.4.0", out.last(), at, "rita", event.clone()));
        if state.stage != before {
            changes.push(i as u64 + 1);
        }
    }
    (out, changes)
}

#[test]
fn every_stage_change_after_the_newest_checkpoint_is_named_r9d() {
    let (log, changes) = committed_chain();
    assert!(changes.len() >= 4, "{changes:?}");
    let all: Vec<Checkpoint> = changes.iter().map(|&s| checkpoint(&log, s, KEY)).collect();
    let report = verify_anchored(&log, &all, &trusted(), &toy_check).expect("anchored");
    assert!(report.unanchored_stage_changes.is_empty() && report.stage_changes_covered_later.is_empty(), "{report:?}");

    // The checkpoints of the last two stage changes deleted: both named.
    let kept = &all[..all.len() - 2];
    let report = verify_anchored(&log, kept, &trusted(), &toy_check).expect("the rest still verifies");
    assert_eq!(report.unanchored_stage_changes, changes[changes.len() - 2..].to_vec());

    // A checkpoint in the middle missing: a later one covers its stage change, which is named apart.
    let mut holed = all.clone();
    let hole = holed.remove(2);
    let report = verify_anchored(&log, &holed, &trusted(), &toy_check).expect("covered");
    assert!(report.unanchored_stage_changes.is_empty(), "{report:?}");
    assert_eq!(report.stage_changes_covered_later, vec![hole.sequence]);

    // Signing configured late: the stage changes before the first checkpoint expect none.
    let late = &all[2..];
    let report = verify_anchored(&log, late, &trusted(), &toy_check).expect("late");
    assert!(report.unanchored_stage_changes.is_empty() && report.stage_changes_covered_later.is_empty(), "{report:?}");

    // No checkpoint at all: unanchored, which is the verifier's warning, not a list of stage changes.
    let report = verify_anchored(&log, &[], &trusted(), &toy_check).expect("unanchored");
    assert!(report.unanchored_stage_changes.is_empty() && report.anchored_at.is_none());
}

/// A store whose listing rows lie: every row is said to be another project,
/// planned in 2001, and the row of `hidden` is missing. Its events are true.
struct LyingRows {
    store: ports::memory::MemoryStore,
    hidden: ReleaseId,
}

#[async_trait::async_trait]
impl ports::EventStore for LyingRows {
    async fn append(
        &self,
        stream: &ReleaseId,
        expected: u64,
        envelopes: &[Envelope],
        summary: &ports::ReleaseSummary,
    ) -> Result<u64, ports::StoreError> {
        self.store.append(stream, expected, envelopes, summary).await
    }

    async fn load(&self, stream: &ReleaseId) -> Result<Vec<Envelope>, ports::StoreError> {
        self.store.load(stream).await
    }

    async fn list(&self, _query: &ports::ReleaseQuery) -> Result<Vec<ports::ReleaseSummary>, ports::StoreError> {
        let rows = self.store.list(&ports::ReleaseQuery::default()).await?;
        Ok(rows
            .into_iter()
            .filter(|r| r.release != self.hidden)
            .map(|r| ports::ReleaseSummary { project: "other".into(), planned_at: ts("2001-01-01T00:00:00Z"), ..r })
            .collect())
    }

    async fn heads(&self) -> Result<Vec<ports::StreamHead>, ports::StoreError> {
        self.store.heads().await
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: std::time::Duration,
        now: jiff::Timestamp,
    ) -> Result<bool, ports::StoreError> {
        self.store.try_lease(name, holder, ttl, now).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), ports::StoreError> {
        self.store.release_lease(name, holder).await
    }
}

#[tokio::test]
async fn list_filters_and_finds_releases_by_their_chains_not_the_rows_r9d() {
    let hidden: ReleaseId = "shop-1.1.0".parse().expect("id");
    let store = std::sync::Arc::new(LyingRows { store: ports::memory::MemoryStore::new(), hidden: hidden.clone() });
    let manager = engine::ReleaseManager::builder(store).build();
    for (id, minor) in [("shop-1.0.0", 0), ("shop-1.1.0", 1)] {
        let plan = Plan::new(id.parse().expect("id"), "shop", Version::new(1, minor, 0), ReleaseKind::Minor);
        manager.plan(&rm(), plan).await.expect("plan");
    }
    let all = manager.list_checked(&ports::ReleaseQuery::default()).await.expect("list");
    let names: Vec<&str> = all.releases.iter().map(|r| r.release.as_str()).collect();
    assert_eq!(names.len(), 2, "the release without a row is listed: {names:?}");
    assert_eq!(all.mismatches.len(), 2);
    assert!(all.mismatches.iter().any(|m| m.stored.is_none() && m.derived.release == hidden));
    assert!(all.releases.iter().all(|r| r.project == "shop" && r.planned_at > ts("2020-01-01T00:00:00Z")));

    let query = |project: &str, after: &str, before: &str| ports::ReleaseQuery {
        project: Some(project.to_owned()),
        planned_after: Some(ts(after)),
        planned_before: Some(ts(before)),
        ..ports::ReleaseQuery::default()
    };
    let manager = &manager;
    let listed = |q| async move { manager.list(&q).await.expect("list").len() };
    assert_eq!(listed(query("shop", "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z")).await, 2);
    assert_eq!(listed(query("other", "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")).await, 0);
    assert_eq!(listed(query("shop", "2000-01-01T00:00:00Z", "2002-01-01T00:00:00Z")).await, 0);
    let limited =
        ports::ReleaseQuery { limit: Some(1), ..query("shop", "2020-01-01T00:00:00Z", "2100-01-01T00:00:00Z") };
    assert_eq!(listed(limited).await, 1);
}
