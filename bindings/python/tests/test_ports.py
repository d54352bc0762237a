"""Ports written in Python: sync and async methods, errors, fan-out, and every port kind."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from pathlib import Path

import pytest

import shipwarden as sw
from helpers import RITA, SATURDAY, HostProbe, Inbox, Smoke, Target, drive, drive_async


class AsyncTarget:
    """An `async def` deploy target that yields to the event loop while it works."""

    def __init__(self, name: str, gauge: dict[str, int]) -> None:
        self.name = name
        self.gauge = gauge
        self.deployed: list[str] = []
        self.loop_threads: set[int] = set()

    async def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        self.loop_threads.add(threading.get_ident())
        self.gauge["now"] += 1
        self.gauge["max"] = max(self.gauge["max"], self.gauge["now"])
        log.line(f"{self.name}: pulling {request.version}")
        await asyncio.sleep(0.01)
        log.line(f"{self.name}: running {request.version}")
        self.gauge["now"] -= 1
        self.deployed.append(request.version)
        return f"{self.name} runs {request.version}"

    async def status(self, key: str) -> str | None:
        return None

    async def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        return "back"


class AsyncInbox:
    name = "async inbox"

    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def send(self, notice: sw.Notice) -> None:
        await asyncio.sleep(0)
        self.subjects.append(notice.subject)


def targets_for(prod: list[object]) -> dict[str, list[object]]:
    return {"staging": [Target("staging-1")], "test": [Target("test-1")], "prod": prod}


async def test_async_python_target_and_notifier_share_the_callers_loop() -> None:
    gauge = {"now": 0, "max": 0}
    web = [AsyncTarget(f"web-{i}", gauge) for i in range(3)]
    inbox = AsyncInbox()
    manager = sw.ReleaseManager.open(
        clock=SATURDAY,
        targets=targets_for(list(web)),
        notifiers=[inbox],
        checks={"prod": HostProbe()},
        smoke={"prod": Smoke()},
    )
    await manager.plan(RITA, sw.Plan("shop", "2.0.0"))

    outcome = await drive_async(manager, "shop-2.0.0")

    assert outcome.stage == "closed"
    assert all(t.deployed == ["2.0.0"] for t in web)
    # The coroutines ran on this test's event loop, in this thread.
    assert {i for t in web for i in t.loop_threads} == {threading.get_ident()}
    assert gauge["max"] > 1, "targets of one environment deploy concurrently"
    assert inbox.subjects == ["Released shop 2.0.0"]
    status = await manager.status("shop-2.0.0")
    logs = [s.log for s in status.release.steps if s.target == "web-1"]
    assert logs == [["web-1: pulling 2.0.0", "web-1: running 2.0.0"]]


async def test_fan_out_to_100_async_python_targets() -> None:
    gauge = {"now": 0, "max": 0}
    fleet = [AsyncTarget(f"web-{i:03}", gauge) for i in range(100)]
    manager = sw.ReleaseManager.open(
        clock=SATURDAY, targets=targets_for(list(fleet)), checks={"prod": HostProbe()}, smoke={"prod": Smoke()}
    )
    await manager.plan(RITA, sw.Plan("shop", "2.0.0"))

    outcome = await asyncio.wait_for(drive_async(manager, "shop-2.0.0"), timeout=60)

    assert outcome.stage == "closed"
    assert all(t.deployed == ["2.0.0"] for t in fleet)
    assert gauge["max"] >= 10, f"at most {gauge['max']} deployments ran at once"
    release = (await manager.status("shop-2.0.0")).release
    assert len([s for s in release.steps if s.step == "deploy" and s.environment == "prod" and s.target]) == 100


def test_fan_out_to_100_sync_python_targets_with_the_sync_api() -> None:
    fleet = [Target(f"web-{i:03}") for i in range(50)]
    fleet += [AsyncTarget(f"aweb-{i:03}", {"now": 0, "max": 0}) for i in range(50)]  # type: ignore[misc]
    manager = sw.ReleaseManager.open(
        clock=SATURDAY, targets=targets_for(list(fleet)), checks={"prod": HostProbe()}, smoke={"prod": Smoke()}
    )
    manager.plan_sync(RITA, sw.Plan("shop", "2.0.0"))

    outcome = drive(manager, "shop-2.0.0")

    assert outcome.stage == "closed"
    assert all(t.deployed == ["2.0.0"] for t in fleet)


class Flaky(Target):
    """Fails with a connection error `failures` times, then works."""

    def __init__(self, name: str, failures: int) -> None:
        super().__init__(name)
        self.failures = failures
        self.calls = 0

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("connection refused")
        return super().deploy(request, log)


class Broken(Target):
    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        log.stderr("disk full")
        raise ValueError("no space left on /srv")


def test_python_exceptions_become_port_errors_retried_when_retryable() -> None:
    flaky = Flaky("staging-1", failures=2)
    manager = sw.ReleaseManager.open(clock=SATURDAY, targets={"staging": [flaky]})
    manager.plan_sync(RITA, sw.Plan("shop", "1.0.0"))
    outcome = drive(manager, "shop-1.0.0")
    # Retried with backoff until it worked, then on to the next environment (which has no target here).
    assert flaky.calls == 3 and flaky.deployed == ["1.0.0"]
    assert outcome.stage is not None and outcome.stage != "planned"

    # A permanent failure is recorded on the step, with the target's log; the run says it failed (issue #20).
    manager = sw.ReleaseManager.open(clock=SATURDAY, targets={"staging": [Broken("staging-1")]})
    manager.plan_sync(RITA, sw.Plan("shop", "1.0.0"))
    waiting = drive(manager, "shop-1.0.0", skip=frozenset({"deploy"}))
    assert waiting.outcome == "failed" and waiting.stage == "built"
    assert waiting.error is not None and waiting.error.port == "deploy-target staging-1"
    assert waiting.refusal is not None
    assert {(u.step, u.environment) for u in waiting.refusal.unmet} == {("deploy", "staging")}
    [step] = [s for s in manager.status_sync("shop-1.0.0").release.steps if s.target == "staging-1"]
    assert step.ok is False and step.log == ["disk full"]
    assert step.detail is not None
    assert "deploy-target staging-1 deploy: invalid: ValueError: no space left on /srv" in step.detail


class Unauthorized:
    def get(self, key: str) -> sw.Ticket:
        raise PermissionError("token expired")

    def open_bugs(self, scope: list[str], severities: list[str]) -> list[sw.Ticket]:
        raise PermissionError("token expired")

    def comment(self, key: str, body: str) -> None: ...

    def transition(self, key: str, status: str) -> None: ...

    def create_release_ticket(self, plan: sw.Plan) -> str:
        return "SHOP-1"


def test_a_failing_port_outside_a_step_raises_adapter_error() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY, targets={"staging": [Target("staging-1")]}, ticketing=Unauthorized())
    manager.plan_sync(RITA, sw.Plan("shop", "1.0.0", scope=["SHOP-1"]))
    with pytest.raises(sw.AdapterError) as caught:
        drive(manager, "shop-1.0.0")
    error = caught.value
    assert (error.port, error.operation, error.kind, error.retryable) == ("ticketing Unauthorized", "open_bugs", "rejected", False)
    assert "PermissionError: token expired" in str(error)
    assert isinstance(error, sw.ShipwardenError)


class Tracker:
    """A ticketing system with one open critical bug until it is fixed."""

    def __init__(self) -> None:
        self.bug = sw.Ticket("SHOP-7", "Checkout crashes", status="Open", kind="Bug", severity="critical")
        self.comments: list[tuple[str, str]] = []
        self.transitions: list[tuple[str, str]] = []

    async def get(self, key: str) -> sw.Ticket:
        if key == "SHOP-7":
            return self.bug
        raise KeyError(key)

    async def open_bugs(self, scope: list[str], severities: list[str]) -> list[sw.Ticket]:
        bug = self.bug
        return [bug] if bug.status == "Open" and bug.severity in severities and bug.key in scope else []

    def comment(self, key: str, body: str) -> None:
        self.comments.append((key, body))

    def transition(self, key: str, status: str) -> None:
        self.transitions.append((key, status))

    def create_release_ticket(self, plan: sw.Plan) -> str:
        return "SHOP-100"


class Shelf:
    """An artifact store in a dict."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], bytes] = {}

    def put(self, name: str, version: str, path: Path) -> sw.ArtifactRef:
        data = Path(path).read_bytes()
        self.items[(name, version)] = data
        return sw.ArtifactRef(name, version, hashlib.sha256(data).hexdigest(), len(data))

    def get(self, artifact: sw.ArtifactRef) -> bytes:
        return self.items[(artifact.name, artifact.version)]

    def exists(self, artifact: sw.ArtifactRef) -> bool:
        data = self.items.get((artifact.name, artifact.version))
        return data is not None and hashlib.sha256(data).hexdigest() == artifact.sha256

    def versions(self, name: str) -> list[str]:
        return [v for (n, v) in self.items if n == name]


