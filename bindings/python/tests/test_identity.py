"""Who acted, proven, and the audit trail anchored (issue #19, R-2d, R-9d):
signed approvals verified against the configured keys, identities an
embedding platform verified, signed checkpoints and a forged store found."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

import shipwarden as sw
from helpers import SATURDAY

SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"


def keypair(dir: Path, name: str) -> tuple[Path, str]:
    key = dir / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (dir / f"{name}.pub").read_text().strip()


def open_verified(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[sw.ReleaseManager, Path]:
    """A SQLite project under `trust = "verified"` with paul's SSH key and a checkpoint signing key."""
    monkeypatch.setenv("SW_PY_ANCHOR_KEY", SEED)
    key, public = keypair(tmp_path, "paul")
    (tmp_path / "shipwarden.toml").write_text(
        f"""
[project]
name = "shop"
state_dir = "state"

[users.rita]
roles = ["release_manager"]
[users.paul]
roles = ["product_owner"]
ssh_keys = ["{public}"]

[identity]
trust = "verified"

[evidence]
signing_key_env = "SW_PY_ANCHOR_KEY"
"""
    )
    manager = sw.ReleaseManager.open(tmp_path / "shipwarden.toml", clock=SATURDAY)
    manager.plan_sync("rita", sw.Plan("shop", "1.0.0"))
    return manager, key


def test_a_signed_approval_is_accepted_where_an_unsigned_one_is_refused_r2d(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, key = open_verified(tmp_path, monkeypatch)

    with pytest.raises(sw.RefusedError) as refused:
        manager.approve_sync("shop-1.0.0", "paul", "scope")
    assert "R-2d" in str(refused.value)
    assert any(u.rule == "R-2d" for u in refused.value.unmet)

    statement = manager.approval_statement_sync("shop-1.0.0", "paul", "scope", comment="ok")
    assert "shop-1.0.0" in statement and "paul" in statement

    # A signature over another statement (another comment) is refused, never recorded.
    other = manager.approval_statement_sync("shop-1.0.0", "paul", "scope", comment="not this")
    with pytest.raises(sw.RefusedError, match="R-2d"):
        manager.approve_sync(
            "shop-1.0.0", "paul", "scope", comment="ok", signature=sw.sign_statement(other, key), statement=other
        )

    # Signed the way a person does it, with ssh-keygen.
    (tmp_path / "statement").write_text(statement)
    subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-n", "shipwarden", "-f", str(key), str(tmp_path / "statement")], check=True
    )
    signature = (tmp_path / "statement.sig").read_text()
    release = manager.approve_sync("shop-1.0.0", "paul", "scope", comment="ok", signature=signature, statement=statement)
    [approval] = release.approvals
    assert approval.user == "paul"
    assert approval.proof is not None
    assert approval.proof["kind"] == "ssh_signature"
    assert approval.proof["fingerprint"].startswith("SHA256:")
    [approved] = [e for e in manager.history_sync("shop-1.0.0") if e.kind == "approved"]
    assert approved.event["proof"]["kind"] == "ssh_signature"

    with pytest.raises(sw.InvalidInputError, match="go together"):
        manager.approve_sync("shop-1.0.0", "paul", "acceptance", signature=signature)


