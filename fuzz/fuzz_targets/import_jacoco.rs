//! Fuzz target `import_jacoco`: see [`shipwarden_fuzz::import_jacoco`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_jacoco(data));
