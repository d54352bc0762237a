"""The main scenarios of the Rust suite, driven from Python."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import shipwarden as sw
from helpers import RITA, SATURDAY, HostProbe, Inbox, Smoke, Target, drive, person


def environments() -> dict[str, list[Target]]:
    return {
        "staging": [Target("staging-1")],
        "test": [Target("test-1")],
        "prod": [Target("prod-1"), Target("prod-2")],
    }


def open_manager(
    targets: dict[str, list[Target]], inbox: Inbox, smoke: Smoke | None = None
) -> sw.ReleaseManager:
    return sw.ReleaseManager.open(
        clock=SATURDAY,
        targets=targets,
        notifiers=[inbox],
        checks={"prod": HostProbe()},
        smoke={"prod": smoke or Smoke()},
    )


def test_full_release_from_plan_to_close() -> None:
    targets, inbox = environments(), Inbox()
    manager = open_manager(targets, inbox)
    release = manager.plan_sync(RITA, sw.Plan("shop", "1.4.0", scope=["SHOP-12", "SHOP-13"]))
    assert release.id == "shop-1.4.0"
    assert release.stage == sw.Stage.PLANNED

    outcome = drive(manager, "shop-1.4.0")

    assert outcome.outcome == "final"
    assert outcome.stage == sw.Stage.CLOSED
    assert all(t.deployed == ["1.4.0"] for ts in targets.values() for t in ts)
    status = manager.status_sync("shop-1.4.0")
    path = [s.name for s in status.release.path]
    assert path[:3] == ["planned", "scope_approved", "built"]
    assert path[-3:] == ["verifying", "released", "closed"]
    assert {a.approval for a in status.release.approvals} >= {"scope", "qa_signoff", "acceptance"}
    assert all(g.passed for g in status.release.gate_results)
    # The Python target's log lines are in the step's record (R-8e).
    deploy = [s for s in status.release.steps if s.target == "prod-1"]
    assert deploy and deploy[0].ok and deploy[0].log == ["prod-1 installs 1.4.0"]
    assert [n.subject for n in inbox.notices] == ["Released shop 1.4.0"]
    assert "teams" in inbox.notices[0].audience
    # The audit trail is hash-chained.
    history = manager.history_sync("shop-1.4.0")
    assert history[0].kind == "planned" and history[0].actor == "rita"
    assert all(b.prev_hash == a.hash for a, b in zip(history, history[1:]))
    assert "## shop 1.4.0" in manager.notes_sync("shop-1.4.0")
    [summary] = manager.list_sync(project="shop")
    assert summary.stage == "closed"


def test_refusal_names_the_rule_stage_and_every_unmet_requirement() -> None:
    manager = open_manager(environments(), Inbox())
    manager.plan_sync(RITA, sw.Plan("shop", "1.4.0"))

    with pytest.raises(sw.RefusedError) as caught:
        manager.advance_sync("shop-1.4.0", RITA, sw.Stage.SCOPE_APPROVED)
    error = caught.value
    assert error.rule == "R-2b"
    assert error.stage == "planned"
    assert error.attempted == "advance to scope_approved"
    assert [(u.rule, u.requirement, u.approval, u.roles) for u in error.unmet] == [
        ("R-2b", "approval", "scope", ["product_owner"])
    ]
    assert error.retryable is False
    assert isinstance(error, sw.ShipwardenError)
    assert "R-2b" in str(error)

    # Skipping stages is refused by the procedure's order.
    with pytest.raises(sw.RefusedError) as skipped:
        manager.advance_sync("shop-1.4.0", RITA, "prod_ready")
    assert skipped.value.rule == "R-3"
    assert skipped.value.unmet[0].requirement == "transition"

    # The planner cannot approve their own scope (R-2d, separation of duties).
    with pytest.raises(sw.RefusedError) as own:
        manager.approve_sync("shop-1.4.0", sw.Actor("rita", ["release_manager", "product_owner"]), "scope", role="product_owner")
    assert "R-2d" in [u.rule for u in own.value.unmet]

    # Nothing was recorded by the refusals.
    assert len(manager.history_sync("shop-1.4.0")) == 1


def test_emergency_release_needs_the_cto() -> None:
    targets, inbox = environments(), Inbox()
    manager = open_manager(targets, inbox)
    hotfix = sw.Hotfix("SHOP-99", "HOTFIX: payments fail", "customers cannot pay")
    plan = sw.Plan("shop", "1.4.1", "emergency", scope=["SHOP-99"], hotfix=hotfix)
    manager.plan_sync(RITA, plan)

    waiting = drive(manager, "shop-1.4.1", skip=frozenset({"emergency"}))
    assert waiting.outcome == "waiting"
    assert waiting.refusal is not None
    assert "R-5a" in waiting.refusal.rules
    assert all(t.deployed == [] for t in targets["prod"])

    # A release manager cannot give the emergency approval: it needs the CTO or a tech lead (R-5a, R-2d).
    with pytest.raises(sw.RefusedError) as caught:
        manager.approve_sync("shop-1.4.1", person("release_manager"), "emergency", role="release_manager")
    assert [u.rule for u in caught.value.unmet] == ["R-2d"]
    assert "cto" in caught.value.unmet[0].message

    manager.approve_sync("shop-1.4.1", person("cto"), "emergency", comment="go")
    outcome = drive(manager, "shop-1.4.1")
    assert outcome.stage in ("released", "closed")
    assert all(t.deployed == ["1.4.1"] for t in targets["prod"])
    assert any("1.4.1" in n.subject for n in inbox.notices)


def test_failed_smoke_test_rolls_back() -> None:
    targets, inbox = environments(), Inbox()
    manager = open_manager(targets, inbox, smoke=Smoke(status=500))
    manager.plan_sync(RITA, sw.Plan("shop", "1.4.0"))

    outcome = drive(manager, "shop-1.4.0")

    assert outcome.outcome == "rolled_back"
    assert outcome.stage == sw.Stage.ROLLED_BACK
    assert outcome.reason is not None
    assert "smoke_test on prod failed" in outcome.reason
    assert "GET /health answered 500" in outcome.reason
    assert all(t.deployed == ["1.4.0"] for t in targets["prod"])
    assert all(len(t.rolled_back) == 1 for t in targets["prod"])
    assert targets["staging"][0].rolled_back == []
    release = manager.status_sync("shop-1.4.0").release
    assert release.stage == "rolled_back"
    assert release.rollback_reason == outcome.reason
    steps = {s.step for s in release.steps if s.ok}
    assert {"backup", "restore_test", "rollback"} <= steps
    assert any("roll" in n.subject.lower() for n in inbox.notices)


def test_a_smoke_test_that_measures_too_slow_rolls_production_back() -> None:
    targets, inbox = environments(), Inbox()
    manager = open_manager(targets, inbox, smoke=Smoke(millis=2500.0))
    manager.plan_sync(RITA, sw.Plan("shop", "1.4.0"))

    outcome = drive(manager, "shop-1.4.0", skip=frozenset({"response_time"}))

    # R-8f: a failing measurement is a failed smoke test; production goes back at once, not at the deadline.
    assert outcome.outcome == "rolled_back"
    assert outcome.reason is not None and "response_time" in outcome.reason and "2500" in outcome.reason
    assert all(len(t.rolled_back) == 1 for t in targets["prod"])
    release = manager.status_sync("shop-1.4.0").release
    assert release.stage == "rolled_back"
    [failed] = [g for g in release.gate_results if not g.passed]
    assert (failed.gate, failed.value, failed.environment) == ("response_time", 2500.0, "prod")
    assert failed.threshold == "< 200 ms"


def test_dict_config_and_its_errors(tmp_path: Path) -> None:
    config = {
        "project": {"name": "shop", "state_dir": str(tmp_path / "state")},
        "users": {"rita": {"roles": ["release_manager"]}},
    }
    manager = sw.ReleaseManager.open(config, base_dir=tmp_path, clock=SATURDAY)
    assert manager.actor("rita") == RITA
    release = manager.plan_sync("rita", sw.Plan("shop", "1.0.0"))
    assert release.author == "rita"
    assert (tmp_path / "state").exists()

    with pytest.raises(sw.InvalidInputError):
        manager.plan_sync("nobody", sw.Plan("shop", "1.0.1"))

    bad = {"project": {"name": "shop", "colour": "blue"}, "users": {"x": {"roles": ["wizard!"]}}}
    with pytest.raises(sw.ConfigError) as caught:
        sw.ReleaseManager.open(bad, base_dir=tmp_path)
    assert caught.value.problems
    assert all(isinstance(p, tuple) and len(p) == 2 for p in caught.value.problems)
    assert "colour" in str(caught.value)

    with pytest.raises(sw.ConfigError) as missing:
        sw.ReleaseManager.open(tmp_path / "nope.toml")
    assert "nope.toml" in str(missing.value)


def test_bad_input_is_a_clear_error_not_a_crash() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    with pytest.raises(sw.InvalidInputError, match="SemVer"):
        sw.Plan("shop", "one.two")
    with pytest.raises(sw.InvalidInputError):
        sw.Plan("shop", "1.0.0", "hourly")
    with pytest.raises(sw.InvalidInputError):
        sw.Stage("Not A Stage")
    with pytest.raises(sw.NotFoundError):
        manager.status_sync("shop-9.9.9")
    with pytest.raises(sw.InvalidInputError):
        manager.status_sync("no spaces allowed")
    with pytest.raises(sw.InvalidInputError, match="several roles"):
        manager.approve_sync("shop-1.0.0", sw.Actor("x", ["qa_lead", "cto"]), "scope")
    with pytest.raises(sw.InvalidInputError, match="naive"):
        import datetime

        sw.ManualClock(datetime.datetime(2026, 11, 28, 10))
    with pytest.raises(sw.InvalidInputError, match="cannot serve as a deploy-target"):
        sw.ReleaseManager.open(targets={"prod": [object()]})


def test_any_adapter_of_the_crate_a_postgres_store() -> None:
    import os
    import uuid

    if "SHIPWARDEN_TEST_POSTGRES_URL" not in os.environ:
        if os.environ.get("SHIPWARDEN_REQUIRE_POSTGRES"):
            raise AssertionError("SHIPWARDEN_TEST_POSTGRES_URL is not set but PostgreSQL is required")
        pytest.skip("no PostgreSQL (scripts/test starts one)")
    project = f"pg{uuid.uuid4().hex[:8]}"
    config = {
        "project": {"name": project, "state_dir": "state"},
        "store": {"kind": "postgres", "url_env": "SHIPWARDEN_TEST_POSTGRES_URL"},
        # A shared store wants verified approvals by default (#19, R-2d); this script is one operator who says so.
        "identity": {"trust": "local"},
        "build": {
            "command": [sys.executable, "-c", "open('app.tar.gz', 'w').write('app')"],
            "artifacts": {"app.tar.gz": "app.tar.gz"},
        },
    }
    targets, inbox = environments(), Inbox()
    import tempfile

    with tempfile.TemporaryDirectory() as base:
        manager = sw.ReleaseManager.open(
            config,
            base_dir=base,
            clock=SATURDAY,
            targets=targets,
            notifiers=[inbox],
            checks={"prod": HostProbe()},
            smoke={"prod": Smoke()},
        )
        manager.plan_sync(RITA, sw.Plan(project, "1.0.0"))
        outcome = drive(manager, f"{project}-1.0.0")
        assert outcome.stage == "closed"
        # A second manager (another machine) reads the same release from PostgreSQL.
        other = sw.ReleaseManager.open(config, base_dir=base, clock=SATURDAY)
        assert other.status_sync(f"{project}-1.0.0").stage == "closed"


def test_types_compare_print_and_convert() -> None:
    commit = sw.parse_commit("feat(api)!: add search SHOP-7", "BREAKING CHANGE: v1 search is gone", author="ann")
    assert (commit.kind, commit.scope, commit.breaking, commit.tickets, commit.group) == (
        "feat",
        "api",
        True,
        ["SHOP-7"],
        "Breaking changes",
    )
    assert repr(commit) == "Commit(\"feat(api)!: add search SHOP-7\", kind='feat', tickets=[\"SHOP-7\"])"
    assert commit == sw.parse_commit("feat(api)!: add search SHOP-7", "BREAKING CHANGE: v1 search is gone", author="ann")
    assert commit.to_dict()["tickets"] == ["SHOP-7"]
    fix = sw.parse_commit("Fix #123: login bug", author="bob")
    notes = sw.release_notes("shop", [commit, fix], version="2.0.0", date="2026-11-28")
    assert notes.version == "2.0.0" and notes.contributors == ["ann", "bob"]
    assert notes.to_markdown().startswith("## shop 2.0.0 (2026-11-28)")

    plan = sw.Plan("shop", "1.4.0", scope=["SHOP-1"], target_date="2026-12-05", dependencies={"payments": ">=2.3"})
    assert plan == sw.Plan("shop", "1.4.0", scope=["SHOP-1"], target_date="2026-12-05", dependencies={"payments": ">=2.3"})
    assert plan != sw.Plan("shop", "1.4.1")
    assert repr(plan) == "Plan('shop', '1.4.0', 'minor')"
    assert plan.to_dict()["target_date"] == "2026-12-05"
    assert sw.Stage("planned") == sw.Stage.PLANNED == "planned"
    assert hash(sw.Stage.PLANNED) == hash("planned")
    assert [s.name for s in sw.Stage.built_in()][:2] == ["planned", "scope_approved"]

    policy = sw.Policy.default()
    assert policy.gates["coverage"] == ">= 90.0 %"
    tightened = sw.Policy.from_toml("[gates.coverage]\nthreshold = { at_least = 0.95 }\n")
    assert tightened.gates["coverage"] == ">= 95.0 %" and tightened != policy
    with pytest.raises(sw.InvalidInputError):
        sw.Policy.from_toml("[gates.coverage]\nthreshold = 'lots'\n")
