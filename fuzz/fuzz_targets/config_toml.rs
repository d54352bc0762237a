//! Fuzz target `config_toml`: see [`shipwarden_fuzz::config_toml`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::config_toml(data));
