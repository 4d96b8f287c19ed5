"""False positives on real web pages and on clean articles with one ordinary chrome line.

    python -m training.eval_web_pages [--json FILE]

1. Real pages: every article page of web-extraction-2025 and every English page of
   trafilatura-eval, sent as its raw HTML the way the API and the CLI's ``html`` field
   take it (``serving.html.html_to_text``, then the shipped model). None is a farm, so
   every "farm" is a false positive. Reported for the held-out hosts (one in five, which
   neither the line classifier nor the model trained on: the headline figure) and for all.
2. Clean articles plus one line: held-out BBC originals and held-out Reuters originals,
   each with one ordinary chrome line of a held-out host (a share, credit, navigation or
   legal line: ``training.web_pages.chrome_material``) appended, and again with a few
   fixed ordinary lines written here. Every "farm" is a false positive.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

#: Ordinary lines any news site carries; written here, in no training list.
ORDINARY_LINES = ("Share this article", "Photo: Getty Images", "Skip to main content",
                  "Follow us on Twitter", "Image caption: The minister spoke on Tuesday",
                  "Advertisement", "Back to top", "Sign up for our newsletter")


def real_pages(scorer) -> dict:
    from training.web_pages import web_pages

    res = {"heldout": [0, 0], "all": [0, 0]}
    flagged = []
    for p in web_pages():  # p.text is serving.html.html_to_text of the page's raw HTML
        if not p.text.strip():
            continue
        farm = scorer.score(p.text)["verdict"] == "farm"
        for key in ("all", "heldout") if p.heldout else ("all",):
            res[key][0] += farm
            res[key][1] += 1
        if farm:
            flagged.append(p.id)
    return {k: {"farm": v[0], "pages": v[1], "rate": v[0] / max(1, v[1])} for k, v in res.items()} | {
        "flagged": flagged}


def held_out_originals(n: int = 200) -> list:
    """``n`` BBC and ``n`` Reuters originals that no model or reference statistic trained on
    (the spinning reference's held-out split: the test and reuters splits' originals)."""
    from training.build_spin_reference import split_of
    from training.corpus import bbc_articles, reuters_articles

    bbc = [a for a in bbc_articles() if split_of(a.id) != "train"][:n]
    reu = [a for a in reuters_articles(min_words=150) if split_of(a.id) != "train"][:n]
    return bbc + reu


def clean_plus_line(scorer, n: int = 200, arts: list | None = None) -> dict:
    from training.web_pages import chrome_material

    arts = arts if arts is not None else held_out_originals(n)
    lines = chrome_material(heldout=True)["ordinary"]
    rng = random.Random(7)
    out = {}
    for name, pick in (("held-out hosts' lines", lambda: rng.choice(lines)),
                       ("fixed ordinary lines", lambda: rng.choice(ORDINARY_LINES))):
        farm = 0
        for a in arts:
            farm += scorer.score(a.text.rstrip() + "\n\n" + pick())["verdict"] == "farm"
        out[name] = {"farm": farm, "pages": len(arts), "rate": farm / len(arts)}
    base = sum(scorer.score(a.text)["verdict"] == "farm" for a in arts)
    out["no line added"] = {"farm": base, "pages": len(arts), "rate": base / len(arts)}
    return out


def main(argv: list[str] | None = None) -> int:
    from scoring.score import build_scorer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    scorer = build_scorer()
    res = {"real_pages": real_pages(scorer), "clean_plus_line": clean_plus_line(scorer)}
    rp = res["real_pages"]
    print("| real pages sent as HTML | called farm |\n|---|---|")
    for k in ("heldout", "all"):
        print(f"| {k} hosts | {rp[k]['farm']} / {rp[k]['pages']} = {rp[k]['rate']:.1%} |")
    print("\n| clean held-out BBC + Reuters originals (400) | called farm |\n|---|---|")
    for k, v in res["clean_plus_line"].items():
        print(f"| {k} | {v['farm']} / {v['pages']} = {v['rate']:.1%} |")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
