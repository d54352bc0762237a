"""A configuration built in code (issue #20): its shape is published as TypedDicts
(`shipwarden.config`), its problems name key paths in plain words, and the
commented default is one call away."""

from __future__ import annotations

from pathlib import Path

import pytest

import shipwarden as sw
from shipwarden.config import Config


def problems(config: Config) -> list[tuple[str, str]]:
    with pytest.raises(sw.ConfigError) as raised:
        sw.ReleaseManager.open(config)
    text = str(raised.value)
    assert "shipwarden.toml" not in text and "--config" not in text, text
    return [(path, message) for path, message in raised.value.problems]


def test_a_missing_key_is_named_by_its_path_in_plain_words() -> None:
    config: Config = {"project": {"name": "shop"}, "environments": {"prod": {"targets": [{"name": "web-1"}]}}}  # type: ignore[list-item]
    assert problems(config) == [("environments.prod.targets[0].deploy", "is required but missing")]


def test_an_unknown_key_names_the_keys_of_its_table() -> None:
    found = problems({"project": {"name": "shop", "nmae": "x"}})  # type: ignore[typeddict-unknown-key]
    assert found[0][0] == "project.nmae"
    assert "not a known key" in found[0][1] and "ticket_prefix" in found[0][1]


def test_a_wrong_type_says_what_was_expected() -> None:
    found = problems({"project": {"name": 7}})  # type: ignore[typeddict-item]
    assert found[0][0] == "project.name" and found[0][1].startswith("expected a string, found integer")


def test_none_means_not_given_and_a_typed_config_opens(tmp_path: Path) -> None:
    config: Config = {
        "project": {"name": "shop", "ticket_prefix": None, "state_dir": ".state"},
        "store": {"kind": "sqlite"},
        "users": {"rita": {"roles": ["release_manager"]}},
        "environments": {"staging": {"targets": [{"name": "s-1", "deploy": ["true"], "rollback": ["true"]}]}},
    }
    manager = sw.ReleaseManager.open(config, base_dir=tmp_path)
    assert manager.actor("rita").user == "rita"


def test_a_missing_file_gives_no_cli_advice(tmp_path: Path) -> None:
    with pytest.raises(sw.ShipwardenError) as raised:
        sw.ReleaseManager.open(tmp_path / "shipwarden.toml")
    assert "--config" not in str(raised.value) and "shipwarden init" not in str(raised.value)


def test_the_commented_default_is_what_init_writes_and_opens(tmp_path: Path) -> None:
    text = sw.default_config("shop")
    assert text.startswith("#") and 'name = "shop"' in text
    (tmp_path / "shipwarden.toml").write_text(text)
    manager = sw.ReleaseManager.open(tmp_path / "shipwarden.toml")
    assert manager.list_sync() == []


def test_hostile_dicts_are_clear_errors_not_crashes() -> None:
    # A dict that contains itself, data nested deeper than any config, a number beyond 64 bits.
    looped: dict[str, object] = {"name": "shop"}
    looped["self"] = looped
    deep: list[object] = []
    for _ in range(10_000):
        deep = [deep]
    for config, where in [
        ({"project": looped}, "project.self"),
        ({"project": {"name": "shop"}, "policy": {"x": deep}}, "policy.x"),
        ({"project": {"name": "shop"}, "engine": {"lease_ttl": 2**70}}, "engine.lease_ttl"),
    ]:
        with pytest.raises(sw.InvalidInputError) as raised:
            sw.ReleaseManager.open(config)  # type: ignore[arg-type]
        assert where in str(raised.value), str(raised.value)
