#![doc = include_str!("../../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod audit;
pub mod bundle;
pub mod calendar;
pub mod changes;
pub mod dependencies;
pub mod duties;
pub mod engine;
pub mod evidence;
pub mod machine;
pub mod model;
pub mod notes;
pub mod policy;
pub mod ports;
mod rule;
pub mod settings;

pub use machine::{
    Action, Command, Event, Evidence, LogLine, LogStream, Refusal, ReleaseState, Requirement, StepOutcome, Unmet,
    apply, decide,
};
pub use model::*;
pub use policy::{Policy, PolicyError, Problem, RoleChoiceError};
pub use rule::{RuleId, UnknownRule};
