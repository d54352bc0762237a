//! Fuzz target `import_lcov`: see [`shipwarden_fuzz::import_lcov`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_lcov(data));
