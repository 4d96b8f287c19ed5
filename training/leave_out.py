"""Leave-one-family-out evaluation: train without a farm family, test on it.

    farmscore evaluate --leave-out all            (or: python -m training.leave_out)
    farmscore evaluate --leave-out disclaimer:web --leave-out tail:no_marker

A *family* is where a farm page's padding or rewording came from (``FarmPage.families``):
``pasted_twice``, tails of stop-clickbait headlines or of real sites' related-content blocks
(``clickbait_tail:headlines`` / ``clickbait_tail:web``), tails with and without a marker
line (``tail:marker`` / ``tail:no_marker``), our disclaimers or real sites' notices
(``disclaimer:ours`` / ``disclaimer:web``), comment forms likewise, heading frames, and our
spinner at each rate (``spun:10`` ... ``spun:40``), and each spinner: our WordNet one and the
distributional one (``training.spinner_dist``), whose synonyms share nothing with the
detector's WordNet reference (``spinner:wordnet`` / ``spinner:distributional``: both
directions). For each family, every training and
calibration page made with it is dropped, both heads are trained again on the rest, and the
test pages made with it (held-out BBC originals and the held-out Reuters collection; real
chrome from held-out hosts) are scored against the clean pages of the same sets: recall at
1 % false positives, on originals split by source article. "all families" pools every
family's positives, each scored by the model that never saw its family.

Why: a test set padded with the material the model trained on measures memory. Holding out
a family shows what the model makes of wording, templates and tails it never saw.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

FAMILIES = ("pasted_twice", "clickbait_tail:headlines", "clickbait_tail:web", "tail:marker",
            "tail:no_marker", "disclaimer:ours", "disclaimer:web", "comment_form:ours",
            "comment_form:web", "template_frame", "spun:20", "spun:40", "spinner:wordnet",
            "spinner:distributional")


def leave_out(data: dict, family: str, progress: bool = False, outliers: bool = True) -> dict:
    """Recall at 1 % FPR on ``family``'s test pages of a model trained without it."""
    from training.evaluate import recall_at_fpr
    from training.train import HELD_OUT_FAMILIES, train_heads, with_outliers, without_families

    # the shipped model's training set without ``family``; holding out our WordNet spinner
    # trains on the distributional one instead (the other direction of the spinner test)
    shipped_out = () if family == "spinner:wordnet" else HELD_OUT_FAMILIES
    reduced = without_families(data, (family, *shipped_out))
    if outliers:
        reduced, fitted = with_outliers(reduced)
        data = {s: {**d, "x": fitted.transform(d["x"])} for s, d in data.items()}
    boosters, _ = train_heads(reduced, progress=progress)
    out = {"family": family, "train_pages": len(reduced["train"]["pages"])}
    caught = total = 0
    for split in ("test", "reuters"):
        pages = data[split]["pages"]
        x = data[split]["x"].astype(np.float64)
        score = np.maximum(*(boosters[h].predict(x, num_threads=2) for h in ("quality", "originality")))
        clean = np.array([not p["techniques"] and p.get("hard_negative") != "web" for p in pages])
        pos = np.array([family in p.get("families", ()) for p in pages])
        if not pos.any():
            continue
        keep = pos | clean
        recall = recall_at_fpr(pos[keep].astype(int), score[keep])
        out[split] = {"n": int(pos.sum()), "recall_at_1pct_fpr": recall}
        caught += round(recall * int(pos.sum()))
        total += int(pos.sum())
    out["n"] = total
    out["recall_at_1pct_fpr"] = caught / total if total else float("nan")
    return out


def run(families: list[str], progress: bool = True) -> list[dict]:
    from training.dataset import build_dataset

    data = build_dataset(progress=progress)
    rows = []
    for fam in families:
        r = leave_out(data, fam)
        if progress:
            print(f"{fam}: recall@1%FPR {r['recall_at_1pct_fpr']:.3f} on {r['n']} pages", flush=True)
        rows.append(r)
    if len(rows) > 1:
        caught = sum(r["recall_at_1pct_fpr"] * r["n"] for r in rows if r["n"])
        n = sum(r["n"] for r in rows)
        rows.append({"family": "all families (pooled)", "n": n, "recall_at_1pct_fpr": caught / n})
    return rows


def table(rows: list[dict]) -> str:
    out = ["| held-out family | test pages | recall at 1 % FPR (BBC test / Reuters / both) |",
           "|---|---|---|"]
    for r in rows:
        parts = [f"{r[s]['recall_at_1pct_fpr']:.3f}" if s in r else "–" for s in ("test", "reuters")]
        out.append(f"| {r['family']} | {r['n']} | {' / '.join(parts)} / **{r['recall_at_1pct_fpr']:.3f}** |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leave-out", action="append", default=[], metavar="FAMILY",
                    help=f"a family to hold out (repeatable), or 'all': {', '.join(FAMILIES)}")
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args(argv)
    fams = list(FAMILIES) if not args.leave_out or "all" in args.leave_out else args.leave_out
    unknown = [f for f in fams if f not in FAMILIES]
    if unknown:
        ap.error(f"unknown family {unknown[0]!r}; known: {', '.join(FAMILIES)}")
    rows = run(fams)
    print(table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
