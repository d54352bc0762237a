"""A release end to end with a deploy target written in Python.

The target "installs" a version by writing it to a folder per host, keeps
the previous one for rollbacks, and answers `status(key)` so a release can
resume after a crash without deploying twice. People's approvals and
evidence are given between the engine's runs, as they would be.

Run: python examples/python/own_target.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import shipwarden as sw


class FolderHost:
    """A host is a folder: `current` holds the version it runs."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.dir = root / name

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        current = self.dir / "current"
        if current.exists():
            (self.dir / "previous").write_text(current.read_text())
        current.write_text(request.version)
        (self.dir / request.key.replace("/", "_")).touch()
        log.line(f"{self.name} now runs {request.version}")
        return f"{self.name} runs {request.version}"

    def status(self, key: str) -> str | None:
        return f"{self.name} did {key}" if (self.dir / key.replace("/", "_")).exists() else None

    def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        previous = self.dir / "previous"
        version = previous.read_text() if previous.exists() else ""
        (self.dir / "current").write_text(version)
        log.line(f"{self.name} back on {version or 'nothing'}")
        return f"{self.name} back on {version or 'nothing'}"


class Printer:
    """A notifier that prints."""

    name = "stdout"

    def send(self, notice: sw.Notice) -> None:
        print(f"  notice to {', '.join(notice.audience)}: {notice.subject}")


class Health:
    """Host checks and a smoke test with fixed, healthy readings."""

    def __init__(self, name: str, values: dict[str, float]) -> None:
        self.name = name
        self.values = values

    def check(self, environment: str) -> dict[str, float]:
        return dict(self.values)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="shipwarden-example-"))
    hosts = {env: [FolderHost(f"{env}-{i}", root) for i in (1, 2)] for env in ("staging", "test", "prod")}
    host_checks = {"cpu": 22, "memory": 41, "disk_free": 63, "tls_days_left": 75, "db_connectivity": 1, "network": 1}
    manager = sw.ReleaseManager.open(
        clock="2026-11-28T09:30:00Z",  # a Saturday morning: outside the Mon-Fri blackout (R-6b)
        targets={env: list(targets) for env, targets in hosts.items()},
        notifiers=[Printer()],
        checks={"prod": Health("host", {k: float(v) for k, v in host_checks.items()})},
        smoke={"prod": Health("GET /health", {"response_time": 64.0})},
    )
    rita = sw.Actor("rita", ["release_manager"])
    paul = sw.Actor("paul", ["product_owner"])
    quinn = sw.Actor("quinn", ["qa_lead"])
    ci = sw.Actor("ci")

    release = manager.plan_sync(rita, sw.Plan("shop", "1.4.0", scope=["SHOP-12", "SHOP-13"])).id
    assert release is not None
    while True:
        outcome = manager.run_sync(release)
        if outcome.outcome != "waiting":
            break
        assert outcome.refusal is not None and outcome.stage is not None
        print(f"waiting in {outcome.stage}: {', '.join(outcome.refusal.rules)}")
        stage = outcome.stage.name
        if stage == "planned":
            manager.approve_sync(release, paul, "scope", comment="scope ok")
        elif stage == "scope_approved":
            manager.record_evidence_sync(release, ci, "untracked_commits", 0, "git log v1.3.0..HEAD")
            manager.report_step_sync(release, rita, "tag", detail="git tag -a v1.4.0")
        elif stage == "staging_deployed":
            manager.record_evidence_sync(release, ci, "coverage", 0.92, "target/lcov.info")
            manager.record_evidence_sync(release, ci, "p95_latency", 143, "jmeter/results.jtl")
            manager.record_evidence_sync(release, ci, "critical_bugs", 0, "jira: fixVersion = 1.4.0")
            manager.approve_sync(release, quinn, "qa_signoff", channel="email", comment="tests pass")
        elif stage == "qa_verified":
            manager.report_step_sync(release, quinn, "integration_tests", environment="staging", detail="412 passed")
        elif stage == "integration_tested":
            manager.report_step_sync(release, paul, "demo", environment="test", detail="demoed")
        elif stage == "test_deployed":
            manager.record_evidence_sync(release, paul, "docs_reviewed", 1, "wiki/shop/1.4.0")
            manager.approve_sync(release, paul, "acceptance", comment="accepted")
        else:
            raise SystemExit(f"nobody here knows what to do in {stage}")

    print(f"{release}: {outcome.outcome} in {outcome.stage}")
    assert outcome.stage == sw.Stage.CLOSED
    for env, targets in hosts.items():
        for host in targets:
            assert (host.dir / "current").read_text() == "1.4.0", host.name
    events = manager.history_sync(release)
    print(f"{len(events)} audit events, chain head {events[-1].hash[:12]}")


if __name__ == "__main__":
    main()
