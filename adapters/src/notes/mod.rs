//! Release notes publishers.

#[cfg(feature = "file")]
pub mod file;
