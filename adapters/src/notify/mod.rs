//! Notifiers.

#[cfg(feature = "file")]
pub mod file;
