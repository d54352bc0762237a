"""Parity with the Rust API (issue #20): every operation of the Rust
`ReleaseManager` a script or UI would use, failures that say so, and
mistakes that are errors naming what is valid."""

from __future__ import annotations

import asyncio
import inspect
import time
import tomllib
from pathlib import Path

import pytest

import shipwarden as sw
from helpers import RITA, SATURDAY, Target, drive, person
from test_identity import keypair, open_verified

PARITY = Path(__file__).resolve().parents[1] / "parity.toml"


class Broken(Target):
    """A target whose deployments fail for good."""

    def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
        log.stderr("disk full")
        raise ValueError("no space left on /srv")


def planned(**ports: object) -> sw.ReleaseManager:
    manager = sw.ReleaseManager.open(clock=SATURDAY, **ports)  # type: ignore[arg-type]
    manager.plan_sync(RITA, sw.Plan("shop", "1.0.0"))
    return manager


def test_every_name_in_parity_toml_is_a_method_of_release_manager() -> None:
    operations = tomllib.loads(PARITY.read_text())["operations"]
    assert "run_due" in operations and "evidence_bundle" in operations
    for rust, entry in operations.items():
        if isinstance(entry, str):
            assert hasattr(sw.ReleaseManager, entry), f"{rust} = {entry!r}: ReleaseManager has no {entry}"
        else:
            assert entry["reason"].strip(), f"{rust}: a reason is needed where there is no method"


def test_every_async_method_has_a_sync_twin() -> None:
    for name, member in inspect.getmembers(sw.ReleaseManager):
        if name.endswith("_sync"):
            assert hasattr(sw.ReleaseManager, name.removesuffix("_sync")), name


def test_a_run_that_stops_on_a_failed_deployment_says_it_failed_with_the_port_error() -> None:
    manager = planned(targets={"staging": [Broken("staging-1")]})
    outcome = drive(manager, "shop-1.0.0")
    assert outcome.outcome == "failed"
    assert outcome.stage == sw.Stage.BUILT
    error = outcome.error
    assert error is not None
    assert (error.port, error.operation, error.retryable) == ("deploy-target staging-1", "deploy", False)
    assert (error.step, error.environment, error.target) == ("deploy", "staging", "staging-1")
    assert "ValueError: no space left on /srv" in error.cause
    # What it would take to go on is still there.
    assert outcome.refusal is not None and "R-3" in outcome.refusal.rules
    assert outcome.to_dict()["outcome"] == "failed"


def test_a_direct_deploy_whose_target_fails_raises_adapter_error() -> None:
    manager = planned(targets={"staging": [Broken("staging-1")]})
    drive(manager, "shop-1.0.0")
    with pytest.raises(sw.AdapterError) as raised:
        manager.deploy_sync("shop-1.0.0", "staging")
    e = raised.value
    assert (e.port, e.operation, e.kind, e.retryable) == ("deploy-target staging-1", "deploy", "step_failed", False)
    assert "no space left on /srv" in e.cause
    assert e.error.target == "staging-1"


def test_a_rollback_caused_by_a_failed_target_carries_its_port_error() -> None:
    class BrokenInProd(Target):
        def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str:
            if self.name.startswith("prod"):
                raise ConnectionError("host unreachable")
            return super().deploy(request, log)

    from helpers import HostProbe, Smoke

    manager = planned(
        targets={
            "staging": [BrokenInProd("staging-1")],
            "test": [BrokenInProd("test-1")],
            "prod": [BrokenInProd("prod-1")],
        },
        checks={"prod": HostProbe()},
        smoke={"prod": Smoke()},
    )
    outcome = drive(manager, "shop-1.0.0")
    assert outcome.outcome == "rolled_back", outcome
    assert outcome.reason is not None and "prod" in outcome.reason
    assert outcome.error is not None and outcome.error.port == "deploy-target prod-1"


def test_an_unknown_stage_name_is_refused_naming_the_stages() -> None:
    with pytest.raises(sw.InvalidInputError) as raised:
        sw.Stage("nowhere")
    assert "planned, scope_approved" in str(raised.value) and "Stage.custom('nowhere')" in str(raised.value)
    assert sw.Stage("built") == sw.Stage.BUILT
    assert sw.Stage.custom("security_review").name == "security_review"


def test_refused_error_stage_is_a_stage_as_in_refusal() -> None:
    manager = planned()
    with pytest.raises(sw.RefusedError) as refused:
        manager.advance_sync("shop-1.0.0", RITA, sw.Stage.PROD_READY)
    assert isinstance(refused.value.stage, sw.Stage)
    assert refused.value.stage == sw.Stage.PLANNED == refused.value.refusal.stage


