"""The shipped LightGBM model: features -> calibrated originality and quality.

``models/model.json`` names two LightGBM boosters in text format (``quality`` predicts that
farm filler is on the page, ``originality`` that the page copies, spins or rewrites another),
their calibration tables, the operating thresholds and the feature schema they
expect. Nothing is unpickled: boosters load from text, the rest is JSON.

Single pages are predicted on a numpy row through LightGBM's single-row fast C API
(:class:`RowPredictor`: set up once, one thread, no per-call parameter parsing);
``explain`` asks LightGBM for ``pred_contrib``, which costs ~200x a plain prediction, so only
when a person will read it.
"""

from __future__ import annotations

import ctypes
import json
import threading
from functools import cached_property
from pathlib import Path

import numpy as np

from farmscore.config import models_dir
from scoring.rules import signals_from_features

MODEL_FILE = "model.json"
HEADS = ("quality", "originality")
#: Decimals of the reported scores. The verdict is read off the scores as reported, so a
#: reader can check it; thresholds are chosen at this precision (``training.train``).
SCORE_DECIMALS = 4


def reported(score: float) -> float:
    """A score as farmscore reports it (and compares it with the thresholds)."""
    return round(score, SCORE_DECIMALS)


class RowPredictor:
    """One booster's probability for one row, by ``LGBM_BoosterPredictForMatSingleRowFast``.

    ``Booster.predict`` parses its parameters, builds a predictor and checks the input on
    every call (~0.1-0.2 ms a row); the fast API's configuration (normal prediction, all
    iterations as ``Booster.predict`` uses for a loaded model, float64 input, one thread) is
    made once here. Same LightGBM predictor, same numbers. A lock serialises calls: the
    configuration holds one prediction buffer, and the API runs one row in microseconds.
    """

    def __init__(self, booster, n_features: int):
        from lightgbm.basic import _C_API_DTYPE_FLOAT64, _C_API_PREDICT_NORMAL, _LIB, _c_str, _safe_call

        self._lib, self._check = _LIB, _safe_call
        self._booster = booster  # the configuration points into it: keep it alive
        self._n_features = n_features
        self._handle = ctypes.c_void_p()
        self._lock = threading.Lock()
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(_C_API_PREDICT_NORMAL), ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(_C_API_DTYPE_FLOAT64), ctypes.c_int32(n_features), _c_str("num_threads=1"),
            ctypes.byref(self._handle)))
        # The call's arguments, made once (building ctypes pointers costs more than the
        # prediction's own overhead): the row is copied into a buffer of ours, under the lock.
        self._predict = _LIB.LGBM_BoosterPredictForMatSingleRowFast
        self._row = np.zeros(n_features, dtype=np.float64)
        self._row_ptr = ctypes.c_void_p(self._row.ctypes.data)
        self._out = ctypes.c_double()
        self._out_ref = ctypes.byref(self._out)
        self._out_len = ctypes.c_int64()
        self._out_len_ref = ctypes.byref(self._out_len)

    def __call__(self, row: np.ndarray) -> float:
        """Prediction for ``row``, a C-contiguous float64 array of ``n_features``."""
        if row.dtype != np.float64 or row.shape != (self._n_features,) or not row.flags.c_contiguous:
            raise ValueError(f"expected a contiguous float64 row of {self._n_features} features")
        with self._lock:
            self._row[:] = row
            self._check(self._predict(self._handle, self._row_ptr, self._out_len_ref, self._out_ref))
            return self._out.value

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None and self._handle.value:
            self._lib.LGBM_FastConfigFree(self._handle)


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

    @cached_property
    def predictors(self) -> dict[str, RowPredictor]:
        """Single-row predictors of the boosters (see :class:`RowPredictor`)."""
        return {h: RowPredictor(b, len(self.input_names)) for h, b in self.boosters.items()}

    @cached_property
    def names(self) -> tuple[str, ...]:
        """The feature schema's names: what a page's feature dict holds."""
        return tuple(self.spec["schema"]["names"])

    @cached_property
    def outliers(self):
        """The clean-outlier columns the heads also read (``scoring.outliers``), if the model
        has them (models before 1.10.0 do not)."""
        from scoring.outliers import CleanOutliers

        derived = self.spec.get("derived")
        return CleanOutliers.from_json(derived["outliers"], self.names) if derived else None

    @cached_property
    def input_names(self) -> tuple[str, ...]:
        """The heads' input columns: :attr:`names`, then the derived ones."""
        return self.names + tuple(self.spec.get("derived", {}).get("names", ()))

    def inputs(self, x: np.ndarray) -> np.ndarray:
        """Feature rows as the heads read them (the derived columns appended)."""
        return x if self.outliers is None else self.outliers.transform(x)

    @cached_property
    def _calibration(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each head's calibration table as float64 arrays (``np.interp`` would convert the
        JSON lists on every call)."""
        return {h: (np.asarray(self.spec["heads"][h]["calibration"]["x"], dtype=np.float64),
                    np.asarray(self.spec["heads"][h]["calibration"]["y"], dtype=np.float64))
                for h in HEADS}

    def load(self) -> "ModelScorer":
        """Load everything now (servers call this at start-up, not on the first request)."""
        self.spec, self.boosters, self.predictors, self._calibration, self.outliers  # noqa: B018
        return self

    @property
    def model_info(self) -> dict:
        return {"name": self.spec["name"], "version": self.spec["version"]}

    # ---- prediction -----------------------------------------------------------------------
    def _matrix(self, feature_dicts: list[dict[str, float]]) -> np.ndarray:
        names = self.names
        return np.array([[f[n] for n in names] for f in feature_dicts], dtype=np.float64)

    def calibrate(self, head: str, raw: np.ndarray | float) -> np.ndarray:
        return np.interp(raw, *self._calibration[head])

    def raw(self, x: np.ndarray, num_threads: int = 1) -> dict[str, np.ndarray]:
        """Uncalibrated booster outputs: no ties, so the right thing to rank pages by."""
        x = self.inputs(x)
        return {h: self.boosters[h].predict(x, num_threads=num_threads) for h in HEADS}

    def probabilities(self, x: np.ndarray, num_threads: int = 1) -> dict[str, np.ndarray]:
        """Calibrated P(filler) and P(copied) for each row of ``x``."""
        return {h: self.calibrate(h, r) for h, r in self.raw(x, num_threads).items()}

    def score(self, features: dict[str, float]) -> dict:
        """Scores of one page (single-row fast path; same numbers as :meth:`score_many`)."""
        values = list(map(features.__getitem__, self.names))
        if self.outliers is not None:
            values += self.outliers.row_columns(values)
        row = np.array(values, dtype=np.float64)
        p = {h: float(self.calibrate(h, self.predictors[h](row))) for h in HEADS}
        return self._record(features, 1.0 - p["quality"], 1.0 - p["originality"])

    def score_many(self, feature_dicts: list[dict[str, float]], num_threads: int = 0) -> list[dict]:
        """Scores of many pages in one prediction call (``num_threads=0``: LightGBM's default)."""
        if not feature_dicts:
            return []
        p = self.probabilities(self._matrix(feature_dicts), num_threads=num_threads)
        return [self._record(f, 1.0 - float(p["quality"][i]), 1.0 - float(p["originality"][i]))
                for i, f in enumerate(feature_dicts)]

    def _record(self, features: dict[str, float], quality: float, originality: float) -> dict:
        originality, quality = reported(originality), reported(quality)
        return {"originality": originality, "quality": quality,
                "verdict": self.verdict(originality, quality),
                "signals": {k: round(v, 4) for k, v in signals_from_features(features).items()}}

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
        *farm* probability: positive pushes towards filler / copied. Top ``top_k`` by size,
        named by schema feature: the clean-outlier columns' shares are folded onto the
        signals they summarise (a column with no signal past clean pages keeps its name)."""
        row = self._matrix([features])
        x = self.inputs(row)
        folds = self.outliers.attribution(row[0]) if self.outliers is not None else {}
        out: dict[str, dict[str, float]] = {}
        for h in HEADS:
            contrib = self.boosters[h].predict(x, pred_contrib=True, num_threads=1)[0]
            per = dict(zip(self.input_names, contrib[:-1].tolist()))
            # a derived column's share goes to the signals it summarises (see
            # CleanOutliers.attribution); a column at 0 has nothing to name and keeps its own
            for name, weights in folds.items():
                if weights and per.get(name):
                    v = per.pop(name)
                    for sig, w in weights.items():
                        per[sig] += w * v
            pairs = sorted(per.items(), key=lambda kv: -abs(kv[1]))
            out[h] = {k: round(float(v), 4) for k, v in pairs[: self.top_k] if v}
            out[h]["(baseline)"] = round(float(contrib[-1]), 4)
        return out
