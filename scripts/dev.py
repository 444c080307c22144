#!/usr/bin/env python3
"""Set up everything Parley needs, then run the app or the whole test suite.

    python3 scripts/dev.py run     # the app, with the embedded local server
    python3 scripts/dev.py test    # lint, types and the full test suite, headless
    python3 scripts/dev.py server  # only parley-server (extra arguments are passed on)
    python3 scripts/dev.py lock    # re-resolve requirements.lock after pyproject.toml changed
    python3 scripts/dev.py bench NAME [ARGS]  # run benchmarks/NAME.py with what it needs
    python3 scripts/dev.py walkthrough  # two windows through the main flows, screenshots

Standard library only, so it works on a fresh machine: it installs the Debian packages
it needs when run as root (or prints the exact apt line when not), makes `.venv`,
installs the whole locked dependency tree (`requirements.lock`, every package pinned
and hash-checked) when the lock changed, and for the tests the npm packages of the Node
conformance client.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = VENV / ".parley-installed"
LOCK = ROOT / "requirements.lock"
# The benchmarks' own extra (PESQ), locked on top of requirements.lock.
BENCH_LOCK = ROOT / "requirements-bench.lock"
BENCH_STAMP = VENV / ".parley-bench-installed"
# Build requirements of the editable install, locked with everything else (no isolated
# build environment fetching whatever setuptools is newest that day).
BUILD_REQUIREMENTS = ROOT / "scripts" / "build-requirements.in"
# The resolver that writes requirements.lock; only `dev.py lock` needs it.
UV = "uv==0.13.9"
TOOLS_VENV = ROOT / ".venv-tools"
NODE_DIR = ROOT / "tests" / "conformance"

# Qt on the offscreen and X11 platforms, and PortAudio (see ENVIRONMENT.md).
APT_RUN = [
    "libportaudio2",
    "libgl1",
    "libegl1",
    "libglib2.0-0",
    "libdbus-1-3",
    "libfontconfig1",
    "libfreetype6",
    "libxkbcommon0",
    "libx11-6",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-render0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-util1",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon-x11-0",
    "libx11-xcb1",
    "fonts-dejavu-core",
]
# Virtual sound devices and screen for the suite, Node for the conformance client, the
# NAT lab's namespaces, NAT rules and TURN server, and a private D-Bus session bus for
# the notification tests.
APT_TEST = [
    "pulseaudio",
    "pulseaudio-utils",
    "libasound2-plugins",
    "xvfb",
    "xauth",
    "x11-utils",  # xwininfo: what a real X server shows of the window (WM_CLASS)
    "nodejs",
    "npm",
    "iproute2",
    "nftables",
    "coturn",
    "dbus-daemon",
    "debootstrap",  # the installer check: a fresh Debian 12 root for the .deb
    "chromium",  # the browser interop test (tests/integration/interop)
    "redis-server",  # several servers sharing one store (tests/integration/redis)
    "janus",  # audio rooms through an SFU (tests/integration/app/test_audio_room_sfu.py)
]


def say(text: str) -> None:
    print(f"[parley] {text}", flush=True)


def run(cmd: list[str], **kwargs: object) -> None:
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


# Packages whose program may come from elsewhere (NodeSource ships npm inside nodejs, and
# Debian's npm then cannot be installed): a program on PATH is enough.
PROVIDED_BY_PROGRAM = {"nodejs": "node", "npm": "npm"}


def missing_debian_packages(packages: list[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return []
    missing = []
    for package in packages:
        program = PROVIDED_BY_PROGRAM.get(package)
        if program and shutil.which(program):
            continue
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def ensure_system_packages(packages: list[str]) -> None:
    if not (hasattr(os, "geteuid") and shutil.which("apt-get")):
        say(
            "not a Debian/Ubuntu system: make sure the equivalents of these exist: "
            + " ".join(packages)
        )
        return
    missing = missing_debian_packages(packages)
    if not missing:
        return
    line = "apt-get install -y --no-install-recommends " + " ".join(missing)
    if os.geteuid() != 0:
        say("some system packages are missing; install them with:")
        print(f"\n    sudo apt-get update && sudo {line}\n", flush=True)
        sys.exit(1)
    say(f"installing system packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


# What the benchmarks need beyond the suite: a compiler for `pesq` (a C extension
# published as source only), and the voice lab's nftables and speech synthesizer.
APT_BENCH = ["gcc", "python3-dev", "nftables", "espeak-ng", "iproute2"]


def venv_python() -> Path:
    return VENV / "bin" / "python"


def needs_venv_package() -> bool:
    """Debian's python3 has no venv/ensurepip until python3-venv is installed."""
    probe = subprocess.run(
        [sys.executable, "-c", "import ensurepip, venv"], capture_output=True, check=False
    )
    return probe.returncode != 0


