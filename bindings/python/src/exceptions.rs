//! The exception hierarchy. Every error shipwarden raises is a
//! [`ShipwardenError`]; the subclasses carry the facts a script branches on
//! as attributes (`.rule`, `.unmet`, `.port`, `.retryable`, `.problems`), set
//! by the `errors` module when it makes an instance. This module depends on no
//! other of the crate, so every module may raise [`invalid`].

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

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
    "The policy refused: `.rule`, `.stage`, `.attempted`, `.unmet` (every unmet requirement) and `.refusal`."
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
    "An outside system (a port or the event store) failed: `.port`, `.operation`, `.kind`, `.retryable`."
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

/// A bad argument, as a Python exception.
pub fn invalid(message: impl std::fmt::Display) -> PyErr {
    InvalidInputError::new_err(message.to_string())
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
