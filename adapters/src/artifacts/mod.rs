//! Artifact stores.

#[cfg(feature = "fs")]
pub mod fs;
