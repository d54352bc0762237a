//! Version control.

#[cfg(feature = "git")]
pub mod git;
