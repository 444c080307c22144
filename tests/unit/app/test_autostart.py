"""The XDG autostart entry: where it goes, what it runs, and that off removes it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from app.kit.autostart import autostart_file, launch_command, set_autostart


def test_the_entry_goes_in_the_users_autostart_folder(tmp_path: Path) -> None:
    assert autostart_file({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "autostart" / "parley.desktop"
    )
    assert autostart_file({}) == Path.home() / ".config" / "autostart" / "parley.desktop"


def test_on_writes_a_desktop_entry_and_off_removes_it(tmp_path: Path) -> None:
    path = tmp_path / "autostart" / "parley.desktop"
    set_autostart(True, "/usr/bin/parley", path)
    lines = path.read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    assert "Exec=/usr/bin/parley" in lines
    set_autostart(False, path=path)
    assert not path.exists()
    set_autostart(False, path=path)  # already off: nothing to do


def test_the_command_is_the_parley_program_beside_the_interpreter() -> None:
    # The suite's environment has Parley installed: its `parley` console script.
    command = Path(launch_command())
    assert command == Path(sys.executable).parent / "parley"
    assert os.access(command, os.X_OK)
