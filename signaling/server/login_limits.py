"""How many wrong passwords the sign-in API takes, per account and per address.

Per account: the first ``free_failures`` in a row cost nothing; each further one locks the
account's sign-in for twice as long as the last (1 s, 2 s, 4 s ... up to 15 min), so
guessing one person's password takes centuries while its owner, having mistyped a few
times, waits seconds. A correct password ends the run. Per address: failures fill a
bucket that drains at ``address_rate`` a second; a full bucket refuses that address,
whatever account it tries (a guesser spreading over many IDs).

Only failures count, so a hundred people signing in at once from behind one NAT are never
refused. The state is per server process and bounded: idle entries are forgotten.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_LOCK_S = 15 * 60
# Entries kept before idle ones are swept (a flood of made-up IDs cannot grow it unbounded).
_SWEEP_AT = 10_000


@dataclass
class _Account:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


@dataclass
class _Address:
    level: float = 0.0
    last: float = 0.0


class LoginLimits:
    """Say how long an attempt must wait; count what failed."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        address_burst: int = 30,
        address_rate: float = 10 / 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.free_failures = free_failures
        self.address_burst = address_burst
        self.address_rate = address_rate
        self._clock = clock
        self._accounts: dict[str, _Account] = {}
        self._addresses: dict[str, _Address] = {}

    def wait_s(self, user_id: str, address: str) -> float:
        """Seconds before ``user_id`` may try again from ``address`` (0: now)."""
        now = self._clock()
        account = self._accounts.get(user_id)
        account_wait = max(0.0, account.locked_until - now) if account else 0.0
        spot = self._addresses.get(address)
        address_wait = 0.0
        if spot is not None:
            level = self._drained(spot, now)
            if level >= self.address_burst:
                address_wait = (level - self.address_burst + 1) / self.address_rate
        return max(account_wait, address_wait)

    def failed(self, user_id: str, address: str) -> None:
        """A wrong password (or unknown ID) for ``user_id`` from ``address``."""
        now = self._clock()
        self._sweep(now)
        account = self._accounts.setdefault(user_id, _Account())
        account.failures += 1
        account.last = now
        over = account.failures - self.free_failures
        if over > 0:
            account.locked_until = now + min(MAX_LOCK_S, 2.0 ** (over - 1))
        spot = self._addresses.setdefault(address, _Address(last=now))
        spot.level = self._drained(spot, now) + 1
        spot.last = now

    def succeeded(self, user_id: str) -> None:
        """The right password: the account's run of failures is over."""
        self._accounts.pop(user_id, None)

    def _drained(self, spot: _Address, now: float) -> float:
        return max(0.0, spot.level - (now - spot.last) * self.address_rate)

    def _sweep(self, now: float) -> None:
        if len(self._accounts) + len(self._addresses) < _SWEEP_AT:
            return
        self._accounts = {
            k: a
            for k, a in self._accounts.items()
            if a.locked_until > now or now - a.last < MAX_LOCK_S
        }
        self._addresses = {k: s for k, s in self._addresses.items() if self._drained(s, now) > 0}


def retry_after_header(wait_s: float) -> str:
    """The ``Retry-After`` value (whole seconds, at least 1) for a wait."""
    return str(max(1, math.ceil(wait_s)))


__all__ = ["MAX_LOCK_S", "LoginLimits", "retry_after_header"]
