//! Probes for the pre-deployment checks (R-8a). A target that cannot be
//! reached is a measurement (the gate fails, with the reason as evidence),
//! not a probe error.

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod db;
pub mod tcp;
