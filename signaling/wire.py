"""The base of every wire model: strict validation, identifier rules and the user record.

It sits below :mod:`signaling.protocol` and :mod:`signaling.protocol_audio` so that both
can share it without importing each other in a circle; ``signaling.protocol`` re-exports
all of it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 64

Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"^[A-Za-z0-9_.@:-]+$"),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH)]


class WireModel(BaseModel):
    """Base of every payload: strict types, no unknown keys, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class UserInfo(WireModel):
    user_id: Id
    name: Name
