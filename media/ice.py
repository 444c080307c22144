"""Loopback ICE host candidates, so two Parley instances connect on a loopback-only host.

Upstream behaviour worked around: ``aioice.ice.get_host_addresses`` (aioice 0.13) skips
``127.0.0.1`` and ``::1`` when it lists host addresses. On a machine whose only
interface is loopback, ICE therefore gathers no candidate at all and no media flows
(see ``../shared/ENVIRONMENT.md``, section aiortc). aioice has no option for it, so
:func:`install` wraps that one module-level function; everything else in aioice is
untouched. The wrapper consults a :class:`LoopbackPolicy` each time ICE gathers:

- ``AUTO`` (default): the upstream list, or loopback when that list is empty;
- ``ONLY``: loopback alone, as if loopback were the only interface (tests, benchmarks);
- ``ALWAYS``: the upstream list plus loopback;
- ``OFF``: the upstream list, unchanged.

The policy comes from :func:`set_policy` or else from the ``PARLEY_ICE_LOOPBACK``
environment variable (``auto``, ``only``, ``always``, ``off``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from enum import StrEnum

import aioice.ice

ENV_VAR = "PARLEY_ICE_LOOPBACK"
IPV4_LOOPBACK = "127.0.0.1"
IPV6_LOOPBACK = "::1"

HostAddresses = Callable[[bool, bool], list[str]]


class LoopbackPolicy(StrEnum):
    """When loopback addresses become ICE host candidates."""

    AUTO = "auto"
    ONLY = "only"
    ALWAYS = "always"
    OFF = "off"


# The function aioice shipped with, kept so the patch can delegate to it and be undone.
_upstream = aioice.ice.get_host_addresses
_policy_override: LoopbackPolicy | None = None


def policy_from_env(environ: Mapping[str, str] | None = None) -> LoopbackPolicy:
    """Read the policy from ``PARLEY_ICE_LOOPBACK``; unset or unknown values mean AUTO."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "").strip().lower()
    try:
        return LoopbackPolicy(value)
    except ValueError:
        return LoopbackPolicy.AUTO


def current_policy() -> LoopbackPolicy:
    """The policy the next ICE gathering will use."""
    return _policy_override if _policy_override is not None else policy_from_env()


def set_policy(policy: LoopbackPolicy | None) -> None:
    """Force a policy for this process; ``None`` goes back to the environment variable."""
    global _policy_override
    _policy_override = policy


def loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """Loopback addresses for the enabled families; IPv4 alone when both are enabled.

    One loopback candidate is enough to connect and keeps the ICE check list short.
    """
    if use_ipv4:
        return [IPV4_LOOPBACK]
    if use_ipv6:
        return [IPV6_LOOPBACK]
    return []


def host_addresses(
    use_ipv4: bool,
    use_ipv6: bool,
    policy: LoopbackPolicy,
    upstream: HostAddresses | None = None,
) -> list[str]:
    """The host addresses ICE should bind, given the upstream list and a policy."""
    if policy is LoopbackPolicy.ONLY:
        return loopback_addresses(use_ipv4, use_ipv6)
    addresses = (upstream or _upstream)(use_ipv4, use_ipv6)
    if policy is LoopbackPolicy.ALWAYS or (policy is LoopbackPolicy.AUTO and not addresses):
        addresses = addresses + [
            a for a in loopback_addresses(use_ipv4, use_ipv6) if a not in addresses
        ]
    return addresses


def _patched_get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return host_addresses(use_ipv4, use_ipv6, current_policy())


def install() -> None:
    """Make aioice use :func:`host_addresses`; idempotent, cheap, safe to call per link."""
    aioice.ice.get_host_addresses = _patched_get_host_addresses


def uninstall() -> None:
    """Restore aioice's own ``get_host_addresses``."""
    aioice.ice.get_host_addresses = _upstream


def is_installed() -> bool:
    """Whether aioice currently gathers through the loopback-aware wrapper."""
    return bool(aioice.ice.get_host_addresses is _patched_get_host_addresses)
