"""Rules for user IDs and display names, the same as the wire protocol's (no Qt).

The sign-in page checks input with these before anything is sent, so a user sees the
problem at once instead of a refusal from the server.
"""

from __future__ import annotations

import re
from enum import StrEnum

from signaling.protocol import MAX_ID_LENGTH, MAX_NAME_LENGTH
from signaling.wire import normalize_name

# The protocol's ``Id`` pattern (signaling.protocol); kept as one source of the limits.
USER_ID_PATTERN = re.compile(r"[A-Za-z0-9_.@:-]+")
ALLOWED_ID_CHARACTERS = "A–Z a–z 0–9 _ . @ : -"


class IdentityProblem(StrEnum):
    """What is wrong with a user ID or display name."""

    ID_EMPTY = "id_empty"
    ID_TOO_LONG = "id_too_long"
    ID_BAD_CHARACTERS = "id_bad_characters"
    NAME_TOO_LONG = "name_too_long"
    NAME_BAD_CHARACTERS = "name_bad_characters"


def validate_user_id(user_id: str) -> IdentityProblem | None:
    """None if ``user_id`` is 1–64 characters of ``[A-Za-z0-9_.@:-]``, else the problem."""
    if not user_id:
        return IdentityProblem.ID_EMPTY
    if len(user_id) > MAX_ID_LENGTH:
        return IdentityProblem.ID_TOO_LONG
    if USER_ID_PATTERN.fullmatch(user_id) is None:
        return IdentityProblem.ID_BAD_CHARACTERS
    return None


def validate_name(name: str) -> IdentityProblem | None:
    """None if ``name`` fits the protocol (an empty name later defaults to the user ID)."""
    if len(name) > MAX_NAME_LENGTH:
        return IdentityProblem.NAME_TOO_LONG
    if name.strip():
        try:
            normalize_name(name)
        except ValueError:
            return IdentityProblem.NAME_BAD_CHARACTERS
    return None


def parse_user_ids(text: str) -> list[str]:
    """User IDs typed into the call field: separated by commas or spaces, duplicates dropped."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\s,;]+", text):
        if part:
            seen.setdefault(part, None)
    return list(seen)