def ensure_venv() -> None:
    if not venv_python().exists():
        if needs_venv_package():
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            ensure_system_packages([f"python{version}-venv"])
        say("creating .venv")
        shutil.rmtree(VENV, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(VENV)])
    digest = _digest(ROOT / "pyproject.toml", LOCK)
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    say("installing the locked Python dependencies into .venv (first run takes a few minutes)")
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    # Every package of the tree, pinned and hash-checked: what CI tested is what runs.
    run([*pip, "install", "--require-hashes", "--no-deps", "-r", str(LOCK)])
    run([*pip, "install", "--no-deps", "--no-build-isolation", "-e", str(ROOT)])
    # An installed Parley finds its packages through parley_desktop.activate(); in the
    # checkout's own .venv they are importable by name everywhere (benchmarks, `python -m
    # app`, the tests' server processes), as they are in the checkout itself.
    purelib = subprocess.run(
        [str(venv_python()), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(purelib) / "parley-checkout.pth").write_text(f"{ROOT}\n")
    run([*pip, "check"])
    STAMP.write_text(digest)


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def ensure_node_packages() -> None:
    if shutil.which("npm") is None:
        say("npm is missing; the Node conformance test will fail")
        return
    lock = NODE_DIR / "package-lock.json"
    stamp = NODE_DIR / "node_modules" / ".parley-installed"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return
    say("installing the Node conformance client's packages")
    run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR)
    stamp.write_text(digest)


def tool(name: str) -> str:
    return str(VENV / "bin" / name)


def cmd_test(extra: list[str]) -> int:
    ensure_system_packages(APT_RUN + APT_TEST)
    ensure_venv()
    ensure_node_packages()
    os.chdir(ROOT)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    steps = [
        ("ruff format", [tool("ruff"), "format", "--check", "."]),
        ("ruff lint", [tool("ruff"), "check", "."]),
        ("mypy (strict)", [tool("mypy")]),
    ]
    for title, command in steps:
        say(title)
        if subprocess.run(command, env=env, check=False).returncode != 0:
            say(f"{title} failed")
            return 1
    say("pytest")
    return subprocess.run([tool("pytest"), *extra], env=env, check=False).returncode


def cmd_run(extra: list[str]) -> NoReturn:
    ensure_system_packages(APT_RUN)
    ensure_venv()
    if not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        say("no display found (DISPLAY / WAYLAND_DISPLAY are unset): run this from a desktop")
        say("session, or on a headless machine: xvfb-run -a python3 scripts/dev.py run")
        sys.exit(1)
    os.execv(tool("parley"), [tool("parley"), *extra])


def cmd_lock(extra: list[str]) -> int:
    """Resolve pyproject.toml (with the test extra) for every platform and Python >= 3.11,
    then the bench extra on top of it."""
    python = TOOLS_VENV / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(TOOLS_VENV)])
    run([str(python), "-m", "pip", "install", "-q", UV])
    compile_ = [
        str(TOOLS_VENV / "bin" / "uv"),
        "pip",
        "compile",
        "--quiet",
        "--universal",
        "--python-version",
        "3.11",
        "--generate-hashes",
        "--custom-compile-command",
        "python3 scripts/dev.py lock",
    ]
    run(
        [
            *compile_,
            "--extra",
            "test",
            "--output-file",
            str(LOCK),
            str(ROOT / "pyproject.toml"),
            str(BUILD_REQUIREMENTS),
            *extra,
        ],
        cwd=ROOT,
    )
    say(f"wrote {LOCK.relative_to(ROOT)}")
    run(
        [
            *compile_,
            "--extra",
            "test",
            "--extra",
            "bench",
            "--constraint",
            str(LOCK),
            "--output-file",
            str(BENCH_LOCK),
            str(ROOT / "pyproject.toml"),
            str(BUILD_REQUIREMENTS),
            *extra,
        ],
        cwd=ROOT,
    )
    say(f"wrote {BENCH_LOCK.relative_to(ROOT)}")
    return 0


def cmd_bench(extra: list[str]) -> int:
    """Run ``benchmarks/NAME.py`` with the suite's packages plus the bench extra."""
    if not extra or not (ROOT / "benchmarks" / f"{extra[0]}.py").exists():
        names = sorted(p.stem for p in (ROOT / "benchmarks").glob("[a-z]*.py"))
        say(f"usage: python3 scripts/dev.py bench NAME [ARGS]; NAME is one of: {', '.join(names)}")
        return 2
    ensure_system_packages(APT_RUN + APT_TEST + APT_BENCH)
    ensure_venv()
    digest = _digest(BENCH_LOCK, LOCK)
    if not BENCH_STAMP.exists() or BENCH_STAMP.read_text().strip() != digest:
        say("installing the benchmarks' locked extra (pesq builds from source)")
        pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
        run([*pip, "install", "--require-hashes", "--no-deps", "-r", str(BENCH_LOCK)])
        BENCH_STAMP.write_text(digest)
    os.chdir(ROOT)
    script = ROOT / "benchmarks" / f"{extra[0]}.py"
    return subprocess.run([str(venv_python()), str(script), *extra[1:]], check=False).returncode


def cmd_walkthrough(extra: list[str]) -> int:
    """Alice's and Bob's windows side by side under a window manager on a private X
    server, through the flows people hit; pictures in ``.parley-run/walkthrough/``."""
    ensure_system_packages([*APT_RUN, "xvfb", "x11-utils", "openbox"])
    ensure_venv()
    script = ROOT / "scripts" / "walkthrough.py"
    return subprocess.run([str(venv_python()), str(script), *extra], check=False).returncode


def cmd_server(extra: list[str]) -> NoReturn:
    ensure_venv()
    os.execv(tool("parley-server"), [tool("parley-server"), *extra])


def main() -> int:
    commands: dict[str, Callable[[list[str]], int]] = {
        "run": cmd_run,
        "test": cmd_test,
        "server": cmd_server,
        "lock": cmd_lock,
        "bench": cmd_bench,
        "walkthrough": cmd_walkthrough,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
