//! Ports implemented in Python: any object with the right methods, sync or
//! `async def`, serves as a deploy target, notifier, probe, ticketing
//! system, artifact store or backup.
//!
//! # Threads, the GIL and event loops
//! The engine calls a port from a tokio worker thread. The call takes the
//! GIL only to call the method and convert what it returns. A plain method's
//! result is used at once. A coroutine is run on the event loop of the
//! latest `await manager.…()` call when that loop is running (so `async def`
//! ports share the caller's loop and run concurrently during fan-out);
//! otherwise — the sync twins — on a fresh event loop in a blocking thread,
//! so the calling thread, which waits with the GIL released, never blocks it.
//!
//! What a port does with the answers and exceptions is shared with the Node
//! binding (`shipwarden_bindings::ForeignPort`): a Python exception becomes a
//! port error naming the port and the operation, classified by its class
//! (`TimeoutError` and `ConnectionError` are retryable), unless the exception
//! has a boolean `retryable` attribute (and an optional `retry_after` in
//! seconds). This module only calls methods and converts values.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pyo3::BoundObject;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyTuple};
use pyo3_async_runtimes::TaskLocals;
use serde_json::Value;
use shipwarden::ports::{LogLine, LogStream};
use shipwarden_bindings::foreign::LogChannel;
use shipwarden_bindings::{Arg, CallError, ForeignCall, ForeignError, ForeignPort, Naming, PortKind, wire};

use crate::types::{ArtifactRef, BackupRef, DeployRequest, Measurement, Notice, Plan, RollbackRequest, Ticket};

/// The event loop of the latest async call on a manager, shared with its Python ports.
#[derive(Default)]
pub struct EventLoop {
    locals: Mutex<Option<TaskLocals>>,
}

impl EventLoop {
    /// Remembers the loop an async call was made from.
    pub fn set(&self, locals: TaskLocals) {
        *self.locals.lock().unwrap_or_else(|e| e.into_inner()) = Some(locals);
    }

    /// That loop, if it is running now.
    fn running(&self, py: Python<'_>) -> PyResult<Option<TaskLocals>> {
        let guard = self.locals.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(locals) = guard.as_ref()
            && locals.event_loop(py).call_method0("is_running")?.is_truthy()?
        {
            return Ok(Some(locals.clone()));
        }
        Ok(None)
    }
}

/// Where a port writes its log lines (`log.line(text)`, `log.stdout(text)`, `log.stderr(text)`);
/// they reach the step's record and live subscribers as they are written.
#[pyclass(module = "shipwarden", frozen)]
pub struct Log {
    tx: LogChannel,
}

#[pymethods]
impl Log {
    /// Writes a line; `stream` is `stdout`, `stderr` or `info`.
    #[pyo3(signature = (text, stream = "stdout"))]
    fn line(&self, text: String, stream: &str) -> PyResult<()> {
        let stream: LogStream = crate::convert::parse(stream)?;
        // The step may have finished already: a late line is dropped, as it would be on a closed pipe.
        let _ = self.tx.send(LogLine { stream, text });
        Ok(())
    }

    /// Writes a line to standard output.
    fn stdout(&self, text: String) {
        let _ = self.tx.send(LogLine { stream: LogStream::Stdout, text });
    }

    /// Writes a line to standard error.
    fn stderr(&self, text: String) {
        let _ = self.tx.send(LogLine { stream: LogStream::Stderr, text });
    }

    fn __repr__(&self) -> &'static str {
        "Log()"
    }
}

enum Pending {
    Missing,
    Ready(Value),
    OnLoop(Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>),
    Blocking(Py<PyAny>),
}

/// Runs an awaitable to completion on a new event loop in this thread.
fn run_blocking(py: Python<'_>, awaitable: Py<PyAny>) -> PyResult<Py<PyAny>> {
    let asyncio = py.import("asyncio")?;
    let event_loop = asyncio.call_method0("new_event_loop")?;
    let result = event_loop.call_method1("run_until_complete", (awaitable,));
    event_loop.call_method0("close")?;
    Ok(result?.unbind())
}

/// A Python object's methods, called from Rust (the per-language part of a [`ForeignPort`]).
pub struct PyCall {
    obj: Py<PyAny>,
    event_loop: Arc<EventLoop>,
}

/// A Python object serving as a port.
pub type PyPort = ForeignPort<PyCall>;

/// Wraps `obj` as a port of `kind`, named by its `name` attribute or its class.
pub fn py_port(obj: &Bound<'_, PyAny>, kind: &'static PortKind, event_loop: Arc<EventLoop>) -> PyResult<PyPort> {
    let name = match obj.getattr("name").ok().and_then(|n| n.extract::<String>().ok()) {
        Some(name) => name,
        None => obj.get_type().name()?.to_string(),
    };
    ForeignPort::new(PyCall { obj: obj.clone().unbind(), event_loop }, name, kind, Naming::Snake)
        .map_err(crate::exceptions::invalid)
}

const CLOSING: &str = "the Python interpreter is shutting down";

fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> PyResult<Bound<'py, PyAny>> {
    value.into_pyobject(py).map(BoundObject::into_any).map(BoundObject::into_bound).map_err(Into::into)
}

