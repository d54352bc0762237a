//! Deploy targets.

#[cfg(feature = "command")]
pub mod command;
#[cfg(feature = "ssh")]
pub mod ssh;
