//! Benchmarks (issue #3 onwards).
