"""The shapes a Python object needs to serve as a port.

These are typing protocols: nothing needs to inherit from them. Each method
may be a plain method or an ``async def``. An exception raised by a method
becomes the port's error: ``TimeoutError`` and ``ConnectionError`` are
retried with the policy's backoff, other exceptions are not, unless they
carry ``retryable = True`` (and optionally ``retry_after`` in seconds).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Protocol, TypeVar, Union, runtime_checkable

from ._native import ArtifactRef, BackupRef, DeployRequest, Log, Measurement, Notice, Plan, RollbackRequest, Ticket

T = TypeVar("T")
MaybeAwaitable = Union[T, Awaitable[T]]


@runtime_checkable
class DeployTarget(Protocol):
    """A machine, cluster or service a release is deployed to (R-8e, R-8g).

    ``status(key)`` is optional: return the summary of the deployment or
    rollback done under that idempotency key, or None if it never happened,
    so the engine can resume after a crash without deploying twice.
    """

    name: str

    def deploy(self, request: DeployRequest, log: Log) -> MaybeAwaitable[str | None]: ...

    def rollback(self, request: RollbackRequest, log: Log) -> MaybeAwaitable[str | None]: ...


@runtime_checkable
class Notifier(Protocol):
    """Chat, mail or any channel that tells people (R-9a)."""

    name: str

    def send(self, notice: Notice) -> MaybeAwaitable[None]: ...


@runtime_checkable
class Probe(Protocol):
    """Measures an environment: host health, latency, smoke tests (R-8a, R-8f)."""

    name: str

    def check(
        self, environment: str
    ) -> MaybeAwaitable[Sequence[Measurement] | Mapping[str, float]]: ...


@runtime_checkable
class Ticketing(Protocol):
    """Jira, GitHub Issues or any tracker (R-4b, R-7b, R-9d)."""

    def get(self, key: str) -> MaybeAwaitable[Ticket]: ...

    def open_bugs(self, scope: list[str], severities: list[str]) -> MaybeAwaitable[Sequence[Ticket]]: ...

    def comment(self, key: str, body: str) -> MaybeAwaitable[None]: ...

    def transition(self, key: str, status: str) -> MaybeAwaitable[None]: ...

    def create_release_ticket(self, plan: Plan) -> MaybeAwaitable[str]: ...


@runtime_checkable
class ArtifactStore(Protocol):
    """Where versioned artifacts live (R-1c, R-8b, R-8c)."""

    def put(self, name: str, version: str, path: str) -> MaybeAwaitable[ArtifactRef]: ...

    def get(self, artifact: ArtifactRef) -> MaybeAwaitable[bytes]: ...

    def exists(self, artifact: ArtifactRef) -> MaybeAwaitable[bool]: ...

    def versions(self, name: str) -> MaybeAwaitable[Sequence[str]]: ...


@runtime_checkable
class Backup(Protocol):
    """Backs up and restores an environment (R-8c, R-8g); ``find(key)`` is optional."""

    def backup(self, environment: str, key: str) -> MaybeAwaitable[BackupRef]: ...

    def verify(self, backup: BackupRef) -> MaybeAwaitable[str | None]: ...

    def restore(self, backup: BackupRef) -> MaybeAwaitable[str | None]: ...
