"""Speed of the spinning extractor on 1,000 real articles, one core.

Run from the repository root::

    python bench/bench_spinning.py [--n 1000]

Articles: BBC News (unique) then Reuters-21578 bodies of >= 50 words, in file order. The
reference file is loaded (and its lookup tables built) before timing starts, and each
article is wrapped in a fresh ``Document`` inside the timed loop, as the pipeline does.
Prints articles/s (wall clock and CPU time), ms/article (p50, p90, p99, wall clock) and
the mean article size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.document import Document  # noqa: E402
from features.spinning import SpinningExtractor, load_reference  # noqa: E402
from training.corpus import bbc_articles, reuters_articles  # noqa: E402


def articles(n: int) -> list[str]:
    texts = [a.text for a in bbc_articles()][:n]
    if len(texts) < n:
        for a in reuters_articles(min_words=50):
            texts.append(a.text)
            if len(texts) >= n:
                break
    return texts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    args = ap.parse_args(argv)
    try:  # one core, as in production workers
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    texts = articles(args.n)
    t0 = time.perf_counter()
    load_reference()
    ex = SpinningExtractor()
    ex.extract(Document.from_text("Warm up the lookup tables before timing."))
    load_s = time.perf_counter() - t0
    times = []
    flagged = 0
    cpu0 = time.process_time()
    start = time.perf_counter()
    for t in texts:
        a = time.perf_counter()
        res = ex.extract(Document.from_text(t))
        times.append(time.perf_counter() - a)
        flagged += len(res.evidence)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    ms = sorted(x * 1000 for x in times)
    q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]  # noqa: E731
    print(f"articles: {len(texts)}, mean {statistics.mean(len(t) for t in texts):,.0f} chars")
    print(f"reference load + tables: {load_s:.2f} s (once per process)")
    print(f"throughput: {len(texts) / total:,.0f} articles/s on one core (wall clock), "
          f"{len(texts) / cpu:,.0f} articles/s of CPU time (what other load on the machine "
          "cannot slow down)")
    print(f"ms/article: p50 {q(0.5):.2f}, p90 {q(0.9):.2f}, p99 {q(0.99):.2f}")
    print(f"flagged phrases: {flagged / len(texts):.2f} per article")


if __name__ == "__main__":
    main()
