"""``parley-server``: run the signaling server; manage its accounts and invite codes;
mint a token for a user (integrators)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import resource
import secrets
import signal
import sqlite3
import ssl
import sys
from pathlib import Path

from signaling.auth import DEFAULT_TTL_S, mint_token
from signaling.protocol_accounts import Registration
from signaling.secret_file import load_or_create_secret, read_secret
from signaling.server.accounts import AccountDb
from signaling.server.app import start_server
from signaling.server.cli_accounts import (
    ACCOUNTS_FILE,
    SECRET_FILE,
    add_commands,
    default_data_dir,
    run_command,
)
from signaling.server.cluster import Cluster, ClusterConfig, ClusterError
from signaling.server.hub import ServerConfig
from signaling.server.janus_process import JanusConfig, JanusProcess, free_tcp_port
from signaling.server.sfu import SfuSettings
from signaling.tls import TlsError, server_context

DEFAULT_PORT = 8719
# Options whose value may start with "-" (1 in 64 token_urlsafe secrets does): argparse
# would take such a value for an option, so "--secret -x" is joined as "--secret=-x".
_VALUE_OPTIONS = (
    "--secret",
    "--allowed-origin",
    "--metrics-token",
    "--tls-cert",
    "--tls-key",
    "--turn-secret",
    "--data-dir",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley-server",
        description="Parley's signaling server, with its accounts. `parley-server user ...` "
        "and `parley-server invite` manage them; `parley-server token ...` mints a token.",
    )
    data_dir_help = (
        "where the server keeps its accounts (accounts.db) and its own secret "
        "(default: ${PARLEY_DATA_DIR}, else $XDG_DATA_HOME/parley-server)"
    )
    parser.add_argument("--data-dir", help=data_dir_help)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (0 picks one)")
    parser.add_argument(
        "--secret",
        help="the secret tokens are signed with (default: $PARLEY_SECRET, else the one the "
        "server keeps in its data directory); give one only to share it with a service "
        "that mints tokens itself",
    )
    parser.add_argument(
        "--registration",
        choices=[r.value for r in Registration],
        default=os.environ.get("PARLEY_REGISTRATION", Registration.INVITE.value),
        help="who may create an account: anyone (open), whoever has an invite code "
        "(invite, the default) or only the admin (closed)",
    )
    parser.add_argument(
        "--trust-forwarded-for",
        action="store_true",
        help="behind a reverse proxy: take clients' addresses from X-Forwarded-For",
    )
    parser.add_argument(
        "--allowed-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="a web origin (https://host[:port]) whose pages may connect; repeatable; "
        "'*' allows every origin (default: $PARLEY_ALLOWED_ORIGINS, comma-separated; "
        "none: only clients that send no Origin, such as the desktop app)",
    )
    parser.add_argument(
        "--metrics-token",
        help="require 'Authorization: Bearer <token>' on /metrics "
        "(default: $PARLEY_METRICS_TOKEN; none: /metrics is open)",
    )
    parser.add_argument(
        "--stun-uri",
        action="append",
        default=[],
        metavar="URI",
        help="a STUN server for clients (repeatable)",
    )
    parser.add_argument(
        "--turn-uri",
        action="append",
        default=[],
        metavar="URI",
        help="a TURN server for clients, e.g. turn:turn.example:3478 (repeatable); needs "
        "--turn-secret",
    )
    parser.add_argument(
        "--turn-secret",
        help="the TURN server's static-auth-secret (coturn use-auth-secret); clients get "
        "credentials made from it, valid an hour (default: $PARLEY_TURN_SECRET)",
    )
    parser.add_argument(
        "--tls-cert", help="serve https/wss with this certificate chain (PEM); needs --tls-key"
    )
    parser.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    parser.add_argument(
        "--redis",
        metavar="URL",
        default=os.environ.get("PARLEY_REDIS_URL") or None,
        help="one of several servers sharing this Redis (redis://[:password@]host:port/db, "
        "rediss://..., unix:///path): sessions, rooms, invitations and timers live there "
        "(default: $PARLEY_REDIS_URL; none: this process alone, in memory). Every server "
        "needs the same --secret (or data directory)",
    )
    parser.add_argument(
        "--redis-prefix",
        default="parley:",
        help="key prefix in Redis, for several deployments in one Redis (default: parley:)",
    )
    parser.add_argument(
        "--server-silence",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with --redis: a server silent this long is taken for dead and its sessions "
        "are ended by the others (default: 10)",
    )
    parser.add_argument(
        "--rejoin-grace",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long a member whose connection dropped keeps their place in a call or "
        "on a seat for the app to reconnect (default: 30; 0: they leave at once)",
    )
    parser.add_argument(
        "--sfu",
        choices=("mesh", "janus"),
        default="mesh",
        help="how audio rooms carry audio: mesh (peer to peer, the default) or janus (through "
        "a Janus this server starts, configures and restarts; Debian: apt-get install janus)",
    )
    parser.add_argument(
        "--janus-url",
        metavar="URL",
        default=os.environ.get("PARLEY_JANUS_URL") or None,
        help="audio rooms through a Janus run elsewhere: its HTTP API "
        "(http://host:8088/janus; needs --janus-secret and --janus-admin-key; "
        "default: $PARLEY_JANUS_URL)",
    )
    parser.add_argument(
        "--janus-secret",
        default=os.environ.get("PARLEY_JANUS_SECRET", ""),
        help="with --janus-url: its api_secret (default: $PARLEY_JANUS_SECRET)",
    )
    parser.add_argument(
        "--janus-admin-key",
        default=os.environ.get("PARLEY_JANUS_ADMIN_KEY", ""),
        help="with --janus-url: the VideoRoom plugin's admin_key "
        "(default: $PARLEY_JANUS_ADMIN_KEY)",
    )
    parser.add_argument(
        "--janus-interface",
        action="append",
        default=[],
        metavar="NAME",
        help="with --sfu janus: an interface (or address) its media may use; repeatable "
        "(default: every interface but loopback)",
    )
    parser.add_argument(
        "--janus-public-ip",
        default="",
        help="with --sfu janus behind 1:1 NAT (a cloud VM): the public address to announce",
    )
    parser.add_argument(
        "--janus-rtp-ports",
        default="20000-40000",
        metavar="FIRST-LAST",
        help="with --sfu janus: the UDP ports of its media (default: 20000-40000)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level")
    sub = parser.add_subparsers(dest="command")
    token = sub.add_parser("token", help="print a token (JWT, HS256) for a user")
    token.add_argument("--user-id", required=True)
    token.add_argument("--name", required=True)
    token.add_argument("--ttl", type=int, default=DEFAULT_TTL_S, help="lifetime in seconds")
    token.add_argument(
        "--secret",
        dest="token_secret",
        help="token secret (default: $PARLEY_SECRET, else the server's own)",
    )
    for command in (token, *add_commands(sub)):
        # Also after the command ("parley-server user list --data-dir D").
        command.add_argument("--data-dir", default=argparse.SUPPRESS, help=data_dir_help)
    return parser


def _raise_open_file_limit() -> None:
    """Let the server hold as many sockets as the system allows this user: the usual soft
    limit of 1024 is a few hundred clients (each websocket is one descriptor)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1_048_576 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _return_freed_memory() -> None:
    """Have glibc give large freed blocks back to the system.

    glibc serves an allocation of 128 KiB or more with its own mmap, returned on free,
    but after the first such free it raises that threshold (up to 32 MiB), so later
    1 MiB buffers (a client's largest allowed message) would come from the heap and stay
    resident. Fixing the threshold keeps it where it was.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_mmap_threshold = -3
        libc.mallopt(m_mmap_threshold, 128 * 1024)


async def _collect_young_garbage() -> None:
    """Collect the young generations every 5 s (see :func:`_tune_garbage_collector`).

    With the raised thresholds, reference cycles left by dropped connections (buffers
    held by an exception's frames) waited for a rare full collection: a flood of 1 MB
    binary frames left the server at 238 MB instead of 64 MB for minutes. A
    generation-1 collection scans only young objects: well under a millisecond here.
    """
    while True:
        await asyncio.sleep(5.0)
        gc.collect(1)


def _tune_garbage_collector() -> None:
    """Keep collector pauses out of the latency tail.

    With a thousand connections the server holds tens of thousands of short-lived
    objects (engine.io and aiohttp create them per connection); the default thresholds
    make a scan of all of them every few seconds, a 20-180 ms pause that every request
    in flight waits out (measured: docs/performance.md). Freezing what start-up made
    and raising the thresholds keeps p99 in single-digit milliseconds; full collections
    still run, less often.
    """
    gc.freeze()
    gc.set_threshold(50_000, 50, 1000)


def _joined_values(argv: list[str]) -> list[str]:
    joined: list[str] = []
    values = iter(argv)
    for arg in values:
        if arg in _VALUE_OPTIONS:
            value = next(values, None)
            joined.append(arg if value is None else f"{arg}={value}")
        else:
            joined.append(arg)
    return joined


def _allowed_origins(given: list[str] | None) -> tuple[str, ...]:
    if given is None:
        given = os.environ.get("PARLEY_ALLOWED_ORIGINS", "").split(",")
    return tuple(origin.strip().rstrip("/") for origin in given if origin.strip())


async def _serve(
    host: str,
    port: int,
    config: ServerConfig,
    tls: ssl.SSLContext | None,
    accounts: AccountDb,
    cluster: ClusterConfig | None,
    sfu: SfuSettings | JanusConfig | None,
) -> None:
    _tune_garbage_collector()
    _raise_open_file_limit()
    _return_freed_memory()
    collector = asyncio.get_running_loop().create_task(_collect_young_garbage())
    shared = Cluster(cluster) if cluster is not None else None
    janus = None
    if isinstance(sfu, JanusConfig):
        janus = JanusProcess(sfu)
        await janus.start()
        print(f"parley-server: Janus running, its log in {janus.log_file}", flush=True)
        sfu = SfuSettings(sfu.url, sfu.api_secret, sfu.admin_key)
    try:
        server = await start_server(
            config, host, port, ssl_context=tls, accounts=accounts, cluster=shared, sfu=sfu
        )
    except BaseException:
        if janus is not None:
            await janus.stop()
        raise
    print(f"parley-server listening on {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    collector.cancel()
    try:
        await server.stop()
    finally:
        if janus is not None:
            await janus.stop()


def _sfu_settings(args: argparse.Namespace) -> SfuSettings | JanusConfig | None:
    """Where audio rooms go: a Janus elsewhere, one to start, or none (the mesh)."""
    if args.janus_url:
        if not (args.janus_secret and args.janus_admin_key):
            raise ValueError("--janus-url needs --janus-secret and --janus-admin-key")
        return SfuSettings(args.janus_url, args.janus_secret, args.janus_admin_key)
    if args.sfu != "janus":
        return None
    first, _, last = args.janus_rtp_ports.partition("-")
    if not (first.isdigit() and last.isdigit() and 1024 <= int(first) < int(last) <= 65535):
        raise ValueError(f"--janus-rtp-ports: expected FIRST-LAST, got {args.janus_rtp_ports!r}")
    return JanusConfig(
        http_host="127.0.0.1",
        http_port=free_tcp_port(),
        api_secret=secrets.token_urlsafe(24),
        admin_key=secrets.token_urlsafe(24),
        rtp_ports=(int(first), int(last)),
        ice_interfaces=tuple(args.janus_interface),
        public_ip=args.janus_public_ip,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``parley-server`` console script."""
    args = _parser().parse_args(_joined_values(sys.argv[1:] if argv is None else argv))
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if args.command in ("user", "invite"):
        return run_command(args, data_dir)
    if args.command == "token":
        try:
            secret = args.token_secret or args.secret or os.environ.get("PARLEY_SECRET")
            secret = secret or read_secret(data_dir / SECRET_FILE)
            print(mint_token(secret, args.user_id, args.name, args.ttl))
        except FileNotFoundError:
            print(
                "parley-server token: give --secret, set PARLEY_SECRET, or start the server "
                f"once so that it makes its own (in {data_dir})",
                file=sys.stderr,
            )
            return 2
        except ValueError as exc:
            print(f"parley-server token: {exc}", file=sys.stderr)
            return 2
        return 0
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        # The server's own secret, made on its first start: tokens are signed here alone.
        secret = args.secret or os.environ.get("PARLEY_SECRET")
        secret = secret or load_or_create_secret(data_dir / SECRET_FILE)
        turn_secret = args.turn_secret or os.environ.get("PARLEY_TURN_SECRET", "")
        if args.turn_uri and not turn_secret:
            raise ValueError("--turn-uri needs --turn-secret (or $PARLEY_TURN_SECRET)")
        config = ServerConfig(
            secret=secret,
            allowed_origins=_allowed_origins(args.allowed_origin),
            metrics_token=args.metrics_token or os.environ.get("PARLEY_METRICS_TOKEN", ""),
            stun_uris=tuple(args.stun_uri),
            turn_uris=tuple(args.turn_uri),
            turn_secret=turn_secret,
            registration=Registration(args.registration),
            trust_forwarded_for=args.trust_forwarded_for,
            rejoin_grace_s=args.rejoin_grace,
        )
        cluster = None
        if args.redis:
            cluster = ClusterConfig(
                args.redis,
                args.redis_prefix,
                heartbeat_s=args.server_silence / 5,
                silence_s=args.server_silence,
            )
        sfu = _sfu_settings(args)
        if sfu is not None and cluster is not None:
            raise ValueError("--sfu/--janus-url cannot be combined with --redis yet")
    except (ValueError, OSError) as exc:
        print(f"parley-server: {exc}", file=sys.stderr)
        return 2
    if bool(args.tls_cert) != bool(args.tls_key):
        print("parley-server: give both --tls-cert and --tls-key, or neither", file=sys.stderr)
        return 2
    try:
        tls = server_context(args.tls_cert, args.tls_key) if args.tls_cert else None
    except TlsError as exc:
        print(f"parley-server: {exc}", file=sys.stderr)
        return 2
    try:
        accounts = AccountDb(data_dir / ACCOUNTS_FILE)
    except (OSError, sqlite3.Error) as exc:
        print(f"parley-server: cannot open {data_dir / ACCOUNTS_FILE}: {exc}", file=sys.stderr)
        return 2
    print(
        f"parley-server: accounts in {accounts.path} (registration {config.registration})",
        file=sys.stderr,
    )
    try:
        asyncio.run(_serve(args.host, args.port, config, tls, accounts, cluster, sfu))
    except (ClusterError, RuntimeError, FileNotFoundError) as exc:
        print(f"parley-server: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"parley-server: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    finally:
        accounts.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
