"""A Janus of the server's own: the config it writes, and the process it keeps running.

``parley-server --sfu janus`` writes a config folder with only what Parley uses (the HTTP
transport, the VideoRoom plugin), an API secret and a room-creation key that only this
server knows, and starts ``janus`` from it; if Janus exits, it is started again (the
rooms learn it through their lost session and re-publish). ``--janus-url`` points at a
Janus someone else runs, which must be configured the same way (``docs/deploy.md``).

Janus does not do ICE on loopback: on one machine the clients must reach it through a
real interface (the tests use a network namespace with a veth pair).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from signaling.server.child_processes import die_with_parent

log = logging.getLogger("parley.janus")

__all__ = ["JanusConfig", "JanusProcess", "free_tcp_port", "write_config"]

# Everything Janus would load but Parley does not use: fewer threads, fewer surprises.
_UNUSED_PLUGINS = (
    "audiobridge duktape echotest lua nosip recordplay sip streaming textroom videocall voicemail"
)
_UNUSED_TRANSPORTS = "mqtt nanomsg pfunix rabbitmq websockets"
_UNUSED_EVENTS = "gelfevh mqttevh nanomsgevh rabbitmqevh sampleevh wsevh"


def _libs(names: str) -> str:
    return ",".join(f"libjanus_{name}.so" for name in names.split())


@dataclass(frozen=True)
class JanusConfig:
    """How a Janus is reached and guarded."""

    #: Where Janus's HTTP API listens (the server's end only; never published to clients).
    http_host: str
    http_port: int
    #: Required on every API request: without it Janus answers "unauthorized".
    api_secret: str
    #: Required to create a room: a hand-made client cannot make one of its own.
    admin_key: str
    #: First and last UDP port of the media.
    rtp_ports: tuple[int, int] = (20_000, 40_000)
    #: Interfaces (or addresses) ICE may use; empty for all but loopback.
    ice_interfaces: Sequence[str] = ()
    #: A public address to announce (behind 1:1 NAT, e.g. a cloud VM); empty for none.
    public_ip: str = ""
    #: Threads that carry every connection's media (0: one thread per connection,
    #: Janus's default, which costs a context switch per packet and connection).
    event_loops: int = 2

    @property
    def url(self) -> str:
        return f"http://{self.http_host}:{self.http_port}/janus"


def write_config(folder: Path, config: JanusConfig) -> Path:
    """Write a Janus config folder; the path of its ``janus.jcfg``."""
    folder.mkdir(parents=True, exist_ok=True)
    nat = [
        "ignore_mdns = true",
        "full_trickle = false",
        'ice_ignore_list = "lo,docker,vmnet"',
    ]
    if config.ice_interfaces:
        nat.append(f'ice_enforce_list = "{",".join(config.ice_interfaces)}"')
    if config.public_ip:
        nat.append(f'nat_1_1_mapping = "{config.public_ip}"')
    main = folder / "janus.jcfg"
    main.write_text(
        f"""general: {{
    configs_folder = "{folder}"
    debug_level = 4
    api_secret = "{config.api_secret}"
    session_timeout = 60
    event_loops = {config.event_loops}
    server_name = "parley-sfu"
}}
media: {{
    rtp_port_range = "{config.rtp_ports[0]}-{config.rtp_ports[1]}"
}}
nat: {{
    {chr(10).join("    " + line for line in nat).strip()}
}}
plugins: {{
    disable = "{_libs(_UNUSED_PLUGINS)}"
}}
transports: {{
    disable = "{_libs(_UNUSED_TRANSPORTS)}"
}}
loggers: {{
    disable = "libjanus_jsonlog.so"
}}
events: {{
    broadcast = false
    disable = "{_libs(_UNUSED_EVENTS)}"
}}
"""
    )
    (folder / "janus.transport.http.jcfg").write_text(
        f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {config.http_port}
    ip = "{config.http_host}"
    https = false
}}
admin: {{
    admin_http = false
    admin_https = false
}}
"""
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text(
        f"""general: {{
    admin_key = "{config.admin_key}"
    string_ids = true
    lock_rtp_forward = true
}}
"""
    )
    return main


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until_ready(url: str, timeout: float = 15.0) -> None:
    """Until Janus answers ``info`` at ``url``; ``TimeoutError`` if it does not."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with http.get(f"{url}/info", timeout=aiohttp.ClientTimeout(total=1)) as r:
                    if r.status == 200:
                        return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Janus did not answer at {url} within {timeout:g} s")
            await asyncio.sleep(0.1)


class JanusProcess:
    """``janus`` from a config folder this server wrote, restarted when it exits."""

    #: Pause before a restart, doubling while Janus keeps exiting (up to a minute).
    RESTART_DELAY_S = 1.0

    def __init__(self, config: JanusConfig, *, program: str = "janus") -> None:
        found = shutil.which(program)
        if found is None:
            raise FileNotFoundError(
                "--sfu janus needs Janus (Debian: apt-get install janus), "
                "or --janus-url for one that runs elsewhere"
            )
        self.config = config
        self.program = found
        self.folder = Path(tempfile.mkdtemp(prefix="parley-janus-"))
        self._main = write_config(self.folder, config)
        self.log_file = self.folder / "janus.log"
        self._process: asyncio.subprocess.Process | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        #: Set each time a (re)started Janus answers.
        self.ready = asyncio.Event()

    async def start(self) -> None:
        """Start Janus and wait until it answers; then keep it running."""
        await self._spawn()
        self._keeper = asyncio.create_task(self._keep(), name="janus keeper")

    async def _spawn(self) -> None:
        self.ready.clear()
        command = [self.program, "-F", str(self.folder), "-C", str(self._main)]
        command += ["-L", str(self.log_file), "-N", "-o"]
        self._process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            # Janus gets SIGTERM when the server dies, even by SIGKILL: no orphan keeps
            # the media ports.
            preexec_fn=die_with_parent(),
        )
        try:
            await wait_until_ready(self.config.url)
        except TimeoutError:
            await self._kill()
            raise RuntimeError(f"Janus did not start; its log: {self.log_file}") from None
        self.ready.set()
        log.info("Janus %s answers at %s", self._process.pid, self.config.url)

    async def _keep(self) -> None:
        delay = self.RESTART_DELAY_S
        while not self._stopping.is_set():
            assert self._process is not None
            code = await self._process.wait()
            if self._stopping.is_set():
                return
            log.error("Janus exited (%s); starting it again in %g s", code, delay)
            self.ready.clear()
            await asyncio.sleep(delay)
            try:
                await self._spawn()
                delay = self.RESTART_DELAY_S
            except RuntimeError:
                log.exception("Janus did not come back")
                delay = min(60.0, delay * 2)

    async def _kill(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 5.0)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def stop(self) -> None:
        """Stop Janus for good and remove its folder."""
        self._stopping.set()
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
        await self._kill()
        shutil.rmtree(self.folder, ignore_errors=True)
