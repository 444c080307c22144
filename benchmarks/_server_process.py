"""Starting ``parley-server`` as its own process for the signaling benchmarks.

Imported as ``_server_process`` by scripts beside it (run from the repository root).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_server(secret: str, log_level: str = "WARNING") -> tuple[subprocess.Popen[str], str]:
    """``parley-server`` on 127.0.0.1 and a free port with ``secret``; the process and
    its URL once it listens (its log goes to stderr)."""
    # Its accounts and files in a folder of its own, not the user's data directory.
    data_dir = tempfile.mkdtemp(prefix="parley-bench-")
    env = {**os.environ, "PARLEY_SECRET": secret, "PARLEY_DATA_DIR": data_dir}
    proc = subprocess.Popen(
        [sys.executable, "-m", "signaling.server.cli", "--port", "0", "--log-level", log_level],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("parley-server listening on "):
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}")
    return proc, line.split()[-1]
