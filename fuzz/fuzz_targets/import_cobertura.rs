//! Fuzz target `import_cobertura`: see [`shipwarden_fuzz::import_cobertura`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_cobertura(data));
