//! Ticketing systems (R-4b, R-7b, R-9d).

#[cfg(feature = "config")]
pub mod config;
#[cfg(feature = "github")]
pub mod github;
#[cfg(feature = "jira")]
pub mod jira;
#[cfg(feature = "local-tickets")]
pub mod local;
