"""Train the shipped model: LightGBM heads, isotonic calibration, operating thresholds.

    farmscore train [--no-mlflow]          (or: python -m training.train)

1. ``training.dataset.build_dataset`` simulates the pages and computes their features with
   the serving pipeline and originality index (cached under ``.cache/`` by schema hash).
2. Two LightGBM binary heads: ``quality`` (farm filler on the page) and ``originality``
   (a copy, spin or rewrite of another article). The calibration split (20 % of the BBC
   training originals, by source) is halved by source article: one half for early stopping,
   the other for isotonic calibration, stored as a small (x, y) table.
3. Thresholds: "farm" past the 99.5th percentile of each head on the calibration split's
   clean pages (so together <= 1 % false positives there) and at a calibrated probability
   of at least 0.9; "suspect" past the 95th percentile and at least 0.5.
4. Writes ``models/quality.lgb.txt``, ``models/originality.lgb.txt`` and ``models/model.json``,
   logs the run to MLflow (``sqlite:///mlflow.db``) and registers the pyfunc model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from farmscore.config import models_dir
from scoring.model import HEADS, MODEL_FILE

TARGETS = {"quality": "quality_bad", "originality": "unoriginal"}
PARAMS = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 31, "min_data_in_leaf": 20,
          "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
          "verbose": -1, "seed": 17, "deterministic": True, "num_threads": 2}
MODEL_NAME = "farmscore-lgbm"
FARM_MIN_P = 0.9
SUSPECT_MIN_P = 0.5


def source_of(page: dict) -> str:
    return page["source_id"] or page["id"].split("#", 1)[0]


def halves(pages: list[dict]) -> np.ndarray:
    """True for the early-stopping half of the calibration split, by source article."""
    return np.array([int(hashlib.sha1(source_of(p).encode()).hexdigest()[:6], 16) % 2 == 0 for p in pages])


def calibration_table(raw: np.ndarray, y: np.ndarray, max_points: int = 200) -> dict:
    """Isotonic regression of y on raw scores, as a monotone (x, y) table for np.interp."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    xs, ys = iso.X_thresholds_, iso.y_thresholds_
    if len(xs) > max_points:
        keep = np.unique(np.linspace(0, len(xs) - 1, max_points).astype(int))
        xs, ys = xs[keep], ys[keep]
    xs = np.concatenate(([0.0], xs, [1.0]))
    ys = np.concatenate(([ys[0]], ys, [ys[-1]]))
    return {"x": [round(float(v), 6) for v in xs], "y": [round(float(v), 6) for v in ys]}


def train_heads(data: dict, progress: bool = True) -> tuple[dict, dict]:
    """Fitted boosters and the spec (calibration, thresholds) for :class:`ModelScorer`."""
    import lightgbm as lgb

    from features.schema import current_schema

    names = list(current_schema().names)
    tr, ca = data["train"], data["calib"]
    es_mask = halves(ca["pages"])
    boosters, heads = {}, {}
    for head in HEADS:
        y_tr = np.array([p[TARGETS[head]] for p in tr["pages"]])
        y_ca = np.array([p[TARGETS[head]] for p in ca["pages"]])
        dtrain = lgb.Dataset(tr["x"], y_tr, feature_name=names, free_raw_data=False)
        dvalid = lgb.Dataset(ca["x"][es_mask], y_ca[es_mask], reference=dtrain)
        callbacks = [lgb.early_stopping(50, verbose=False)]
        if progress:
            callbacks.append(lgb.log_evaluation(100))
        booster = lgb.train(PARAMS, dtrain, num_boost_round=2000, valid_sets=[dvalid],
                            valid_names=["early_stopping"], callbacks=callbacks)
        raw = booster.predict(ca["x"][~es_mask], num_threads=2)
        boosters[head] = booster
        heads[head] = {"file": f"{head}.lgb.txt", "target": TARGETS[head],
                       "best_iteration": booster.best_iteration,
                       "calibration": calibration_table(raw, y_ca[~es_mask])}
    return boosters, heads


def thresholds(data: dict, boosters: dict, heads: dict) -> dict:
    """Operating points from the calibration split's clean pages (both halves: neither was
    used to fit the trees)."""
    ca = data["calib"]
    mask = np.array([not p["techniques"] for p in ca["pages"]])
    out = {"farm": {}, "suspect": {}}
    for head in HEADS:
        cal = heads[head]["calibration"]
        p = np.interp(boosters[head].predict(ca["x"][mask], num_threads=2), cal["x"], cal["y"])
        # scores are 1 - P: a page is flagged when its score is at or below the threshold
        # the 99.5th percentile is the 2nd-3rd highest of a few hundred pages: noisy, so
        # "farm" also needs a calibrated probability of at least FARM_MIN_P
        out["farm"][head] = round(float(1 - max(np.quantile(p, 0.995), FARM_MIN_P)), 6)
        out["suspect"][head] = round(float(1 - max(np.quantile(p, 0.95), SUSPECT_MIN_P)), 6)
    out["chosen_on"] = f"{int(mask.sum())} clean pages of the calibration split"
    return out


def add_decisions(data: dict, paths: list[Path]) -> dict:
    """The data set with moderator decisions appended to the training split, their features
    computed by the serving pipeline against the same index as the simulated pages."""
    from training.dataset import WORK_DIR, _page_meta, featurise_parallel
    from training.labels import read_decisions

    pages = read_decisions(paths)
    if not pages:
        return data
    x = featurise_parallel(pages, WORK_DIR / "index", workers=2, progress=False)
    train = data["train"]
    print(f"added {len(pages)} moderator decisions to the training split")
    return {**data, "train": {"x": np.vstack([train["x"], x]),
                              "pages": train["pages"] + [_page_meta(p) for p in pages]}}


def write_model(boosters: dict, spec: dict, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    for head, b in boosters.items():
        b.save_model(str(out_dir / spec["heads"][head]["file"]), num_iteration=b.best_iteration)
    path = out_dir / MODEL_FILE
    path.write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="train the shipped model")
    ap.add_argument("--out", type=Path, default=models_dir())
    ap.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    ap.add_argument("--version", default=None, help="model version (default: date and time)")
    ap.add_argument("--labels", type=Path, nargs="*", default=[],
                    help="moderator decisions (`farmscore queue export` files) to train on too")
    args = ap.parse_args(argv)
    from features.schema import current_schema
    from training.dataset import build_dataset

    t0 = time.time()
    data = build_dataset()
    if args.labels:
        data = add_decisions(data, args.labels)
    t_data = time.time() - t0
    boosters, heads = train_heads(data)
    spec = {
        "name": MODEL_NAME,
        "version": args.version or datetime.now(timezone.utc).strftime("%Y%m%d.%H%M"),
        "schema": {"version": current_schema().version, "hash": current_schema().hash,
                   "names": list(current_schema().names)},
        "heads": heads,
        "params": PARAMS,
        "data": {s: len(d["pages"]) for s, d in data.items()},
    }
    spec["thresholds"] = thresholds(data, boosters, heads)
    path = write_model(boosters, spec, args.out)
    print(f"wrote {path} (features {t_data:.0f} s, total {time.time() - t0:.0f} s)")
    if not args.no_mlflow:
        from training.tracking import log_run

        log_run(spec, data, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
