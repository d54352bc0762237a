"""What the Python binding takes from the shared layer (issue #20): the
default approval role (R-2c), the decoding of port answers, and the
bench helpers kept out of the public API."""

from __future__ import annotations

import shipwarden as sw
from helpers import SATURDAY


def test_default_role_is_the_first_the_policy_accepts_r2c() -> None:
    manager = sw.ReleaseManager.open(clock=SATURDAY)
    manager.plan_sync(sw.Actor("rita", ["release_manager"]), sw.Plan("shop", "1.0.0"))
    paul = sw.Actor("paul", ["qa_lead", "product_owner"])
    release = manager.approve_sync("shop-1.0.0", paul, "scope")
    assert [a.role for a in release.approvals] == ["product_owner"]


def test_a_bad_port_answer_names_what_was_expected_and_what_came() -> None:
    class Broken:
        name = "broken"

        def deploy(self, request: sw.DeployRequest, log: sw.Log) -> str | None:
            return None

        def rollback(self, request: sw.RollbackRequest, log: sw.Log) -> None:
            return None

        def status(self, key: str) -> object:
            return 42

    from shipwarden import _bench

    # A status answer that is not a str or None names what was expected and what came.
    try:
        _bench.python_port(Broken(), 1)
    except sw.AdapterError as error:
        assert "expected a string (done) or None/null (not found), got 42" in str(error)
    else:
        raise AssertionError("a status of 42 was accepted")


def test_bench_helpers_are_not_public_api() -> None:
    from shipwarden import _bench

    assert not any(name.startswith("_bench_") for name in dir(sw) + dir(sw._native))
    assert "_bench" not in sw.__all__
    assert _bench.rust_port(10) > 0
