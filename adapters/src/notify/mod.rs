//! Notifiers.

#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "webhook")]
pub mod webhook;
