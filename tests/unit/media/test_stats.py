"""Turning aiortc stats reports into LinkStats (media/stats.py)."""

from __future__ import annotations

import datetime

import pytest
from aiortc.stats import (
    RTCInboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCStatsReport,
    RTCTransportStats,
)

from media.stats import LinkStats, StatsSampler, summarize, totals_from_report

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def report(
    *, sent: int, received: int, packets: int, lost: int, rtt: float | None = None
) -> RTCStatsReport:
    r = RTCStatsReport()
    r.add(
        RTCTransportStats(
            timestamp=NOW,
            type="transport",
            id="transport_1",
            packetsSent=0,
            packetsReceived=0,
            bytesSent=sent,
            bytesReceived=received,
            iceRole="controlling",
            dtlsState="connected",
        )
    )
    r.add(
        RTCInboundRtpStreamStats(
            timestamp=NOW,
            type="inbound-rtp",
            id="inbound-rtp_1",
            ssrc=1,
            kind="audio",
            transportId="transport_1",
            packetsReceived=packets,
            packetsLost=lost,
            jitter=0,
        )
    )
    if rtt is not None:
        r.add(
            RTCRemoteInboundRtpStreamStats(
                timestamp=NOW,
                type="remote-inbound-rtp",
                id="remote-inbound-rtp_1",
                ssrc=2,
                kind="audio",
                transportId="transport_1",
                packetsReceived=10,
                packetsLost=0,
                jitter=0,
                roundTripTime=rtt,
                fractionLost=0.0,
            )
        )
    return r


def test_sampler_reports_rates_over_the_last_interval() -> None:
    sampler = StatsSampler()
    sampler.sample(report(sent=1000, received=2000, packets=100, lost=0), 10, now=10.0)
    stats = sampler.sample(
        report(sent=26_000, received=52_000, packets=190, lost=10, rtt=0.012), 70, now=12.0
    )
    assert stats.interval_s == pytest.approx(2.0)
    assert stats.bitrate_out_bps == pytest.approx(8 * 25_000 / 2)
    assert stats.bitrate_in_bps == pytest.approx(8 * 50_000 / 2)
    assert stats.packet_loss == pytest.approx(10 / 100)
    assert stats.rtt_ms == pytest.approx(12.0)
    assert stats.frame_rate_in == pytest.approx(30.0)


def test_first_sample_and_no_video_give_no_rates() -> None:
    stats = StatsSampler().sample(report(sent=5, received=5, packets=1, lost=0), 0, now=1.0)
    assert stats.bitrate_in_bps == 0.0
    assert stats.frame_rate_in is None
    assert stats.rtt_ms is None


def test_negative_cumulative_loss_is_clamped() -> None:
    totals = totals_from_report(report(sent=0, received=0, packets=5, lost=-3), 0, now=0.0)
    assert totals.packets_lost == 0
    stats = summarize(None, totals, None)
    assert stats.packet_loss == 0.0


def test_link_stats_validates() -> None:
    with pytest.raises(ValueError, match="packet_loss"):
        LinkStats(None, 1.5, 0.0, 0.0, None, 1.0)
    with pytest.raises(ValueError, match="bitrate_in_bps"):
        LinkStats(None, 0.0, -1.0, 0.0, None, 1.0)
    with pytest.raises(ValueError, match="rtt_ms"):
        LinkStats(-1.0, 0.0, 0.0, 0.0, None, 1.0)
