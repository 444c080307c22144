"""Where an installed Parley keeps its packages, and how its programs find them.

Parley's code lives in the top-level packages ``app``, ``widgets``, ``media``,
``signaling`` and ``resources`` (the layout the project is built around). Other projects
on PyPI use some of those names too, so a wheel that put them at the root of
site-packages would mix its files with theirs in one folder, and whichever was installed
last would win. Parley's wheel puts them inside this package's folder instead; nothing
of Parley's sits at the root of site-packages but ``parley_desktop`` itself. Parley's
programs and its pytest plugin call :func:`activate` first, which puts that folder at
the front of ``sys.path`` — in Parley's own process only, so another program importing
its own ``app`` still gets its own.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path

__all__ = ["PACKAGES", "ConflictingPackageError", "activate", "packages_folder"]

#: Parley's top-level packages, kept inside this package's folder when installed.
PACKAGES = ("app", "widgets", "media", "signaling", "resources")


class ConflictingPackageError(ImportError):
    """Another project's package of the same name was imported before Parley's."""


def packages_folder() -> Path:
    """The folder holding Parley's top-level packages.

    In a wheel that is this package's own folder; in a source checkout installed in
    editable mode (``pip install -e``) it is the checkout, which the editable install
    maps ``parley_desktop.app`` to.
    """
    spec = find_spec(f"{__name__}.app")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("Parley's packages are not installed beside parley_desktop")
    return Path(next(iter(spec.submodule_search_locations))).parent


def activate() -> Path:
    """Make ``import app`` (and the rest) find Parley's packages in this process.

    Returns the folder they are in. Raises :class:`ConflictingPackageError` when a
    package of the same name was already imported from somewhere else: the process
    would be running two projects' code under one name.
    """
    folder = packages_folder()
    for name in PACKAGES:
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None) if module is not None else None
        if module is not None and (origin is None or Path(origin).parent.parent != folder):
            raise ConflictingPackageError(
                f"a package named {name!r} from {origin or 'elsewhere'} was imported before "
                f"Parley's (in {folder}); Parley cannot run beside it in one process"
            )
    entry = str(folder)
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)
    return folder
