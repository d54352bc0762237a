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
//! A Python exception becomes a [`PortError`] naming the port and the
//! operation: `TimeoutError` and `ConnectionError` are retryable, anything
//! else is not, unless the exception has a boolean `retryable` attribute
//! (and an optional `retry_after` in seconds).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use pyo3::BoundObject;
use pyo3::exceptions::{PyConnectionError, PyLookupError, PyPermissionError, PyTimeoutError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use pyo3_async_runtimes::TaskLocals;
use shipwarden::ports::{
    ArtifactStore, Backup, BackupRef as RBackupRef, DeployRequest as RDeployRequest, DeployTarget, ErrorKind, LogLine,
    LogSink, LogStream, Lookup, Measurement as RMeasurement, Notice as RNotice, Notifier, PortError, Probe,
    RollbackRequest as RRollbackRequest, Ticket as RTicket, Ticketing,
};
use shipwarden::{ArtifactRef as RArtifactRef, EnvName, Plan as RPlan, TicketKey, Version};
use tokio::sync::mpsc;

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
    tx: mpsc::UnboundedSender<LogLine>,
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
    Ready(Py<PyAny>),
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

/// A Python object serving as a port.
pub struct PyPort {
    obj: Py<PyAny>,
    name: String,
    role: &'static str,
    event_loop: Arc<EventLoop>,
}

impl PyPort {
    /// Wraps `obj` as a port of kind `role` (`deploy-target`, `notifier`, …),
    /// checking that it has every method in `required`.
    pub fn new(
        obj: &Bound<'_, PyAny>,
        role: &'static str,
        required: &[&str],
        event_loop: Arc<EventLoop>,
    ) -> PyResult<Self> {
        let name = match obj.getattr("name").ok().and_then(|n| n.extract::<String>().ok()) {
            Some(name) => name,
            None => obj.get_type().name()?.to_string(),
        };
        let missing: Vec<&str> = required.iter().copied().filter(|m| !obj.hasattr(*m).unwrap_or(false)).collect();
        if !missing.is_empty() {
            return Err(crate::errors::invalid(format!(
                "{name} cannot serve as a {role}: it has no {} method",
                missing.join(", ")
            )));
        }
        Ok(PyPort { obj: obj.clone().unbind(), name, role, event_loop })
    }

    fn label(&self) -> String {
        format!("{} {}", self.role, self.name)
    }

    /// Turns a Python exception into a port error.
    fn error(&self, operation: &str, e: PyErr) -> PortError {
        crate::bridge::attach(|py| {
            let kind = if e.is_instance_of::<PyTimeoutError>(py) {
                ErrorKind::Timeout
            } else if e.is_instance_of::<PyConnectionError>(py) {
                ErrorKind::Unavailable
            } else if e.is_instance_of::<PyLookupError>(py) {
                ErrorKind::NotFound
            } else if e.is_instance_of::<PyValueError>(py) {
                ErrorKind::Invalid
            } else if e.is_instance_of::<PyPermissionError>(py) {
                ErrorKind::Rejected
            } else {
                ErrorKind::Other
            };
            let value = e.value(py);
            let type_name = value.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
            let message = match value.str() {
                Ok(text) if !text.to_string().is_empty() => format!("{type_name}: {text}"),
                _ => type_name,
            };
            let mut error = PortError::new(self.label(), operation, kind, message);
            if let Some(retryable) = value.getattr("retryable").ok().and_then(|r| r.extract::<bool>().ok()) {
                error = error.with_retryable(retryable);
            }
            if let Some(after) = value.getattr("retry_after").ok().and_then(|r| r.extract::<f64>().ok())
                && after.is_finite()
                && after >= 0.0
            {
                error = error.with_retry_after(std::time::Duration::from_secs_f64(after));
            }
            error
        })
        .unwrap_or_else(|| self.closing(operation))
    }

    /// The error of a call made while the interpreter exits.
    fn closing(&self, operation: &str) -> PortError {
        PortError::new(self.label(), operation, ErrorKind::Unavailable, "the Python interpreter is shutting down")
            .with_retryable(false)
    }

    /// Calls `method` with the arguments `args` makes; `None` when the
    /// method is optional and the object does not have it.
    async fn call<A>(&self, method: &str, optional: bool, args: A) -> Result<Option<Py<PyAny>>, PortError>
    where
        A: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>> + Send,
    {
        let pending = crate::bridge::attach(|py| -> PyResult<Pending> {
            let obj = self.obj.bind(py);
            if optional && !obj.hasattr(method)? {
                return Ok(Pending::Missing);
            }
            let result = obj.getattr(method)?.call1(args(py)?)?;
            if !result.hasattr("__await__")? {
                return Ok(Pending::Ready(result.unbind()));
            }
            Ok(match self.event_loop.running(py)? {
                Some(locals) => {
                    Pending::OnLoop(Box::pin(pyo3_async_runtimes::into_future_with_locals(&locals, result)?))
                }
                None => Pending::Blocking(result.unbind()),
            })
        })
        .ok_or_else(|| self.closing(method))?
        .map_err(|e| self.error(method, e))?;
        let value = match pending {
            Pending::Missing => return Ok(None),
            Pending::Ready(value) => value,
            Pending::OnLoop(future) => future.await.map_err(|e| self.error(method, e))?,
            Pending::Blocking(awaitable) => {
                tokio::task::spawn_blocking(move || crate::bridge::attach(|py| run_blocking(py, awaitable)))
                    .await
                    .map_err(|e| PortError::new(self.label(), method, ErrorKind::Other, e.to_string()))?
                    .ok_or_else(|| self.closing(method))?
                    .map_err(|e| self.error(method, e))?
            }
        };
        Ok(Some(value))
    }

    /// Like [`call`](Self::call) for a required method.
    async fn call_required<A>(&self, method: &str, args: A) -> Result<Py<PyAny>, PortError>
    where
        A: for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyTuple>> + Send,
    {
        match self.call(method, false, args).await? {
            Some(value) => Ok(value),
            None => Err(PortError::permanent(self.label(), method, "the method is missing")),
        }
    }

    /// Calls a method that writes to a log, forwarding its lines to `sink` as they come.
    async fn call_logged<A>(&self, method: &str, sink: &LogSink, args: A) -> Result<Py<PyAny>, PortError>
    where
        A: for<'py> FnOnce(Python<'py>, Log) -> PyResult<Bound<'py, PyTuple>> + Send,
    {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let log = Log { tx };
        let call = self.call_required(method, move |py| args(py, log));
        tokio::pin!(call);
        loop {
            tokio::select! {
                biased;
                out = &mut call => {
                    while let Ok(line) = rx.try_recv() {
                        sink.line(line.stream, line.text);
                    }
                    return out;
                }
                Some(line) = rx.recv() => sink.line(line.stream, line.text),
            }
        }
    }

    /// Converts what a method returned.
    fn extract<T>(&self, method: &str, value: Py<PyAny>, what: &str) -> Result<T, PortError>
    where
        T: for<'a, 'py> FromPyObject<'a, 'py>,
    {
        crate::bridge::attach(|py| {
            let bound = value.bind(py);
            bound.extract::<T>().map_err(|_| {
                let found = bound.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                PortError::new(self.label(), method, ErrorKind::Invalid, format!("expected {what}, got {found}"))
            })
        })
        .unwrap_or_else(|| Err(self.closing(method)))
    }

    /// A summary string: the returned text, or `default` for None.
    fn summary(&self, method: &str, value: Py<PyAny>, default: String) -> Result<String, PortError> {
        let text: Option<String> = self.extract(method, value, "a str or None")?;
        Ok(text.unwrap_or(default))
    }
}

