"""Parley's wheel beside other projects' ``app``, ``signaling`` and ``media``.

PyPI has projects with those names. Parley's wheel keeps its top-level packages inside
``parley_desktop/`` (``setup.py``), so installing it next to them must neither overwrite
their files nor have its own overwritten, in either order, and uninstalling one must
leave the other working. Real wheels, real ``pip`` into a fresh virtual environment; the
environment borrows the suite's dependencies (PySide6 …) through a path entry placed
after its own site-packages, so its own ``app`` comes first as it would for a user.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.support.checkout import copy_checkout

pytestmark = pytest.mark.slow

OTHERS = ("app", "signaling", "media")


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, timeout=120
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done


def _record_line(name: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def _other_wheel(folder: Path, name: str) -> Path:
    """A minimal wheel of another project that owns the top-level package ``name``."""
    files = {
        f"{name}/__init__.py": f'OWNER = "the other {name}"\n'.encode(),
        f"{name}/core.py": b"VALUE = 42\n",
        f"{name}-1.0.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n".encode()
        ),
        f"{name}-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = f"{name}-1.0.dist-info/RECORD"
    lines = [_record_line(path, data) for path, data in files.items()] + [[record, "", ""]]
    path = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in files.items():
            wheel.writestr(member, data)
        wheel.writestr(record, "".join(",".join(line) + "\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Parley's wheel built from a copy of the checkout, and the three others'."""
    work = tmp_path_factory.mktemp("wheels")
    source = work / "source"
    copy_checkout(source, leave_out=("tests", "benchmarks", "docs"))  # not in a wheel
    out = work / "out"
    _run(
        sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
        "-w", out, source,
    )  # fmt: skip
    (parley,) = out.glob("parley_desktop-*.whl")
    return {"parley-desktop": parley, **{name: _other_wheel(work, name) for name in OTHERS}}


