//! The engine's own settings are checked before use (R-6e).

use std::time::Duration;

use shipwarden::engine::EngineConfig;

#[test]
fn a_lease_shorter_than_the_minimum_is_refused_r6e() {
    let zero = EngineConfig { lease_ttl: Duration::ZERO, ..EngineConfig::default() };
    let problems = zero.validate().expect_err("a zero lease lapses at once");
    assert_eq!(problems[0].path, "lease_ttl");
    assert!(problems[0].message.contains("at least 5s"), "{}", problems[0].message);
    let short = EngineConfig { lease_ttl: Duration::from_millis(4_999), ..EngineConfig::default() };
    assert!(short.validate().is_err());
    let least = EngineConfig { lease_ttl: EngineConfig::MIN_LEASE_TTL, ..EngineConfig::default() };
    assert!(least.validate().is_ok());
    assert!(EngineConfig::default().validate().is_ok(), "the default is valid");
}
