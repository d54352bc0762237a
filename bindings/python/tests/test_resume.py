"""Resume after the process is killed: no deployment is repeated, none is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def worker(state: Path, kill_at: int = 0) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, str(HERE / "resume_worker.py"), str(state)] + ([str(kill_at)] if kill_at else [])
    return subprocess.run(args, cwd=HERE, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kill_at", [1, 3, 4])
def test_resume_after_the_process_is_killed(tmp_path: Path, kill_at: int) -> None:
    killed = worker(tmp_path, kill_at)
    assert killed.returncode == -9, killed.stderr

    resumed = worker(tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == "closed"

    lines = (tmp_path / "journal").read_text().splitlines()
    deployed = [tuple(l.split()[1:]) for l in lines if l.startswith("deploy ")]
    # Every target deployed exactly once: the killed deployment was found by its key, not repeated.
    assert sorted(t for t, _ in deployed) == ["prod-1", "prod-2", "staging-1", "test-1"]
    assert len(set(deployed)) == len(deployed)
    assert not any(l.startswith("rollback ") for l in lines)
