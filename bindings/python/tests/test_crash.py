"""Exactly once under a real crash (#18, R-9d): the process driving a command
deployment is SIGKILLed mid-deploy; its deploy dies with it, and the release
is driven on by a new process, a step in doubt resolved from the target's log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import shipwarden as sw
from helpers import RITA, SATURDAY, Target, drive

HERE = Path(__file__).parent
RELEASE = "shop-1.0.0"

# The deployment's work ends at END; the script then tidies up for a second,
# so a driver killed after END has not recorded the outcome yet.
# The target itself notices an overlap: a run that starts while another run's
# process still lives (a lock folder naming its pid) says OVERLAP.
DEPLOY = """L={dir}/staging-1.lock
LOG={dir}/staging-1.log
if ! mkdir "$L" 2>/dev/null; then
  p=$(cat "$L/pid" 2>/dev/null)
  if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo OVERLAP "$SHIPWARDEN_KEY" $$ >> "$LOG"; fi
fi
echo $$ > "$L/pid"
echo START "$SHIPWARDEN_KEY" $$ >> "$LOG"
sleep 1.5
echo END "$SHIPWARDEN_KEY" $$ >> "$LOG"
sleep 1
rm -rf "$L"
"""

STATUS = 'grep -q "^END $1 " {dir}/staging-1.log 2>/dev/null\n'

CONFIG = """
[project]
name = "shop"
ticket_prefix = "SHOP"

[engine]
lease_wait = "1s"
lease_ttl = "5s"

[users.rita]
roles = ["release_manager"]
[users.dana]
roles = ["deployment_engineer"]

[build]
command = ["sh", "-c", "mkdir -p dist && echo shop $SHIPWARDEN_VERSION > dist/shop-$SHIPWARDEN_VERSION.txt"]
artifacts = {{ "shop.txt" = "dist/shop-{{version}}.txt" }}

[[environments.staging.targets]]
name = "staging-1"
deploy = ["sh", "{dir}/deploy.sh"]
rollback = ["sh", "-c", "echo staging-1 rolled back"]
{status}
[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.calendar]
blackouts = []
"""


def target_log(path: Path) -> list[tuple[str, str, int]]:
    """The target's log: (START|END|OVERLAP, deployment key, pid)."""
    lines = path.read_text().splitlines() if path.exists() else []
    return [(w[0], w[1], int(w[2])) for w in (line.split() for line in lines) if len(w) == 3]


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return ") Z " not in stat


