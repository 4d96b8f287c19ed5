"""Evaluate the spinning detector on held-out originals and on tortured phrases.

Run::

    python -m training.eval_spinning               # the 500 held-out originals (eval split)
    python -m training.eval_spinning --split dev   # the 300 development originals
    python -m training.eval_spinning --params '{"swap_cost": 7}'

1. **Spun vs clean pages.** The held-out originals (``split_of(id) == "eval"`` in
   ``training.build_spin_reference``: never counted into the reference) are spun by
   ``training.spinner.Spinner()`` at 10 %, 20 % and 40 % of content words (seed = index).
   The page-level score is ``spin_score`` (see ``SpinningExtractor``: mostly flagged
   phrases per 100 words, with two small tie-breaking terms); we report ROC AUC of spun against the same pages unspun, the
   detection rate at the per-page threshold ``PAGE_THRESHOLD`` and the false-positive rate
   at that threshold on the clean pages, plus phrase-level precision (share of flagged
   phrases that overlap a real replacement) and how often the proposed original is exactly
   the replaced word.
2. **Tortured phrases** (Problematic Paper Screener pairs). Each phrase is embedded in the
   neutral sentence ``TEMPLATE`` and also scored alone; "flagged" means a ``spun_phrase``
   span overlaps it. We report the share of tortured phrases flagged and of their correct
   forms flagged, separately for the half compiled into the reference ("seen", a lookup)
   and the half kept out ("unseen", which measures the generic detector).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from features.document import Document
from features.spinning import SpinningExtractor
from training.build_spin_reference import held_out_articles, tortured_pairs, tortured_split
from training.spinner import Spinner

RATES = (0.1, 0.2, 0.4)
#: A page is called spun when spin_score reaches this: about the 95th percentile of
#: spin_score on the clean pages of the dev split (the score is calibrated so), i.e.
#: chosen there for about 5 % false positives; never tuned on the eval split.
PAGE_THRESHOLD = 0.5
TEMPLATE = "In this paper we describe the {} used in our work."


def page_scores(ex: SpinningExtractor, texts: list[str]) -> tuple[np.ndarray, list]:
    """spin_score per text, and the evidence spans."""
    scores, spans = [], []
    for t in texts:
        r = ex.extract(Document.from_text(t))
        scores.append(r.features["spin_score"])
        spans.append(r.evidence)
    return np.asarray(scores), spans


def phrase_precision(spans, results) -> tuple[float, float]:
    """(share of flagged spans overlapping a replacement, share proposing the replaced word)."""
    hit = exact = total = 0
    for ev, res in zip(spans, results):
        # offsets of the replacements in the spun text
        shifts, pos_map = 0, []
        for r in res.replacements:
            start = r.start + shifts
            pos_map.append((start, start + len(r.new), r.old))
            shifts += len(r.new) - (r.end - r.start)
        for s in ev:
            total += 1
            over = [old for a, b, old in pos_map if a < s.end and s.start < b]
            if over:
                hit += 1
                orig = s.detail.split(";")[0].removeprefix("likely original: ").lower()
                exact += any(o.lower() in orig.split() for o in over)
    return (hit / total if total else float("nan"), exact / total if total else float("nan"))


def tortured_eval(ex: SpinningExtractor) -> list[tuple[str, str, int, float, float]]:
    """(half, context, n, tortured flagged share, correct flagged share) rows."""
    rows = []
    pairs = tortured_pairs()
    for half, label in (("train", "seen (compiled)"), ("eval", "unseen (held out)")):
        sub = [(b, g) for b, g in pairs if tortured_split(b) == half]
        for ctx_name in ("sentence", "alone"):
            flags = {}
            for kind, idx in (("tortured", 0), ("correct", 1)):
                n_flag = 0
                for pair in sub:
                    phrase = pair[idx]
                    if ctx_name == "sentence":
                        text = TEMPLATE.format(phrase)
                        a = text.index(phrase)
                    else:
                        text, a = phrase, 0
                    b = a + len(phrase)
                    ev = ex.extract(Document.from_text(text)).evidence
                    n_flag += any(s.start < b and a < s.end for s in ev)
                flags[kind] = n_flag / len(sub)
            rows.append((label, ctx_name, len(sub), flags["tortured"], flags["correct"]))
    return rows


def run(split: str = "eval", params: dict | None = None, n: int | None = None,
        tortured: bool = True) -> dict:
    ex = SpinningExtractor(**(params or {}))
    arts = held_out_articles(split)[:n] if n else held_out_articles(split)
    texts = [a.text for a in arts]
    spinner = Spinner().fit()
    t0 = time.time()
    clean, clean_spans = page_scores(ex, texts)
    out = {"split": split, "n": len(texts), "params": params or {}, "rates": {}}
    out["clean_fpr"] = float(np.mean(clean >= PAGE_THRESHOLD))
    out["clean_phrases_per_page"] = float(np.mean([len(e) for e in clean_spans]))
    for rate in RATES:
        results = [spinner.spin(t, rate, seed=i) for i, t in enumerate(texts)]
        spun, spans = page_scores(ex, [r.text for r in results])
        y = np.r_[np.zeros(len(clean)), np.ones(len(spun))]
        auc = roc_auc_score(y, np.r_[clean, spun])
        prec, exact = phrase_precision(spans, results)
        out["rates"][rate] = {
            "auc": float(auc), "tpr": float(np.mean(spun >= PAGE_THRESHOLD)),
            "phrase_precision": prec, "original_exact": exact,
            "real_rate": float(np.mean([r.rate for r in results])),
        }
    out["seconds"] = time.time() - t0
    if tortured:
        out["tortured"] = tortured_eval(ex)
    return out


def to_markdown(res: dict) -> str:
    lines = [f"Spinning detection, split `{res['split']}` ({res['n']} originals), "
             f"page threshold spin_score >= {PAGE_THRESHOLD}; "
             f"clean false-positive rate: **{res['clean_fpr']:.1%}** "
             f"({res['clean_phrases_per_page']:.2f} flagged phrases per clean page)", "",
             "| spun share | AUC | detected at threshold | phrase precision | "
             "original exact |", "| --- | --- | --- | --- | --- |"]
    for rate, r in res["rates"].items():
        lines.append(f"| {rate:.0%} (real {r['real_rate']:.1%}) | {r['auc']:.3f} | {r['tpr']:.1%} "
                     f"| {r['phrase_precision']:.1%} | {r['original_exact']:.1%} |")
    if res.get("tortured"):
        lines += ["", "| tortured phrases | context | pairs | tortured flagged | "
                  "correct form flagged |", "| --- | --- | --- | --- | --- |"]
        for label, ctx, n, t, c in res["tortured"]:
            lines.append(f"| {label} | {ctx} | {n} | {t:.1%} | {c:.1%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Evaluate spinning detection")
    ap.add_argument("--split", default="eval", choices=["eval", "dev"])
    ap.add_argument("--params", default="{}", help="SpinningExtractor arguments as JSON")
    ap.add_argument("--n", type=int, default=None, help="only the first N originals")
    ap.add_argument("--no-tortured", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.split, json.loads(args.params), args.n, not args.no_tortured)
    print(to_markdown(res))


if __name__ == "__main__":
    main()
