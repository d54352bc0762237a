//! Measurements for `benches/python_overhead.py`: a port call made from
//! Rust, to a Python object and to a Rust one, timed in Rust. Not public
//! API: the functions live in the private submodule `shipwarden._native._bench`
//! (reached as `shipwarden._bench`), outside `__all__` and the stubs.

use std::sync::Arc;
use std::time::Instant;

use pyo3::prelude::*;
use shipwarden::ports::DeployTarget;
use shipwarden::ports::memory::MemoryTarget;

use shipwarden_bindings::PortKind;

use crate::ports::{EventLoop, py_port};

async fn round_trips(target: Arc<dyn DeployTarget>, n: u32) -> Result<f64, shipwarden::ports::PortError> {
    let start = Instant::now();
    for i in 0..n {
        target.status(if i % 2 == 0 { "deploy:prod:web-1#1" } else { "deploy:prod:web-1#2" }).await?;
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(n.max(1)))
}

fn run(py: Python<'_>, target: Arc<dyn DeployTarget>, n: u32) -> PyResult<f64> {
    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(round_trips(target, n)))
        .map_err(|e| crate::exceptions::AdapterError::new_err(e.to_string()))
}

/// Mean nanoseconds of `target.status(key)` called from Rust, `n` times, on a Python deploy target.
#[pyfunction]
fn python_port(py: Python<'_>, target: &Bound<'_, PyAny>, n: u32) -> PyResult<f64> {
    let port = py_port(target, &PortKind::TARGET, Arc::new(EventLoop::default()))?;
    run(py, Arc::new(port), n)
}

/// Like `python_port`, awaited: an `async def status` runs on the caller's event loop.
#[pyfunction]
fn python_port_async<'py>(py: Python<'py>, target: &Bound<'py, PyAny>, n: u32) -> PyResult<Bound<'py, PyAny>> {
    let event_loop = Arc::new(EventLoop::default());
    event_loop.set(pyo3_async_runtimes::tokio::get_current_locals(py)?);
    let port: Arc<dyn DeployTarget> = Arc::new(py_port(target, &PortKind::TARGET, event_loop)?);
    crate::bridge::future_into_py(py, async move {
        round_trips(port, n).await.map_err(|e| crate::exceptions::AdapterError::new_err(e.to_string()))
    })
}

/// The same call on shipwarden's in-memory Rust deploy target.
#[pyfunction]
fn rust_port(py: Python<'_>, n: u32) -> PyResult<f64> {
    run(py, Arc::new(MemoryTarget::new("web-1")), n)
}

/// Registers the functions in the private submodule `_bench`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let bench = PyModule::new(m.py(), "_bench")?;
    bench.add_function(wrap_pyfunction!(python_port, &bench)?)?;
    bench.add_function(wrap_pyfunction!(python_port_async, &bench)?)?;
    bench.add_function(wrap_pyfunction!(rust_port, &bench)?)?;
    // An attribute, not `add_submodule`: that would list it in `__all__`.
    m.setattr("_bench", bench)
}
