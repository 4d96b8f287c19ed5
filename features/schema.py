"""The feature schema: names, order and version, shared by the model, the API and notebooks.

The names are the default pipeline's, in order. ``models/feature_schema.json`` freezes
them; a test fails when code and file disagree, so a change to the features is a deliberate
act: bump ``SCHEMA_VERSION`` and rewrite the file with ``farmscore schema --write``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from farmscore.config import models_dir

SCHEMA_VERSION = 5
SCHEMA_FILE = "feature_schema.json"


@dataclass(frozen=True)
class FeatureSchema:
    version: int
    names: tuple[str, ...]
    families: dict[str, tuple[str, ...]]

    @property
    def hash(self) -> str:
        """Short content hash; the API reports it so clients can tell schemas apart."""
        blob = json.dumps({"version": self.version, "names": self.names}).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {"version": self.version, "hash": self.hash, "names": list(self.names),
                "families": {k: list(v) for k, v in self.families.items()}}


@lru_cache(maxsize=1)
def current_schema() -> FeatureSchema:
    """The schema the code produces now."""
    from features.pipeline import default_extractors

    exs = default_extractors()
    names = tuple(n for ex in exs for n in ex.FEATURES)
    if len(set(names)) != len(names):
        raise RuntimeError("duplicate feature names in the pipeline")
    return FeatureSchema(SCHEMA_VERSION, names, {ex.family: tuple(ex.FEATURES) for ex in exs})


def frozen_schema(path: Path | None = None) -> dict:
    """The schema as shipped in models/ (what trained models expect)."""
    return json.loads((path or models_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))


def write_schema(path: Path | None = None) -> Path:
    path = path or models_dir() / SCHEMA_FILE
    path.write_text(json.dumps(current_schema().to_dict(), indent=1) + "\n", encoding="utf-8")
    return path
