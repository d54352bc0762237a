//! The bodies of shipwarden's fuzz targets (#18), one function per target.
//!
//! Each `fuzz_targets/<target>.rs` calls the function of the same name, and
//! `adapters/tests/fuzz_regressions.rs` includes this file (`#[path]`) and
//! replays every file under `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` through the same function on stable, so the
//! fuzzed code and the replayed code cannot drift apart. A body may return
//! early on input it does not apply to; it must never panic.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use shipwarden::audit::{self, Envelope};
use shipwarden::machine::{Action, Command, Event, ReleaseState, apply, decide};
use shipwarden::ports::{Commit, ReleaseSummary};
use shipwarden::{Actor, Evidence, GateId, Plan, Policy, ReleaseId, ReleaseKind, Role, Version};

/// A target's body: one input, no result; it must never panic.
pub type Body = fn(&[u8]);

/// Every target, by name: what `scripts/fuzz` runs and the replay test walks.
pub const TARGETS: &[(&str, Body)] = &[
    ("policy_toml", policy_toml),
    ("config_toml", config_toml),
    ("commit_parser", commit_parser),
    ("import_lcov", import_lcov),
    ("import_cobertura", import_cobertura),
    ("import_jacoco", import_jacoco),
    ("import_junit", import_junit),
    ("import_jtl_csv", import_jtl_csv),
    ("import_jtl_xml", import_jtl_xml),
    ("import_k6", import_k6),
    ("audit_chain", audit_chain),
    ("event_decode", event_decode),
];

/// A policy from TOML text (defaults merged, then validated), validated again when it loads.
pub fn policy_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = Policy::from_toml_str(text) {
        // A policy that loaded was validated on the way: it must stay valid.
        assert!(policy.validate().is_ok(), "a loaded policy fails validation");
    }
}

/// `shipwarden.toml` as the CLI reads it (parsing and checks only: no adapter is built).
pub fn config_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = shipwarden_adapters::config::Loaded::parse(text, Path::new("fuzz/shipwarden.toml"));
}

/// The conventional-commit parser, ticket keys and pull-request numbers. The input's first
/// byte gives the parent count; the rest is `subject NUL body NUL author NUL sha`.
pub fn commit_parser(data: &[u8]) {
    let Some((&parents, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(4, '\0');
    let mut next = || parts.next().unwrap_or_default().to_owned();
    let (subject, body, author, sha) = (next(), next(), next(), next());
    let commit = Commit { sha, subject, body, author, parents: usize::from(parents % 4) };
    let change = shipwarden::changes::parse(&commit);
    let _ = (change.group(), change.short(), change.exempt(&Policy::default().vcs));
    let _ = shipwarden::changes::ticket_keys(&text);
    let _ = shipwarden::changes::pull_requests(std::slice::from_ref(&commit));
    let changes = [change];
    let last = Version::new(1, 2, 3);
    for kind in [ReleaseKind::Patch, ReleaseKind::Minor, ReleaseKind::Major] {
        let _ = shipwarden::changes::next_version(Some(&last), kind, &changes, Some("rc"));
    }
}

/// The importers read files (their errors name the file and re-read it for the line), so
/// each run writes its input to one scratch file per thread and reads it back.
fn scratch(data: &[u8], extension: &str) -> PathBuf {
    thread_local! {
        static DIR: PathBuf = std::env::temp_dir()
            .join(format!("shipwarden-fuzz-{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], ""));
    }
    let dir = DIR.with(Clone::clone);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("input.{extension}"));
    // A scratch file that cannot be written leaves the previous input: still a valid run.
    let _ = std::fs::write(&path, data);
    path
}

/// LCOV tracefiles through the coverage reader (format found from the content).
pub fn import_lcov(data: &[u8]) {
    coverage(data, "info");
}

/// Cobertura XML through the coverage reader.
pub fn import_cobertura(data: &[u8]) {
    coverage(data, "xml");
}

/// JaCoCo XML through the coverage reader.
pub fn import_jacoco(data: &[u8]) {
    coverage(data, "xml");
}

fn coverage(data: &[u8], extension: &str) {
    if let Ok(c) = shipwarden_adapters::evidence::coverage::read(&scratch(data, extension)) {
        assert!(c.covered <= c.lines, "more lines covered than measured: {c:?}");
        let _ = c.ratio();
    }
}

/// JUnit XML reports.
pub fn import_junit(data: &[u8]) {
    if let Ok(r) = shipwarden_adapters::evidence::junit::read(&scratch(data, "xml")) {
        let _ = r.failing();
    }
}

/// JMeter `.jtl` CSV through the performance reader (format found from the content).
pub fn import_jtl_csv(data: &[u8]) {
    perf(data, "jtl");
}

/// JMeter `.jtl` XML through the performance reader.
pub fn import_jtl_xml(data: &[u8]) {
    perf(data, "jtl");
}

/// k6 JSON summaries through the performance reader.
pub fn import_k6(data: &[u8]) {
    perf(data, "json");
}

fn perf(data: &[u8], extension: &str) {
    if let Ok(p) = shipwarden_adapters::evidence::perf::read(&scratch(data, extension)) {
        let _ = p.overall.error_rate();
    }
}

/// A small valid chain: a planned release and two evidence records, as the engine seals them.
pub fn sample_chain() -> &'static [Envelope] {
    static CHAIN: OnceLock<Vec<Envelope>> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let at: jiff::Timestamp = "2026-11-28T10:00:00Z".parse().unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let Ok(id) = "app-1.4.0".parse::<ReleaseId>() else { return Vec::new() };
        let plan = Plan::new(id.clone(), "app", Version::new(1, 4, 0), ReleaseKind::Minor);
        let rm = Actor::new("rita", [Role::ReleaseManager]);
        let policy = Policy::default();
        let mut state = ReleaseState::default();
        let mut chain: Vec<Envelope> = Vec::new();
        let actions = [
            Action::Plan { plan, last_release: None },
            Action::RecordEvidence(Evidence::new(GateId::Coverage, 0.1 + 0.2, "lcov")),
            Action::RecordEvidence(Evidence::new(GateId::Coverage, 0.85, "cobertura")),
        ];
        for action in actions {
            let Ok(events) = decide(&state, &Command::new(&rm, action), &policy, at) else { break };
            let sealed = Envelope::seal_all(id.as_str(), chain.last(), at, "rita", events);
            state = sealed.iter().fold(state, |s, e| apply(s, &e.event));
            chain.extend(sealed);
        }
        chain
    })
}

