"""Wire models of audio rooms served through an SFU (``parley-server --sfu janus``).

A room's join snapshot says ``media: "sfu"``; members then send no peer-to-peer signals.
A seated member publishes with ``sfu.publish`` (an SDP offer; the answer comes back);
every member receives all speakers on one connection the server offers with
``sfu.offer`` and the member answers with ``sfu.answer``. ``docs/protocol.md`` (section
"Audio rooms through an SFU") describes the exchange.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from signaling.wire import Id, WireModel

MAX_SDP_LENGTH = 32 * 1024
MAX_STREAMS = 64

Sdp = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SDP_LENGTH)]
Mid = Annotated[str, StringConstraints(min_length=1, max_length=16)]


class SfuPublishRequest(WireModel):
    """Publish the local audio (an SDP offer with one ``sendonly`` audio section)."""

    room_id: Id
    sdp: Sdp


class SfuRoomRequest(WireModel):
    """``sfu.unpublish``, ``sfu.subscribe``: what applies to one room."""

    room_id: Id


class SfuAnswerRequest(WireModel):
    """The member's answer to the server's ``sfu.offer`` with the same ``offer_id``."""

    room_id: Id
    offer_id: Annotated[int, Field(ge=1)]
    sdp: Sdp


class SfuStreamInfo(WireModel):
    """Which speaker a received stream (by its SDP ``mid``) carries."""

    mid: Mid
    user_id: Id


class SfuOfferEvent(WireModel):
    """The server offers the member's receiving connection anew.

    ``streams`` lists every live stream in it; a ``mid`` missing from the list carries no
    one any more. ``fresh``: a new connection (the old one, if any, is to be closed).
    """

    room_id: Id
    offer_id: Annotated[int, Field(ge=1)]
    sdp: Sdp
    streams: Annotated[list[SfuStreamInfo], Field(max_length=MAX_STREAMS)]
    fresh: bool


class SfuResetEvent(WireModel):
    """The SFU lost the room's media (it restarted): publish and subscribe again."""

    room_id: Id


SFU_REQUESTS: dict[str, type[WireModel]] = {
    "sfu.publish": SfuPublishRequest,
    "sfu.unpublish": SfuRoomRequest,
    "sfu.subscribe": SfuRoomRequest,
    "sfu.answer": SfuAnswerRequest,
}

SFU_EVENTS: dict[str, type[WireModel]] = {
    "sfu.offer": SfuOfferEvent,
    "sfu.reset": SfuResetEvent,
}
