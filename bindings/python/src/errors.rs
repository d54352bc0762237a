//! The exception hierarchy, and how Rust errors become Python exceptions.
//!
//! Every error shipwarden raises is a [`ShipwardenError`]; the subclasses
//! carry the facts a script branches on as attributes (`.rule`, `.unmet`,
//! `.port`, `.retryable`, `.problems`), set on the instance when it is made.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyList;
use shipwarden::engine::EngineError;
use shipwarden::ports::{PortError, StoreError};
use shipwarden_adapters::config::ConfigError as RustConfigError;

use crate::types::{Refusal, Unmet};

create_exception!(
    shipwarden,
    ShipwardenError,
    PyException,
    "Base of every error shipwarden raises; `.retryable` says whether the same call may succeed later."
);
create_exception!(
    shipwarden,
    RefusedError,
    ShipwardenError,
    "The policy refused: `.rule`, `.stage` (a `Stage`, as `Refusal.stage`), `.attempted`, `.unmet` (every unmet requirement) and `.refusal`."
);
create_exception!(
    shipwarden,
    ConflictError,
    ShipwardenError,
    "Another driver kept changing the release, or holds its deployment lease; nothing was lost, try again."
);
create_exception!(
    shipwarden,
    AdapterError,
    ShipwardenError,
    "An outside system (a port or the event store) failed: `.port`, `.operation`, `.kind`, `.retryable`; for a failed step also `.cause` and `.error` (a `StepError`)."
);
create_exception!(
    shipwarden,
    ConfigError,
    ShipwardenError,
    "The configuration has problems: `.problems` lists each as (path, message)."
);
create_exception!(
    shipwarden,
    InvalidInputError,
    ShipwardenError,
    "An argument is not valid (a version, a name, a date, an unknown user)."
);
create_exception!(
    shipwarden,
    IntegrityError,
    ShipwardenError,
    "The audit trail does not verify (R-9d): `.release`, and `.sequence` where the disagreement is (None when at none)."
);
create_exception!(shipwarden, NotFoundError, InvalidInputError, "No such release.");

/// Every failure of a binding call before it becomes a Python exception.
#[derive(Debug)]
pub enum Error {
    /// From the engine.
    Engine(EngineError),
    /// From the configuration.
    Config(RustConfigError),
    /// A bad argument.
    Invalid(String),
    /// The audit trail does not verify.
    Integrity(shipwarden_adapters::anchor::VerifyError),
    /// Already a Python exception.
    Py(PyErr),
    /// A step failed at a port (a direct `deploy` whose target failed, issue #20).
    Step(Box<shipwarden::engine::StepError>),
}

impl From<shipwarden_adapters::anchor::VerifyError> for Error {
    fn from(e: shipwarden_adapters::anchor::VerifyError) -> Self {
        use shipwarden_adapters::anchor::VerifyError;
        match e {
            VerifyError::Engine(e) => Error::Engine(e),
            other => Error::Integrity(other),
        }
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Error::Engine(e)
    }
}

impl From<RustConfigError> for Error {
    fn from(e: RustConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Py(e)
    }
}

impl From<shipwarden::ParseError> for Error {
    fn from(e: shipwarden::ParseError) -> Self {
        Error::Invalid(e.to_string())
    }
}

/// An `IntegrityError` for `release`, at no particular sequence.
pub fn integrity(py: Python<'_>, message: String, release: Option<String>) -> PyErr {
    let err = IntegrityError::new_err(message);
    let release = release.into_pyobject(py).map(Bound::into_any);
    let none = py.None().into_bound(py);
    let attrs = [
        ("release", release.unwrap_or_else(|_| none.clone())),
        ("sequence", none),
        ("retryable", pyo3::types::PyBool::new(py, false).to_owned().into_any()),
    ];
    with_attrs(py, err, &attrs)
}

/// A bad argument, as a Python exception.
pub fn invalid(message: impl std::fmt::Display) -> PyErr {
    InvalidInputError::new_err(message.to_string())
}

fn with_attrs(py: Python<'_>, err: PyErr, attrs: &[(&str, Bound<'_, PyAny>)]) -> PyErr {
    let value = err.value(py);
    for (name, v) in attrs {
        // An exception instance has a __dict__: setting an attribute cannot fail.
        let _ = value.setattr(*name, v);
    }
    err
}

fn port_error(py: Python<'_>, e: &PortError) -> PyResult<PyErr> {
    let err = AdapterError::new_err(e.to_string());
    let attrs = [
        ("port", e.port.clone().into_pyobject(py)?.into_any()),
        ("operation", e.operation.clone().into_pyobject(py)?.into_any()),
        ("kind", e.kind.to_string().into_pyobject(py)?.into_any()),
        ("retryable", e.retryable.into_pyobject(py)?.to_owned().into_any()),
    ];
    Ok(with_attrs(py, err, &attrs))
}

