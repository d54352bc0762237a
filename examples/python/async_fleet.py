"""Asyncio: 50 `async def` targets deployed concurrently, notices sent from a coroutine,
and a refusal read from its exception.

Run: python examples/python/async_fleet.py
"""

from __future__ import annotations

import asyncio

import shipwarden as sw


class Node:
    def __init__(self, name: str) -> None:
        self.name = name
        self.version: str | None = None

    async def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        await asyncio.sleep(0.02)  # talking to the node's agent
        self.version = request.version
        log.line(f"{self.name} ready")
        return f"{self.name} runs {request.version}"

    async def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        self.version = None
        return f"{self.name} rolled back"


class Chat:
    name = "chat"

    def __init__(self) -> None:
        self.posted: list[str] = []

    async def send(self, notice: sw.Notice) -> None:
        self.posted.append(notice.subject)


async def main() -> None:
    fleet = [Node(f"node-{i:02}") for i in range(50)]
    chat = Chat()
    manager = sw.ReleaseManager.open(clock="2026-11-28T10:00:00Z", targets={"staging": list(fleet)}, notifiers=[chat])
    rita, paul = sw.Actor("rita", ["release_manager"]), sw.Actor("paul", ["product_owner"])
    ci = sw.Actor("ci")
    await manager.plan(rita, sw.Plan("fleet", "2.1.0"))

    try:
        await manager.advance("fleet-2.1.0", rita, sw.Stage.SCOPE_APPROVED)
    except sw.RefusedError as refused:
        print(f"refused by {refused.rule} in {refused.stage}:")
        for unmet in refused.unmet:
            print(f"  - {unmet}")

    await manager.approve("fleet-2.1.0", paul, "scope")
    await manager.record_evidence("fleet-2.1.0", ci, "untracked_commits", 0, "git log")
    await manager.report_step("fleet-2.1.0", rita, "tag", detail="v2.1.0")
    outcome = await manager.run("fleet-2.1.0", until=sw.Stage.STAGING_DEPLOYED)
    print(f"{outcome.outcome}: {outcome.stage}")
    assert outcome.stage == sw.Stage.STAGING_DEPLOYED
    assert all(node.version == "2.1.0" for node in fleet)
    status = await manager.status("fleet-2.1.0")
    for stage, refusal in status.next:
        print(f"next: {stage} needs {', '.join(refusal.rules) if refusal else 'nothing more'}")


if __name__ == "__main__":
    asyncio.run(main())
