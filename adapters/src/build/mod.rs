//! Builders (R-8b).

pub mod command;
#[cfg(feature = "config")]
pub mod config;
