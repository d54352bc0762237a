//! Measurements for `benches/python_overhead.py`: a port call made from
//! Rust, to a Python object and to a Rust one, timed in Rust.

use std::sync::Arc;
use std::time::Instant;

use pyo3::prelude::*;
use shipwarden::ports::DeployTarget;
use shipwarden::ports::memory::MemoryTarget;

use crate::ports::{EventLoop, PyPort};

async fn round_trips(target: Arc<dyn DeployTarget>, n: u32) -> Result<f64, shipwarden::ports::PortError> {
    let start = Instant::now();
    for i in 0..n {
        target.status(if i % 2 == 0 { "deploy:prod:web-1#1" } else { "deploy:prod:web-1#2" }).await?;
    }
    Ok(start.elapsed().as_nanos() as f64 / f64::from(n.max(1)))
}

fn run(py: Python<'_>, target: Arc<dyn DeployTarget>, n: u32) -> PyResult<f64> {
    py.detach(|| pyo3_async_runtimes::tokio::get_runtime().block_on(round_trips(target, n)))
        .map_err(|e| crate::errors::AdapterError::new_err(e.to_string()))
}

/// Mean nanoseconds of `target.status(key)` called from Rust, `n` times, on a Python deploy target.
#[pyfunction]
fn _bench_python_port(py: Python<'_>, target: &Bound<'_, PyAny>, n: u32) -> PyResult<f64> {
    let port = PyPort::new(target, "deploy-target", &["deploy", "rollback", "status"], Arc::new(EventLoop::default()))?;
    run(py, Arc::new(port), n)
}

/// Like `_bench_python_port`, awaited: an `async def status` runs on the caller's event loop.
#[pyfunction]
fn _bench_python_port_async<'py>(py: Python<'py>, target: &Bound<'py, PyAny>, n: u32) -> PyResult<Bound<'py, PyAny>> {
    let event_loop = Arc::new(EventLoop::default());
    event_loop.set(pyo3_async_runtimes::tokio::get_current_locals(py)?);
    let port: Arc<dyn DeployTarget> =
        Arc::new(PyPort::new(target, "deploy-target", &["deploy", "rollback", "status"], event_loop)?);
    crate::bridge::future_into_py(py, async move {
        round_trips(port, n).await.map_err(|e| crate::errors::AdapterError::new_err(e.to_string()))
    })
}

/// The same call on shipwarden's in-memory Rust deploy target.
#[pyfunction]
fn _bench_rust_port(py: Python<'_>, n: u32) -> PyResult<f64> {
    run(py, Arc::new(MemoryTarget::new("web-1")), n)
}

/// Registers the functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_bench_python_port, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_python_port_async, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_rust_port, m)?)?;
    Ok(())
}
