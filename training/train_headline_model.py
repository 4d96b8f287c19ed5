"""Train the clickbait-headline classifier and ship it as JSON in models/.

    python -m training.train_headline_model [--out models/headline_clickbait.json]

Data: ../shared/data/stop-clickbait (16,000 clickbait + 16,000 news headlines; Chakraborty
et al. 2016, MIT licence). A random 20 % is held out; its accuracy and ROC-AUC are printed
and stored in the JSON. The exported weights are checked against scikit-learn's own
``predict_proba`` on the held-out headlines before the file is written.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from farmscore.config import models_dir
from features.headline_model import MODEL_FILE, HeadlineModel
from training.corpus import clickbait_headlines


#: random_state of the 80/20 split; the tests re-create the held-out part with it.
HELD_OUT_SEED = 13


def build_pipeline(min_df: int = 2, c: float = 4.0) -> Pipeline:
    return Pipeline([
        ("tfidf", TfidfVectorizer(lowercase=True, token_pattern=r"(?u)\b\w+\b",
                                  ngram_range=(1, 2), min_df=min_df, sublinear_tf=True)),
        ("lr", LogisticRegression(C=c, max_iter=2000)),
    ])


def export(pipe: Pipeline, **meta) -> dict:
    """The JSON document :class:`HeadlineModel` loads: {term: [idf, coef]}."""
    vec: TfidfVectorizer = pipe.named_steps["tfidf"]
    lr: LogisticRegression = pipe.named_steps["lr"]
    coef = lr.coef_[0]
    terms = {t: [round(float(vec.idf_[i]), 6), round(float(coef[i]), 6)]
             for t, i in vec.vocabulary_.items() if abs(coef[i]) > 1e-6}
    return {"format": "farmscore-headline-v1", "ngram_range": list(vec.ngram_range),
            "sublinear_tf": vec.sublinear_tf, "intercept": float(lr.intercept_[0]),
            "terms": dict(sorted(terms.items())), **meta}


def check_parity(pipe: Pipeline, model: HeadlineModel, headlines: list[str], tol: float = 1e-4) -> float:
    ours = np.array([model.score(h) for h in headlines])
    theirs = pipe.predict_proba(headlines)[:, 1]
    diff = float(np.max(np.abs(ours - theirs))) if len(headlines) else 0.0
    if diff > tol:
        raise AssertionError(f"exported model differs from scikit-learn by {diff:.2e}")
    return diff


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=models_dir() / MODEL_FILE)
    ap.add_argument("--seed", type=int, default=HELD_OUT_SEED)
    args = ap.parse_args(argv)
    cb, nc = clickbait_headlines()
    x = cb + nc
    y = np.array([1] * len(cb) + [0] * len(nc))
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=args.seed, stratify=y)
    pipe = build_pipeline().fit(xtr, ytr)
    p = pipe.predict_proba(xte)[:, 1]
    metrics = {"heldout_accuracy": round(float(accuracy_score(yte, p > 0.5)), 4),
               "heldout_roc_auc": round(float(roc_auc_score(yte, p)), 4),
               "n_train": len(xtr), "n_heldout": len(xte)}
    doc = export(pipe, data="stop-clickbait (Chakraborty et al. 2016, MIT)", metrics=metrics)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    model = HeadlineModel.load(tmp)
    diff = check_parity(pipe, model, list(xte[:2000]))
    tmp.replace(args.out)
    print(json.dumps({**metrics, "parity_max_abs_diff": diff, "terms": len(doc["terms"]),
                      "out": str(args.out)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
