//! Fuzz target `import_jtl_csv`: see [`shipwarden_fuzz::import_jtl_csv`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_jtl_csv(data));