/// An argument as the typed object Python ports receive.
fn arg<'py>(py: Python<'py>, arg: Arg) -> PyResult<Bound<'py, PyAny>> {
    match arg {
        Arg::Text(s) => obj(py, s),
        Arg::Texts(list) => obj(py, list),
        Arg::Path(p) => obj(py, p),
        Arg::Deploy(r) => obj(py, DeployRequest(r)),
        Arg::Rollback(r) => obj(py, RollbackRequest(r)),
        Arg::Notice(n) => obj(py, Notice(n)),
        Arg::Plan(p) => obj(py, Plan(p)),
        Arg::Artifact(a) => obj(py, ArtifactRef(a)),
        Arg::Backup(b) => obj(py, BackupRef(b)),
    }
}

/// What a Python method returned, as JSON: the shipwarden classes, bytes,
/// lists, dicts and plain values; `Err` describes what has no JSON form.
fn answer(value: &Bound<'_, PyAny>) -> Result<Value, String> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(t) = value.cast::<Ticket>() {
        return Ok(wire::ticket(&t.get().0));
    }
    if let Ok(a) = value.cast::<ArtifactRef>() {
        return Ok(wire::artifact(&a.get().0));
    }
    if let Ok(b) = value.cast::<BackupRef>() {
        return Ok(wire::backup(&b.get().0));
    }
    if let Ok(m) = value.cast::<Measurement>() {
        return Ok(wire::measurement(&m.get().0));
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(Value::from(b.as_bytes().to_vec()));
    }
    if let Ok(b) = value.cast::<PyByteArray>() {
        return Ok(Value::from(b.to_vec()));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        let items = value.try_iter().map_err(|_| describe(value))?;
        return items
            .map(|item| answer(&item.map_err(|_| describe(value))?))
            .collect::<Result<_, _>>()
            .map(Value::Array);
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in dict.iter() {
            let key: String = k.extract().map_err(|_| format!("a dict with a {} key", type_name(&k)))?;
            map.insert(key, answer(&v)?);
        }
        return Ok(Value::Object(map));
    }
    crate::convert::py_to_value(value, "").map_err(|_| describe(value))
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

fn describe(value: &Bound<'_, PyAny>) -> String {
    format!("a {}", type_name(value))
}

/// A Python exception, described for the shared classification.
fn raised(py: Python<'_>, e: PyErr) -> CallError {
    let value = e.value(py);
    let names = value
        .get_type()
        .mro()
        .iter()
        .filter_map(|t| t.getattr("__name__").ok().and_then(|n| n.extract::<String>().ok()))
        .collect();
    let message = value.str().map(|t| t.to_string()).unwrap_or_default();
    CallError::Raised(ForeignError {
        names,
        message,
        code: None,
        retryable: value.getattr("retryable").ok().and_then(|r| r.extract::<bool>().ok()),
        retry_after: value.getattr("retry_after").ok().and_then(|r| r.extract::<f64>().ok()),
    })
}

/// Converts a finished call's result, with the GIL.
fn settle(result: PyResult<Py<PyAny>>) -> Result<Value, CallError> {
    crate::bridge::attach(|py| match result {
        Ok(value) => answer(value.bind(py)).map_err(CallError::Unreadable),
        Err(e) => Err(raised(py, e)),
    })
    .unwrap_or_else(|| Err(CallError::Gone(CLOSING.into())))
}

#[async_trait]
impl ForeignCall for PyCall {
    fn has(&self, method: &str) -> bool {
        crate::bridge::attach(|py| self.obj.bind(py).hasattr(method).unwrap_or(false)).unwrap_or(false)
    }

    async fn call(
        &self,
        method: &'static str,
        args: Vec<Arg>,
        log: Option<LogChannel>,
    ) -> Result<Option<Value>, CallError> {
        let pending = crate::bridge::attach(|py| -> Result<Pending, CallError> {
            let start = || -> PyResult<Option<Bound<'_, PyAny>>> {
                let obj = self.obj.bind(py);
                if !obj.hasattr(method)? {
                    return Ok(None);
                }
                let mut items = args.into_iter().map(|a| arg(py, a)).collect::<PyResult<Vec<_>>>()?;
                if let Some(tx) = log {
                    items.push(obj_log(py, tx)?);
                }
                Ok(Some(obj.getattr(method)?.call1(PyTuple::new(py, items)?)?))
            };
            let Some(result) = start().map_err(|e| raised(py, e))? else { return Ok(Pending::Missing) };
            if !result.hasattr("__await__").unwrap_or(false) {
                return answer(&result).map(Pending::Ready).map_err(CallError::Unreadable);
            }
            Ok(match self.event_loop.running(py).map_err(|e| raised(py, e))? {
                Some(locals) => Pending::OnLoop(Box::pin(
                    pyo3_async_runtimes::into_future_with_locals(&locals, result).map_err(|e| raised(py, e))?,
                )),
                None => Pending::Blocking(result.unbind()),
            })
        })
        .unwrap_or_else(|| Err(CallError::Gone(CLOSING.into())))?;
        let value = match pending {
            Pending::Missing => return Ok(None),
            Pending::Ready(value) => value,
            Pending::OnLoop(future) => settle(future.await)?,
            Pending::Blocking(awaitable) => {
                let result =
                    tokio::task::spawn_blocking(move || crate::bridge::attach(|py| run_blocking(py, awaitable)))
                        .await
                        .map_err(|e| CallError::Gone(e.to_string()))?
                        .ok_or_else(|| CallError::Gone(CLOSING.into()))?;
                settle(result)?
            }
        };
        Ok(Some(value))
    }
}

fn obj_log(py: Python<'_>, tx: LogChannel) -> PyResult<Bound<'_, PyAny>> {
    obj(py, Log { tx })
}
