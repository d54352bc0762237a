//! How Rust errors become Python exceptions: each failure is classified
//! once, as the shared error document ([`ErrorDoc`], the same the Node
//! binding encodes), whose code picks the exception class and whose facts
//! become the instance's attributes.

use pyo3::prelude::*;
use pyo3::types::PyList;
use shipwarden::engine::{EngineError, ErrorCode};
use shipwarden_adapters::config::ConfigError as RustConfigError;
use shipwarden_bindings::ErrorDoc;

use crate::exceptions::{
    AdapterError, ConfigError, ConflictError, IntegrityError, InvalidInputError, NotFoundError, RefusedError,
    ShipwardenError,
};
use crate::types::{Refusal, Unmet};

/// Every failure of a binding call before it becomes a Python exception.
#[derive(Debug)]
pub enum Error {
    /// A failure classified as the shared error document.
    Doc(Box<ErrorDoc>),
    /// Already a Python exception.
    Py(PyErr),
}

impl Error {
    /// A bad argument.
    pub fn invalid(message: impl std::fmt::Display) -> Self {
        Error::Doc(Box::new(ErrorDoc::invalid(message)))
    }
}

/// An `IntegrityError` for `release`, at no particular sequence.
pub fn integrity(message: impl std::fmt::Display, release: Option<String>) -> PyErr {
    Error::Doc(Box::new(ErrorDoc::integrity(message, release))).into()
}

impl From<shipwarden_adapters::anchor::VerifyError> for Error {
    fn from(e: shipwarden_adapters::anchor::VerifyError) -> Self {
        Error::Doc(Box::new(ErrorDoc::verify(e)))
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        Error::Doc(Box::new(ErrorDoc::engine(e)))
    }
}

impl From<RustConfigError> for Error {
    fn from(e: RustConfigError) -> Self {
        Error::Doc(Box::new(ErrorDoc::config(e)))
    }
}

impl From<PyErr> for Error {
    fn from(e: PyErr) -> Self {
        Error::Py(e)
    }
}

impl From<shipwarden::ParseError> for Error {
    fn from(e: shipwarden::ParseError) -> Self {
        Error::Doc(Box::new(ErrorDoc::invalid(e)))
    }
}

fn exception(doc: &ErrorDoc) -> PyErr {
    let message = doc.message.clone();
    match doc.code {
        ErrorCode::Refused => RefusedError::new_err(message),
        ErrorCode::Conflict => ConflictError::new_err(message),
        ErrorCode::Adapter => AdapterError::new_err(message),
        ErrorCode::Config => ConfigError::new_err(message),
        ErrorCode::InvalidInput => InvalidInputError::new_err(message),
        ErrorCode::NotFound => NotFoundError::new_err(message),
        ErrorCode::Integrity => IntegrityError::new_err(message),
        _ => ShipwardenError::new_err(message),
    }
}

fn convert(py: Python<'_>, doc: ErrorDoc) -> PyResult<PyErr> {
    let err = exception(&doc);
    let value = err.value(py);
    // An exception instance has a __dict__: setting an attribute cannot fail.
    let set = |name: &str, v: Bound<'_, PyAny>| {
        let _ = value.setattr(name, v);
    };
    set("retryable", doc.retryable.into_pyobject(py)?.to_owned().into_any());
    if let Some(refusal) = doc.refusal {
        let unmet: Vec<Unmet> = refusal.unmet.iter().cloned().map(Unmet::new).collect();
        set("rule", refusal.rule.to_string().into_pyobject(py)?.into_any());
        set("stage", refusal.stage.clone().map(crate::types::Stage).into_pyobject(py)?.into_any());
        set("attempted", refusal.attempted.clone().into_pyobject(py)?.into_any());
        set("unmet", PyList::new(py, unmet)?.into_any());
        set("refusal", Refusal(refusal).into_pyobject(py)?.into_any());
    }
    if let (Some(port), Some(operation), Some(kind)) = (doc.port, doc.operation, doc.kind) {
        set("port", port.into_pyobject(py)?.into_any());
        set("operation", operation.into_pyobject(py)?.into_any());
        set("kind", kind.into_pyobject(py)?.into_any());
    }
    if let Some(step) = doc.step {
        set("cause", step.cause.clone().into_pyobject(py)?.into_any());
        set("error", crate::types::StepError(step).into_pyobject(py)?.into_any());
    }
    if let Some(problems) = doc.problems {
        let list: Vec<(String, String)> = problems.into_iter().map(|p| (p.path, p.message)).collect();
        set("problems", PyList::new(py, list)?.into_any());
    }
    if doc.code == ErrorCode::Integrity {
        set("release", doc.release.into_pyobject(py)?.into_any());
        set("sequence", doc.sequence.flatten().into_pyobject(py)?.into_any());
    }
    Ok(err)
}

impl From<Error> for PyErr {
    fn from(error: Error) -> Self {
        match error {
            Error::Py(e) => e,
            Error::Doc(doc) => match crate::bridge::attach(|py| convert(py, *doc)) {
                Some(Ok(err)) | Some(Err(err)) => err,
                None => ShipwardenError::new_err("the Python interpreter is shutting down"),
            },
        }
    }
}
