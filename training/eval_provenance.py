"""Provenance on real same-event news: the right source, and none for another article.

    python -m training.eval_provenance [--split test|dev] [--backend local|redis]

On the same-event set of ``training.same_event`` (BBC News and Reuters-21578 events, split
by event; the derivation model in ``models/provenance.json`` is fitted on ``dev`` only):

* **false source**: clean articles whose follow-ups or precursors are indexed; any source
  named for one is false (target <= 1 %);
* **right source** of farm pages made from indexed articles that have indexed siblings:
  copies, doubles, tails, spins of 20 % and 40 % (target >= 97 % each);
* **GPT rephrasings** (human-vs-chatgpt-news, the titles of the split): source@1 of the
  human original (target >= 0.80); and, to tell a retrieval miss from a decision miss, how
  many sources are among the retrieved candidates and how many pass a method's threshold
  (before the derivation check).

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from features.document import Document
from originality import open_index
from originality.fingerprints import fingerprint
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
    hit = retrieved = matched = 0
    seq_of = {k: v[0] for k, v in index.store.lookup_ids([h for _, h in es.gpt]).items()}
    for text, hid in es.gpt:
        m = index.query(text)
        hit += bool(m) and m[0].id == hid
        # where a miss is lost: never retrieved, or retrieved and no match, or rejected by
        # the derivation check (matched but not the source)
        fp = fingerprint(Document.from_text(text), keep_positions=True)
        retrieved += seq_of[hid] in index._candidates(fp, set())
        matched += any(c.row.id == hid for c in index.candidates(fp))
    out["gpt"] = (hit, len(es.gpt))
    out["gpt_retrieved"] = (retrieved, len(es.gpt))
    out["gpt_matched"] = (matched, len(es.gpt))
    return out


def margins(index, es: EventSet, n_chains: int = 100, seed: int = 3) -> list[str]:
    """Lines measuring the ranking rule's margin (``originality.provenance.NEAR_EQUAL``):

    * for each farm page, the strength of its right source minus that of the strongest
      other candidate (a margin must stay below this, or an older sibling would win);
    * for copies of copies (a copy, double or tail of an indexed article, indexed after it,
      then a copy, double or tail of *that*), the strength of the farm copy minus that of
      the original (a margin must cover this, or the later copy would win).
    """
    import random

    import numpy as np

    from originality.provenance import strength
    from training.same_event import Story, farm_pages

    out = []
    gaps: dict[str, list[float]] = {}
    for kind, text, _, right in es.farms:
        cs = index.candidates(text)
        r = [strength(c.scores) for c in cs if c.row.id in right]
        o = [strength(c.scores) for c in cs if c.row.id not in right]
        if r and o:
            gaps.setdefault(kind, []).append(max(r) - max(o))
    for kind, g in gaps.items():
        out.append(f"{kind}: right source minus strongest other, over {len(g)} pages with "
                   f"another candidate: min {min(g):.3f}, 1st percentile {np.percentile(g, 1):.3f}")
    rng = random.Random(seed)
    text_of = {p["id"]: p["text"] for p in es.index_pages}
    titles = [t.split("\n")[0] for t in text_of.values()]
    chain = []
    for i, sid in enumerate(sorted({f[2] for f in es.farms})[:n_chains]):
        st = Story(sid, "", text_of[sid].split("\n")[0], text_of[sid], None)
        for kind, t in farm_pages(st, titles, rng)[:3]:  # copy, double, tail
            fid = f"eval-farm-{i}-{kind}"
            index.add([{"id": fid, "text": t}])
            st2 = Story(fid, "", t.split("\n")[0], t, None)
            for _, q in farm_pages(st2, titles, rng)[:3]:
                cs = {c.row.id: strength(c.scores) for c in index.candidates(q)}
                if sid in cs and fid in cs:
                    chain.append(cs[fid] - cs[sid])
    if chain:
        out.append(f"copies of copies: farm copy minus original, {len(chain)} pages: "
                   f"max {max(chain):.3f}, 99th percentile {np.percentile(chain, 99):.3f}")
    return out


def run(split: str, backend: str = "local", with_margins: bool = False) -> tuple[dict, EventSet]:
    es = build(split)
    loc, cleanup = new_location(backend)
    index = open_index(loc)
    try:
        index.add(es.index_pages)
        res = measure(index, es)
        if with_margins:
            res["margins"] = margins(index, es)
        return res, es
    finally:
        cleanup(index)
        index.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=["test", "dev"], default="test")
    ap.add_argument("--backend", choices=["local", "redis"], default="local")
    ap.add_argument("--margins", action="store_true",
                    help="also measure the ranking rule's margin (adds farm copies to the index)")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    res, es = run(args.split, args.backend, args.margins)
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
    print(f"| GPT rephrasings: source among the retrieved candidates | "
          f"{rate(*res['gpt_retrieved'])} | |")
    print(f"| GPT rephrasings: source a match before the derivation check | "
          f"{rate(*res['gpt_matched'])} | |")
    for line in res.get("margins", []):
        print(f"\n{line}", end="")
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
