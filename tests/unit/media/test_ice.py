"""The loopback candidate policy (media/ice.py), without any network."""

from __future__ import annotations

import aioice.ice
import pytest

from media import ice
from media.ice import LoopbackPolicy, host_addresses


def _eth0(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return (["192.0.2.2"] if use_ipv4 else []) + (["fd00::2"] if use_ipv6 else [])


def _nothing(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return []


@pytest.mark.parametrize(
    ("policy", "upstream", "expected"),
    [
        (LoopbackPolicy.AUTO, _eth0, ["192.0.2.2", "fd00::2"]),
        (LoopbackPolicy.AUTO, _nothing, ["127.0.0.1"]),
        (LoopbackPolicy.ONLY, _eth0, ["127.0.0.1"]),
        (LoopbackPolicy.ALWAYS, _eth0, ["192.0.2.2", "fd00::2", "127.0.0.1"]),
        (LoopbackPolicy.OFF, _nothing, []),
        (LoopbackPolicy.OFF, _eth0, ["192.0.2.2", "fd00::2"]),
    ],
)
def test_host_addresses_follow_the_policy(
    policy: LoopbackPolicy, upstream: ice.HostAddresses, expected: list[str]
) -> None:
    assert host_addresses(True, True, policy, upstream) == expected


def test_ipv6_only_uses_the_ipv6_loopback() -> None:
    assert host_addresses(False, True, LoopbackPolicy.ONLY, _eth0) == ["::1"]
    assert host_addresses(False, False, LoopbackPolicy.ONLY, _eth0) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("only", LoopbackPolicy.ONLY),
        (" ALWAYS ", LoopbackPolicy.ALWAYS),
        ("off", LoopbackPolicy.OFF),
        ("", LoopbackPolicy.AUTO),
        ("bogus", LoopbackPolicy.AUTO),
    ],
)
def test_policy_from_env(value: str, expected: LoopbackPolicy) -> None:
    assert ice.policy_from_env({ice.ENV_VAR: value}) is expected
    assert ice.policy_from_env({}) is LoopbackPolicy.AUTO


def test_set_policy_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ice.ENV_VAR, "off")
    ice.set_policy(LoopbackPolicy.ONLY)
    try:
        assert ice.current_policy() is LoopbackPolicy.ONLY
    finally:
        ice.set_policy(None)
    assert ice.current_policy() is LoopbackPolicy.OFF


def test_install_is_idempotent_and_reversible(monkeypatch: pytest.MonkeyPatch) -> None:
    was_installed = ice.is_installed()
    monkeypatch.setenv(ice.ENV_VAR, "only")
    try:
        ice.install()
        ice.install()
        assert ice.is_installed()
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1"]
        ice.uninstall()
        assert not ice.is_installed()
        assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)
    finally:
        if was_installed:
            ice.install()
