//! What shipwarden's Python and Node bindings share, so that each binding is
//! only the thin part that speaks its language (as Temporal's core serves
//! every language SDK).
//!
//! - [`foreign`]: one [`ForeignPort`] implements every port trait over JSON
//!   values; a binding implements the small [`ForeignCall`] trait (call a
//!   method by name). [`wire`] holds the JSON shapes.
//! - [`mod@overlay`]: the ports a script passes ([`UserPorts`]), laid over the
//!   configured or [`default_ports`].
//! - [`error`]: one error document (the stable code and the facts) for every
//!   failure a binding call reports.

#![deny(missing_docs)]

pub mod error;
pub mod foreign;
pub mod ops;
pub mod overlay;
pub mod wire;

pub use error::ErrorDoc;
pub use foreign::{Arg, CallError, ForeignCall, ForeignError, ForeignPort, Naming, PortKind};
pub use overlay::{UserPorts, default_ports, overlay};
