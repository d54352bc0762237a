"""Drives a release from a `shipwarden.toml` to the QA sign-off, as the
process the crash test SIGKILLs mid-deployment and as the one that drives on.

Usage: python crash_worker.py DIR

DIR holds the `shipwarden.toml` (its staging target a command writing
`START key pid` / `END key pid` to DIR/staging-1.log). A step in doubt is
resolved the way an operator would: done when the target's log shows its END,
failed otherwise (R-9d). Prints `resolved KEY done|failed` for each, then the
stage reached.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import shipwarden as sw
from helpers import supply

RELEASE = "shop-1.0.0"
base = Path(sys.argv[1])
log = base / "staging-1.log"


def ended(key: str) -> bool:
    """Whether the target's log shows the deployment `key` ended."""
    lines = log.read_text().splitlines() if log.exists() else []
    return any(line.split()[:2] == ["END", f"{RELEASE}:{key}"] for line in lines)


manager = sw.ReleaseManager.open(base / "shipwarden.toml")
try:
    manager.plan_sync("rita", sw.Plan("shop", "1.0.0"))
except sw.RefusedError:
    pass  # planned by the process before us
for _ in range(80):
    if manager.status_sync(RELEASE).release.stage == sw.Stage.STAGING_DEPLOYED:
        break
    try:
        outcome = manager.run_sync(RELEASE, until=sw.Stage.STAGING_DEPLOYED)
        unmet = outcome.refusal.unmet if outcome.refusal is not None else []
    except sw.ConflictError:
        time.sleep(0.5)  # the killed driver's lease has not lapsed yet
        continue
    except sw.RefusedError as refused:
        unmet = refused.unmet
    for u in unmet:
        if u.requirement == "step_in_doubt":
            assert u.rule == "R-9d" and u.step is not None and u.detail, u
            done = ended(u.step)
            release = manager.resolve_sync(RELEASE, "dana", u.step, done=done, reason="checked staging-1's log")
            assert not release.in_doubt, release.in_doubt
            print("resolved", u.step, "done" if done else "failed", flush=True)
            continue
        call = supply(manager, RELEASE, u, set())
        if call is not None:
            name, args, kwargs = call
            try:
                getattr(manager, name + "_sync")(*args, **kwargs)
            except sw.RefusedError:
                pass
print(manager.status_sync(RELEASE).release.stage, flush=True)
