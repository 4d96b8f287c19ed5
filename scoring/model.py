"""The shipped LightGBM model: features -> calibrated originality and quality.

``models/model.json`` names two LightGBM boosters in text format (``quality`` predicts that
farm filler is on the page, ``originality`` that the page copies, spins or rewrites another),
their isotonic calibration tables, the operating thresholds and the feature schema they
expect. Nothing is unpickled: boosters load from text, the rest is JSON.

Single pages are predicted on a numpy row with one thread (LightGBM's per-call threading
costs more than it saves on one row); ``explain`` asks LightGBM for ``pred_contrib``, which
costs ~200x a plain prediction, so only when a person will read it.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np

from farmscore.config import models_dir
from scoring.rules import signals_from_features

MODEL_FILE = "model.json"
HEADS = ("quality", "originality")


class ModelNotFound(FileNotFoundError):
    pass


class SchemaMismatch(RuntimeError):
    pass


class ModelScorer:
    """Scores from the trained boosters (see module docstring)."""

    def __init__(self, path: Path | None = None, top_k: int = 8):
        self.path = Path(path) if path else models_dir() / MODEL_FILE
        self.top_k = top_k

    @cached_property
    def spec(self) -> dict:
        if not self.path.exists():
            raise ModelNotFound(f"no trained model at {self.path}; run `farmscore train`")
        spec = json.loads(self.path.read_text(encoding="utf-8"))
        from features.schema import current_schema

        cur = current_schema()
        if spec["schema"]["hash"] != cur.hash:
            raise SchemaMismatch(f"model expects feature schema {spec['schema']['hash']}, "
                                 f"code produces {cur.hash}; retrain with `farmscore train`")
        return spec

    @cached_property
    def boosters(self) -> dict:
        import lightgbm as lgb

        return {h: lgb.Booster(model_file=str(self.path.parent / self.spec["heads"][h]["file"]))
                for h in HEADS}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.spec["schema"]["names"])

    def load(self) -> "ModelScorer":
        """Load everything now (servers call this at start-up, not on the first request)."""
        self.spec, self.boosters  # noqa: B018
        return self

    @property
    def model_info(self) -> dict:
        return {"name": self.spec["name"], "version": self.spec["version"]}

    # ---- prediction -----------------------------------------------------------------------
    def _matrix(self, feature_dicts: list[dict[str, float]]) -> np.ndarray:
        names = self.names
        return np.array([[f[n] for n in names] for f in feature_dicts], dtype=np.float64)

    def calibrate(self, head: str, raw: np.ndarray) -> np.ndarray:
        cal = self.spec["heads"][head]["calibration"]
        return np.interp(raw, cal["x"], cal["y"])

    def raw(self, x: np.ndarray, num_threads: int = 1) -> dict[str, np.ndarray]:
        """Uncalibrated booster outputs: no ties, so the right thing to rank pages by."""
        return {h: self.boosters[h].predict(x, num_threads=num_threads) for h in HEADS}

    def probabilities(self, x: np.ndarray, num_threads: int = 1) -> dict[str, np.ndarray]:
        """Calibrated P(filler) and P(copied) for each row of ``x``."""
        return {h: self.calibrate(h, r) for h, r in self.raw(x, num_threads).items()}

    def score(self, features: dict[str, float]) -> dict:
        return self.score_many([features], num_threads=1)[0]

    def score_many(self, feature_dicts: list[dict[str, float]], num_threads: int = 0) -> list[dict]:
        """Scores of many pages in one prediction call (``num_threads=0``: LightGBM's default)."""
        if not feature_dicts:
            return []
        p = self.probabilities(self._matrix(feature_dicts), num_threads=num_threads)
        out = []
        for i, f in enumerate(feature_dicts):
            quality = 1.0 - float(p["quality"][i])
            originality = 1.0 - float(p["originality"][i])
            out.append({"originality": round(originality, 4), "quality": round(quality, 4),
                        "verdict": self.verdict(originality, quality),
                        "signals": {k: round(v, 4) for k, v in signals_from_features(f).items()}})
        return out

    def verdict(self, originality: float, quality: float) -> str:
        """"farm" past the operating threshold (chosen for <= 1 % false positives on clean
        originals), "suspect" past the looser one, else "ok"."""
        t = self.spec["thresholds"]
        if quality <= t["farm"]["quality"] or originality <= t["farm"]["originality"]:
            return "farm"
        if quality <= t["suspect"]["quality"] or originality <= t["suspect"]["originality"]:
            return "suspect"
        return "ok"

    def explain(self, features: dict[str, float]) -> dict[str, dict[str, float]]:
        """Per-feature contributions (LightGBM SHAP values, in log-odds) to each head's
        *farm* probability: positive pushes towards filler / copied. Top ``top_k`` by size."""
        x = self._matrix([features])
        out: dict[str, dict[str, float]] = {}
        for h in HEADS:
            contrib = self.boosters[h].predict(x, pred_contrib=True, num_threads=1)[0]
            pairs = sorted(zip(self.names, contrib[:-1]), key=lambda kv: -abs(kv[1]))
            out[h] = {k: round(float(v), 4) for k, v in pairs[: self.top_k] if v}
            out[h]["(baseline)"] = round(float(contrib[-1]), 4)
        return out
