"""``python -m parley_desktop`` runs Parley, as the ``parley`` program does."""

from __future__ import annotations

import sys

from parley_desktop.launch import parley

sys.exit(parley())
