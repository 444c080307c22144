"""The installer's figures, in one JSON line: the `.deb`'s build time and size, and how
fast the installed Parley starts, signs in and is in a call with echo in a fresh Debian
12 root — beside the same start from this checkout's `.venv`, measured in the same run
(the anchor: what a developer sees).

Root only (chroot, mounts). Builds from a copy of the checkout with
``packaging/build-deb.sh`` (caches in /var/tmp/parley-build), checks with
``packaging/check-deb.sh``:

    python3 scripts/dev.py bench installer            # zstd, as the suite builds it
    python3 scripts/dev.py bench installer --release  # xz, the smaller package
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, machine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.checkout import copy_checkout, deb_build_env  # noqa: E402

MARKERS = ("first page shown", "signed in as check", "in a call with echo")


def run(*cmd: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=deb_build_env(), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout + done.stderr


def checkout_start(folder: Path) -> dict[str, float]:
    """The anchor: the same start from this checkout (``python -m app``), offscreen."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PARLEY_REPORT_STARTUP="1",
        XDG_CONFIG_HOME=str(folder),
        PARLEY_DATA_DIR=str(folder / "data"),
        PARLEY_LOCAL_PORT="18719",
    )
    start = time.monotonic()
    seen: dict[str, float] = {}
    with subprocess.Popen(
        [sys.executable, "-m", "app", "--user-id", "check", "--call", "echo"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            for marker in MARKERS:
                if marker in line and marker not in seen:
                    seen[marker] = round((time.monotonic() - start) * 1000, 1)
            if len(seen) == len(MARKERS):
                break
        process.terminate()
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--release", action="store_true", help="xz instead of zstd")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("installer: needs root (chroot and mounts for the Debian 12 root)")
    with tempfile.TemporaryDirectory() as tmp:
        source = copy_checkout(Path(tmp) / "parley")
        started = time.monotonic()
        built = run("bash", "packaging/build-deb.sh", *(["--release"] if args.release else []),
                    cwd=source)  # fmt: skip
        build_s = time.monotonic() - started
        (deb,) = (source / "dist").glob("parley_*.deb")
        steps = {
            m[1].strip(): float(m[2])
            for m in re.finditer(r"^(\S[^\n]*?)\s+(\d+\.\d) s$", built, re.MULTILINE)
        }
        checked = run("bash", "packaging/check-deb.sh", deb, cwd=source)
        installed = {
            marker: float(m[1])
            for marker in MARKERS
            if (m := re.search(rf"^{marker}: (\d+) ms after the start$", checked, re.MULTILINE))
        }
        apt = re.search(r"apt-get install \./\S+: (\d+) ms \((\d+) packages", checked)
        anchor = checkout_start(Path(tmp) / "anchor")
        emit(
            {
                "benchmark": "installer",
                "compression": "xz:6" if args.release else "zstd:3",
                "deb_mb": round(deb.stat().st_size / 1e6, 1),
                "build_s": round(build_s, 1),
                "build_steps_s": steps,
                "apt_install_ms": int(apt[1]) if apt else None,
                "packages_installed": int(apt[2]) if apt else None,
                "installed_ms": installed,
                "checkout_ms": anchor,
                "check_passed": "ended by SIGINT: exit status 0" in checked,
                "machine": machine(),
            }
        )


if __name__ == "__main__":
    main()
