"""Fit the derivation model: "retold from this page" or "another article on the event"?

    python -m training.train_provenance [--out models/provenance.json]

Data: the ``dev`` events of ``training.same_event`` only (the ``test`` events are the
evaluation of ``training.eval_provenance``). An index holds the dev split's indexed
articles and human-vs-chatgpt humans; every ``spin`` or ``paraphrase`` candidate the index
finds (with the derivation check off) for these queries is one example:

* **negatives, real**: every candidate of a clean same-event article (another article on
  its event, not an update of it), and every candidate of a farm page other than its
  source and the source's versions;
* **positives**: the source of each spin (20 %, 40 %), of each real GPT-3.5 rephrasing,
  and of fact-keeping rewrites made by the training simulator's ``rewrite`` (its words
  borrowed from MRPC sentences; measured, not fitted).

Only ``paraphrase`` candidates are gated (see ``originality.provenance.DerivationModel``).
A logistic regression on the standardised :data:`~originality.provenance.DERIVATION_FEATURES`
(scikit-learn, class-balanced) is fitted on the *real* examples (same-event negatives, GPT
positives); the simulated rewrites are only measured (they borrow other sentences' names,
which makes them look like other articles; see the README). Its threshold is the lowest
probability at which the regression adds no dev clean article with a paraphrase source to
those the figures rule already lets through: real same-event journalism sets it. Shipped as
JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np

from originality import open_index
from originality.fingerprints import fingerprint
from originality.provenance import DERIVATION_FEATURES, MEASURED, MODEL_FILE, derivation_features
from features.document import Document
from training.same_event import EventSet, build

def rewrites(es: EventSet, n: int, seed: int = 15) -> list[tuple[str, frozenset[str]]]:
    """(text, right ids) of simulator rewrites of ``n`` farm sources of the split."""
    from training.corpus import clickbait_headlines, mrpc_sentences
    from training.simulator import Kit, rewrite

    heads = clickbait_headlines()[0][:2000]
    kit = Kit.build("train", heads, mrpc_sentences("train"))
    rng = random.Random(seed)
    texts = {}
    for kind, text, src, right in es.farms:
        if kind == "tail":  # the article itself plus a tail: strip it back to the article
            texts.setdefault(src, (text.split("\n\nYou may also like")[0], right))
    picked = sorted(texts)[:n]
    return [(rewrite(texts[s][0], rng, kit), texts[s][1]) for s in picked]


def gather(es: EventSet, index) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """(features, labels, what each example is) of every spin/paraphrase candidate; each
    example's record says its query kind and number, method, similarity and shared weight."""
    queries: list[tuple[str, str | None, frozenset[str]]] = []  # (kind, text, published, right)
    queries += [("clean", s.text, s.published, frozenset()) for s in es.clean]
    queries += [(k, t, None, r) for k, t, _, r in es.farms]
    queries += [("gpt", t, None, frozenset([h])) for t, h in es.gpt]
    queries += [("rewrite", t, None, r) for t, r in rewrites(es, 300)]
    xs, ys, meta = [], [], []
    for qn, (kind, text, pub, right) in enumerate(queries):
        fp = fingerprint(Document.from_text(text), keep_positions=True)
        for c in index.candidates(fp, published=pub):
            if c.method == "copy":
                continue
            f = derivation_features(fp, c.sets, c.scores)
            xs.append([f[k] for k in MEASURED])
            ys.append(int(c.row.id in right))
            meta.append({"kind": kind, "query": qn, "method": c.method,
                         "similarity": c.similarity, "weight": c.scores.facts_shared_weight,
                         "immutables_shared": c.scores.immutables_shared})
    return np.asarray(xs), np.asarray(ys), meta


#: the first route of the model (see ``DerivationModel``): numbers kept, vocabulary retold
RULE = {"numbers": 0.9, "source_terms": 0.4, "fact_pairs": 0.2}
#: the weak-spin gate (see ``DerivationModel``): 0.4 sits between the dev same-event spin
#: matches (at most 0.28) and the dev spins of 40 % (at least 0.46); 100 shared immutable
#: shingles between the dev same-event ones (at most 87) and seeds 001 and 004 (134, 136),
#: real spins of a whole article. ``main`` prints the dev figures it rests on.
SPIN = {"clear": 0.4, "min_shared": 100}
METHODS = ["paraphrase", "spin"]


