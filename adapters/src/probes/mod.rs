//! Probes for the pre-deployment checks (R-8a) and smoke tests (R-8f). A
//! target that cannot be reached is a measurement (the gate fails, with the
//! reason as evidence), not a probe error; a smoke test that gets a wrong
//! answer is an error (the step fails).

#[cfg(feature = "config")]
pub mod config;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod db;
pub mod dependencies;
#[cfg(feature = "host")]
pub mod host;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(feature = "http")]
pub mod smoke;
pub mod tcp;
#[cfg(feature = "tls")]
pub mod tls;
