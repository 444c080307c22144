"""Turn aiortc ``getStats()`` reports into small frozen values a UI can show.

aiortc reports cumulative counters (bytes, packets) and no frame rate; a call screen
wants rates over the last interval. :class:`StatsSampler` keeps the previous totals of
one link and turns each new report into a :class:`LinkStats`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCTransportStats,
)


@dataclass(frozen=True)
class LinkStats:
    """Quality of one peer link over the last interval.

    ``rtt_ms`` is ``None`` until the remote side has sent a receiver report;
    ``frame_rate_in`` counts the remote video frames the app read (decoded), and is
    ``None`` when none were. ``packet_loss`` is the fraction of inbound packets lost;
    ``packet_loss_out`` the fraction of ours the remote side reported lost in its last
    receiver report (the worst of our streams).
    """

    rtt_ms: float | None
    packet_loss: float
    bitrate_in_bps: float
    bitrate_out_bps: float
    frame_rate_in: float | None
    interval_s: float
    packet_loss_out: float = 0.0

    def __post_init__(self) -> None:
        for name in ("packet_loss", "packet_loss_out"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        for name in ("bitrate_in_bps", "bitrate_out_bps", "interval_s"):
            value = getattr(self, name)
            if value < 0 or math.isnan(value):
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.rtt_ms is not None and self.rtt_ms < 0:
            raise ValueError(f"rtt_ms must be >= 0, got {self.rtt_ms}")
        if self.frame_rate_in is not None and self.frame_rate_in < 0:
            raise ValueError(f"frame_rate_in must be >= 0, got {self.frame_rate_in}")


@dataclass(frozen=True)
class StatsTotals:
    """Cumulative counters of one link at ``time`` (seconds, monotonic)."""

    time: float
    bytes_in: int
    bytes_out: int
    packets_received: int
    packets_lost: int
    video_frames_in: int


def totals_from_report(
    report: Mapping[str, object], video_frames_in: int, now: float
) -> StatsTotals:
    """Sum the counters of an aiortc stats report (all transports, all inbound streams)."""
    bytes_in = bytes_out = received = lost = 0
    for stats in report.values():
        if isinstance(stats, RTCTransportStats):
            bytes_in += stats.bytesReceived
            bytes_out += stats.bytesSent
        elif isinstance(stats, RTCInboundRtpStreamStats):
            received += stats.packetsReceived
            # RTCP may report negative cumulative loss after duplicates; clamp it.
            lost += max(0, stats.packetsLost)
    return StatsTotals(
        time=now,
        bytes_in=bytes_in,
        bytes_out=bytes_out,
        packets_received=received,
        packets_lost=lost,
        video_frames_in=video_frames_in,
    )


def rtt_ms_from_report(report: Mapping[str, object]) -> float | None:
    """The largest round-trip time the remote side reported, in milliseconds."""
    rtts = [
        stats.roundTripTime * 1000.0
        for stats in report.values()
        if isinstance(stats, RTCRemoteInboundRtpStreamStats) and stats.roundTripTime is not None
    ]
    return max(rtts) if rtts else None


def loss_out_from_report(report: Mapping[str, object]) -> float:
    """The largest fraction of our packets a remote receiver reported lost.

    RTCP carries it as an 8-bit fixed-point fraction (RFC 3550 § 6.4.1), which aiortc
    passes on as is.
    """
    fractions = [
        min(1.0, max(0.0, stats.fractionLost / 256))
        for stats in report.values()
        if isinstance(stats, RTCRemoteInboundRtpStreamStats)
    ]
    return max(fractions, default=0.0)


def summarize(
    previous: StatsTotals | None,
    current: StatsTotals,
    rtt_ms: float | None,
    loss_out: float = 0.0,
) -> LinkStats:
    """Rates between two totals; with no previous totals, rates since zero."""
    base = previous or StatsTotals(
        time=current.time,
        bytes_in=0,
        bytes_out=0,
        packets_received=0,
        packets_lost=0,
        video_frames_in=0,
    )
    interval = max(0.0, current.time - base.time)
    received = max(0, current.packets_received - base.packets_received)
    lost = max(0, current.packets_lost - base.packets_lost)
    frames = max(0, current.video_frames_in - base.video_frames_in)

    def rate(delta: int) -> float:
        return max(0, delta) / interval if interval > 0 else 0.0

    return LinkStats(
        rtt_ms=max(0.0, rtt_ms) if rtt_ms is not None else None,
        packet_loss=lost / (received + lost) if received + lost else 0.0,
        bitrate_in_bps=8 * rate(current.bytes_in - base.bytes_in),
        bitrate_out_bps=8 * rate(current.bytes_out - base.bytes_out),
        frame_rate_in=rate(frames) if frames and interval > 0 else None,
        interval_s=interval,
        packet_loss_out=loss_out,
    )


class StatsSampler:
    """Remembers the previous totals of one link so each sample covers one interval."""

    def __init__(self) -> None:
        self._previous: StatsTotals | None = None

    def reset(self) -> None:
        """Forget the previous totals (the link got a new peer connection)."""
        self._previous = None

    def sample(self, report: Mapping[str, object], video_frames_in: int, now: float) -> LinkStats:
        """Stats for the interval since the last sample."""
        current = totals_from_report(report, video_frames_in, now)
        result = summarize(
            self._previous, current, rtt_ms_from_report(report), loss_out_from_report(report)
        )
        self._previous = current
        return result
