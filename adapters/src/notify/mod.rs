//! Notifiers.

#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "file")]
pub mod file;
#[cfg(feature = "slack")]
pub mod slack;
#[cfg(feature = "smtp")]
pub mod smtp;
#[cfg(feature = "webhook")]
pub mod webhook;
