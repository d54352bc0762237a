//! Builders (R-8b).

pub mod command;
