"""TLS for the signaling connection: the server's context from a certificate and key, the
client's with the system's trust store and, for self-hosted servers, a CA file of its own.

Kept here, beside the protocol, so the server, the Python client and the app make and
check contexts one way. Stdlib only.
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlsplit


class TlsError(ValueError):
    """A certificate, key or CA file that cannot be used (the message says which and why)."""


def server_context(cert_file: str | Path, key_file: str | Path) -> ssl.SSLContext:
    """The server's context: TLS 1.2 or newer with ``cert_file`` (the chain, PEM) and
    ``key_file``; :class:`TlsError` if they cannot be loaded or do not match."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert_file), str(key_file))
    except FileNotFoundError as exc:
        raise TlsError(f"no such file: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(f"cannot use {cert_file} with {key_file}: {exc}") from None
    return context


def client_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """The client's context: certificates and host names verified against the system's
    trust store, or against ``ca_file`` (PEM) alone when given (a self-hosted server's
    own CA)."""
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except FileNotFoundError as exc:
        raise TlsError(f"no such CA file: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise TlsError(f"cannot use the CA file {ca_file}: {exc}") from None


def is_encrypted(url: str) -> bool:
    """Whether ``url`` uses TLS (``https://`` or ``wss://``)."""
    return urlsplit(url).scheme in ("https", "wss")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine."""
    return is_loopback_host(urlsplit(url).hostname or "")


def plain_to_network(url: str) -> bool:
    """Whether ``url`` is unencrypted and leaves this machine: tokens, names and calls
    would cross the network readable by anyone on the way."""
    return not is_encrypted(url) and not is_loopback(url)


__all__ = [
    "TlsError",
    "client_context",
    "is_encrypted",
    "is_loopback",
    "is_loopback_host",
    "plain_to_network",
    "server_context",
]
