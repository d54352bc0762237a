//! Fuzz target `import_junit`: see [`shipwarden_fuzz::import_junit`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_junit(data));