fn tuple<'py>(py: Python<'py>, items: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, items)
}

fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> PyResult<Bound<'py, PyAny>> {
    value.into_pyobject(py).map(BoundObject::into_any).map(BoundObject::into_bound).map_err(Into::into)
}

#[async_trait]
impl DeployTarget for PyPort {
    fn name(&self) -> &str {
        &self.name
    }

    async fn deploy(&self, request: &RDeployRequest, log: &LogSink) -> Result<String, PortError> {
        let req = DeployRequest(request.clone());
        let value =
            self.call_logged("deploy", log, move |py, log| tuple(py, vec![obj(py, req)?, obj(py, log)?])).await?;
        self.summary("deploy", value, format!("{} runs {}", self.name, request.version))
    }

    async fn status(&self, key: &str) -> Result<Lookup<String>, PortError> {
        let key = key.to_owned();
        match self.call("status", true, move |py| tuple(py, vec![obj(py, key)?])).await? {
            None => Ok(Lookup::Unsupported),
            Some(value) => {
                let text: Option<String> = self.extract("status", value, "a str (done) or None (not found)")?;
                Ok(text.map_or(Lookup::NotFound, Lookup::Done))
            }
        }
    }

    async fn rollback(&self, request: &RRollbackRequest, log: &LogSink) -> Result<String, PortError> {
        let req = RollbackRequest(request.clone());
        let value =
            self.call_logged("rollback", log, move |py, log| tuple(py, vec![obj(py, req)?, obj(py, log)?])).await?;
        self.summary("rollback", value, format!("{} rolled back", self.name))
    }
}

