"""Where things live. Everything is overridable by environment variables.

* ``FARMSCORE_DATA``: the shared public data sets (default ``../shared/data`` beside the
  repository). Never copied into the project.
* ``FARMSCORE_MODELS``: shipped model files (default ``models/`` in the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The shared data folder; may not exist (tests then skip)."""
    env = os.environ.get("FARMSCORE_DATA")
    return Path(env) if env else (REPO_ROOT / ".." / "shared" / "data").resolve()


def models_dir() -> Path:
    env = os.environ.get("FARMSCORE_MODELS")
    return Path(env) if env else REPO_ROOT / "models"


def seeds_dir() -> Path:
    return REPO_ROOT / "seeds"
