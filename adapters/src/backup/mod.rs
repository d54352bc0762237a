//! Backups.

#[cfg(feature = "file")]
pub mod file;
