"""The Python side of the bindings' overhead figures (benches/bindings.sh).

1. A status round trip from Python: `manager.status_sync(id)` and
   `await manager.status(id)` on an in-memory manager.
2. A port written in Python called from Rust: a deploy target's `status(key)`,
   called by Rust code in a loop (GIL taken and released on every call), beside
   the same call on shipwarden's in-memory Rust target.

Each figure is the median of 5 rounds.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import shipwarden as sw
from shipwarden import _bench


class Target:
    name = "web-1"

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        return "ok"

    def status(self, key: str) -> str | None:
        return "done" if key.endswith("1") else None

    def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        return "ok"


class AsyncTarget(Target):
    async def status(self, key: str) -> str | None:  # type: ignore[override]
        return "done" if key.endswith("1") else None


def median(rounds: list[float]) -> float:
    return statistics.median(rounds)


def main() -> None:
    manager = sw.ReleaseManager.open()
    manager.plan_sync(sw.Actor("rita", ["release_manager"]), sw.Plan("shop", "1.0.0"))
    n = 10_000

    sync_rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            manager.status_sync("shop-1.0.0")
        sync_rounds.append((time.perf_counter() - start) / n)

    async def rounds() -> list[float]:
        out = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n // 5):
                await manager.status("shop-1.0.0")
            out.append((time.perf_counter() - start) / (n // 5))
        return out

    async_rounds = asyncio.run(rounds())

    async def floor() -> list[float]:
        # The same shape in pure Python: hand work to another thread, await the answer on the loop.
        loop = asyncio.get_running_loop()
        out = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n // 5):
                await loop.run_in_executor(None, int)
            out.append((time.perf_counter() - start) / (n // 5))
        return out

    floor_rounds = asyncio.run(floor())

    target = Target()
    py_port = [_bench.python_port(target, 100_000) / 1e9 for _ in range(5)]
    async def awaited() -> list[float]:
        return [await _bench.python_port_async(AsyncTarget(), 2_000) / 1e9 for _ in range(5)]

    py_async_port = asyncio.run(awaited())
    rust_port = [_bench.rust_port(100_000) / 1e9 for _ in range(5)]

    print(
        f"calls from Python: status_sync {median(sync_rounds) * 1e6:.2f} µs, "
        f"await status {median(async_rounds) * 1e6:.2f} µs "
        f"(floor: await loop.run_in_executor(None, int) {median(floor_rounds) * 1e6:.2f} µs)"
    )
    print(
        f"port round trip from Rust: Python deploy-target status {median(py_port) * 1e6:.2f} µs "
        f"(goal < 20 µs), `async def status` on the caller's loop {median(py_async_port) * 1e6:.2f} µs, "
        f"Rust in-memory target {median(rust_port) * 1e6:.3f} µs"
    )


if __name__ == "__main__":
    main()
