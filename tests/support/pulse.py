"""Virtual sound devices for the test suite: a PulseAudio daemon with a null sink and source.

PortAudio reaches it through ALSA's "pulse" plugin (Debian's libasound2-plugins), so the
suite exercises the real sounddevice code on a machine with no sound card. Everything
lives in a private temporary directory; nothing touches the user's own sound server.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from signaling.server.child_processes import die_with_parent

NULL_PA = """\
load-module module-native-protocol-unix auth-anonymous=1
load-module module-null-sink sink_name=vspeaker rate=48000 channels=1
load-module module-null-source source_name=vmic rate=48000 channels=1
set-default-sink vspeaker
set-default-source vmic
"""

# Used only where ALSA has no hook that routes "default" to a running PulseAudio.
ALSA_CONF = """\
</usr/share/alsa/alsa.conf>
pcm.!default { type pulse }
ctl.!default { type pulse }
"""

READY_TIMEOUT_S = 10.0
_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_SERVER", "ALSA_CONFIG_PATH")

_running: list[VirtualAudio] = []  # the suite's daemon, so audio tests can ask for it


class VirtualAudio:
    """A running private PulseAudio daemon."""

    def __init__(
        self, process: subprocess.Popen[bytes], directory: Path, saved_env: dict[str, str | None]
    ) -> None:
        self.process = process
        self.directory = directory
        self.server = f"unix:{directory / 'pulse' / 'native'}"
        self._saved_env = saved_env
        self._stopped = False

    def stop(self) -> None:
        """Stop the daemon; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self in _running:
            _running.remove(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(self.directory, ignore_errors=True)


def current() -> VirtualAudio | None:
    """The virtual audio daemon this process started and has not stopped, if any."""
    return _running[-1] if _running else None


def _warn(message: str) -> None:
    print(f"tests/support/pulse.py: {message}", file=sys.stderr)


def _alsa_has_pulse_hook() -> bool:
    # Debian's libasound2-plugins installs a hook that makes "default" PulseAudio
    # whenever a server answers; other systems may need our own config.
    for conf_dir in (Path("/etc/alsa/conf.d"), Path("/usr/share/alsa/alsa.conf.d")):
        if conf_dir.is_dir():
            for conf in conf_dir.glob("*.conf"):
                try:
                    if "pulse_load_if_running" in conf.read_text(errors="replace"):
                        return True
                except OSError:
                    continue
    return False


def _server_ready(env: dict[str, str], socket: Path) -> bool:
    if not socket.exists():
        return False
    pactl = shutil.which("pactl")
    if pactl is None:
        return True
    result = subprocess.run([pactl, "info"], env=env, capture_output=True, timeout=5, check=False)
    return result.returncode == 0


def start_virtual_audio() -> VirtualAudio | None:
    """Start PulseAudio with a null sink ``vspeaker`` and source ``vmic``; None if unavailable.

    On success this process's environment points PulseAudio clients (and so ALSA's
    pulse plugin and PortAudio) at the private server. Call before sounddevice is
    imported: PortAudio lists devices once, at import.
    """
    binary = shutil.which("pulseaudio")
    if binary is None:
        _warn("pulseaudio not found; audio tests will be skipped (outside CI)")
        return None
    directory = Path(tempfile.mkdtemp(prefix="parley-pulse-"))
    (directory / "null.pa").write_text(NULL_PA)
    env = dict(os.environ)
    # HOME too: the daemon writes its cookie and state under it.
    env.update(HOME=str(directory), XDG_RUNTIME_DIR=str(directory), XDG_CONFIG_HOME=str(directory))
    env.pop("PULSE_SERVER", None)
    log = (directory / "pulseaudio.log").open("wb")
    # As root, pulseaudio warns ("not intended to be run as root") but runs in user mode.
    command = [
        binary,
        "-n",
        "-F",
        str(directory / "null.pa"),
        "--daemonize=no",
        "--exit-idle-time=-1",
        "--use-pid-file=no",
        "--disallow-exit",
        "--log-target=stderr",
    ]
    try:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            # Killed with the test process, however it ends (atexit does not run on kill).
            preexec_fn=die_with_parent(),
        )
    except OSError as exc:
        log.close()
        shutil.rmtree(directory, ignore_errors=True)
        _warn(f"cannot start pulseaudio: {exc}")
        return None
    log.close()
    socket = directory / "pulse" / "native"
    client_env = dict(os.environ, XDG_RUNTIME_DIR=str(directory), PULSE_SERVER=f"unix:{socket}")
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _server_ready(client_env, socket):
        if process.poll() is not None or time.monotonic() > deadline:
            output = (directory / "pulseaudio.log").read_text(errors="replace")
            if process.poll() is None:
                process.kill()
                process.wait(timeout=5)
            shutil.rmtree(directory, ignore_errors=True)
            _warn(f"pulseaudio did not come up:\n{output}")
            return None
        time.sleep(0.05)
    saved_env = {key: os.environ.get(key) for key in _ENV_KEYS}
    os.environ["XDG_RUNTIME_DIR"] = str(directory)
    os.environ["PULSE_SERVER"] = f"unix:{socket}"
    if not _alsa_has_pulse_hook():
        (directory / "alsa.conf").write_text(ALSA_CONF)
        os.environ["ALSA_CONFIG_PATH"] = str(directory / "alsa.conf")
    audio = VirtualAudio(process, directory, saved_env)
    _running.append(audio)
    # A crashed or interrupted run must not leave the daemon behind.
    atexit.register(audio.stop)
    return audio
