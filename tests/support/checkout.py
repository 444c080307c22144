"""A copy of this checkout to build packages from, and the caches the `.deb` build
keeps between runs (the wheel and `.deb` tests, the installer benchmark)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["DEB_BUILD_CACHE", "copy_checkout", "deb_build_env"]

ROOT = Path(__file__).resolve().parents[2]
#: The wheels of requirements.lock and briefcase's own venv, kept between builds.
DEB_BUILD_CACHE = Path("/var/tmp/parley-build")
# Caches, environments and outputs of this checkout: never part of a build.
_NOT_SOURCES = (
    ".git", ".venv*", "node_modules", "__pycache__", "*.egg-info", "build", "dist",
    ".mypy_cache", ".ruff_cache", ".hypothesis", ".pytest_cache", ".parley-run",
)  # fmt: skip


def copy_checkout(destination: Path, *, leave_out: tuple[str, ...] = ()) -> Path:
    """Copy the checkout's sources to ``destination`` (``leave_out``: more patterns)."""
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*_NOT_SOURCES, *leave_out))
    return destination


def deb_build_env() -> dict[str, str]:
    """The environment for ``packaging/build-deb.sh`` with the kept caches."""
    DEB_BUILD_CACHE.mkdir(parents=True, exist_ok=True)
    return dict(
        os.environ,
        WHEELHOUSE=str(DEB_BUILD_CACHE / "wheelhouse"),
        BRIEFCASE_VENV=str(DEB_BUILD_CACHE / "briefcase-venv"),
    )
