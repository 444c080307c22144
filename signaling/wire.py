"""The base of every wire model: strict validation, identifier rules and the user record.

It sits below :mod:`signaling.protocol` and :mod:`signaling.protocol_audio` so that both
can share it without importing each other in a circle; ``signaling.protocol`` re-exports
all of it.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from signaling.errors import ErrorCode, SignalingError

MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 64

#: Unicode categories a display name may not hold: controls, format characters (bidi
#: overrides and isolates, zero-width spaces and joiners), surrogates, private use,
#: unassigned code points, line and paragraph separators. A name is shown to other
#: people: these could reverse the text around it or make it pass for another name.
FORBIDDEN_NAME_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def normalize_name(name: str) -> str:
    """``name`` in Unicode NFC without outer whitespace; ``ValueError`` if it is then
    empty or holds a character of :data:`FORBIDDEN_NAME_CATEGORIES`."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise ValueError("a name may not be empty or only spaces")
    for char in name:
        if unicodedata.category(char) in FORBIDDEN_NAME_CATEGORIES:
            raise ValueError(
                f"a name may not hold U+{ord(char):04X} "
                "(control, bidi, zero-width, private or unassigned characters)"
            )
    return name


Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"^[A-Za-z0-9_.@:-]+$"),
]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH), AfterValidator(normalize_name)
]


class WireModel(BaseModel):
    """Base of every payload: strict types, no unknown keys, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class UserInfo(WireModel):
    user_id: Id
    name: Name


def bad_request(exc: ValidationError) -> SignalingError:
    """The ``bad_request`` error for a payload a model refused, naming its first bad field
    (never its value: it may be a password)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    # An error about the request as a whole names its own field in its message.
    problem = f"{where}: {first['msg']}" if where else first["msg"]
    return SignalingError(ErrorCode.BAD_REQUEST, f"{problem} ({exc.error_count()} error(s))")
