//! Fuzz target `commit_parser`: see [`shipwarden_fuzz::commit_parser`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::commit_parser(data));
