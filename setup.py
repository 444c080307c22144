"""Which packages the wheel holds, and where (the rest of the build is in pyproject.toml).

Parley's top-level packages go inside ``parley_desktop/`` rather than at the root of
site-packages, where they would share folders with other projects' ``app``, ``signaling``
or ``media`` (see ``packaging/parley_desktop/__init__.py``). The list is computed because
pyproject.toml can only list such renamed packages one by one.
"""

from setuptools import find_packages, setup

ROOT = "parley_desktop"
TOP_LEVEL = ("app", "widgets", "media", "signaling", "resources")

found = find_packages(include=[pattern for top in TOP_LEVEL for pattern in (top, f"{top}.*")])
setup(
    packages=[ROOT, *(f"{ROOT}.{package}" for package in found)],
    package_dir={ROOT: f"packaging/{ROOT}", **{f"{ROOT}.{top}": top for top in TOP_LEVEL}},
)
