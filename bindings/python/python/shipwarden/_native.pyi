"""Type stubs for the native module. Checked against it by `python -m mypy.stubtest shipwarden`."""

import builtins
import datetime
import os
from collections.abc import Mapping, Sequence
from collections.abc import Callable
from typing import Any, ClassVar, Literal, final
from .config import Config

__version__: str
__all__ = [
    "Actor",
    "AdapterError",
    "Approval",
    "ArtifactRef",
    "AuditEvent",
    "AuditReport",
    "BackupRef",
    "Checkpoint",
    "Commit",
    "ConfigError",
    "ConflictError",
    "DeployRequest",
    "EventStream",
    "GateResult",
    "Hotfix",
    "IntegrityError",
    "InvalidInputError",
    "Log",
    "LogEvent",
    "LogStream",
    "ManualClock",
    "Measurement",
    "NotFoundError",
    "Notice",
    "Plan",
    "Policy",
    "Refusal",
    "RefusedError",
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
    "StepError",
    "Subscription",
    "Ticket",
    "Unmet",
    "__version__",
    "parse_commit",
    "release_notes",
    "default_config",
    "sign_statement",
]

class ShipwardenError(Exception):
    """Base of every error shipwarden raises."""

    retryable: bool

class RefusedError(ShipwardenError):
    """The policy refused."""

    rule: str
    stage: Stage | None
    attempted: str
    unmet: list[Unmet]
    refusal: Refusal

class ConflictError(ShipwardenError):
    """Another driver kept changing the release, or holds its lease."""

class AdapterError(ShipwardenError):
    """An outside system failed: `.port`, `.operation`, `.kind`, `.retryable`.

    Raised by `deploy()` when a target fails (`.kind == "step_failed"`, with
    `.cause` and `.error`, a `StepError`), and by any call whose port or
    event store fails.
    """

    port: str
    operation: str
    kind: str
    cause: str
    error: StepError

class ConfigError(ShipwardenError):
    """The configuration has problems, each as (path, message)."""

    problems: list[tuple[str, str]]

class InvalidInputError(ShipwardenError):
    """An argument is not valid."""

class NotFoundError(InvalidInputError):
    """No such release."""

class IntegrityError(ShipwardenError):
    """The audit trail does not verify (R-9d)."""

    release: str | None
    sequence: int | None