#[async_trait]
impl Notifier for PyPort {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notice: &RNotice) -> Result<(), PortError> {
        let notice = Notice(notice.clone());
        self.call_required("send", move |py| tuple(py, vec![obj(py, notice)?])).await?;
        Ok(())
    }
}

#[async_trait]
impl Probe for PyPort {
    fn name(&self) -> &str {
        &self.name
    }

    async fn check(&self, environment: &EnvName) -> Result<Vec<RMeasurement>, PortError> {
        let env = environment.to_string();
        let value = self.call_required("check", move |py| tuple(py, vec![obj(py, env)?])).await?;
        crate::bridge::attach(|py| {
            let bound = value.bind(py);
            let invalid = |message: String| PortError::new(self.label(), "check", ErrorKind::Invalid, message);
            if let Ok(dict) = bound.cast::<PyDict>() {
                let mut out = Vec::new();
                for (gate, v) in dict.iter() {
                    let gate: String = gate.extract().map_err(|_| invalid("gate names must be strings".into()))?;
                    let value: f64 = v.extract().map_err(|_| invalid(format!("`{gate}`: expected a number")))?;
                    let gate = gate.parse().map_err(|e: shipwarden::ParseError| invalid(e.to_string()))?;
                    out.push(RMeasurement { gate, value, target: None, source: self.name.clone() });
                }
                return Ok(out);
            }
            let items: Vec<Measurement> = bound
                .extract()
                .map_err(|_| invalid("expected a list of Measurement or a dict of gate -> value".into()))?;
            Ok(items
                .into_iter()
                .map(|m| {
                    let mut m = m.0;
                    if m.source.is_empty() {
                        m.source = self.name.clone();
                    }
                    m
                })
                .collect())
        })
        .unwrap_or_else(|| Err(self.closing("check")))
    }
}

#[async_trait]
impl Ticketing for PyPort {
    async fn get(&self, key: &TicketKey) -> Result<RTicket, PortError> {
        let key = key.to_string();
        let value = self.call_required("get", move |py| tuple(py, vec![obj(py, key)?])).await?;
        Ok(self.extract::<Ticket>("get", value, "a Ticket")?.0)
    }

    async fn open_bugs(&self, scope: &[TicketKey], severities: &[String]) -> Result<Vec<RTicket>, PortError> {
        let scope: Vec<String> = scope.iter().map(ToString::to_string).collect();
        let severities = severities.to_vec();
        let value =
            self.call_required("open_bugs", move |py| tuple(py, vec![obj(py, scope)?, obj(py, severities)?])).await?;
        Ok(self.extract::<Vec<Ticket>>("open_bugs", value, "a list of Ticket")?.into_iter().map(|t| t.0).collect())
    }

    async fn comment(&self, key: &TicketKey, body: &str) -> Result<(), PortError> {
        let (key, body) = (key.to_string(), body.to_owned());
        self.call_required("comment", move |py| tuple(py, vec![obj(py, key)?, obj(py, body)?])).await?;
        Ok(())
    }

