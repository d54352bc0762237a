//! Fuzz target `policy_toml`: see [`shipwarden_fuzz::policy_toml`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::policy_toml(data));
