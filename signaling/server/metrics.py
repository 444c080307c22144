"""Counters for ``GET /metrics`` in the Prometheus text exposition format (no dependency)."""

from __future__ import annotations

from collections import Counter


class Metrics:
    """What the server counts; gauges that live in the store are passed in at render time."""

    def __init__(self) -> None:
        self.connections = 0
        self.invitations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.refused_connections: Counter[str] = Counter()
        self.refused_packets: Counter[str] = Counter()

    def render(self, gauges: dict[str, int]) -> str:
        """The exposition text."""
        lines = [
            "# HELP parley_connections Connected, authenticated clients.",
            "# TYPE parley_connections gauge",
            f"parley_connections {self.connections}",
            "# HELP parley_rooms Rooms with at least one member.",
            "# TYPE parley_rooms gauge",
            f"parley_rooms {gauges.get('rooms', 0)}",
            "# HELP parley_unjoined_calls Calls an invitation made that nobody has joined yet.",
            "# TYPE parley_unjoined_calls gauge",
            f"parley_unjoined_calls {gauges.get('unjoined_calls', 0)}",
            "# HELP parley_active_invitations Invitations still ringing.",
            "# TYPE parley_active_invitations gauge",
            f"parley_active_invitations {gauges.get('invitations', 0)}",
        ]
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
        return "\n".join(lines) + "\n"


def _counter(name: str, help_text: str, label: str, values: Counter[str]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines += [f'{name}{{{label}="{key}"}} {count}' for key, count in sorted(values.items())]
    return lines
