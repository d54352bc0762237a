"""The examples run, the stubs match the module, and the examples type-check strictly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted((ROOT / "examples" / "python").glob("*.py"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs(example: Path) -> None:
    done = run(str(example))
    assert done.returncode == 0, done.stdout + done.stderr


def test_examples_exist() -> None:
    assert {e.name for e in EXAMPLES} >= {"own_target.py", "async_fleet.py"}


def test_stubs_match_the_module() -> None:
    done = run("-m", "mypy.stubtest", "shipwarden")
    assert done.returncode == 0, done.stdout + done.stderr


def test_examples_pass_mypy_strict() -> None:
    done = run("-m", "mypy", "--strict", "--no-incremental", *map(str, EXAMPLES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_exit_after_concurrent_async_work_is_clean() -> None:
    # Tokio threads hand results to the loop while the program ends: the exit hook waits for them.
    script = (
        "import asyncio, shipwarden as sw\n"
        "class T:\n"
        "    name = 't'\n"
        "    async def deploy(self, r, log): await asyncio.sleep(0.001); return 'ok'\n"
        "    async def rollback(self, r, log): return 'ok'\n"
        "async def main():\n"
        "    m = sw.ReleaseManager.open(clock='2026-11-28T10:00:00Z', targets={'staging': [T() for _ in range(20)]})\n"
        "    await asyncio.gather(*(m.plan(sw.Actor('rita', ['release_manager']), sw.Plan('p', f'1.{i}.0')) for i in range(50)))\n"
        "    await asyncio.gather(*(m.status(f'p-1.{i}.0') for i in range(50)))\n"
        "asyncio.run(main())\n"
    )
    for _ in range(10):
        done = run("-c", script)
        assert done.returncode == 0, (done.returncode, done.stderr)


async def test_cancelling_an_operation_leaves_the_manager_usable() -> None:
    import asyncio

    import shipwarden as sw

    class Slow:
        name = "slow"

        async def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
            await asyncio.sleep(30)
            return "never"

        def status(self, key: str) -> str | None:
            return None

        def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
            return "back"

    manager = sw.ReleaseManager.open(clock="2026-11-28T10:00:00Z", targets={"staging": [Slow()]})
    rita = sw.Actor("rita", ["release_manager"])
    await manager.plan(rita, sw.Plan("shop", "1.0.0"))
    await manager.approve("shop-1.0.0", sw.Actor("paul", ["product_owner"]), "scope")
    await manager.record_evidence("shop-1.0.0", sw.Actor("ci"), "untracked_commits", 0, "git log")
    await manager.report_step("shop-1.0.0", rita, "tag")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(manager.run("shop-1.0.0"), timeout=0.5)
    status = await manager.status("shop-1.0.0")
    assert status.stage == sw.Stage.BUILT
    # The deployment that was cut off is recorded as started, to be resolved by the next run.
    assert [s.ok for s in status.release.steps if s.target == "slow"] == [None]


def test_the_readme_python_tour_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## A 30-second tour (Python)", 1)[1]
    code = section.split("```python", 1)[1].split("```", 1)[0]
    done = run("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("R-2b planned")
