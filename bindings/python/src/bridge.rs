//! Rust futures as asyncio futures, and a safe interpreter exit.
//!
//! Threads of the tokio runtime call into Python: to run a port written in
//! Python, and to hand an operation's result to the event loop. A thread
//! that holds or waits for the GIL while the interpreter finalizes is ended
//! by CPython mid-call, which crashes a Rust thread. So every such call goes
//! through [`attach`], which counts the threads inside Python, and an
//! `atexit` hook ([`shutdown`]) stops new calls and waits, with the GIL
//! released, until the last one has left.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;

static INSIDE: AtomicUsize = AtomicUsize::new(0);
static CLOSING: AtomicBool = AtomicBool::new(false);

struct Leave;

impl Drop for Leave {
    fn drop(&mut self) {
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `f` with the GIL, unless the interpreter is exiting (then `None`).
pub fn attach<R>(f: impl FnOnce(Python<'_>) -> R) -> Option<R> {
    INSIDE.fetch_add(1, Ordering::SeqCst);
    let _leave = Leave;
    if CLOSING.load(Ordering::SeqCst) {
        return None;
    }
    Some(Python::attach(f))
}

/// The `atexit` hook: no new calls into Python from other threads; wait (up
/// to five seconds) for those inside to leave.
#[pyfunction]
fn _shutdown(py: Python<'_>) {
    CLOSING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let start = Instant::now();
        while INSIDE.load(Ordering::SeqCst) > 0 && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Settles an asyncio future on its loop, unless it was cancelled meanwhile.
#[pyfunction]
fn _settle(future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    if ok {
        future.call_method1("set_result", (value,))?;
    } else {
        future.call_method1("set_exception", (value,))?;
    }
    Ok(())
}

/// Aborts the Rust task when its asyncio future is cancelled.
#[pyclass]
struct AbortOnCancel(tokio::task::AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// Runs `fut` on the runtime and returns an asyncio future of the running
/// loop that resolves with its result (cancelling it aborts the work, as a
/// crash would: the engine resumes from its log).
pub fn future_into_py<'py, T, F>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    let (loop_ref, future_ref) = (event_loop.clone().unbind(), future.clone().unbind());
    let settle = wrap_pyfunction!(_settle, py)?.unbind();
    let task = pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        let result = fut.await;
        // Settling takes the GIL: not on a worker thread, where it could stall other tasks.
        let _ = tokio::task::spawn_blocking(move || {
            attach(|py| {
                let (ok, value) = match result.and_then(|v| v.into_py_any(py)) {
                    Ok(v) => (true, v),
                    Err(e) => (false, e.into_value(py).into_any()),
                };
                // The loop may be closed already (its program ended): nothing is waiting then.
                let _ = loop_ref.call_method1(py, "call_soon_threadsafe", (settle, future_ref, ok, value));
            })
        })
        .await;
    });
    future.call_method1("add_done_callback", (AbortOnCancel(task.abort_handle()),))?;
    Ok(future)
}

/// Registers the exit hook.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = wrap_pyfunction!(_shutdown, m)?;
    m.py().import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
