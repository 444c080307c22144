"""Counters for ``GET /metrics`` in the Prometheus text exposition format (no dependency)."""

from __future__ import annotations

import os
import resource
from collections import Counter

#: Gauges passed in at render time: key → (metric name, help text).
GAUGES: dict[str, tuple[str, str]] = {
    "rooms": ("parley_rooms", "Rooms with at least one member."),
    "unjoined_calls": (
        "parley_unjoined_calls",
        "Calls an invitation made that nobody has joined yet.",
    ),
    "invitations": ("parley_active_invitations", "Invitations still ringing."),
    "engineio_sockets": (
        "parley_engineio_sockets",
        "Engine.IO connections open, signed in or not.",
    ),
    "unauthenticated_sockets": (
        "parley_unauthenticated_sockets",
        "Engine.IO connections that have not signed in (yet).",
    ),
    "queued_bytes": (
        "parley_queued_bytes",
        "Bytes waiting to be sent to clients, all connections together.",
    ),
    "http_connections": (
        "parley_http_connections",
        "HTTP connections open (websockets and long-polls included).",
    ),
    "asyncio_tasks": ("parley_asyncio_tasks", "Tasks on the server's event loop."),
    "resident_bytes": (
        "parley_process_resident_memory_bytes",
        "Resident memory of the server process.",
    ),
}


class Metrics:
    """What the server counts; gauges that live elsewhere are passed in at render time."""

    def __init__(self) -> None:
        self.connections = 0
        self.invitations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.refused_connections: Counter[str] = Counter()
        self.refused_packets: Counter[str] = Counter()
        self.dropped_connections: Counter[str] = Counter()

    def render(self, gauges: dict[str, int]) -> str:
        """The exposition text."""
        lines = [
            "# HELP parley_connections Connected, authenticated clients.",
            "# TYPE parley_connections gauge",
            f"parley_connections {self.connections}",
        ]
        for key, (name, help_text) in GAUGES.items():
            if key in gauges:
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
                lines.append(f"{name} {gauges[key]}")
        lines += _counter(
            "parley_invitations_total", "Invitee outcomes.", "outcome", self.invitations
        )
        lines += _counter("parley_errors_total", "Error answers by code.", "code", self.errors)
        lines += _counter("parley_requests_total", "Requests by event.", "event", self.requests)
        lines += _counter(
            "parley_refused_connections_total",
            "Connections refused at login.",
            "code",
            self.refused_connections,
        )
        lines += _counter(
            "parley_refused_packets_total",
            "Packets the protocol does not have, refused before dispatch.",
            "reason",
            self.refused_packets,
        )
        lines += _counter(
            "parley_dropped_connections_total",
            "Connections the server closed: slow readers, idle HTTP connections.",
            "reason",
            self.dropped_connections,
        )
        return "\n".join(lines) + "\n"


def resident_bytes() -> int:
    """The process's resident memory now (Linux), else its peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if os.uname().sysname == "Darwin" else peak * 1024


def _counter(name: str, help_text: str, label: str, values: Counter[str]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines += [f'{name}{{{label}="{key}"}} {count}' for key, count in sorted(values.items())]
    return lines
