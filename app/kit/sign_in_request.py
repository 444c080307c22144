"""What the sign-in page asks for when it signs in to *a server* (no Qt, standard library
only: the page imports it before the network stack is loaded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.kit.account import SignInError, SignInProblem

__all__ = ["RemoteSignIn", "normalize_server_url"]


@dataclass(frozen=True)
class RemoteSignIn:
    """What the sign-in page asks for *A server*: where, who, the password; with
    ``create`` an account is made first (``name``, and ``invite_code`` unless the
    server's registration is open)."""

    url: str
    user_id: str
    password: str = field(repr=False)
    create: bool = False
    name: str = ""
    invite_code: str = field(default="", repr=False)


def normalize_server_url(text: str) -> str:
    """``https://host[:port]`` from what a person types (``host``, ``host:8719``, a URL);
    :class:`SignInError` (invalid input) when it is not a server address."""
    text = text.strip()
    if "://" not in text:
        text = f"https://{text}"
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise SignInError(
            SignInProblem.INVALID_INPUT,
            "enter the server's address, such as parley.example.org or https://host:8719",
        )
    try:
        _ = parts.port
    except ValueError:
        raise SignInError(SignInProblem.INVALID_INPUT, "the port is not a number") from None
    return f"{parts.scheme}://{parts.netloc}"