fn store_error(py: Python<'_>, e: &StoreError) -> PyResult<PyErr> {
    let err = AdapterError::new_err(e.to_string());
    let attrs = [
        ("port", "event-store".into_pyobject(py)?.into_any()),
        ("operation", "store".into_pyobject(py)?.into_any()),
        ("kind", "store".into_pyobject(py)?.into_any()),
        ("retryable", e.is_retryable().into_pyobject(py)?.to_owned().into_any()),
    ];
    Ok(with_attrs(py, err, &attrs))
}

fn retryable(py: Python<'_>, err: PyErr, retryable: bool) -> PyResult<PyErr> {
    Ok(with_attrs(py, err, &[("retryable", retryable.into_pyobject(py)?.to_owned().into_any())]))
}

fn convert(py: Python<'_>, error: Error) -> PyResult<PyErr> {
    match error {
        Error::Py(e) => Ok(e),
        Error::Step(e) => {
            let err = AdapterError::new_err(e.to_string());
            let attrs = [
                ("port", e.port.clone().into_pyobject(py)?.into_any()),
                ("operation", e.operation.clone().into_pyobject(py)?.into_any()),
                ("kind", "step_failed".into_pyobject(py)?.into_any()),
                ("cause", e.cause.clone().into_pyobject(py)?.into_any()),
                ("retryable", e.retryable.into_pyobject(py)?.to_owned().into_any()),
                ("error", crate::types::StepError(*e).into_pyobject(py)?.into_any()),
            ];
            Ok(with_attrs(py, err, &attrs))
        }
        Error::Invalid(message) => retryable(py, InvalidInputError::new_err(message), false),
        Error::Integrity(e) => {
            let (release, sequence) = match &e {
                shipwarden_adapters::anchor::VerifyError::Integrity { release, sequence, .. } => {
                    (Some(release.to_string()), *sequence)
                }
                _ => (None, None),
            };
            let err = IntegrityError::new_err(e.to_string());
            let attrs = [
                ("release", release.into_pyobject(py)?.into_any()),
                ("sequence", sequence.into_pyobject(py)?.into_any()),
                ("retryable", false.into_pyobject(py)?.to_owned().into_any()),
            ];
            Ok(with_attrs(py, err, &attrs))
        }
        Error::Engine(e) => match e {
            EngineError::Refused(r) => {
                let err = RefusedError::new_err(r.to_string());
                let unmet: Vec<Unmet> = r.unmet.iter().cloned().map(Unmet::new).collect();
                let attrs = [
                    ("rule", r.rule.to_string().into_pyobject(py)?.into_any()),
                    ("stage", r.stage.clone().map(crate::types::Stage).into_pyobject(py)?.into_any()),
                    ("attempted", r.attempted.clone().into_pyobject(py)?.into_any()),
                    ("unmet", PyList::new(py, unmet)?.into_any()),
                    ("refusal", Refusal(r).into_pyobject(py)?.into_any()),
                    ("retryable", false.into_pyobject(py)?.to_owned().into_any()),
                ];
                Ok(with_attrs(py, err, &attrs))
            }
            EngineError::Conflict(_) | EngineError::Busy(_) => {
                retryable(py, ConflictError::new_err(e.to_string()), true)
            }
            EngineError::NotFound(_) => retryable(py, NotFoundError::new_err(e.to_string()), false),
            EngineError::Port(p) => port_error(py, &p),
            EngineError::Store(s) => store_error(py, &s),
            other => retryable(py, ShipwardenError::new_err(other.to_string()), other.is_retryable()),
        },
        Error::Config(e) => match e {
            RustConfigError::Problems(problems) => {
                let err = ConfigError::new_err(RustConfigError::Problems(problems.clone()).to_string());
                let list: Vec<(String, String)> = problems.into_iter().map(|p| (p.path, p.message)).collect();
                let attrs = [
                    ("problems", PyList::new(py, list)?.into_any()),
                    ("retryable", false.into_pyobject(py)?.to_owned().into_any()),
                ];
                Ok(with_attrs(py, err, &attrs))
            }
            RustConfigError::Invalid(message) => {
                let err = ConfigError::new_err(message.clone());
                let attrs = [
                    ("problems", PyList::new(py, [(String::new(), message)])?.into_any()),
                    ("retryable", false.into_pyobject(py)?.to_owned().into_any()),
                ];
                Ok(with_attrs(py, err, &attrs))
            }
            RustConfigError::Port(p) => port_error(py, &p),
            RustConfigError::Store(s) => store_error(py, &s),
            other => retryable(py, ConfigError::new_err(other.to_string()), false),
        },
    }
}

impl From<Error> for PyErr {
    fn from(error: Error) -> Self {
        match crate::bridge::attach(|py| convert(py, error)) {
            Some(Ok(err)) | Some(Err(err)) => err,
            None => ShipwardenError::new_err("the Python interpreter is shutting down"),
        }
    }
}

/// Registers the exception classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("ShipwardenError", py.get_type::<ShipwardenError>())?;
    m.add("RefusedError", py.get_type::<RefusedError>())?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add("AdapterError", py.get_type::<AdapterError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("InvalidInputError", py.get_type::<InvalidInputError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("IntegrityError", py.get_type::<IntegrityError>())?;
    Ok(())
}
