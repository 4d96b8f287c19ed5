"""How often short clean pages are called "farm": real short wire items and article openings.

    python -m training.eval_short_pages            (the shipped model; FARMSCORE_MODELS for another)

* Reuters-21578 items by length (at most 200 per bucket, in file order): items under 150
  words are in no training or test set (the simulator takes Reuters originals of 150+).
* The first 30, 60 and 100 words of the first 300 clean BBC originals of the held-out test
  split.

Why: a model trained only on full-length clean articles learns that short means copied
(model 1.6.0 called 23 % of the wire items under 100 words "farm").
"""

from __future__ import annotations

from collections import defaultdict


def main() -> int:
    from scoring.score import build_scorer
    from training.corpus import bbc_articles, reuters_articles
    from training.dataset import build_dataset

    scorer = build_scorer()
    print(f"model {scorer.model_info}\n")
    buckets: dict[str, list[str]] = defaultdict(list)
    edges = [(0, 50, "<50"), (50, 100, "50-99"), (100, 150, "100-149"), (150, 10**9, "150+")]
    for a in reuters_articles():
        n = len(a.text.split())
        name = next(label for lo, hi, label in edges if lo <= n < hi)
        if len(buckets[name]) < 200:
            buckets[name].append(a.text)
    print("| pages | n | called farm |\n|---|---|---|")
    for _, _, name in edges:
        texts = buckets[name]
        farm = sum(scorer.score(t)["verdict"] == "farm" for t in texts)
        print(f"| Reuters items of {name} words | {len(texts)} | {farm / len(texts):.1%} |")
    data = build_dataset(progress=False)
    test_ids = {p["id"] for p in data["test"]["pages"] if not p["techniques"] and "#" not in p["id"]}
    bbc = [a.text for a in bbc_articles() if a.id in test_ids][:300]
    for n_words in (30, 60, 100):
        farm = sum(scorer.score(" ".join(t.split()[:n_words]))["verdict"] == "farm" for t in bbc)
        print(f"| first {n_words} words of held-out BBC originals | {len(bbc)} | {farm / len(bbc):.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
