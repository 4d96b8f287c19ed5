"""Provenance on real same-event news: the right source, and none for another article.

    python -m training.eval_provenance [--split test|dev] [--backend local|redis]

On the same-event set of ``training.same_event`` (BBC News and Reuters-21578 events, split
by event; the derivation model in ``models/provenance.json`` is fitted on ``dev`` only):

* **false source**: clean articles whose follow-ups or precursors are indexed; any source
  named for one is false (target <= 1 %);
* **right source** of farm pages made from indexed articles that have indexed siblings:
  copies, doubles, tails, spins of 20 % and 40 % (target >= 97 % each);
* **GPT rephrasings** (human-vs-chatgpt-news, the titles of the split): source@1 of the
  human original (target >= 0.80).

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from originality import open_index
from training.eval_originality import new_location, rate
from training.same_event import KINDS, EventSet, build


def measure(index, es: EventSet) -> dict:
    """The figures of one split on an index holding ``es.index_pages``."""
    out: dict = {}
    false = [s for s in es.clean if index.query(s.text, published=s.published)]
    out["false_source"] = (len(false), len(es.clean))
    out["false_methods"] = Counter(index.query(s.text, published=s.published)[0].method
                                   for s in false)
    for kind in KINDS:
        rows = [(text, right) for k, text, _, right in es.farms if k == kind]
        hit = 0
        for text, right in rows:
            m = index.query(text)
            hit += bool(m) and m[0].id in right
        out[kind] = (hit, len(rows))
    hit = 0
    for text, hid in es.gpt:
        m = index.query(text)
        hit += bool(m) and m[0].id == hid
    out["gpt"] = (hit, len(es.gpt))
    return out


def run(split: str, backend: str = "local") -> tuple[dict, EventSet]:
    es = build(split)
    loc, cleanup = new_location(backend)
    index = open_index(loc)
    try:
        index.add(es.index_pages)
        return measure(index, es), es
    finally:
        cleanup(index)
        index.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=["test", "dev"], default="test")
    ap.add_argument("--backend", choices=["local", "redis"], default="local")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    res, es = run(args.split, args.backend)
    print(f"same-event set, split {args.split}: {es.n_events} events, "
          f"{es.stats['indexed_news']} news articles and {es.stats['hvc_humans']} hvc humans "
          f"indexed; {es.n_versions_left_out} updated versions left out of the clean queries "
          f"({time.perf_counter() - t:.0f} s)\n")
    print(f"| measure ({args.backend} backend) | result | target |")
    print("|---|---|---|")
    k, n = res["false_source"]
    methods = ", ".join(f"{m} {c}" for m, c in res["false_methods"].most_common())
    print(f"| clean same-event articles given a source (false source) | {rate(k, n)}"
          f"{f' ({methods})' if methods else ''} | <= 1 % |")
    for kind in KINDS:
        print(f"| {kind} of an indexed article: right source | {rate(*res[kind])} | >= 97 % |")
    print(f"| GPT rephrasings: source@1 | {rate(*res['gpt'])} | >= 80 % |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