    async fn transition(&self, key: &TicketKey, status: &str) -> Result<(), PortError> {
        let (key, status) = (key.to_string(), status.to_owned());
        self.call_required("transition", move |py| tuple(py, vec![obj(py, key)?, obj(py, status)?])).await?;
        Ok(())
    }

    async fn create_release_ticket(&self, plan: &RPlan) -> Result<TicketKey, PortError> {
        let plan = Plan(plan.clone());
        let value = self.call_required("create_release_ticket", move |py| tuple(py, vec![obj(py, plan)?])).await?;
        let key: String = self.extract("create_release_ticket", value, "a ticket key (str)")?;
        key.parse().map_err(|e: shipwarden::ParseError| {
            PortError::new(self.label(), "create_release_ticket", ErrorKind::Invalid, e.to_string())
        })
    }
}

#[async_trait]
impl ArtifactStore for PyPort {
    async fn put(&self, name: &str, version: &Version, path: &Path) -> Result<RArtifactRef, PortError> {
        let (name, version, path) = (name.to_owned(), version.to_string(), path.to_path_buf());
        let value = self
            .call_required("put", move |py| tuple(py, vec![obj(py, name)?, obj(py, version)?, obj(py, path)?]))
            .await?;
        Ok(self.extract::<ArtifactRef>("put", value, "an ArtifactRef")?.0)
    }

    async fn get(&self, artifact: &RArtifactRef) -> Result<Vec<u8>, PortError> {
        let a = ArtifactRef(artifact.clone());
        let value = self.call_required("get", move |py| tuple(py, vec![obj(py, a)?])).await?;
        self.extract::<Vec<u8>>("get", value, "bytes")
    }

    async fn exists(&self, artifact: &RArtifactRef) -> Result<bool, PortError> {
        let a = ArtifactRef(artifact.clone());
        let value = self.call_required("exists", move |py| tuple(py, vec![obj(py, a)?])).await?;
        self.extract::<bool>("exists", value, "a bool")
    }

    async fn versions(&self, name: &str) -> Result<Vec<Version>, PortError> {
        let name = name.to_owned();
        let value = self.call_required("versions", move |py| tuple(py, vec![obj(py, name)?])).await?;
        let texts: Vec<String> = self.extract("versions", value, "a list of version strings")?;
        texts
            .iter()
            .map(|t| {
                t.parse().map_err(|e: shipwarden::ParseError| {
                    PortError::new(self.label(), "versions", ErrorKind::Invalid, e.to_string())
                })
            })
            .collect()
    }
}

#[async_trait]
impl Backup for PyPort {
    async fn backup(&self, environment: &EnvName, key: &str) -> Result<RBackupRef, PortError> {
        let (env, key) = (environment.to_string(), key.to_owned());
        let value = self.call_required("backup", move |py| tuple(py, vec![obj(py, env)?, obj(py, key)?])).await?;
        Ok(self.extract::<BackupRef>("backup", value, "a BackupRef")?.0)
    }

    async fn verify(&self, backup: &RBackupRef) -> Result<String, PortError> {
        let b = BackupRef(backup.clone());
        let value = self.call_required("verify", move |py| tuple(py, vec![obj(py, b)?])).await?;
        self.summary("verify", value, format!("backup {} restored to scratch", backup.id))
    }

    async fn restore(&self, backup: &RBackupRef) -> Result<String, PortError> {
        let b = BackupRef(backup.clone());
        let value = self.call_required("restore", move |py| tuple(py, vec![obj(py, b)?])).await?;
        self.summary("restore", value, format!("backup {} restored", backup.id))
    }

    async fn find(&self, key: &str) -> Result<Lookup<RBackupRef>, PortError> {
        let key = key.to_owned();
        match self.call("find", true, move |py| tuple(py, vec![obj(py, key)?])).await? {
            None => Ok(Lookup::Unsupported),
            Some(value) => {
                let found: Option<BackupRef> = self.extract("find", value, "a BackupRef or None")?;
                Ok(found.map_or(Lookup::NotFound, |b| Lookup::Done(b.0)))
            }
        }
    }
}