def test_signatures_show_real_defaults() -> None:
    for function in (
        sw.Plan,
        sw.Actor,
        sw.ReleaseManager.approve,
        sw.ReleaseManager.reject,
        sw.ReleaseManager.report_step,
        sw.parse_commit,
    ):
        shown = str(inspect.signature(function))
        assert "Ellipsis" not in shown and "..." not in shown, shown
    assert "scope=()" in str(inspect.signature(sw.Plan))
    assert "comment=''" in str(inspect.signature(sw.ReleaseManager.approve))
    assert "reason, *, role=None, channel='api'" in str(inspect.signature(sw.ReleaseManager.reject))


def test_due_and_run_due_list_and_perform_the_duties_of_open_releases() -> None:
    manager = planned()
    assert manager.due_sync() == [], "nothing is due at once"
    # A day later the release has waited too long for its scope approval: a reminder is due.
    later = "2026-11-29T10:00:00Z"
    [duty] = manager.due_sync(later)
    assert duty["release"] == "shop-1.0.0" and "waited in planned" in duty["body"]
    [done] = manager.run_due_sync(later)
    assert done["release"] == "shop-1.0.0" and done["duty"]["key"] == duty["key"]
    assert done["outcome"]["status"] == "succeeded" and done["missed"] is False
    assert manager.due_sync(later) == [], "done once"


def test_preview_is_a_dry_run_of_any_action_and_execute_performs_it() -> None:
    manager = planned()
    events = manager.preview_sync("shop-1.0.0", RITA, {"action": "cancel", "reason": "wrong scope"})
    assert [e["event"] for e in events] == ["cancelled"]
    assert manager.status_sync("shop-1.0.0").stage == sw.Stage.PLANNED, "nothing was appended"
    with pytest.raises(sw.RefusedError):
        manager.preview_sync("shop-1.0.0", person("qa_lead"), {"action": "advance", "to": "prod_ready"})
    with pytest.raises(sw.InvalidInputError) as raised:
        manager.preview_sync("shop-1.0.0", RITA, {"action": "cancl", "reason": "x"})
    assert "`cancel`" in str(raised.value), "the valid actions are named"
    with pytest.raises(sw.InvalidInputError) as raised:
        manager.preview_sync("shop-1.0.0", RITA, {"action": "cancel", "reason": "x", "resaon": "y"})
    assert "unknown key `resaon`" in str(raised.value) and "action, reason" in str(raised.value)
    oidc = {"kind": "oidc", "issuer": "https://id.example", "subject": "ann"}
    assert sw.Actor("ann", ["qa_lead"], proof=oidc).proof["issuer"] == "https://id.example"
    with pytest.raises(sw.InvalidInputError, match="unknown key `emial`"):
        sw.Actor("ann", ["qa_lead"], proof={**oidc, "emial": "ann@example.com"})
    with pytest.raises(TypeError, match="targtes"):
        sw.ReleaseManager.open(targtes={})  # type: ignore[call-arg]
    release = manager.execute_sync("shop-1.0.0", RITA, {"action": "cancel", "reason": "wrong scope"})
    assert release.stage == sw.Stage.CANCELLED


def test_findings_status_at_lease_scope_and_escalation() -> None:
    manager = planned()
    assert manager.findings_sync("shop-1.0.0") == []
    later = manager.status_at_sync("shop-1.0.0", "2026-11-30T10:00:00Z")
    assert later.stage == sw.Stage.PLANNED
    assert manager.lease_sync("release:shop-1.0.0") is None
    assert manager.default_scope_sync("1.0.0") == [], "no VCS in memory"
    assert isinstance(manager.driver, str) and manager.driver
    assert manager.signing_key() is None and manager.take_unpublished() == []
    assert manager.publish_heads_sync("shop-1.0.0") == []
    outcome = drive(planned(targets={"staging": [Broken("staging-1")]}), "shop-1.0.0")
    assert manager.escalation_for(outcome) == [], "no contacts configured"