/// Mutates the JSON of a valid chain (each 4 input bytes: op, position, value), reads it
/// back and verifies it: never a panic, and a chain that still verifies is a prefix of
/// the original with the same hashed content.
pub fn audit_chain(data: &[u8]) {
    let original = sample_chain();
    let mut json = serde_json::to_vec(original).unwrap_or_default();
    for op in data.chunks_exact(4) {
        let at = usize::from(u16::from_le_bytes([op[1], op[2]]));
        match op[0] % 3 {
            0 if !json.is_empty() => {
                let at = at % json.len();
                json[at] = op[3];
            }
            1 => json.insert(at % (json.len() + 1), op[3]),
            2 if !json.is_empty() => {
                json.remove(at % json.len());
            }
            _ => {}
        }
    }
    let Ok(chain) = serde_json::from_slice::<Vec<Envelope>>(&json) else { return };
    let Ok(head) = audit::verify(&chain) else { return };
    assert!(chain.len() <= original.len(), "a verified chain grew: {} events", chain.len());
    for (found, expected) in chain.iter().zip(original) {
        assert_eq!(found.computed_hash(), expected.hash, "a verified envelope's hashed content changed");
        assert_eq!(found, expected, "a verified envelope changed");
    }
    match chain.last() {
        Some(last) => {
            assert_eq!(head, last.hash);
            assert!(audit::verify_with_head(&chain, &last.hash).is_ok());
        }
        None => assert_eq!(head, audit::ChainHash::genesis()),
    }
    if let Some((first, rest)) = chain.split_first() {
        assert!(audit::verify_after(Some(first), rest).is_ok(), "a verified chain fails from its first event");
    }
}

/// Stored JSON (envelopes, events, release summaries) and stored `events` rows, decoded as
/// the stores decode them; each decoded event is applied to a state (`apply` is total).
/// Rows: records split on 0x1E, fields on 0x1F: seq, at, actor, rule, event, prev_hash, hash.
pub fn event_decode(data: &[u8]) {
    if let Ok(envelope) = serde_json::from_slice::<Envelope>(data) {
        let _ = apply(ReleaseState::default(), &envelope.event);
        let _ = audit::verify(std::slice::from_ref(&envelope));
    }
    if let Ok(event) = serde_json::from_slice::<Event>(data) {
        let _ = apply(ReleaseState::default(), &event);
        let _ = (event.rule(), event.name());
    }
    if let Ok(chain) = serde_json::from_slice::<Vec<Envelope>>(data) {
        let _ = chain.iter().fold(ReleaseState::default(), |s, e| apply(s, &e.event));
        let _ = audit::verify(&chain);
    }
    let _ = serde_json::from_slice::<ReleaseSummary>(data);

    let text = String::from_utf8_lossy(data);
    let rows: Vec<shipwarden_adapters::store::EventRow> = text
        .split('\u{1e}')
        .map(|record| {
            let mut fields = record.split('\u{1f}');
            let seq = fields.next().and_then(|s| s.trim().parse::<i64>().ok()).unwrap_or(1);
            let mut next = || fields.next().unwrap_or_default().to_owned();
            (seq, next(), next(), next(), next(), next(), next())
        })
        .collect();
    let Ok(stream) = "app-1.4.0".parse::<ReleaseId>() else { return };
    if let Ok(envelopes) = shipwarden_adapters::store::decode_events("fuzz", &stream, rows) {
        let _ = envelopes.iter().fold(ReleaseState::default(), |s, e| apply(s, &e.event));
    }
}
