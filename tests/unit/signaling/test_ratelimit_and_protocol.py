"""The token bucket, the log budget and the protocol models' validation."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from signaling.client_events import ERROR_CODE_NUMBERS
from signaling.errors import ErrorCode
from signaling.protocol import (
    EVENTS,
    REQUESTS,
    JoinRoomRequest,
    RtcSignalRequest,
    SendInvitationRequest,
)
from signaling.server.ratelimit import LogBudget, TokenBucket
from signaling.wire import normalize_name


def test_bucket_allows_burst_then_refills() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] += 0.5
    assert bucket.take() is True
    assert bucket.take() is False


def test_the_log_budget_keeps_a_few_lines_per_kind_and_counts_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    budget = LogBudget(logging.getLogger("parley.test"), per_minute=3, clock=lambda: now[0])
    caplog.set_level(logging.INFO, "parley.test")

    for n in range(10):
        budget.log("flood", "bad packet %d", n)
    budget.log("other", "something else")
    now[0] += 20.0  # one more line of "flood" is allowed after 60/3 s
    budget.log("flood", "bad packet %d", 10)

    assert [r.getMessage() for r in caplog.records] == [
        "bad packet 0",
        "bad packet 1",
        "bad packet 2",
        "something else",
        "bad packet 10 (and 7 more not logged)",
    ]


@pytest.mark.parametrize(
    "payload",
    [
        {"room_id": ""},
        {"room_id": "x" * 65},
        {"room_id": "has space"},
        {"room_id": 5},
        {"room_id": "ok", "kind": "party"},
        {"room_id": "ok", "microphone": "yes"},
        {"room_id": "ok", "unexpected": 1},
    ],
)
def test_join_request_rejects(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        JoinRoomRequest.model_validate(payload)


def test_invitation_limits() -> None:
    ok = SendInvitationRequest.model_validate({"invitees": ["b"], "call_type": "video"})
    assert ok.timeout_s == 60
    for bad in (
        {"invitees": [], "call_type": "video"},
        {"invitees": ["b"] * 17, "call_type": "video"},
        {"invitees": ["b"], "call_type": "video", "timeout_s": 0},
        {"invitees": ["b"], "call_type": "video", "timeout_s": True},
        {"invitees": ["b"], "call_type": "hologram"},
    ):
        with pytest.raises(ValidationError):
            SendInvitationRequest.model_validate(bad)


def test_signal_payload_must_fit_kind() -> None:
    base = {"room_id": "r", "to": "b"}
    RtcSignalRequest.model_validate({**base, "kind": "renegotiate", "payload": {}})
    with pytest.raises(ValidationError):
        RtcSignalRequest.model_validate({**base, "kind": "offer", "payload": {}})
    with pytest.raises(ValidationError):
        RtcSignalRequest.model_validate(
            {**base, "kind": "candidate", "payload": {"type": "offer", "sdp": "x"}}
        )


def test_a_browsers_own_candidate_json_is_accepted_as_is() -> None:
    # What RTCIceCandidate.toJSON() gives in Chromium and Firefox.
    browser = {
        "candidate": "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx "
        "raddr 10.0.0.2 rport 46154 generation 0 ufrag EsAw network-cost 999",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "EsAw",
    }
    request = RtcSignalRequest.model_validate(
        {"room_id": "r", "to": "b", "kind": "candidate", "payload": browser}
    )
    assert request.payload.model_dump() == browser


@pytest.mark.parametrize(
    ("kind", "payload", "named"),
    [
        ("candidate", {"candidat": "x"}, "payload.candidate: Field required"),
        ("candidate", {"candidate": 5}, "payload.candidate: Input should be a valid string"),
        ("candidate", {"candidate": "x", "ufrag": "y"}, "payload.ufrag: Extra inputs"),
        ("offer", {"type": "offer"}, "payload.sdp: Field required"),
        ("renegotiate", {"reason": 7}, "payload.reason: Input should be a valid string"),
    ],
)
def test_a_wrong_signal_payload_is_reported_against_its_kinds_fields(
    kind: str, payload: dict[str, object], named: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        RtcSignalRequest.model_validate(
            {"room_id": "r", "to": "b", "kind": kind, "payload": payload}
        )
    assert named in str(caught.value)


@pytest.mark.parametrize("kind", [[], {}, 7, None, "hologram"])
def test_a_bad_signal_kind_is_a_validation_error_whatever_its_type(kind: object) -> None:
    with pytest.raises(ValidationError, match="kind"):
        RtcSignalRequest.model_validate(
            {"room_id": "r", "to": "b", "kind": kind, "payload": {"type": "offer", "sdp": "v"}}
        )


def test_every_error_code_has_a_number_and_names_are_unique() -> None:
    assert {c.value for c in ErrorCode} <= set(ERROR_CODE_NUMBERS)
    assert len(set(ERROR_CODE_NUMBERS.values())) == len(ERROR_CODE_NUMBERS)
    assert not set(REQUESTS) & {"connect", "disconnect"}
    assert "session.welcome" in EVENTS


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Chloe\u0301 Dubois", "Chloé Dubois"),  # decomposed é becomes one character (NFC)
        ("  Bob  ", "Bob"),
        ("李小龍", "李小龍"),
        ("Zoë 🎧", "Zoë 🎧"),
    ],
)
def test_a_name_is_normalised(given: str, kept: str) -> None:
    assert normalize_name(given) == kept


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("\u202egnp.exe", id="right-to-left-override"),
        pytest.param("Al\u2067ice", id="bidi-isolate"),
        pytest.param("Ali\u200bce", id="zero-width-space"),
        pytest.param("Alice\u200d", id="zero-width-joiner"),
        pytest.param("\ufeffAlice", id="byte-order-mark"),
        pytest.param("Al\x00ice", id="nul"),
        pytest.param("Alice\nSECURITY ALERT", id="newline"),
        pytest.param("Alice\u2028x", id="line-separator"),
        pytest.param("\ue000", id="private-use"),
        pytest.param("   ", id="only-spaces"),
    ],
)
def test_a_name_with_invisible_or_direction_changing_characters_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="a name may not"):
        normalize_name(name)
