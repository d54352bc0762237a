//! Ticketing systems (R-4b, R-7b, R-9d).

#[cfg(feature = "local-tickets")]
pub mod local;
