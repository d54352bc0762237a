//! Fuzz target `event_decode`: see [`shipwarden_fuzz::event_decode`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shipwarden_fuzz::event_decode(data));
