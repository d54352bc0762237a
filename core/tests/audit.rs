//! The audit chain (R-9d): every edit, deletion, reordering or insertion is found.

mod common;

use common::*;
use shipwarden::audit::{AuditError, ChainHash, Envelope, verify, verify_with_head};
use shipwarden::*;

fn chain() -> Vec<Envelope> {
    let mut sim = Sim::planned(ReleaseKind::Minor);
    sim.reach_built();
    let mut out: Vec<Envelope> = Vec::new();
    for event in sim.events {
        let envelope = Envelope::seal("shop-1.4.0", out.last(), saturday(), "rita", event);
        out.push(envelope);
    }
    assert!(out.len() > 8);
    out
}

#[test]
fn an_untouched_chain_verifies_and_returns_its_head_r9d() {
    let log = chain();
    assert_eq!(verify(&log), Ok(log.last().expect("events").hash.clone()));
    assert_eq!(log[0].prev_hash, ChainHash::genesis());
    assert!(log.windows(2).all(|w| w[1].prev_hash == w[0].hash && w[1].sequence == w[0].sequence + 1));
    assert_eq!(log[0].rule.as_str(), "R-1a");
    assert_eq!(verify(&[]), Ok(ChainHash::genesis()));
}

#[test]
fn an_edited_event_is_found_r9d() {
    let mut log = chain();
    if let Event::Approved(a) = &mut log[1].event {
        a.user = "mallory".into();
    } else {
        panic!("second event is the scope approval");
    }
    assert_eq!(verify(&log), Err(AuditError::Edited { sequence: 2 }));
    let mut log = chain();
    log[3].actor = "mallory".into();
    assert_eq!(verify(&log), Err(AuditError::Edited { sequence: 4 }));
}

#[test]
fn a_deleted_event_is_found_r9d() {
    let mut log = chain();
    log.remove(4);
    assert_eq!(verify(&log), Err(AuditError::Deleted { from: 5, to: 5 }));
}

#[test]
fn reordered_events_are_found_r9d() {
    let mut log = chain();
    log.swap(2, 3);
    assert_eq!(verify(&log), Err(AuditError::Reordered { sequence: 4, position: 2 }));
}

#[test]
fn an_inserted_event_is_found_r9d() {
    // A forged event sealed after event 3, put between events 3 and 4.
    let mut log = chain();
    let forged = Envelope::seal("shop-1.4.0", Some(&log[2]), saturday(), "mallory", log[1].event.clone());
    log.insert(3, forged);
    assert_eq!(verify(&log), Err(AuditError::Inserted { sequence: 4 }));
    // An event from another chain, renumbered, does not link.
    let mut log = chain();
    let mut stranger = Envelope::seal("shop-1.4.0", None, saturday(), "mallory", log[1].event.clone());
    stranger.sequence = 4;
    stranger.hash = stranger.computed_hash();
    log[3] = stranger;
    assert_eq!(verify(&log), Err(AuditError::Inserted { sequence: 4 }));
}

#[test]
fn a_cut_tail_is_found_against_a_kept_head_r9d() {
    let mut log = chain();
    let head = log.last().expect("events").hash.clone();
    log.pop();
    assert!(verify(&log).is_ok(), "a chain alone cannot know its tail was cut");
    assert!(matches!(verify_with_head(&log, &head), Err(AuditError::HeadMismatch { .. })));
}

#[test]
fn an_event_from_another_stream_is_found_r9d() {
    let mut log = chain();
    let mut other = log.clone();
    other[2].stream = "billing-2.0.0".into();
    other[2].hash = other[2].computed_hash();
    log[2] = other[2].clone();
    assert!(matches!(verify(&log), Err(AuditError::ForeignStream { sequence: 3, .. })));
}

#[test]
fn envelopes_survive_a_json_round_trip_with_their_hashes_r9d() {
    let log = chain();
    let json = serde_json::to_string(&log).expect("json");
    let back: Vec<Envelope> = serde_json::from_str(&json).expect("parse");
    assert_eq!(back, log);
    assert!(verify(&back).is_ok());
}