def worker(base: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "crash_worker.py"), str(base)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("with_status", "kill_on"),
    [(False, "START"), (False, "END"), (True, "END")],
    ids=["mid-deploy-resolved-failed", "after-its-work-resolved-done", "after-its-work-settled-by-status"],
)
def test_a_driver_killed_mid_deploy_leaves_no_orphan_and_no_deployment_runs_twice_r9d(
    tmp_path: Path, with_status: bool, kill_on: str
) -> None:
    log = tmp_path / "staging-1.log"
    (tmp_path / "deploy.sh").write_text(DEPLOY.format(dir=tmp_path))
    (tmp_path / "status.sh").write_text(STATUS.format(dir=tmp_path))
    status = f'status = ["sh", "{tmp_path}/status.sh", "{{key}}"]\n' if with_status else ""
    (tmp_path / "shipwarden.toml").write_text(CONFIG.format(dir=tmp_path, status=status))

    driver = worker(tmp_path)
    deadline = time.monotonic() + 15
    while not any(what == kill_on for what, _, _ in target_log(log)):
        assert driver.poll() is None, driver.communicate()
        assert time.monotonic() < deadline, f"the deployment never wrote {kill_on}"
        time.sleep(0.02)
    driver.send_signal(signal.SIGKILL)
    driver.communicate()
    assert driver.returncode == -signal.SIGKILL
    at_kill = target_log(log)

    # The driver's children die with it: within a second no deploy it started runs on.
    time.sleep(0.8)
    started = [pid for what, _, pid in target_log(log) if what == "START"]
    assert started and not [pid for pid in started if alive(pid)], f"orphans of the killed driver: {started}"
    assert target_log(log) == at_kill, "the deployment went on after its driver died"

    # A new process drives on, resolving a step in doubt as an operator would (R-9d).
    resumed = worker(tmp_path)
    out, err = resumed.communicate(timeout=60)
    assert resumed.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == "staging_deployed", out
    resolved = [tuple(line.split()[1:]) for line in lines if line.startswith("resolved ")]
    first = "deploy:staging:staging-1#1"
    work_done = kill_on == "END"
    if with_status:
        # The status command finds the END: the engine settles it, nobody is asked.
        assert resolved == [], out
    else:
        assert resolved == [(first, "done" if work_done else "failed")], out

    entries = target_log(log)
    assert not [e for e in entries if e[0] == "OVERLAP"], entries
    starts = Counter(key for what, key, _ in entries if what == "START")
    assert all(n == 1 for n in starts.values()), f"a deployment key ran twice: {starts}"
    ends = [key for what, key, _ in entries if what == "END"]
    if work_done:
        assert list(starts) == [f"{RELEASE}:{first}"] and ends == list(starts), entries
    else:
        # Resolved as failed: the rerun is a new attempt under a new key, and it ended.
        assert len(starts) == 2 and ends == [list(starts)[1]], entries

    manager = sw.ReleaseManager.open(tmp_path / "shipwarden.toml")
    release = manager.status_sync(RELEASE).release
    assert release.stage == sw.Stage.STAGING_DEPLOYED and release.in_doubt == []
    step = next(s for s in release.steps if s.key == first)
    assert step.ok is work_done
    assert (step.in_doubt is not None) == (not with_status), step.in_doubt
    # The audit trail is verified as it is read (R-9d), the step found in doubt among its events when it was.
    kinds = [e.kind for e in manager.history_sync(RELEASE)]
    assert ("step_in_doubt" in kinds) == (not with_status), kinds


def test_resolve_refuses_a_step_that_is_not_in_doubt_naming_r9d() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY, targets={"staging": [Target("staging-1")]})
    manager.plan_sync(RITA, sw.Plan("shop", "1.4.0"))
    dana = sw.Actor("dana", ["deployment_engineer"])

    with pytest.raises(sw.RefusedError) as unknown:
        manager.resolve_sync("shop-1.4.0", dana, "deploy:staging:nope#1", done=True, reason="checked")
    assert unknown.value.rule == "R-9d" and "R-9d" in str(unknown.value)
    assert "no step with key `deploy:staging:nope#1` was started" in str(unknown.value)

    waiting = drive(manager, "shop-1.4.0", skip=frozenset({"qa_signoff"}))
    assert waiting.stage == sw.Stage.STAGING_DEPLOYED
    release = manager.status_sync("shop-1.4.0").release
    assert release.in_doubt == [] and all(s.in_doubt is None for s in release.steps)
    with pytest.raises(sw.RefusedError) as finished:
        manager.resolve_sync("shop-1.4.0", dana, "deploy:staging:staging-1#1", done=False, reason="checked")
    assert finished.value.rule == "R-9d"
    assert [u.rule for u in finished.value.unmet] == ["R-9d"]
    assert "already finished" in str(finished.value)
    # Nothing was recorded.
    assert manager.status_sync("shop-1.4.0").release == release
    # A person resolves with a reason, in a role that may roll back: both are said, with the rules.
    with pytest.raises(sw.RefusedError) as bare:
        manager.resolve_sync("shop-1.4.0", RITA, "deploy:staging:nope#1", done=True, reason=" ")
    assert {u.rule for u in bare.value.unmet} == {"R-9d"} and "reason" in str(bare.value)


async def test_resolve_async_refuses_an_unknown_step() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    await manager.plan(RITA, sw.Plan("shop", "1.4.0"))
    with pytest.raises(sw.RefusedError) as caught:
        await manager.resolve("shop-1.4.0", RITA, "build#9", done=False, reason="looked")
    assert caught.value.rule == "R-9d"
    # A release never planned is refused too, not a crash.
    with pytest.raises(sw.RefusedError) as unplanned:
        await manager.resolve("shop-9.9.9", RITA, "build#1", done=True, reason="looked")
    assert unplanned.value.rule == "R-3"
