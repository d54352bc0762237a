//! Artifact stores.

#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "fs")]
pub mod fs;
#[cfg(feature = "oci")]
pub mod oci;
