//! Backups.

#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "pg-backup")]
pub mod postgres;
