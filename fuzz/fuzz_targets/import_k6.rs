//! Fuzz target `import_k6`: see [`shipwarden_fuzz::import_k6`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_k6(data));
