//! Backups.

#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "pg-backup")]
pub mod postgres;
