//! Live events in Python, as Node has them (issue #20): the audit events a
//! manager appends and the log lines its steps write, as an async iterator
//! (`async for event in manager.events()`) or handed to a callback
//! (`manager.on_event(callback)`, closed with `.close()`).
//!
//! A listener that falls behind skips what it missed rather than holding the
//! engine back (the engine's broadcast channel is bounded); the audit trail
//! (`history`) always has everything.

use std::sync::Arc;

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use crate::types::AuditEvent;

/// One line a step wrote to its log, as it is written.
#[pyclass(module = "shipwarden", frozen, get_all)]
#[derive(Clone)]
pub struct LogEvent {
    /// The release.
    pub release: String,
    /// The step's key (`deploy:prod:web-1#1`).
    pub step: String,
    /// `stdout`, `stderr` or `info`.
    pub stream: String,
    /// The line, without its line ending.
    pub text: String,
}

#[pymethods]
impl LogEvent {
    fn __repr__(&self) -> String {
        format!(
            "LogEvent(release='{}', step='{}', stream='{}', text={:?})",
            self.release, self.step, self.stream, self.text
        )
    }
}

type LogMessage = (shipwarden::ReleaseId, String, shipwarden::machine::LogLine);

fn log_event((release, step, line): LogMessage) -> LogEvent {
    LogEvent { release: release.to_string(), step, stream: line.stream.as_str().to_owned(), text: line.text }
}

/// The next message of `rx`, skipping what a slow listener missed; `None` once closed.
async fn next<M: Clone>(rx: &mut Receiver<M>) -> Option<M> {
    loop {
        match rx.recv().await {
            Ok(message) => return Some(message),
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return None,
        }
    }
}

/// The awaitable of an async iterator's `__anext__`: the next message of
/// `rx` made into `T`, or `StopAsyncIteration` once the manager is gone.
fn anext<'py, M, T>(
    py: Python<'py>,
    rx: &Arc<tokio::sync::Mutex<Receiver<M>>>,
    make: fn(M) -> T,
) -> PyResult<Bound<'py, PyAny>>
where
    M: Clone + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let rx = rx.clone();
    crate::bridge::future_into_py(py, async move {
        match next(&mut *rx.lock().await).await {
            Some(message) => Ok(make(message)),
            None => Err(PyStopAsyncIteration::new_err("the manager is gone")),
        }
    })
}

/// An async iterator over the audit events appended from now on
/// (`async for event in manager.events()`); it ends when the manager does.
#[pyclass(module = "shipwarden", frozen)]
pub struct EventStream(Arc<tokio::sync::Mutex<Receiver<shipwarden::audit::Envelope>>>);

impl EventStream {
    /// A stream over `rx`.
    pub fn new(rx: Receiver<shipwarden::audit::Envelope>) -> Self {
        EventStream(Arc::new(tokio::sync::Mutex::new(rx)))
    }
}

#[pymethods]
impl EventStream {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        anext(py, &self.0, AuditEvent)
    }
}

/// An async iterator over step log lines written from now on
/// (`async for line in manager.logs()`).
#[pyclass(module = "shipwarden", frozen)]
pub struct LogStream(Arc<tokio::sync::Mutex<Receiver<LogMessage>>>);

impl LogStream {
    /// A stream over `rx`.
    pub fn new(rx: Receiver<LogMessage>) -> Self {
        LogStream(Arc::new(tokio::sync::Mutex::new(rx)))
    }
}

#[pymethods]
impl LogStream {
    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        anext(py, &self.0, log_event)
    }
}

/// A callback subscription (`manager.on_event(callback)`): delivers until `close()`.
#[pyclass(module = "shipwarden", frozen)]
pub struct Subscription(tokio::task::AbortHandle);

#[pymethods]
impl Subscription {
    /// Stops delivering; events already handed over are still called.
    fn close(&self) {
        self.0.abort();
    }

    /// True once closed (or once the manager is gone).
    #[getter]
    fn closed(&self) -> bool {
        self.0.is_finished()
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        _kind: Option<&Bound<'_, PyAny>>,
        _value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) {
        self.0.abort();
    }
}

/// Hands each message of `rx` to `callback`: on the asyncio loop running when
/// it subscribed (`call_soon_threadsafe`), else on a runtime thread with the
/// GIL. A callback that raises is reported through `sys.unraisablehook` and
/// delivery goes on.
pub fn forward<M, T>(
    py: Python<'_>,
    mut rx: Receiver<M>,
    callback: Py<PyAny>,
    map: impl Fn(M) -> T + Send + 'static,
) -> PyResult<Subscription>
where
    M: Clone + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let running = py.import("asyncio")?.call_method0("_get_running_loop")?;
    let event_loop: Option<Py<PyAny>> = if running.is_none() { None } else { Some(running.unbind()) };
    let (callback, event_loop) = (Arc::new(callback), event_loop.map(Arc::new));
    let task = pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        while let Some(message) = next(&mut rx).await {
            let value = map(message);
            let (callback, event_loop) = (callback.clone(), event_loop.clone());
            // Calling takes the GIL: not on a worker thread, where it could stall other tasks.
            let delivered = tokio::task::spawn_blocking(move || {
                crate::bridge::attach(|py| {
                    let result = value.into_py_any(py).and_then(|v| match &event_loop {
                        Some(l) => l.call_method1(py, "call_soon_threadsafe", (callback.as_ref(), v)).map(drop),
                        None => callback.call1(py, (v,)).map(drop),
                    });
                    if let Err(e) = result {
                        e.write_unraisable(py, None);
                    }
                })
            })
            .await;
            // The interpreter is exiting: stop.
            if !matches!(delivered, Ok(Some(()))) {
                break;
            }
        }
    });
    Ok(Subscription(task.abort_handle()))
}

/// Audit events to a callback.
pub fn events_to(
    py: Python<'_>,
    rx: Receiver<shipwarden::audit::Envelope>,
    callback: Py<PyAny>,
) -> PyResult<Subscription> {
    forward(py, rx, callback, AuditEvent)
}

/// Log lines to a callback.
pub fn logs_to(py: Python<'_>, rx: Receiver<LogMessage>, callback: Py<PyAny>) -> PyResult<Subscription> {
    forward(py, rx, callback, log_event)
}
