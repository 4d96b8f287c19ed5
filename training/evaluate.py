"""Evaluation: the model against the Gopher rules and TF-IDF, per technique, held out.

    farmscore evaluate            (or: python -m training.evaluate)

Test sets (see ``training.dataset``): ``test`` — BBC originals never used for training or
for the spinning reference, farmed with the *test* kit (headlines, markers, disclaimers and
frames the model never saw); ``reuters`` — the Reuters-21578 collection, held out whole.
For each technique: positives are the pages made with it (alone or in a mixture), negatives
every clean page of the same set (originals, their hard-negative variants, GPT "generated"
articles). Metrics: ROC-AUC, PR-AUC and recall at 1 % false positives.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from training.simulator import TECHNIQUES


def recall_at_fpr(y: np.ndarray, s: np.ndarray, fpr: float = 0.01) -> float:
    """Recall at the threshold that lets through at most ``fpr`` of the negatives."""
    neg = np.sort(s[y == 0])
    if not len(neg) or not (y == 1).any():
        return float("nan")
    thr = neg[min(len(neg) - 1, int(np.ceil((1 - fpr) * len(neg))) - 1)]
    return float((s[y == 1] > thr).mean())


def metrics(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    if len(set(y.tolist())) < 2:
        return {"roc_auc": float("nan"), "pr_auc": float("nan"), "recall_at_1pct_fpr": float("nan"), "n_pos": int(y.sum())}
    return {"roc_auc": float(roc_auc_score(y, s)), "pr_auc": float(average_precision_score(y, s)),
            "recall_at_1pct_fpr": recall_at_fpr(y, s), "n_pos": int(y.sum())}


def per_technique(pages: list[dict], scores: dict[str, np.ndarray]) -> list[dict]:
    """Rows (technique, method, metrics) for one test set; 'all farms' first."""
    techs = [set(p["techniques"]) for p in pages]
    clean = np.array([not t for t in techs])
    rows = []
    for tech in ("all farms", *TECHNIQUES):
        pos = np.array([bool(t) if tech == "all farms" else tech in t for t in techs])
        if not pos.any():
            continue
        keep = pos | clean
        y = pos[keep].astype(int)
        for method, s in scores.items():
            rows.append({"technique": tech, "method": method, **metrics(y, s[keep])})
    return rows


def table(rows: list[dict], title: str) -> str:
    """A markdown table: one row per technique, the three methods side by side."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    head = "| technique | n | " + " | ".join(f"{m} ROC-AUC / PR-AUC / R@1%FPR" for m in methods) + " |"
    out = [f"**{title}**", "", head, "|---|---|" + "---|" * len(methods)]
    by = {}
    for r in rows:
        by.setdefault(r["technique"], {})[r["method"]] = r
    for tech, ms in by.items():
        n = next(iter(ms.values()))["n_pos"]
        cells = [f"{ms[m]['roc_auc']:.3f} / {ms[m]['pr_auc']:.3f} / {ms[m]['recall_at_1pct_fpr']:.3f}"
                 for m in methods]
        out.append(f"| {tech} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def evaluate(data: dict | None = None, tfidf=None, progress: bool = True) -> dict:
    """Scores of the shipped model and both baselines on both test sets."""
    from scoring.model import ModelScorer, reported
    from training.baselines import TfidfBaseline, gopher_scores
    from training.dataset import build_dataset, split_texts

    data = data or build_dataset(progress=progress)
    model = ModelScorer().load()
    if tfidf is None:
        y_tr = np.array([p["quality_bad"] or p["unoriginal"] for p in data["train"]["pages"]])
        tfidf = TfidfBaseline().fit(split_texts("train"), y_tr)
    result = {}
    for split in ("test", "reuters"):
        texts = split_texts(split)
        x = data[split]["x"].astype(np.float64)
        raw = model.raw(x, num_threads=0)
        p = {h: model.calibrate(h, r) for h, r in raw.items()}
        scores = {  # ranking metrics on the raw outputs (calibration's flat steps make ties)
            "farmscore": np.maximum(raw["quality"], raw["originality"]),
            "gopher": gopher_scores(texts),
            "tfidf-lr": tfidf.predict_proba(texts),
        }
        pages = data[split]["pages"]
        clean = np.array([not pg["techniques"] for pg in pages])
        verdict = np.array([model.verdict(reported(1 - o), reported(1 - q))
                            for q, o in zip(p["quality"], p["originality"])])
        verdicts, farm = verdict != "ok", verdict == "farm"
        result[split] = {
            "rows": per_technique(pages, scores),
            "clean_flagged_farm": float(farm[clean].mean()),
            "clean_flagged_any": float(verdicts[clean].mean()),
            "farms_flagged_farm": float(farm[~clean].mean()),
            "n_pages": len(pages), "n_clean": int(clean.sum()),
        }
    return result


def report(result: dict) -> str:
    parts = []
    names = {"test": "Held-out BBC originals, test kit", "reuters": "Reuters-21578, collection held out, test kit"}
    for split, r in result.items():
        parts.append(table(r["rows"], f"{names[split]} ({r['n_pages']} pages, {r['n_clean']} clean)"))
        parts.append(f"\nAt the shipped operating point: {r['clean_flagged_farm']:.2%} of clean pages "
                     f"called \"farm\" ({r['clean_flagged_any']:.2%} farm or suspect); "
                     f"{r['farms_flagged_farm']:.2%} of farm pages called \"farm\".\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="evaluate the shipped model against baselines")
    ap.add_argument("--json", help="also write the metrics to this file")
    args = ap.parse_args(argv)
    result = evaluate()
    print(report(result))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
