"""``python -m app`` runs Parley, as the ``parley`` console script does."""

from __future__ import annotations

import sys

from app.main import main

sys.exit(main())
