"""Train the line classifier (``models/line_model.json``, scored by ``features.line_model``).

    python -m training.train_line_model            # train on training hosts, write the model
    python -m training.train_line_model --eval     # precision / recall on held-out hosts only

Training lines are every labelled line of the real pages of ``training.web_pages`` whose
host is not held out (one host in five is, by ``training.mine_boilerplate.is_heldout``),
plus the lines of BBC originals of the spinning reference's training split (plain-text
article pages, as farms serve them). A boilerplate line's family comes from the hand
patterns and mined templates of ``features.boilerplate`` or the miner's keyword rules, else
``other_boilerplate`` (menus, related links, dates, bylines): the learned model generalises
those families to wordings no pattern holds, through character n-grams, words, shape and
position.

Held-out figures are on the held-out hosts' pages only: precision and recall of "not
article" over their labelled lines, the family accuracy of the boilerplate lines the hand
rules name, and the share of held-out BBC originals' lines (never trained on) called chrome.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

import numpy as np

from farmscore.config import models_dir
from features.line_model import CLASSES, LineModel, page_contexts, text_features
from training.web_pages import chrome_runs, family_label

MIN_COUNT = 5
#: Features whose largest weight is smaller than this are dropped (size, not accuracy).
PRUNE = 0.02
C = 0.5
MODEL_VERSION = 1


def labelled_pages(heldout: bool) -> list[tuple[list[str], list[str]]]:
    """(lines, class labels or "") per page: real pages of one side of the host split, and
    (on the training side) BBC reference-training originals as all-article pages."""
    from features.boilerplate import BoilerplateExtractor
    from training.web_pages import web_pages

    bp = BoilerplateExtractor()
    out = []
    for p in web_pages():
        if p.heldout != heldout:
            continue
        labs = [("article" if lab == "article" else family_label(ln, bp) if lab else "")
                for ln, lab in zip(p.lines, p.labels)]
        out.append((p.lines, labs))
    return out


def bbc_pages(train: bool, n: int, chrome_share: float = 0.6) -> list[tuple[list[str], list[str]]]:
    """Plain-text BBC articles (all lines article); on the training side, ``chrome_share`` of
    them get a run of 1-6 real chrome lines of a training host before or after the article,
    as farms paste it (without these, "the last line of a plain text" meant "article")."""
    import random

    from training.build_spin_reference import split_of
    from training.corpus import bbc_articles

    arts = [a for a in bbc_articles() if (split_of(a.id) == "train") == train][:n]
    runs = chrome_runs(heldout=False) if train else []
    rng = random.Random(11)
    out = []
    for a in arts:
        lines = [ln.strip() for ln in a.text.splitlines() if ln.strip()]
        labs = ["article"] * len(lines)
        if runs and rng.random() < chrome_share:
            run = rng.choice(runs)
            k = rng.randint(0, max(0, len(run) - 1))
            part = run[k:k + rng.randint(1, 6)]
            extra, extra_labs = [ln for ln, _ in part], [f for _, f in part]
            if rng.random() < 0.7:
                lines, labs = lines + extra, labs + extra_labs
            else:
                lines, labs = extra + lines, extra_labs + labs
        out.append((lines, labs))
    return out


def featurise(pages: list[tuple[list[str], list[str]]]) -> tuple[list[list[str]], list[int]]:
    feats, ys = [], []
    cls = {c: i for i, c in enumerate(CLASSES)}
    for lines, labs in pages:
        ctx = page_contexts(lines)
        for ln, lab, cx in zip(lines, labs, ctx):
            if lab:
                feats.append(text_features(ln) + cx)
                ys.append(cls[lab])
    return feats, ys


def fit(pages: list[tuple[list[str], list[str]]]) -> dict:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    feats, ys = featurise(pages)
    counts = Counter(f for fs in feats for f in set(fs))
    vocab = sorted(f for f, c in counts.items() if c >= MIN_COUNT)
    index = {f: i for i, f in enumerate(vocab)}
    rows, cols = [], []
    for r, fs in enumerate(feats):
        for j in {index[f] for f in fs if f in index}:
            rows.append(r)
            cols.append(j)
    x = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(feats), len(vocab)))
    y = np.array(ys)
    present = sorted(set(ys))
    lr = LogisticRegression(C=C, max_iter=300).fit(x, y)
    w = np.zeros((len(vocab), len(CLASSES)))
    b = np.full(len(CLASSES), -30.0)  # a class with no training line is never predicted
    for k, c in enumerate(lr.classes_):
        w[:, c] = lr.coef_[k]
        b[c] = lr.intercept_[k]
    keep = np.abs(w).max(axis=1) >= PRUNE
    names = [f for f, k in zip(vocab, keep) if k]
    w = w[keep]
    return {"version": MODEL_VERSION, "classes": list(CLASSES), "features": names,
            "weights": [round(float(v), 4) for v in w.ravel()],
            "bias": [round(float(v), 4) for v in b],
            "meta": {"lines": len(ys), "classes_present": [CLASSES[i] for i in present],
                     "label_counts": {CLASSES[i]: int(n) for i, n in Counter(ys).items()},
                     "min_count": MIN_COUNT, "C": C}}


def evaluate(model: LineModel, threshold: float = 0.5) -> dict:
    """Held-out-host figures (see the module docstring)."""
    pages = labelled_pages(heldout=True)
    tp = fp = fn = tn = 0
    fam_ok = fam_n = 0
    for lines, labs in pages:
        probs = model.predict(lines)
        for lab, pr in zip(labs, probs):
            if not lab:
                continue
            chrome = pr[0] < threshold
            truth = lab != "article"
            chrome = bool(chrome)
            tp += chrome and truth
            fp += chrome and not truth
            fn += (not chrome) and truth
            tn += (not chrome) and not truth
            if truth and lab != "other_boilerplate":
                fam_n += 1
                fam_ok += CLASSES[int(np.argmax(pr[1:])) + 1] == lab
    bbc = bbc_pages(train=False, n=400)
    flagged = total = 0
    for lines, _ in bbc:
        pr = model.predict(lines)
        flagged += int((pr[:, 0] < threshold).sum())
        total += len(lines)
    return {"heldout_pages": len(pages), "lines": tp + fp + fn + tn,
            "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn),
            "article_lines_kept": tn / max(1, tn + fp),
            "family_accuracy": fam_ok / max(1, fam_n), "family_lines": fam_n,
            "bbc_heldout_lines_flagged": flagged / max(1, total), "bbc_lines": total}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", action="store_true", help="only evaluate the shipped model")
    ap.add_argument("--out", default=str(models_dir() / "line_model.json"))
    args = ap.parse_args(argv)
    if not args.eval:
        pages = labelled_pages(heldout=False) + bbc_pages(train=True, n=1500)
        model = fit(pages)
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(model, fh, separators=(",", ":"))
        print(f"wrote {args.out}: {len(model['features'])} features, {model['meta']['lines']} lines")
    res = evaluate(LineModel(args.out))
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
