"""Measurements for ``benches/python_overhead.py``; not public API.

A deploy target's ``status(key)`` called from Rust ``n`` times, timed in
Rust: on a Python object (plain or ``async def``) and on the Rust in-memory
target. Mean nanoseconds per call.
"""

from typing import Any

from . import _native

_impl: Any = getattr(_native, "_bench")

python_port = _impl.python_port
python_port_async = _impl.python_port_async
rust_port = _impl.rust_port
