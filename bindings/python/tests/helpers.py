"""Plays the people of the procedure, as the Rust end-to-end driver does:
runs a release and supplies whatever it waits for, until it is final."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import shipwarden as sw

SATURDAY = "2026-11-28T10:00:00Z"

# Values that pass the default policy's gates.
PASSING = {
    "coverage": 0.95,
    "critical_bugs": 0.0,
    "p95_latency": 120.0,
    "docs_reviewed": 1.0,
    "untracked_commits": 0.0,
    "cpu": 20.0,
    "memory": 30.0,
    "disk_free": 60.0,
    "tls_days_left": 80.0,
    "db_connectivity": 1.0,
    "network": 1.0,
    "response_time": 90.0,
}

HOST = {k: PASSING[k] for k in ("cpu", "memory", "disk_free", "tls_days_left", "db_connectivity", "network")}

RITA = sw.Actor("rita", ["release_manager"])


def person(role: str) -> sw.Actor:
    return sw.Actor(f"{role}-person", [role])


@dataclass
class Target:
    """A deploy target that records what it was asked to do."""

    name: str
    deployed: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        self.deployed.append(request.version)
        log.line(f"{self.name} installs {request.version}")
        return f"{self.name} runs {request.version}"

    def status(self, key: str) -> str | None:
        return None

    def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        self.rolled_back.append(request.key)
        log.stderr(f"{self.name} goes back")
        return f"{self.name} rolled back"


@dataclass
class Inbox:
    """A notifier that keeps every notice."""

    name: str = "inbox"
    notices: list[sw.Notice] = field(default_factory=list)

    def send(self, notice: sw.Notice) -> None:
        self.notices.append(notice)


class HostProbe:
    name = "host"

    def check(self, environment: str) -> dict[str, float]:
        return dict(HOST)


class Smoke:
    """A smoke test answering with a fixed response time, or failing outright."""

    name = "GET /health"

    def __init__(self, millis: float = 90.0, status: int = 200) -> None:
        self.millis = millis
        self.status = status

    def check(self, environment: str) -> list[sw.Measurement]:
        if self.status != 200:
            raise RuntimeError(f"GET /health answered {self.status}")
        return [sw.Measurement("response_time", self.millis, source="https://shop.test/health")]


def supply(manager: sw.ReleaseManager, release: str, unmet: sw.Unmet, skip: set[str]) -> Any:
    """The call that meets one unmet requirement (None when nobody here can)."""
    if unmet.requirement == "approval" and unmet.approval not in skip:
        role = unmet.roles[0]
        return ("approve", (release, person(role), unmet.approval), {"role": role, "comment": "ok"})
    if unmet.requirement == "gate" and unmet.gate is not None and unmet.gate not in skip:
        value = PASSING.get(unmet.gate, 1.0)
        return ("record_evidence", (release, person("qa_lead"), unmet.gate, value, "pytest"), {"environment": unmet.environment})
    if unmet.requirement == "step" and unmet.step is not None and unmet.step not in skip:
        return ("report_step", (release, person("qa_lead"), unmet.step), {"environment": unmet.environment, "detail": "done"})
    return None


def drive(manager: sw.ReleaseManager, release: str, skip: frozenset[str] = frozenset()) -> sw.RunOutcome:
    """Runs the release with the sync API until it is final, rolled back, or waits for a skipped approval, gate or step."""
    for _ in range(100):
        outcome = manager.run_sync(release)
        if outcome.outcome != "waiting":
            return outcome
        assert outcome.refusal is not None
        calls = [c for c in (supply(manager, release, u, set(skip)) for u in outcome.refusal.unmet) if c]
        if not calls:
            return outcome
        for name, args, kwargs in calls:
            try:
                getattr(manager, name + "_sync")(*args, **kwargs)
            except sw.RefusedError:
                pass
    raise AssertionError("the release did not finish in 100 rounds")


async def drive_async(manager: sw.ReleaseManager, release: str, skip: frozenset[str] = frozenset()) -> sw.RunOutcome:
    """The same with the async API."""
    for _ in range(100):
        outcome = await manager.run(release)
        if outcome.outcome != "waiting":
            return outcome
        assert outcome.refusal is not None
        calls = [c for c in (supply(manager, release, u, set(skip)) for u in outcome.refusal.unmet) if c]
        if not calls:
            return outcome
        for name, args, kwargs in calls:
            try:
                await getattr(manager, name)(*args, **kwargs)
            except sw.RefusedError:
                pass
        await asyncio.sleep(0)
    raise AssertionError("the release did not finish in 100 rounds")
