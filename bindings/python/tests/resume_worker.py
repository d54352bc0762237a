"""A release driven by a Python process that may be killed mid-deployment.

Usage: python resume_worker.py STATE_DIR [KILL_AT]

The deploy targets journal every effect to STATE_DIR/journal (fsynced) and
answer `status(key)` from it. With KILL_AT=n the process SIGKILLs itself
right after the n-th deployment's effect, before the engine records it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import shipwarden as sw
from helpers import RITA, SATURDAY, HostProbe, Smoke, drive

state = Path(sys.argv[1])
kill_at = int(sys.argv[2]) if len(sys.argv) > 2 else 0
journal = state / "journal"
effects = 0


class JournalTarget:
    def __init__(self, name: str) -> None:
        self.name = name

    def _write(self, line: str) -> None:
        global effects
        with open(journal, "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())
        effects += 1
        if effects == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        self._write(f"deploy {self.name} {request.key}")
        return f"{self.name} runs {request.version}"

    def status(self, key: str) -> str | None:
        lines = journal.read_text().splitlines() if journal.exists() else []
        return f"{self.name} did {key}" if any(l.split()[1:] == [self.name, key] for l in lines) else None

    def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        self._write(f"rollback {self.name} {request.key}")
        return "back"


config = {
    "project": {"name": "shop", "state_dir": str(state / "state")},
    "users": {"rita": {"roles": ["release_manager"]}},
    # A killed driver's lease lapses after a second, so the next one need not wait long.
    "engine": {"lease_ttl": "5s"},  # the shortest allowed: the resumed process waits out the killed one's lease
    "build": {
        "command": [
            sys.executable,
            "-c",
            "import os; os.makedirs('dist', exist_ok=True); open('dist/app-{version}.tar.gz', 'w').write('app {version}')",
        ],
        "artifacts": {"app.tar.gz": "dist/app-{version}.tar.gz"},
    },
}
targets = {
    "staging": [JournalTarget("staging-1")],
    "test": [JournalTarget("test-1")],
    "prod": [JournalTarget("prod-1"), JournalTarget("prod-2")],
}
manager = sw.ReleaseManager.open(
    config, base_dir=state, clock=SATURDAY, targets=targets, checks={"prod": HostProbe()}, smoke={"prod": Smoke()}
)
try:
    manager.plan_sync("rita", sw.Plan("shop", "3.0.0"))
except sw.RefusedError:
    pass  # planned by the process before us
print(drive(manager, "shop-3.0.0").stage)
