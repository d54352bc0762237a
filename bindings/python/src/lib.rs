//! Python bindings for shipwarden: `import shipwarden`.
//!
//! The module `shipwarden._native` holds the classes; the package
//! `shipwarden` re-exports them with type stubs (`_native.pyi`). Nothing of
//! the procedure is implemented here: every rule is the Rust crate's.

mod bench;
mod bridge;
mod convert;
mod errors;
mod events;
mod exceptions;
mod manager;
mod ports;
mod types;

use pyo3::prelude::*;

/// The commented `shipwarden.toml` that `shipwarden init` writes for
/// `project`: a starting point to edit, or to read the shape of a config dict
/// from (`shipwarden.config` types it).
#[pyfunction]
fn default_config(project: &str) -> String {
    shipwarden_adapters::config::template(project)
}

/// The native module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    exceptions::register(m)?;
    types::register(m)?;
    m.add_class::<manager::ReleaseManager>()?;
    m.add_class::<manager::ManualClock>()?;
    m.add_class::<events::EventStream>()?;
    m.add_class::<events::LogStream>()?;
    m.add_class::<events::LogEvent>()?;
    m.add_class::<events::Subscription>()?;
    m.add_function(wrap_pyfunction!(manager::sign_statement, m)?)?;
    m.add_function(wrap_pyfunction!(default_config, m)?)?;
    m.add_class::<ports::Log>()?;
    bench::register(m)?;
    bridge::register(m)?;
    Ok(())
}