@final
class Stage:
    """A stage of the release procedure (`planned` … `closed`), or one a policy adds."""

    PLANNED: ClassVar[Stage]
    SCOPE_APPROVED: ClassVar[Stage]
    BUILT: ClassVar[Stage]
    STAGING_DEPLOYED: ClassVar[Stage]
    QA_VERIFIED: ClassVar[Stage]
    INTEGRATION_TESTED: ClassVar[Stage]
    TEST_DEPLOYED: ClassVar[Stage]
    ACCEPTED: ClassVar[Stage]
    PROD_READY: ClassVar[Stage]
    DEPLOYING: ClassVar[Stage]
    VERIFYING: ClassVar[Stage]
    RELEASED: ClassVar[Stage]
    ROLLING_BACK: ClassVar[Stage]
    ROLLED_BACK: ClassVar[Stage]
    CANCELLED: ClassVar[Stage]
    CLOSED: ClassVar[Stage]
    def __new__(cls, name: str) -> Stage:
        """A built-in stage by name; any other name raises `InvalidInputError` naming the built-in stages."""
    @staticmethod
    def custom(name: str) -> Stage:
        """A stage the policy adds (`[[policy.stages]]`); the engine refuses it when the policy does not declare it (R-3)."""
    @property
    def name(self) -> str:
        """The stage's name."""
    @staticmethod
    def built_in() -> list[Stage]:
        """Every stage the procedure defines, in order."""
    def __hash__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __ne__(self, value: object, /) -> bool: ...
    def to_dict(self) -> Any:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Actor:
    """Someone acting on a release: a user name and the roles they hold."""

    def __new__(cls, user: str, roles: Sequence[str] = (), *, proof: Mapping[str, Any] | None = None) -> Actor: ...
    @property
    def user(self) -> str:
        """The user name recorded in the audit trail."""
    @property
    def roles(self) -> list[str]:
        """The roles held."""
    @property
    def proof(self) -> dict[str, Any]:
        """How the actor was established, as a dict with its `kind` (`local`,
        `ssh_signature`, `token`, `oidc`, `chat`) and who or what proved it.
        """
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Hotfix:
    """The emergency details of a hotfix (R-5b): its ticket, summary and justification."""

    def __new__(cls, ticket: str, summary: str, justification: str) -> Hotfix: ...
    @property
    def ticket(self) -> str:
        """The hotfix ticket's key."""
    @property
    def summary(self) -> str:
        """The ticket's summary (carries the policy's prefix, `HOTFIX`)."""
    @property
    def justification(self) -> str:
        """Why it cannot wait for a normal release."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Plan:
    """A release plan (R-1a): project, version, kind, scope, date, dependencies."""

    def __new__(
        cls,
        project: str,
        version: str,
        kind: str = "minor",
        *,
        release: str | None = None,
        scope: Sequence[str] = (),
        target_date: datetime.date | str | None = None,
        dependencies: Mapping[str, str] | None = None,
        hotfix: Hotfix | None = None,
    ) -> Plan: ...
    @property
    def release(self) -> str:
        """The release id (`shop-1.4.0` unless given)."""
    @property
    def project(self) -> str:
        """The project."""
    @property
    def version(self) -> str:
        """The version."""
    @property
    def kind(self) -> str:
        """`major`, `minor`, `patch` or `emergency`."""
    @property
    def scope(self) -> list[str]:
        """The ticket keys in scope."""
    @property
    def target_date(self) -> str | None:
        """The target date, as `YYYY-MM-DD`."""
    @property
    def dependencies(self) -> dict[str, str]:
        """External dependencies: name to version constraint."""
    @property
    def hotfix(self) -> Hotfix | None:
        """The hotfix details of an emergency release."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Approval:
    """An approval given (R-2c): which, by whom in which role, when, through
    which channel; also the record of a rejection of one, its comment the reason.
    """

    @property
    def approval(self) -> str:
        """Which approval (`scope`, `qa_signoff`, `acceptance`, `emergency`)."""
    @property
    def role(self) -> str:
        """The role it was given in."""
    @property
    def user(self) -> str:
        """Who gave it."""
    @property
    def at(self) -> datetime.datetime:
        """When."""
    @property
    def channel(self) -> str:
        """The channel (`ticket_comment`, `email`, `chat`, `cli`, `api`)."""
    @property
    def comment(self) -> str:
        """The comment."""
    @property
    def proof(self) -> dict[str, Any] | None:
        """How the approver was established (issue #19), as a dict with its
        `kind` and who or what proved it; None for approvals recorded before proofs were.
        """
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class GateResult:
    """A judged gate (R-7g): value, threshold, verdict, evidence, producer, time."""

    @property
    def gate(self) -> str:
        """The gate."""
    @property
    def environment(self) -> str | None:
        """The environment measured, for per-environment checks."""
    @property
    def target(self) -> str | None:
        """The target measured, if any."""
    @property
    def value(self) -> float:
        """The measured value."""
    @property
    def measured(self) -> str:
        """The measured value as people read it (`92.0 %`)."""
    @property
    def threshold(self) -> str:
        """The threshold it was judged against (`>= 90.0 %`)."""
    @property
    def passed(self) -> bool:
        """The verdict."""
    @property
    def source(self) -> str:
        """Where the value came from."""
    @property
    def produced_by(self) -> str:
        """Who or what produced it."""
    @property
    def at(self) -> datetime.datetime:
        """When it was recorded."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class ArtifactRef:
    """An artifact: name, version, SHA-256 and size."""

    def __new__(cls, name: str, version: str, sha256: str, size: int) -> ArtifactRef: ...
    @property
    def name(self) -> str:
        """The artifact's name."""
    @property
    def version(self) -> str:
        """Its version."""
    @property
    def sha256(self) -> str:
        """The SHA-256 of its content, in hex."""
    @property
    def size(self) -> int:
        """Its size in bytes."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Step:
    """A step's record: kind, environment, target, when, how it ended, its log."""

    @property
    def key(self) -> str:
        """The idempotency key."""
    @property
    def step(self) -> str:
        """The kind of step (`build`, `deploy`, `smoke_test`)."""
    @property
    def environment(self) -> str | None:
        """Its environment."""
    @property
    def target(self) -> str | None:
        """Its target."""
    @property
    def ok(self) -> bool | None:
        """True when it succeeded, False when it failed, None while it runs."""
    @property
    def detail(self) -> str | None:
        """What it did, or what went wrong."""
    @property
    def log(self) -> list[str]:
        """Its log lines."""
    @property
    def in_doubt(self) -> str | None:
        """Why nobody knew how it ended, once found in doubt (R-9d); None for a step never in doubt."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Release:
    """A release: the fold of its audit events."""

    @property
    def id(self) -> str | None:
        """The release id."""
    @property
    def plan(self) -> Plan | None:
        """The plan."""
    @property
    def project(self) -> str | None:
        """The project."""
    @property
    def version(self) -> str | None:
        """The version."""
    @property
    def stage(self) -> Stage | None:
        """The current stage."""
    @property
    def path(self) -> list[Stage]:
        """Every stage entered, in order."""
    @property
    def author(self) -> str | None:
        """Who planned it."""
    @property
    def approvals(self) -> list[Approval]:
        """Every approval given."""
    @property
    def rejections(self) -> list[Approval]:
        """Every rejection of an approval (R-2c), standing or lifted, oldest
        first: the same `Approval` records, `comment` being the reason. One
        stands until its author approves (R-2b).
        """
    @property
    def gate_results(self) -> list[GateResult]:
        """Every gate result, oldest first."""
    @property
    def artifacts(self) -> list[ArtifactRef]:
        """The artifacts recorded."""
    @property
    def steps(self) -> list[Step]:
        """Every step, in start order."""
    @property
    def in_doubt(self) -> list[Step]:
        """The steps in doubt, waiting for a person to `resolve` them (R-9d)."""
    @property
    def deployed_to(self) -> list[str]:
        """Environments the release was deployed to."""
    @property
    def rollback_reason(self) -> str | None:
        """Why a rollback began, if one did."""
    @property
    def cancel_reason(self) -> str | None:
        """Why it was cancelled, if it was."""
    @property
    def close_summary(self) -> str | None:
        """The closing summary, once closed."""
    @property
    def stream_version(self) -> int:
        """The number of events folded (the stream version)."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Unmet:
    """One unmet requirement of a refusal, with the rule it comes from."""

    @property
    def rule(self) -> str:
        """The rule (`R-5a`)."""
    @property
    def requirement(self) -> str:
        """What kind of requirement (`approval`, `gate`, `step`, `window`, …)."""
    @property
    def message(self) -> str:
        """The requirement as people read it."""
    @property
    def approval(self) -> str | None:
        """The approval missing, for `approval` requirements."""
    @property
    def roles(self) -> list[str]:
        """The roles that may give it, for `approval` requirements."""
    @property
    def gate(self) -> str | None:
        """The gate, for `gate` requirements."""
    @property
    def user(self) -> str | None:
        """Who: the person who rejected the approval, for `rejected`
        requirements (R-2b); the person concerned, for `duplicate_approval`,
        `duplicate_rejection` and `separation_of_duties` ones.
        """
    @property
    def reason(self) -> str | None:
        """Why the approval was rejected, for `rejected` requirements (R-2b)."""
    @property
    def step(self) -> str | None:
        """The step: its kind for `step` requirements, its key for `step_in_doubt` ones."""
    @property
    def detail(self) -> str | None:
        """What is known, for `step_in_doubt` requirements."""
    @property
    def environment(self) -> str | None:
        """The environment concerned, if any."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Refusal:
    """Why the policy refused: the first rule, the stage, what was attempted, every unmet requirement."""

    @property
    def rule(self) -> str:
        """The rule of the first unmet requirement."""
    @property
    def stage(self) -> Stage | None:
        """The stage the release was in."""
    @property
    def attempted(self) -> str:
        """What was attempted (`advance built -> staging_deployed`)."""
    @property
    def unmet(self) -> list[Unmet]:
        """Every unmet requirement."""
    @property
    def rules(self) -> list[str]:
        """The rules of the unmet requirements, in order, without repeats."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class ReleaseStatus:
    """A release's state and, for each stage it may go to next, the refusal advancing would meet."""

    @property
    def release(self) -> Release:
        """The release."""
    @property
    def stage(self) -> Stage | None:
        """The current stage."""
    @property
    def next(self) -> list[tuple[Stage, Refusal | None]]:
        """Each next stage with its refusal (None: advancing would succeed now)."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class StepError:
    """The step a run stopped on, with the port error that failed it."""

    @property
    def step(self) -> str:
        """The kind of step (`build`, `deploy`, ...)."""
    @property
    def environment(self) -> str | None:
        """Its environment, if any."""
    @property
    def target(self) -> str | None:
        """Its target, if any."""
    @property
    def port(self) -> str:
        """The port or adapter that failed (`deploy-target web-1`), or `engine`."""
    @property
    def operation(self) -> str:
        """The operation that failed (`deploy`)."""
    @property
    def cause(self) -> str:
        """What happened."""
    @property
    def retryable(self) -> bool:
        """True when trying again can help."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The error as plain data."""