def test_an_identity_the_platform_verified_is_recorded_as_such(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manager, _ = open_verified(tmp_path, monkeypatch)
    paul = sw.Actor("paul", ["product_owner"], proof={"kind": "oidc", "issuer": "https://sso.example", "subject": "p-7"})
    assert paul.proof == {"kind": "oidc", "issuer": "https://sso.example", "subject": "p-7"}
    assert sw.Actor("paul").proof == {"kind": "local"}
    release = manager.approve_sync("shop-1.0.0", paul, "scope")
    assert release.approvals[0].proof == {"kind": "oidc", "issuer": "https://sso.example", "subject": "p-7"}
    token = sw.Actor("paul", ["product_owner"], proof={"kind": "token", "id": "tok-42"})
    assert token.proof == {"kind": "token", "id": "tok-42"}

    with pytest.raises(sw.InvalidInputError, match="approve"):
        sw.Actor("paul", proof={"kind": "ssh_signature", "fingerprint": "x"})
    with pytest.raises(sw.InvalidInputError, match="proof"):
        sw.Actor("paul", proof={"kind": "password"})


def test_checkpoints_verify_and_a_forged_store_is_found_r9d(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manager, _ = open_verified(tmp_path, monkeypatch)
    paul = sw.Actor("paul", ["product_owner"], proof={"kind": "token", "id": "tok-1"})
    manager.approve_sync("shop-1.0.0", paul, "scope", comment="ok")

    [checkpoint] = manager.checkpoints_sync("shop-1.0.0")
    assert checkpoint.sequence == 1
    assert checkpoint.stage == sw.Stage.PLANNED
    assert len(checkpoint.head) == 64 and len(checkpoint.public_key) == 64
    assert checkpoint.at.tzinfo is not None
    history = manager.history_sync("shop-1.0.0")
    assert checkpoint.head == history[0].hash

    report = manager.verify_audit_sync("shop-1.0.0")
    assert report.ok and report.events == 2 and report.checkpoints == 1 and report.anchored_at == 1
    assert manager.verify_audit_sync("shop-1.0.0", head=history[-1].hash).head == history[-1].hash
    with pytest.raises(sw.IntegrityError, match="continues past") as past:
        manager.verify_audit_sync("shop-1.0.0", head=history[0].hash)
    assert past.value.release == "shop-1.0.0"

    db = tmp_path / "state" / "releases.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE checkpoints SET head = ? WHERE stream = 'shop-1.0.0' AND seq = 1", ("0" * 64,))
    with pytest.raises(sw.IntegrityError, match="sequence 1") as forged:
        manager.verify_audit_sync("shop-1.0.0")
    assert forged.value.sequence == 1 and "R-9d" in str(forged.value)

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE events SET event = replace(event, '\"ok\"', '\"fine\"') WHERE stream = 'shop-1.0.0' AND seq = 2")
    with pytest.raises(sw.IntegrityError) as edited:
        manager.verify_audit_sync("shop-1.0.0")
    assert edited.value.sequence == 2, str(edited.value)


def test_a_signed_rejection_verifies_and_an_approvals_signature_does_not_stand_for_one_r2c_r2d(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, key = open_verified(tmp_path, monkeypatch)
    reason = "SHOP-12 is not ready"

    # Under `trust = "verified"` a rejection needs the proof an approval needs (R-2d).
    with pytest.raises(sw.RefusedError) as refused:
        manager.reject_sync("shop-1.0.0", "paul", "scope", reason)
    assert any(u.rule == "R-2d" for u in refused.value.unmet)

    statement = manager.rejection_statement_sync("shop-1.0.0", "paul", "scope", reason)
    assert statement.startswith("shipwarden rejection statement v1\n")
    assert "approval: scope" in statement and '"SHOP-12 is not ready"' in statement

    # An approval's statement with the same fields, and its signature, prove an approval, never a rejection.
    approval = manager.approval_statement_sync("shop-1.0.0", "paul", "scope", comment=reason)
    assert approval.startswith("shipwarden approval statement v1\n")
    approval_signature = sw.sign_statement(approval, key)
    for signed, presented in ((approval_signature, approval), (approval_signature, statement)):
        with pytest.raises(sw.RefusedError) as refused:
            manager.reject_sync("shop-1.0.0", "paul", "scope", reason, signature=signed, statement=presented)
        assert refused.value.rule == "R-2d", str(refused.value)
    # Nor does a rejection's signature prove an approval.
    with pytest.raises(sw.RefusedError, match="R-2d"):
        manager.approve_sync(
            "shop-1.0.0", "paul", "scope", comment=reason, signature=sw.sign_statement(statement, key), statement=statement
        )
    assert manager.status_sync("shop-1.0.0").release.rejections == [], "nothing refused was recorded"

    # Signed the way a person does it, with ssh-keygen.
    (tmp_path / "rejection").write_text(statement)
    subprocess.run(
        ["ssh-keygen", "-q", "-Y", "sign", "-n", "shipwarden", "-f", str(key), str(tmp_path / "rejection")], check=True
    )
    signature = (tmp_path / "rejection.sig").read_text()
    release = manager.reject_sync("shop-1.0.0", "paul", "scope", reason, signature=signature, statement=statement)
    [rejection] = release.rejections
    assert (rejection.user, rejection.comment) == ("paul", reason)
    assert rejection.proof is not None and rejection.proof["kind"] == "ssh_signature"
    [rejected] = [e for e in manager.history_sync("shop-1.0.0") if e.kind == "rejected"]
    assert rejected.event["proof"]["kind"] == "ssh_signature"

    # The evidence bundle verifies offline, and lists the rejection with its signer (R-9d).
    report = manager.verify_bundle(manager.evidence_bundle_sync("shop-1.0.0"))
    [listed] = report["rejections"]
    assert (listed["approval"], listed["user"], listed["role"], listed["reason"]) == ("scope", "paul", "product_owner", reason)
    assert listed["proof"] == "ssh_signature" and listed["fingerprint"] == rejection.proof["fingerprint"]
    assert listed["sequence"] == rejected.sequence
    assert report["approvals"] == []

    with pytest.raises(sw.InvalidInputError, match="rejection_statement"):
        manager.action_statement_sync("shop-1.0.0", "paul", "reject", reason)