class Vault:
    """Backups that remember what was restored."""

    def __init__(self) -> None:
        self.taken: list[str] = []
        self.restored: list[str] = []

    async def backup(self, environment: str, key: str) -> sw.BackupRef:
        self.taken.append(key)
        return sw.BackupRef(f"b-{len(self.taken)}", environment, size=42)

    async def verify(self, backup: sw.BackupRef) -> str:
        return f"{backup.id} restored into scratch"

    async def restore(self, backup: sw.BackupRef) -> str:
        self.restored.append(backup.id)
        return f"{backup.id} restored"


def test_ticketing_artifacts_and_backup_in_python() -> None:
    tracker, shelf, vault = Tracker(), Shelf(), Vault()
    prod = [Target("prod-1")]
    manager = sw.ReleaseManager.open(
        clock=SATURDAY,
        targets={"staging": [Target("staging-1")], "test": [Target("test-1")], "prod": prod},
        checks={"prod": HostProbe()},
        smoke={"prod": Smoke(status=503)},
        ticketing=tracker,
        artifacts=shelf,
        backup=vault,
    )
    manager.plan_sync(RITA, sw.Plan("shop", "1.4.0", scope=["SHOP-7"]))

    # The open critical bug in scope blocks QA sign-off (R-7b); nobody can vouch it away.
    waiting = drive(manager, "shop-1.4.0", skip=frozenset({"critical_bugs"}))
    assert waiting.stage == "staging_deployed"
    assert waiting.refusal is not None and "R-7b" in waiting.refusal.rules
    assert list(shelf.items) == [("app.tar.gz", "1.4.0")]

    tracker.bug = sw.Ticket("SHOP-7", "Checkout crashes", status="Done", kind="Bug", severity="critical")
    outcome = drive(manager, "shop-1.4.0", skip=frozenset({"critical_bugs"}))

    # Production answered 503 to the smoke test: rolled back, database restored from the Python backup.
    assert outcome.outcome == "rolled_back"
    assert len(vault.taken) == 1 and vault.restored == ["b-1"]
    release = manager.status_sync("shop-1.4.0").release
    [bugs] = [g for g in release.gate_results if g.gate == "critical_bugs" and g.passed]
    assert bugs.value == 0.0
    assert release.artifacts[0].sha256 == hashlib.sha256(shelf.items[("app.tar.gz", "1.4.0")]).hexdigest()


async def test_sync_twin_inside_a_running_loop_is_refused() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    with pytest.raises(RuntimeError, match="await manager.status"):
        manager.status_sync("shop-1.0.0")


def test_async_method_outside_a_coroutine_is_refused() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    with pytest.raises(RuntimeError):
        manager.status("shop-1.0.0")  # type: ignore[unused-coroutine]


async def test_concurrent_async_calls_on_one_manager() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY, notifiers=[Inbox()])
    plans = [sw.Plan("shop", f"1.{i}.0") for i in range(20)]
    released = await asyncio.gather(*(manager.plan(RITA, p) for p in plans))
    assert sorted(r.version or "" for r in released) == sorted(p.version for p in plans)
    assert len(await manager.list(project="shop")) == 20