@final
class RunOutcome:
    """Where a run stopped.

    `outcome` is `reached`, `waiting` (with `refusal`), `failed` (a step
    failed in this run: `error` and `refusal`), `rolled_back` (`reason`, and
    `error` when a port's error caused it) or `final`.
    """

    @property
    def outcome(self) -> Literal["reached", "waiting", "failed", "rolled_back", "final"]:
        """`reached`, `waiting`, `failed`, `rolled_back` or `final`."""
    @property
    def stage(self) -> Stage | None:
        """The stage reached, waited or failed in, or final."""
    @property
    def refusal(self) -> Refusal | None:
        """What the release waits for, when waiting or failed."""
    @property
    def reason(self) -> str | None:
        """Why it was rolled back, when it was."""
    @property
    def error(self) -> StepError | None:
        """The failed step's port error: port, operation, cause, retryable."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class AuditEvent:
    """One entry of the audit trail: who did what when under which rule, hash-chained."""

    @property
    def stream(self) -> str:
        """The release stream."""
    @property
    def sequence(self) -> int:
        """Its position in the stream, from 1."""
    @property
    def at(self) -> datetime.datetime:
        """When it was appended."""
    @property
    def actor(self) -> str:
        """Who did it."""
    @property
    def rule(self) -> str:
        """The rule it was done under."""
    @property
    def kind(self) -> str:
        """The event's name (`planned`, `approved`, `step_finished`, …)."""
    @property
    def event(self) -> dict[str, Any]:
        """The event's fields."""
    @property
    def prev_hash(self) -> str:
        """The hash of the previous entry."""
    @property
    def hash(self) -> str:
        """This entry's hash."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Checkpoint:
    """A signed checkpoint of a release's audit chain (R-9d): the head hash at a
    sequence and the stage reached there, signed with the project's key.
    """

    @property
    def stream(self) -> str:
        """The release stream."""
    @property
    def sequence(self) -> int:
        """The sequence of the event whose hash is `head`."""
    @property
    def head(self) -> str:
        """The chain's head hash at `sequence`."""
    @property
    def stage(self) -> Stage:
        """The stage the release reached there."""
    @property
    def at(self) -> datetime.datetime:
        """When it was signed."""
    @property
    def algorithm(self) -> str:
        """The signature algorithm (`ed25519`)."""
    @property
    def public_key(self) -> str:
        """The signer's public key, hex."""
    @property
    def signature(self) -> str:
        """The signature, hex."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class AuditReport:
    """What a verified audit trail says (R-9d): its head, how many events and
    checkpoints, the newest checkpoint's sequence, and what no signature covers yet.
    """

    @property
    def ok(self) -> bool:
        """Always True: a trail that does not verify raises `IntegrityError`."""
    @property
    def head(self) -> str:
        """The chain's head hash."""
    @property
    def events(self) -> int:
        """How many events the chain holds."""
    @property
    def checkpoints(self) -> int:
        """How many checkpoints verified."""
    @property
    def anchored_at(self) -> int | None:
        """The newest checkpoint's sequence; None when the chain is unanchored."""
    @property
    def unanchored_events(self) -> int:
        """Events after the newest checkpoint, which no signature vouches for yet."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class ReleaseSummary:
    """A release as the store lists it."""

    @property
    def release(self) -> str:
        """The release id."""
    @property
    def project(self) -> str:
        """The project."""
    @property
    def version(self) -> str:
        """The version."""
    @property
    def kind(self) -> str:
        """The kind."""
    @property
    def stage(self) -> Stage:
        """The stage."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Policy:
    """The policy: stages, transitions, gates, windows, roles."""

    @staticmethod
    def default() -> Policy:
        """The procedure's own policy."""
    @staticmethod
    def from_toml(text: str) -> Policy:
        """The default policy with the overrides in this TOML text."""
    def to_toml(self) -> str:
        """The whole policy as TOML."""
    def to_mermaid(self) -> str:
        """The stages and transitions as a Mermaid diagram."""
    @property
    def stages(self) -> list[Stage]:
        """The stages, in order."""
    @property
    def gates(self) -> dict[str, str]:
        """The gates and their thresholds (`coverage` -> `>= 90.0 %`)."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Commit:
    """A commit read as a change: conventional type and scope, tickets, breaking, hotfix, revert, merge."""

    @property
    def sha(self) -> str:
        """The full commit id."""
    @property
    def subject(self) -> str:
        """The subject as written."""
    @property
    def kind(self) -> str | None:
        """The conventional type (`feat`, `fix`), if any."""
    @property
    def scope(self) -> str | None:
        """The conventional scope, if any."""
    @property
    def description(self) -> str:
        """The description without type, scope and ticket keys."""
    @property
    def breaking(self) -> bool:
        """True for a breaking change (`!` or `BREAKING CHANGE:`)."""
    @property
    def tickets(self) -> list[str]:
        """The ticket keys it names."""
    @property
    def hotfix(self) -> bool:
        """True for a hotfix."""
    @property
    def revert(self) -> str | None:
        """The commit it reverts, if it is a revert."""
    @property
    def merge(self) -> bool:
        """True for a merge commit."""
    @property
    def author(self) -> str:
        """The author."""
    @property
    def group(self) -> str:
        """The notes section it belongs to (`Features`, `Fixes`, …)."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class ReleaseNotes:
    """Release notes: sections of entries, known issues, contributors."""

    @property
    def project(self) -> str:
        """The project."""
    @property
    def version(self) -> str | None:
        """The version, if the notes are for one."""
    @property
    def sections(self) -> list[str]:
        """The section titles, in order."""
    @property
    def contributors(self) -> list[str]:
        """Who contributed."""
    def to_markdown(self) -> str:
        """The notes as Markdown."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class DeployRequest:
    """What a deploy target is asked to deploy."""

    @property
    def release(self) -> str:
        """The release."""
    @property
    def version(self) -> str:
        """Its version."""
    @property
    def environment(self) -> str:
        """The environment."""
    @property
    def artifacts(self) -> list[ArtifactRef]:
        """The artifacts to install."""
    @property
    def key(self) -> str:
        """The idempotency key of this deployment of this target."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class RollbackRequest:
    """What a deploy target is asked to roll back."""

    @property
    def release(self) -> str:
        """The release being rolled back."""
    @property
    def environment(self) -> str:
        """The environment."""
    @property
    def previous(self) -> list[ArtifactRef]:
        """The previous working release's artifacts, if known."""
    @property
    def key(self) -> str:
        """The idempotency key of this rollback of this target."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Notice:
    """A message about a release, for a notifier."""

    @property
    def key(self) -> str:
        """The idempotency key (receivers drop repeats)."""
    @property
    def release(self) -> str:
        """The release."""
    @property
    def subject(self) -> str:
        """One line."""
    @property
    def body(self) -> str:
        """The text."""
    @property
    def audience(self) -> list[str]:
        """Who it is for (`teams`, `stakeholders`, `clients`, or a group's name)."""
    @property
    def ask(self) -> dict[str, Any] | None:
        """The approval it asks for (an approval request, reminder or expiry), as
        plain data: approval, roles, needed, have, stage, project, version,
        kind, tickets, gates, missing; `None` for other notices."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Measurement:
    """A value a probe measured, for a gate."""

    def __new__(cls, gate: str, value: float, *, target: str | None = None, source: str = "") -> Measurement: ...
    @property
    def gate(self) -> str:
        """The gate it is evidence for."""
    @property
    def value(self) -> float:
        """The value, in the gate's unit."""
    @property
    def target(self) -> str | None:
        """The target measured, if any."""
    @property
    def source(self) -> str:
        """Where it was measured."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Ticket:
    """A ticket as a ticketing system reports it."""

    def __new__(
        cls, key: str, summary: str, status: str = "Open", kind: str = "Story", severity: str | None = None
    ) -> Ticket: ...
    @property
    def key(self) -> str:
        """Its key."""
    @property
    def summary(self) -> str:
        """Its summary."""
    @property
    def status(self) -> str:
        """Its status (`Open`, `Done`)."""
    @property
    def kind(self) -> str:
        """Its type (`Bug`, `Story`)."""
    @property
    def severity(self) -> str | None:
        """Its severity, for bugs."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class BackupRef:
    """A backup that was taken."""

    def __new__(
        cls,
        id: str,
        environment: str,
        *,
        size: int = 0,
        sha256: str | None = None,
        at: datetime.datetime | str | None = None,
    ) -> BackupRef: ...
    @property
    def id(self) -> str:
        """The backup's id in its system."""
    @property
    def environment(self) -> str:
        """The environment backed up."""
    @property
    def size(self) -> int:
        """Its size in bytes."""
    @property
    def sha256(self) -> str | None:
        """Its SHA-256, if known."""
    @property
    def at(self) -> datetime.datetime:
        """When it was taken."""
    def __eq__(self, value: object, /) -> bool: ...
    def to_dict(self) -> dict[str, Any]:
        """The value as plain data (dicts, lists, strings, numbers), as the JSON output spells it."""

@final
class Log:
    """Where a port writes its log lines (`log.line(text)`, `log.stdout(text)`, `log.stderr(text)`);
    they reach the step's record and live subscribers as they are written.
    """

    def line(self, text: str, stream: str = "stdout") -> None:
        """Writes a line; `stream` is `stdout`, `stderr` or `info`."""
    def stdout(self, text: str) -> None:
        """Writes a line to standard output."""
    def stderr(self, text: str) -> None:
        """Writes a line to standard error."""

@final
class LogEvent:
    """One line a step wrote to its log, as it was written."""

    release: str
    step: str
    stream: str
    text: str

@final
class EventStream:
    """The audit events appended from now on: `async for event in manager.events()`."""

    def __aiter__(self) -> EventStream: ...
    async def __anext__(self) -> AuditEvent: ...

@final
class LogStream:
    """The step log lines written from now on: `async for line in manager.logs()`."""

    def __aiter__(self) -> LogStream: ...
    async def __anext__(self) -> LogEvent: ...

@final
class Subscription:
    """A callback subscription (`manager.on_event(callback)`): delivers until `close()`; also a context manager."""

    def close(self) -> None:
        """Stops delivering."""
    @property
    def closed(self) -> bool:
        """True once closed (or once the manager is gone)."""
    def __enter__(self) -> Subscription: ...
    def __exit__(self, kind: object, value: object, traceback: object) -> None: ...

@final
class ManualClock:
    """A clock that moves only when told to: for tests, rehearsals, and windows."""

    def __new__(cls, at: datetime.datetime | str) -> ManualClock: ...
    def now(self) -> datetime.datetime:
        """The time it shows."""
    def set(self, at: datetime.datetime | str) -> None:
        """Sets the time (an aware datetime or an RFC 3339 string)."""
    def advance(self, seconds: float) -> None:
        """Moves the time forward by `seconds`."""

_Who = Actor | str
_StageLike = Stage | str
_Time = datetime.datetime | str

@final
class ReleaseManager:
    """Runs releases: plan, approve, record evidence, run, deploy, verify, roll back."""

    @staticmethod
    def open(
        config: str | os.PathLike[str] | Config | Mapping[str, Any] | None = None,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        policy: Policy | None = None,
        clock: ManualClock | datetime.datetime | str | None = None,
        targets: Mapping[str, Any] | None = None,
        checks: Mapping[str, Any] | None = None,
        smoke: Mapping[str, Any] | None = None,
        notifiers: Sequence[Any] | None = None,
        ticketing: Any | None = None,
        artifacts: Any | None = None,
        backup: Any | None = None,
    ) -> ReleaseManager:
        """Opens a manager.

        `config` is a `shipwarden.toml` path, a dict of the same shape (paths
        relative to `base_dir`), or None for an in-memory manager (memory
        store, builder, artifacts and backups: tests and tours). Python
        objects passed as ports are added on top: `targets` replace the
        configured targets of their environments; `checks`, `smoke` and
        `notifiers` are added; `ticketing`, `artifacts`, `backup` replace.
        """
    @property
    def policy(self) -> Policy:
        """The policy in force."""
    def actor(self, user: _Who) -> Actor:
        """The actor for a user of the configuration (`[users.NAME]`)."""
    def now(self) -> datetime.datetime:
        """The time on the manager's clock."""
    async def plan(
        self, actor: _Who, plan: Plan, *, signature: str | None = None, statement: str | None = None
    ) -> Release:
        """Plans a release (R-1a, R-3); the plan's version must be newer than the last release (R-4c).

        An emergency plan may be signed (`[identity] emergency_plan`, R-2d):
        `statement` from `action_statement(plan.release, actor,
        "emergency_plan", hotfix_justification)` and its `signature`.
        """
    def plan_sync(
        self, actor: _Who, plan: Plan, *, signature: str | None = None, statement: str | None = None
    ) -> Release:
        """The sync twin of `plan`, for scripts (not inside a running event loop)."""
    async def approve(
        self,
        release: str,
        actor: _Who,
        approval: str,
        *,
        role: str | None = None,
        channel: str = "api",
        comment: str = "",
        signature: str | None = None,
        statement: str | None = None,
    ) -> Release:
        """Records an approval (R-2c): `approval` is `scope`, `qa_signoff`, `acceptance`, `emergency` or one the policy adds; `role` defaults to the actor's only role.

        `signature` (an armored SSH signature, namespace `shipwarden`) and
        `statement` (the text it signs, from `approval_statement`) prove who
        approves (issue #19, R-2d): verified against the configured users'
        keys as `shipwarden approve --signature` does; one that does not verify is refused.
        """
    def approve_sync(
        self,
        release: str,
        actor: _Who,
        approval: str,
        *,
        role: str | None = None,
        channel: str = "api",
        comment: str = "",
        signature: str | None = None,
        statement: str | None = None,
    ) -> Release:
        """The sync twin of `approve`, for scripts (not inside a running event loop)."""
    async def approval_statement(
        self, release: str, actor: _Who, approval: str, *, role: str | None = None, channel: str = "api", comment: str = ""
    ) -> str:
        """The statement to sign for an approval (issue #19, R-2b): the exact
        bytes for `ssh-keygen -Y sign -n shipwarden` or `sign_statement`,
        naming the release's current chain head. Needs a configuration.
        """
    def approval_statement_sync(
        self, release: str, actor: _Who, approval: str, *, role: str | None = None, channel: str = "api", comment: str = ""
    ) -> str:
        """The sync twin of `approval_statement`, for scripts (not inside a running event loop)."""
    async def reject(
        self,
        release: str,
        actor: _Who,
        approval: str,
        reason: str,
        *,
        role: str | None = None,
        channel: str = "api",
        signature: str | None = None,
        statement: str | None = None,
    ) -> Release:
        """Rejects an approval with a reason (R-2b, R-2c): the checks of an
        approval (the role, the proof `[identity] approve` asks for,
        separation of duties) apply; the rejection stands, blocking every
        transition that needs the approval, until the same person approves.
        `reason` is required; rejecting again before approving is refused.

        `signature` and `statement` (from `rejection_statement`) prove who
        rejects (R-2d), verified as `shipwarden reject --signature` does; an
        approval's statement or signature does not prove a rejection.
        """
    def reject_sync(
        self,
        release: str,
        actor: _Who,
        approval: str,
        reason: str,
        *,
        role: str | None = None,
        channel: str = "api",
        signature: str | None = None,
        statement: str | None = None,
    ) -> Release:
        """The sync twin of `reject`, for scripts (not inside a running event loop)."""
    async def rejection_statement(
        self, release: str, actor: _Who, approval: str, reason: str, *, role: str | None = None, channel: str = "api"
    ) -> str:
        """The statement to sign for a rejection of an approval (R-2c, R-2d):
        `shipwarden rejection statement v1`, the fields of an approval's
        statement with `reason` as the comment, naming the release's current
        chain head. Needs a configuration.
        """
    def rejection_statement_sync(
        self, release: str, actor: _Who, approval: str, reason: str, *, role: str | None = None, channel: str = "api"
    ) -> str:
        """The sync twin of `rejection_statement`, for scripts (not inside a running event loop)."""
    async def checkpoints(self, release: str) -> builtins.list[Checkpoint]:
        """The release's signed checkpoints, by sequence (R-9d); not verified here: see `verify_audit`."""
    def checkpoints_sync(self, release: str) -> builtins.list[Checkpoint]:
        """The sync twin of `checkpoints`, for scripts (not inside a running event loop)."""
    async def verify_audit(self, release: str, *, head: str | None = None) -> AuditReport:
        """Verifies the release's audit trail as `shipwarden audit --verify` does
        (R-9d): the chain, its signed checkpoints, `head` (a head hash known
        from elsewhere) and the listing row. Raises `IntegrityError` naming the
        sequence where they disagree.
        """
    def verify_audit_sync(self, release: str, *, head: str | None = None) -> AuditReport:
        """The sync twin of `verify_audit`, for scripts (not inside a running event loop)."""
    async def record_evidence(
        self,
        release: str,
        actor: _Who,
        gate: str,
        value: float,
        source: str,
        *,
        environment: str | None = None,
        target: str | None = None,
    ) -> Release:
        """Records a measured value for a gate (R-7g), judged against the policy's threshold."""
    def record_evidence_sync(
        self,
        release: str,
        actor: _Who,
        gate: str,
        value: float,
        source: str,
        *,
        environment: str | None = None,
        target: str | None = None,
    ) -> Release:
        """The sync twin of `record_evidence`, for scripts (not inside a running event loop)."""
    async def advance(self, release: str, actor: _Who, to: _StageLike) -> Release:
        """Moves the release to a stage, if the policy allows it now."""
    def advance_sync(self, release: str, actor: _Who, to: _StageLike) -> Release:
        """The sync twin of `advance`, for scripts (not inside a running event loop)."""
    async def schedule(self, release: str, actor: _Who, environment: str, start: _Time, end: _Time) -> Release:
        """Books a deployment window for an environment (R-6a); conflicting bookings are refused (R-6e)."""
    def schedule_sync(self, release: str, actor: _Who, environment: str, start: _Time, end: _Time) -> Release:
        """The sync twin of `schedule`, for scripts (not inside a running event loop)."""
    async def cancel(self, release: str, actor: _Who, reason: str) -> Release:
        """Cancels a release that has not reached production."""
    def cancel_sync(self, release: str, actor: _Who, reason: str) -> Release:
        """The sync twin of `cancel`, for scripts (not inside a running event loop)."""
    async def rollback(
        self, release: str, actor: _Who, reason: str, *, signature: str | None = None, statement: str | None = None
    ) -> Release:
        """Rolls the release back (R-8g): every production target, the database, the teams told.

        `signature` and `statement` (from `action_statement(release, actor,
        "rollback", reason)`) prove who rolls back, as `shipwarden rollback
        --signature` does (R-2d).
        """
    def rollback_sync(
        self, release: str, actor: _Who, reason: str, *, signature: str | None = None, statement: str | None = None
    ) -> Release:
        """The sync twin of `rollback`, for scripts (not inside a running event loop)."""
    async def report_step(
        self,
        release: str,
        actor: _Who,
        step: str,
        *,
        environment: str | None = None,
        ok: bool = True,
        detail: str = "",
        retryable: bool = False,
    ) -> Release:
        """Reports a step people or another system performed (integration tests, a demo, a tag)."""
    def report_step_sync(
        self,
        release: str,
        actor: _Who,
        step: str,
        *,
        environment: str | None = None,
        ok: bool = True,
        detail: str = "",
        retryable: bool = False,
    ) -> Release:
        """The sync twin of `report_step`, for scripts (not inside a running event loop)."""
    async def resolve(self, release: str, actor: _Who, step: str, *, done: bool, reason: str) -> Release:
        """Says how a step in doubt ended, after checking its target (R-9d)."""
    def resolve_sync(self, release: str, actor: _Who, step: str, *, done: bool, reason: str) -> Release:
        """The sync twin of `resolve`."""
    async def status(self, release: str) -> ReleaseStatus:
        """The release's state and what each way forward still needs."""
    def status_sync(self, release: str) -> ReleaseStatus:
        """The sync twin of `status`, for scripts (not inside a running event loop)."""
    async def history(self, release: str) -> list[AuditEvent]:
        """The release's audit trail, oldest first."""
    def history_sync(self, release: str) -> list[AuditEvent]:
        """The sync twin of `history`, for scripts (not inside a running event loop)."""
    async def list(
        self,
        *,
        project: str | None = None,
        stage: _StageLike | None = None,
        environment: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[ReleaseSummary]:
        """Releases in the store, filtered."""
    def list_sync(
        self,
        *,
        project: str | None = None,
        stage: _StageLike | None = None,
        environment: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[ReleaseSummary]:
        """The sync twin of `list`, for scripts (not inside a running event loop)."""
    async def run(self, release: str, until: _StageLike | None = None) -> RunOutcome:
        """Runs the release as far as it can go (or to `until`): builds, deploys, checks; stops when it needs people."""
    def run_sync(self, release: str, until: _StageLike | None = None) -> RunOutcome:
        """The sync twin of `run`, for scripts (not inside a running event loop)."""
    async def verify(self, release: str) -> RunOutcome:
        """Runs the production verification (smoke tests, R-8f) and releases, or rolls back (R-8g)."""
    def verify_sync(self, release: str) -> RunOutcome:
        """The sync twin of `verify`, for scripts (not inside a running event loop)."""
    async def deploy(self, release: str, environment: str) -> Release:
        """Deploys the release to one environment now, and returns the release."""
    def deploy_sync(self, release: str, environment: str) -> Release:
        """The sync twin of `deploy`, for scripts (not inside a running event loop)."""
    async def notes(self, release: str) -> str:
        """The release notes, as Markdown, from the commits since the last release."""
    def notes_sync(self, release: str) -> str:
        """The sync twin of `notes`, for scripts (not inside a running event loop)."""
    async def override_window(
        self, release: str, actor: _Who, reason: str, *, signature: str | None = None, statement: str | None = None
    ) -> Release:
        """Overrides blackout windows and freezes for this release, with a
        reason, by a role the calendar policy names (R-6b). `signature` and
        `statement` (from `action_statement(release, actor, "override_window",
        reason)`) prove who overrides when `[identity] override_window` wants it (R-2d).
        """
    def override_window_sync(
        self, release: str, actor: _Who, reason: str, *, signature: str | None = None, statement: str | None = None
    ) -> Release:
        """The sync twin of `override_window`, for scripts (not inside a running event loop)."""
    async def action_statement(self, release: str, actor: _Who, action: str, reason: str) -> str:
        """The statement to sign for a rollback, a window override or an
        emergency plan (`action` is `rollback`, `override_window` or
        `emergency_plan`; issue #19, R-2d), naming the release's current chain
        head and the clock now. Needs a configuration.
        """
    def action_statement_sync(self, release: str, actor: _Who, action: str, reason: str) -> str:
        """The sync twin of `action_statement`, for scripts (not inside a running event loop)."""
    async def due(self, now: _Time | None = None) -> builtins.list[dict[str, Any]]:
        """Every duty due at `now` (default: the clock now) in every release
        that is not final, by due time: dicts with `release`, `key`, `kind`,
        `rule`, `due_at`, `deadline`, `subject`, `body`, ...
        """
    def due_sync(self, now: _Time | None = None) -> builtins.list[dict[str, Any]]:
        """The sync twin of `due`, for scripts (not inside a running event loop)."""
    async def run_due(self, now: _Time | None = None) -> builtins.list[dict[str, Any]]:
        """Performs every duty due at `now` (default: the clock now), as
        `shipwarden tick` does: dicts with `release`, `duty`, `outcome` and
        `missed` (past its deadline: a finding was recorded, R-5c, R-6d).
        """
    def run_due_sync(self, now: _Time | None = None) -> builtins.list[dict[str, Any]]:
        """The sync twin of `run_due`, for scripts (not inside a running event loop)."""
    async def evidence_bundle(self, release: str) -> dict[str, Any]:
        """The release's evidence bundle (R-9d), signed when `[evidence]` has a
        key: a dict of the JSON `shipwarden evidence bundle` writes; check it with `verify_bundle`.
        """
    def evidence_bundle_sync(self, release: str) -> dict[str, Any]:
        """The sync twin of `evidence_bundle`, for scripts (not inside a running event loop)."""
    def verify_bundle(self, bundle: Mapping[str, Any] | str, *, public_key: str | None = None) -> dict[str, Any]:
        """Verifies an evidence bundle (a dict from `evidence_bundle`, or its
        JSON text) as `shipwarden evidence verify` does: its signature, its
        chain and its checkpoints, against `public_key` (default: the
        configuration's `[evidence] public_key`). Returns what was verified,
        with its approvals and rejections (R-2c); raises `IntegrityError` when
        it does not verify (R-9d).
        """
    async def preview(
        self, release: str, actor: _Who, action: Mapping[str, Any], *, at: _Time | None = None
    ) -> builtins.list[dict[str, Any]]:
        """What `action` (a dict, `{"action": "approve", "approval": "scope",
        "role": "product_owner", "channel": "api", "comment": ""}`, as the
        audit trail spells actions) by `actor` would record at `at` (default:
        now), decided exactly as the real call decides, with nothing appended:
        the events as dicts, or `RefusedError`. A dry run of any command.
        """
    def preview_sync(
        self, release: str, actor: _Who, action: Mapping[str, Any], *, at: _Time | None = None
    ) -> builtins.list[dict[str, Any]]:
        """The sync twin of `preview`, for scripts (not inside a running event loop)."""
    async def execute(self, release: str, actor: _Who, action: Mapping[str, Any]) -> Release:
        """Performs `action` (a dict, as `preview` takes) by `actor`: what every
        named method (`approve`, `advance`, ...) does underneath.
        """
    def execute_sync(self, release: str, actor: _Who, action: Mapping[str, Any]) -> Release:
        """The sync twin of `execute`, for scripts (not inside a running event loop)."""
    async def findings(self, release: str) -> builtins.list[dict[str, Any]]:
        """What the audit trail shows went wrong without stopping the release (a
        missed deadline, a monitor's breach): dicts with `rule`, `step`, `detail`, `at`, ...
        """
    def findings_sync(self, release: str) -> builtins.list[dict[str, Any]]:
        """The sync twin of `findings`, for scripts (not inside a running event loop)."""
    async def publish_heads(self, release: str) -> builtins.list[dict[str, Any]]:
        """Publishes the release's chain heads to the configured anchors (R-9d)
        now, and returns where each went (dicts); the engine also publishes at each checkpoint.
        """
    def publish_heads_sync(self, release: str) -> builtins.list[dict[str, Any]]:
        """The sync twin of `publish_heads`, for scripts (not inside a running event loop)."""
    def take_unpublished(self) -> builtins.list[str]:
        """The checkpoints whose publication failed since the last call, as
        messages (a warning to show; `publish_heads` tries again).
        """
    def signing_key(self) -> str | None:
        """The public key (ed25519, hex) checkpoints are signed with, if any."""
    @property
    def driver(self) -> str:
        """This manager's driver id (`host:pid-random`): the start of the holder of every lease it takes (see `lease`)."""
    async def lease(self, name: str) -> dict[str, Any] | None:
        """Who holds lease `name` (`release:ID`, `env:NAME`) and until when, as a dict; None when free."""
    def lease_sync(self, name: str) -> dict[str, Any] | None:
        """The sync twin of `lease`, for scripts (not inside a running event loop)."""
    async def default_scope(self, version: str) -> builtins.list[str]:
        """The ticket keys of the commits since the last release tag older than
        `version` (R-4a): the scope a plan gets when it names none. Empty without a VCS.
        """
    def default_scope_sync(self, version: str) -> builtins.list[str]:
        """The sync twin of `default_scope`, for scripts (not inside a running event loop)."""
    async def status_at(self, release: str, at: _Time) -> ReleaseStatus:
        """`status` as it would be judged at `at`: what each way forward would still need then."""
    def status_at_sync(self, release: str, at: _Time) -> ReleaseStatus:
        """The sync twin of `status_at`, for scripts (not inside a running event loop)."""
    def escalation_for(self, outcome: RunOutcome) -> builtins.list[dict[str, Any]]:
        """Whom to call after `outcome` (R-2e): the escalation contacts (dicts)
        when the run failed or rolled back, none otherwise.
        """
    def events(self) -> EventStream:
        """The audit events appended from now on: `async for event in manager.events()`."""
    def logs(self) -> LogStream:
        """The step log lines written from now on: `async for line in manager.logs()`."""
    def on_event(self, callback: Callable[[AuditEvent], object]) -> Subscription:
        """Calls `callback(event)` with each audit event appended from now on,
        until the `Subscription` is closed: on the asyncio loop running now,
        if any, else on a runtime thread.
        """
    def on_log(self, callback: Callable[[LogEvent], object]) -> Subscription:
        """Calls `callback(line)` with each step log line written from now on, until closed."""

def sign_statement(statement: str, key_file: str | os.PathLike[str]) -> str:
    """Signs `statement` with an SSH private key file (unencrypted), or with a
    `.pub` file's private half held by ssh-agent: the armored signature
    `approve(signature=…)` takes. The same signing as `shipwarden approve --key`.
    """
def default_config(project: str) -> str:
    """The commented `shipwarden.toml` that `shipwarden init` writes for `project`.

    A starting point to edit, or to read the shape of a config dict from
    (`shipwarden.config.Config` types it)."""
def parse_commit(subject: str, body: str = "", *, sha: str = "", author: str = "", parents: int = 1) -> Commit:
    """Parses a commit message into a [`Commit`] (conventional commits, ticket keys, hotfix, revert)."""
def release_notes(
    project: str,
    commits: Sequence[Commit],
    *,
    version: str | None = None,
    date: str | None = None,
    policy: Policy | None = None,
) -> ReleaseNotes:
    """Release notes for these commits (oldest first), grouped and linked as the policy says."""
