//! Runnable examples (issue #3 onwards).
