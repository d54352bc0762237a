//! Fuzz target `audit_chain`: see [`shipwarden_fuzz::audit_chain`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::audit_chain(data));
