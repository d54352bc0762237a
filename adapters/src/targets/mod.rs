//! Deploy targets.

#[cfg(feature = "command")]
pub mod command;
