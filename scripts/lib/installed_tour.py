"""The README's Python tour, then on to staging, against an installed wheel.

scripts/test runs it in a clean venv holding only the built wheel, with cargo
off PATH: what a user without a Rust toolchain gets (#20).
"""

import shipwarden as sw

deployed: list[str] = []


class Host:  # the README's target
    name = "web-1"

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        log.line(f"installing {request.version}")
        deployed.append(request.version)
        return f"web-1 runs {request.version}"

    def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> str:
        return "web-1 back on the previous release"


manager = sw.ReleaseManager.open(clock="2026-11-28T10:00:00Z", targets={"staging": [Host()]})
rita = sw.Actor("rita", ["release_manager"])
manager.plan_sync(rita, sw.Plan("shop", "1.4.0", scope=["SHOP-12"]))
try:
    manager.advance_sync("shop-1.4.0", rita, sw.Stage.SCOPE_APPROVED)
    raise SystemExit("the scope approval was not asked for")
except sw.RefusedError as e:
    assert e.rule == "R-2b", e.rule
manager.approve_sync("shop-1.4.0", sw.Actor("paul", ["product_owner"]), "scope")
outcome = manager.run_sync("shop-1.4.0")
assert (outcome.outcome, outcome.stage) == ("waiting", sw.Stage.SCOPE_APPROVED), outcome

manager.record_evidence_sync("shop-1.4.0", sw.Actor("ci"), "untracked_commits", 0, "git log v1.3.0..HEAD")
manager.report_step_sync("shop-1.4.0", rita, "tag", detail="git tag -a v1.4.0")
outcome = manager.run_sync("shop-1.4.0", until=sw.Stage.STAGING_DEPLOYED)
assert outcome.stage == sw.Stage.STAGING_DEPLOYED and deployed == ["1.4.0"], (outcome, deployed)
print(f"python wheel {sw.__version__}: shop-1.4.0 {outcome.outcome} at {outcome.stage.name}, deployed by a Python target")
