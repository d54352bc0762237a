//! Deploy targets.

#[cfg(feature = "command")]
pub mod command;
#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "ssh")]
pub mod ssh;
