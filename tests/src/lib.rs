//! End-to-end tests across crates (issue #8).