def test_a_rejection_blocks_the_approval_until_its_author_approves_r2b_r2c_r2d() -> None:
    # The same scenario as parity.test.cjs, step for step.
    manager = planned()
    paul = sw.Actor("paul", ["product_owner"])
    release = manager.reject_sync("shop-1.0.0", paul, "scope", "SHOP-12 is not ready", channel="email")
    [rejection] = release.rejections
    assert (rejection.approval, rejection.user, rejection.role, rejection.channel, rejection.comment) == (
        "scope",
        "paul",
        "product_owner",
        "email",
        "SHOP-12 is not ready",
    )
    assert release.approvals == [], "a rejection is not an approval"
    assert [e.kind for e in manager.history_sync("shop-1.0.0")][-1] == "rejected"

    # Another product owner approves: the count is met, the rejection still stands.
    manager.approve_sync("shop-1.0.0", sw.Actor("pia", ["product_owner"]), "scope")
    with pytest.raises(sw.RefusedError) as refused:
        manager.advance_sync("shop-1.0.0", RITA, sw.Stage.SCOPE_APPROVED)
    assert refused.value.rule == "R-2b"
    [unmet] = refused.value.unmet
    assert (unmet.rule, unmet.requirement, unmet.approval, unmet.user, unmet.reason) == (
        "R-2b",
        "rejected",
        "scope",
        "paul",
        "SHOP-12 is not ready",
    )
    assert unmet.to_dict()["role"] == "product_owner" and unmet.to_dict()["at"] == SATURDAY
    assert "rejected by paul (product_owner)" in str(refused.value)
    # The status says the same of the way forward.
    [refusal] = [r for stage, r in manager.status_sync("shop-1.0.0").next if stage == sw.Stage.SCOPE_APPROVED]
    assert refusal is not None
    assert any(
        u.requirement == "rejected" and u.user == "paul" and u.reason == "SHOP-12 is not ready" for u in refusal.unmet
    )

    # A rejection needs a reason (R-2c); nothing is recorded.
    before = len(manager.history_sync("shop-1.0.0"))
    with pytest.raises(sw.RefusedError) as refused:
        manager.reject_sync("shop-1.0.0", sw.Actor("pia", ["product_owner"]), "scope", "  ")
    assert refused.value.rule == "R-2c"
    assert refused.value.unmet[0].to_dict()["field"] == "comment"
    assert "a rejection needs a reason" in str(refused.value)
    # Rejecting twice is refused (R-2d).
    with pytest.raises(sw.RefusedError) as refused:
        manager.reject_sync("shop-1.0.0", paul, "scope", "still not ready")
    assert [u.requirement for u in refused.value.unmet] == ["duplicate_rejection"]
    assert refused.value.rule == "R-2d" and refused.value.unmet[0].user == "paul"
    assert len(manager.history_sync("shop-1.0.0")) == before, "a refused rejection records nothing"

    # The same person approving lifts it.
    manager.approve_sync("shop-1.0.0", paul, "scope")
    release = manager.advance_sync("shop-1.0.0", RITA, sw.Stage.SCOPE_APPROVED)
    assert release.stage == sw.Stage.SCOPE_APPROVED
    assert len(release.rejections) == 1, "lifted, still on record"

    # Arguments are checked before anything is decided.
    with pytest.raises(sw.InvalidInputError, match="channel"):
        manager.reject_sync("shop-1.0.0", paul, "scope", "no", channel="pigeon")
    with pytest.raises(sw.InvalidInputError, match="go together"):
        manager.reject_sync("shop-1.0.0", paul, "scope", "no", signature="x")
    with pytest.raises(TypeError, match="comment"):
        manager.reject_sync("shop-1.0.0", paul, "scope", "no", comment="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="reason"):
        manager.reject_sync("shop-1.0.0", paul, "scope")  # type: ignore[call-arg]
    # A preview of a rejection records nothing.
    action = {"action": "reject", "approval": "acceptance", "role": "product_owner", "channel": "api", "comment": "not yet"}
    assert [e["event"] for e in manager.preview_sync("shop-1.0.0", paul, action)] == ["rejected"]


async def test_reject_is_a_coroutine_like_approve() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    await manager.plan(RITA, sw.Plan("shop", "1.0.0"))
    release = await manager.reject("shop-1.0.0", person("product_owner"), "scope", "wrong tickets")
    assert release.rejections[0].comment == "wrong tickets"
    with pytest.raises(RuntimeError, match="reject_sync"):
        manager.reject_sync("shop-1.0.0", person("product_owner"), "scope", "again")


def test_the_evidence_bundle_is_built_and_verified_signed_r9d(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, _ = open_verified(tmp_path, monkeypatch)
    key = manager.signing_key()
    assert key is not None and len(key) == 64, "the hex public key checkpoints are signed with"
    bundle = manager.evidence_bundle_sync("shop-1.0.0")
    report = manager.verify_bundle(bundle)
    assert report["verified"] is True and report["release"] == "shop-1.0.0"
    assert report["events"] >= 1
    bundle["bundle"]["release"] = "shop-9.9.9"
    with pytest.raises(sw.IntegrityError):
        manager.verify_bundle(bundle)
    unsigned = sw.ReleaseManager.open(clock=SATURDAY)
    unsigned.plan_sync(RITA, sw.Plan("shop", "1.0.0"))
    with pytest.raises(sw.IntegrityError, match="not signed"):
        unsigned.verify_bundle(unsigned.evidence_bundle_sync("shop-1.0.0"))


def test_a_signed_rollback_and_override_carry_the_signers_proof_r2d(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, _ = open_verified(tmp_path, monkeypatch)
    key, public = keypair(tmp_path, "casey")
    config = (tmp_path / "shipwarden.toml").read_text()
    config = config.replace("[identity]", f'[users.casey]\nroles = ["cto"]\nssh_keys = ["{public}"]\n\n[identity]')
    (tmp_path / "shipwarden.toml").write_text(config)
    manager = sw.ReleaseManager.open(tmp_path / "shipwarden.toml", clock=SATURDAY)

    statement = manager.action_statement_sync("shop-1.0.0", "casey", "override_window", "incident INC-7")
    assert "override_window" in statement and "casey" in statement
    signature = sw.sign_statement(statement, key)
    release = manager.override_window_sync(
        "shop-1.0.0", "casey", "incident INC-7", signature=signature, statement=statement
    )
    assert release.stage == sw.Stage.PLANNED
    [event] = [e for e in manager.history_sync("shop-1.0.0") if e.kind == "window_overridden"]
    assert "ssh" in str(event.to_dict()).lower()
    # A signature over another reason does not prove this one.
    with pytest.raises(sw.RefusedError):
        manager.override_window_sync("shop-1.0.0", "casey", "another", signature=signature, statement=statement)
    with pytest.raises(sw.InvalidInputError):
        manager.rollback_sync("shop-1.0.0", "casey", "x", signature=signature)

    # An emergency plan is signed over the hotfix's justification (R-2d); only an emergency plan is.
    hotfix = sw.Hotfix("SHOP-99", "HOTFIX: checkout fails", "checkout down for EU cards")
    emergency = sw.Plan("shop", "1.0.1", "emergency", hotfix=hotfix)
    statement = manager.action_statement_sync(emergency.release, "casey", "emergency_plan", hotfix.justification)
    signature = sw.sign_statement(statement, key)
    planned_release = manager.plan_sync("casey", emergency, signature=signature, statement=statement)
    assert planned_release.id == "shop-1.0.1"
    with pytest.raises(sw.InvalidInputError, match="only an emergency plan is signed"):
        manager.plan_sync("casey", sw.Plan("shop", "1.1.0"), signature=signature, statement=statement)


def test_events_arrive_through_an_async_iterator_and_a_callback() -> None:
    async def main() -> None:
        manager = sw.ReleaseManager.open(clock=SATURDAY)
        seen: list[sw.AuditEvent] = []
        arrived = asyncio.Event()

        def on_event(event: sw.AuditEvent) -> None:
            seen.append(event)
            arrived.set()

        subscription = manager.on_event(on_event)
        stream = manager.events()
        await manager.plan(RITA, sw.Plan("shop", "1.0.0"))
        first = await asyncio.wait_for(stream.__anext__(), 5)
        assert (first.kind, first.stream) == ("planned", "shop-1.0.0")
        await asyncio.wait_for(arrived.wait(), 5)
        assert seen[0].kind == "planned"
        subscription.close()
        await asyncio.sleep(0.05)
        assert subscription.closed

        lines: list[sw.LogEvent] = []
        logs = manager.logs()

        async def read_one() -> None:
            async for line in logs:
                lines.append(line)
                return

        reader = asyncio.ensure_future(read_one())
        await manager.approve("shop-1.0.0", person("product_owner"), "scope")
        await manager.run("shop-1.0.0")
        await asyncio.wait_for(reader, 5)
        assert lines and lines[0].release == "shop-1.0.0"

    asyncio.run(main())


def test_a_sync_callback_without_a_loop_is_called_from_a_runtime_thread() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    seen: list[str] = []
    with manager.on_event(lambda e: seen.append(e.kind)) as subscription:
        manager.plan_sync(RITA, sw.Plan("shop", "1.0.0"))
        for _ in range(100):
            if seen:
                break
            time.sleep(0.01)
    assert seen == ["planned"]
    assert subscription is not None


def test_help_shows_a_docstring_for_every_public_method() -> None:
    import ast

    stub = Path(sw.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    missing: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            if ast.get_docstring(node) is None:
                missing.append(node.name)
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and not item.name.startswith("_"):
                    if ast.get_docstring(item) is None:
                        missing.append(f"{node.name}.{item.name}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            if ast.get_docstring(node) is None:
                missing.append(node.name)
    assert missing == [], f"no docstring in _native.pyi: {missing}"
