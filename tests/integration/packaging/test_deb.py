"""The installer, as a packager and a person meet it: ``packaging/build-deb.sh`` builds
Parley's ``.deb`` from a copy of this checkout with briefcase and the template kept in
``packaging/briefcase`` (no network for briefcase itself), and ``packaging/check-deb.sh``
installs it with apt into a fresh Debian 12 root (debootstrap) and runs it there as an
ordinary user: ``parley --help``, then signed in on the local server it hosts, calling
the echo user, ended with Ctrl+C.

Slow (about a minute with the caches in /var/tmp warm, two the first time) and root
only (chroot, mounts, network namespaces): CI runs as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.checkout import copy_checkout, deb_build_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _problem() -> str | None:
    if os.geteuid() != 0:
        return "building and checking the .deb needs root (chroot, mounts; CI runs as root)"
    for program in ("debootstrap", "unshare", "/usr/bin/python3"):
        if shutil.which(program) is None:
            return f"the .deb check needs {program} (python3 scripts/dev.py test installs it)"
    return None


if (problem := _problem()) is not None:
    pytest.skip(problem, allow_module_level=True)


def _run(script: Path, *args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", str(script), *map(str, args)],
        cwd=cwd, env=deb_build_env(), capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def test_the_deb_installs_on_a_fresh_debian_12_and_calls_echo(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "parley")
    built = _run(source / "packaging" / "build-deb.sh", cwd=source)
    (deb,) = (source / "dist").glob("parley_*.deb")
    assert deb.name.startswith("parley_0.1.0-1~debian-bookworm_"), built[-2000:]

    checked = _run(source / "packaging" / "check-deb.sh", deb, cwd=source)
    for said in (
        "usage: parley [options]",
        "signed in as check",
        "in a call with echo",
        "ended by SIGINT: exit status 0",
    ):
        assert said in checked, checked[-4000:]
    assert "Traceback" not in checked
