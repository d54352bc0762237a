//! Artifact stores.

#[cfg(feature = "fs")]
pub mod fs;
#[cfg(feature = "oci")]
pub mod oci;