def fit(x: np.ndarray, y: np.ndarray) -> dict:
    """Class-balanced logistic regression on standardised features, as a JSON spec."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    lr.fit((x - mean) / scale, y)
    return {"features": list(DERIVATION_FEATURES), "mean": mean.tolist(),
            "scale": scale.tolist(), "coef": lr.coef_[0].tolist(),
            "intercept": float(lr.intercept_[0]), "rule": RULE, "spin": SPIN,
            "methods": METHODS}


def probabilities(spec: dict, x: np.ndarray) -> np.ndarray:
    z = ((x - np.asarray(spec["mean"])) / np.asarray(spec["scale"])) @ np.asarray(spec["coef"])
    return 1.0 / (1.0 + np.exp(-(z + spec["intercept"])))


def per_query(kept: np.ndarray, y: np.ndarray, meta: list[dict]) -> dict[str, tuple[int, int]]:
    """(queries with a kept wrong candidate, queries) for clean articles and (queries whose
    right source is kept, queries with a right candidate) for the others."""
    wrong: dict[int, bool] = {}
    right: dict[int, bool] = {}
    kind: dict[int, str] = {}
    for k, yi, m in zip(kept, y, meta):
        q = m["query"]
        kind[q] = m["kind"]
        wrong[q] = wrong.get(q, False) or bool(k and not yi)
        if yi:
            right[q] = right.get(q, False) or bool(k)
    out: dict[str, list[int]] = {}
    for q, kd in kind.items():
        if kd == "clean":
            o = out.setdefault(kd, [0, 0])
            o[0] += wrong[q]
            o[1] += 1
        elif q in right:
            o = out.setdefault(kd, [0, 0])
            o[0] += right[q]
            o[1] += 1
    return {k: (a, b) for k, (a, b) in out.items()}


def _best_per_query(v: np.ndarray, where: np.ndarray, meta: list[dict]) -> dict[int, float]:
    """The largest ``v`` of each query's examples selected by ``where``."""
    out: dict[int, float] = {}
    for vi, w, m in zip(v, where, meta):
        if w:
            out[m["query"]] = max(out.get(m["query"], -1.0), float(vi))
    return out


def _max(a: np.ndarray) -> float | None:
    return round(float(a.max()), 3) if len(a) else None


def _min(a: np.ndarray) -> float | None:
    return round(float(a.min()), 3) if len(a) else None


def main(argv: list[str] | None = None) -> int:
    from farmscore.config import models_dir
    from originality.provenance import DerivationModel

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(models_dir() / MODEL_FILE))
    ap.add_argument("--curve", action="store_true",
                    help="print the dev figures at every threshold considered")
    args = ap.parse_args(argv)
    es = build("dev")
    tmp = tempfile.mkdtemp(prefix="farmscore-prov-")
    try:
        with open_index(tmp, derivation=None) as index:
            index.add(es.index_pages)
            x, y, meta = gather(es, index)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    kinds = np.asarray([m["kind"] for m in meta])
    para = np.asarray([m["method"] == "paraphrase" for m in meta])
    imm = x[:, MEASURED.index("immutables")]
    shared = np.asarray([m["immutables_shared"] for m in meta])
    spins = np.asarray([m["method"] == "spin" for m in meta])
    weak = spins & (imm < SPIN["clear"]) & (shared < SPIN["min_shared"])
    gated = para | weak  # what the model decides; the rest is kept as matched
    # fitted on real pages only: clean same-event articles and farm pages' wrong candidates
    # (negatives), GPT rephrasings (positives); the simulated rewrites are measured, not fitted
    train = para & (kinds != "rewrite")
    cols = [MEASURED.index(k) for k in DERIVATION_FEATURES]
    spec = fit(x[train][:, cols], y[train])
    p = probabilities(spec, x[:, cols])
    model = DerivationModel({**spec, "threshold": 1.0})
    figures = np.asarray([model.keeps_figures(dict(zip(MEASURED, row))) for row in x])
    n_clean = len(es.clean)
    rule_false = per_query(gated & figures, y, meta).get("clean", (0, 0))[0]
    best = None
    for t in np.round(np.arange(0.5, 1.0, 0.01), 2):
        kept = ~gated | figures | (p >= t)
        res = per_query(kept, y, meta)
        para_false = per_query(gated & (figures | (p >= t)), y, meta).get("clean", (0, 0))[0]
        if args.curve:
            print(f"threshold {t}: dev clean with a paraphrase source {para_false}, {res}")
        if para_false <= rule_false and best is None:
            best = (float(t), res, para_false)
            if not args.curve:
                break
    if best is None:
        raise SystemExit("no threshold keeps the regression's false sources at the rule's")
    spec["threshold"] = best[0]
    res = best[1]
    spec["fitted_on"] = {
        "split": "dev", "command": "python -m training.train_provenance",
        "examples": int(train.sum()), "positives": int(y[train].sum()),
        "dev_clean_articles": n_clean,
        "dev_clean_with_a_kept_wrong_candidate": res.get("clean", (0, 0))[0],
        "of_them_paraphrase": best[2], "paraphrase_by_the_rule_alone": rule_false,
        "dev_right_source_kept": {k: list(v) for k, v in res.items() if k != "clean"},
        # what the weak-spin gate (SPIN) rests on
        "dev_clean_spin_matches": int((spins & (kinds == "clean")).sum()),
        "dev_clean_spin_max_immutables": _max(imm[spins & (kinds == "clean")]),
        "dev_clean_spin_max_shared": _max(shared[spins & (kinds == "clean")]),
        # per spin40 page, its best-matching right source (a version may match it weakly)
        "dev_spin40_source_min_immutables": _min(np.asarray(list(_best_per_query(
            imm, spins & (kinds == "spin40") & (y == 1), meta).values()))),
    }
    Path(args.out).write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(spec["fitted_on"], indent=1))
    print("threshold", spec["threshold"], "coef", np.round(spec["coef"], 2).tolist())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
