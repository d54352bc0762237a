//! Fuzz target `import_jtl_xml`: see [`shipwarden_fuzz::import_jtl_xml`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::import_jtl_xml(data));
