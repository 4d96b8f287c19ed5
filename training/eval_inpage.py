"""False-positive rate of each in-page extractor on 1,000 clean original articles.

    python -m training.eval_inpage [--n 1000]

The articles are ``training.corpus.clean_originals(n)``: half BBC News 2004-05, half
Reuters-21578 (bodies of 150+ words), a fixed, evenly spaced sample. None of them is a
farm page, so every flag raised on them is a false positive. Prints a markdown table.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from features.pipeline import FeaturePipeline
from training.corpus import clean_originals

#: What counts as "the extractor flags this page" (the rule scorer's own thresholds).
FLAGS: dict[str, Callable[[dict], bool]] = {
    "duplication (pasted twice)": lambda f: f["dup_paste_detected"] > 0,
    "clickbait tail": lambda f: f["tail_detected"] > 0,
    "template headings (>= 2)": lambda f: f["tpl_heading_count"] >= 2,
    "foreign-script leftovers": lambda f: f["fs_foreign_runs"] > 0,
    "disclaimers and boilerplate": lambda f: f.get("bp_families", 0) > 0,
}


def false_positive_rates(n: int = 1000) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Per-extractor share of clean articles flagged, and the ids flagged (for a look)."""
    pipe = FeaturePipeline()
    arts = clean_originals(n)
    hits: dict[str, list[str]] = {k: [] for k in FLAGS}
    hits["any"] = []
    for a in arts:
        f = pipe.run(a.text).features
        flagged = False
        for name, rule in FLAGS.items():
            if rule(f):
                hits[name].append(a.id)
                flagged = True
        if flagged:
            hits["any"].append(a.id)
    return {k: len(v) / len(arts) for k, v in hits.items()}, hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="false positives of the in-page extractors")
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args(argv)
    rates, hits = false_positive_rates(args.n)
    print(f"| extractor | false-positive rate on {args.n} clean originals | flagged |")
    print("|---|---|---|")
    for k, v in rates.items():
        ex = ", ".join(hits[k][:3]) + (" …" if len(hits[k]) > 3 else "")
        print(f"| {k} | {v:.1%} | {ex} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
