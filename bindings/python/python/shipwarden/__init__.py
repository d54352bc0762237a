"""shipwarden: executable release procedures.

A release is a typed state machine: plan, approve, gate, build, tag, stage,
verify, promote, smoke-test, roll back, notify, document — each step enforced
by the policy, recorded in a hash-chained audit trail, and resumable. This
package embeds the Rust engine; no rule is re-implemented in Python.

    import shipwarden as sw

    manager = sw.ReleaseManager.open("shipwarden.toml")
    outcome = manager.run_sync("shop-1.4.0")

Every operation of `ReleaseManager` is a coroutine method
(``await manager.run(...)``) with a sync twin for scripts
(``manager.run_sync(...)``). Ports written in Python — deploy targets,
notifiers, probes, ticketing, artifact stores, backups — are plain objects
with the right methods, sync or ``async def``.

Do not ``fork()`` a process after its first shipwarden call: the engine's
runtime threads do not survive it (start worker processes with ``spawn``).
"""

from ._native import (
    AdapterError,
    Actor,
    Approval,
    ArtifactRef,
    AuditEvent,
    AuditReport,
    BackupRef,
    Checkpoint,
    Commit,
    ConfigError,
    ConflictError,
    DeployRequest,
    GateResult,
    Hotfix,
    IntegrityError,
    InvalidInputError,
    Log,
    ManualClock,
    Measurement,
    NotFoundError,
    Notice,
    Plan,
    Policy,
    RefusedError,
    Refusal,
    Release,
    ReleaseManager,
    ReleaseNotes,
    ReleaseStatus,
    ReleaseSummary,
    RollbackRequest,
    RunOutcome,
    ShipwardenError,
    Stage,
    Step,
    Ticket,
    Unmet,
    __version__,
    parse_commit,
    release_notes,
    default_config,
    sign_statement,
)
from ._ports import ArtifactStore, Backup, DeployTarget, Notifier, Probe, Ticketing

from . import config

__all__ = [
    "AdapterError",
    "Actor",
    "Approval",
    "ArtifactRef",
    "ArtifactStore",
    "AuditEvent",
    "AuditReport",
    "Backup",
    "BackupRef",
    "Checkpoint",
    "Commit",
    "ConfigError",
    "ConflictError",
    "DeployRequest",
    "DeployTarget",
    "GateResult",
    "Hotfix",
    "IntegrityError",
    "InvalidInputError",
    "Log",
    "ManualClock",
    "Measurement",
    "NotFoundError",
    "Notice",
    "Notifier",
    "Plan",
    "Policy",
    "Probe",
    "RefusedError",
    "Refusal",
    "Release",
    "ReleaseManager",
    "ReleaseNotes",
    "ReleaseStatus",
    "ReleaseSummary",
    "RollbackRequest",
    "RunOutcome",
    "ShipwardenError",
    "Stage",
    "Step",
    "Ticket",
    "Ticketing",
    "Unmet",
    "__version__",
    "parse_commit",
    "release_notes",
    "config",
    "default_config",
    "sign_statement",
]