class Environment:
    """A fresh virtual environment, installed into with the suite's own pip."""

    def __init__(self, folder: Path) -> None:
        _run(sys.executable, "-m", "venv", "--without-pip", folder)
        self.python = folder / "bin" / "python"
        self.bin = folder / "bin"
        purelib = _run(
            self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
        ).stdout.strip()
        self.site = Path(purelib)
        # After the environment's own site-packages: Parley's dependencies, not its code.
        (self.site / "zz-suite-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    def pip(self, *args: str | Path) -> None:
        _run(sys.executable, "-m", "pip", "--python", self.python, "-q", *args)

    def install(self, *wheel_files: Path) -> None:
        self.pip("install", "--no-deps", "--no-index", *wheel_files)

    def uninstall(self, *names: str) -> None:
        self.pip("uninstall", "-y", *names)

    def files_of(self, distribution: str) -> dict[Path, str]:
        """Every file ``distribution`` installed, with the hash pip recorded for it."""
        (info,) = self.site.glob(f"{distribution.replace('-', '_')}-*.dist-info")
        with (info / "RECORD").open(newline="") as record:
            rows = [row for row in csv.reader(record) if row and row[1]]
        return {(self.site / row[0]).resolve(): row[1] for row in rows}

    def python_says(self, code: str, cwd: Path) -> str:
        return _run(self.python, "-c", textwrap.dedent(code), cwd=cwd).stdout.strip()


def intact(files: dict[Path, str]) -> list[str]:
    """The files that are missing or no longer what was installed."""
    problems = []
    for path, recorded in files.items():
        if not path.is_file():
            problems.append(f"{path} is gone")
            continue
        algorithm, _, expected = recorded.partition("=")
        digest = hashlib.new(algorithm, path.read_bytes()).digest()
        if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != expected:
            problems.append(f"{path} was overwritten")
    return problems


def parleys_programs_work(env: Environment, cwd: Path) -> None:
    server_help = _run(env.bin / "parley-server", "--help", cwd=cwd).stdout
    assert "usage: parley-server" in server_help
    app_help = _run(env.bin / "parley", "--help", cwd=cwd).stdout
    assert "usage: parley" in app_help
    where = env.python_says(
        """
        from parley_desktop import activate
        folder = activate()
        import app.main, signaling.server.app, media, widgets.icons, resources
        for module in (app, signaling, media, widgets, resources):
            assert module.__file__.startswith(str(folder)), module.__file__
        assert (resources.ICONS / "chat.svg").is_file(), resources.ICONS
        assert (resources.SOUNDS / "ringtone.wav").is_file(), resources.SOUNDS
        print(folder)
        """,
        cwd,
    )
    assert Path(where) == env.site / "parley_desktop"


def others_work(env: Environment, cwd: Path) -> None:
    owners = env.python_says(
        "import app, signaling, media; print(app.OWNER, signaling.OWNER, media.OWNER, sep=',')",
        cwd,
    )
    assert owners == "the other app,the other signaling,the other media"


def test_parley_sits_beside_other_app_signaling_and_media_in_either_order(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    others = [wheels[name] for name in OTHERS]
    for order, first, then in (
        ("others-first", others, [wheels["parley-desktop"]]),
        ("parley-first", [wheels["parley-desktop"]], others),
    ):
        env = Environment(tmp_path / order)
        env.install(*first)
        env.install(*then)
        parley_files = env.files_of("parley-desktop")
        other_files = {path: h for name in OTHERS for path, h in env.files_of(name).items()}
        assert not parley_files.keys() & other_files.keys(), "one file, two owners"
        assert intact(parley_files) == [], order
        assert intact(other_files) == [], order
        # Nothing of Parley's at the root of site-packages but its own folder.
        roots = {
            path.relative_to(env.site).parts[0]
            for path in parley_files
            if path.is_relative_to(env.site)
        }
        assert roots == {"parley_desktop", "parley_desktop-0.1.0.dist-info"}
        # A directory other than the checkout, so nothing is found by accident.
        parleys_programs_work(env, cwd=tmp_path)
        others_work(env, cwd=tmp_path)


def test_uninstalling_either_leaves_the_other_whole(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    env = Environment(tmp_path / "env")
    env.install(*(wheels[name] for name in OTHERS), wheels["parley-desktop"])
    parley_files = env.files_of("parley-desktop")
    env.uninstall(*OTHERS)
    assert intact(parley_files) == []
    parleys_programs_work(env, cwd=tmp_path)

    env.install(*(wheels[name] for name in OTHERS))
    other_files = {path: h for name in OTHERS for path, h in env.files_of(name).items()}
    env.uninstall("parley-desktop")
    assert intact(other_files) == []
    assert not (env.site / "parley_desktop").exists()
    others_work(env, cwd=tmp_path)


def test_parley_refuses_to_run_under_another_projects_app_already_imported(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    env = Environment(tmp_path / "env")
    env.install(*(wheels[name] for name in OTHERS), wheels["parley-desktop"])
    said = env.python_says(
        """
        import app
        from parley_desktop import ConflictingPackageError, activate
        try:
            activate()
        except ConflictingPackageError as error:
            print(error)
        """,
        tmp_path,
    )
    assert "a package named 'app' from" in said
    assert "was imported before Parley's" in said


def test_the_installed_pytest_plugin_gives_parleys_fixtures(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    env = Environment(tmp_path / "env")
    env.install(*(wheels[name] for name in OTHERS), wheels["parley-desktop"])
    suite = tmp_path / "their_tests"
    suite.mkdir()
    (suite / "test_theirs.py").write_text(
        textwrap.dedent(
            """
            from app.testing import wait_until
            import parley_desktop

            def test_parleys_app(parley_token):
                import app
                assert app.__file__.startswith(str(parley_desktop.packages_folder()))
                assert callable(wait_until)
            """
        )
    )
    done = subprocess.run(
        [env.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_theirs.py"],
        capture_output=True, text=True, cwd=suite, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
