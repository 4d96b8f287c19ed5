"""Benchmark: in-page feature extraction speed on 1,000 real articles, one core.

    python bench/bench_inpage.py [--n 1000] [--repeat 3]

Articles: ``training.corpus.clean_originals(n)`` (half BBC, half Reuters; ~2 KB each).
Reports the first (cold: per-word caches empty) pass and the best of ``--repeat`` warm
passes, in articles/s and per-article milliseconds (p50, p99), plus each extractor's share.
Run it on an idle machine; pin it to one core with ``taskset -c 0`` to be strict.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.document import Document  # noqa: E402
from features.pipeline import FeaturePipeline  # noqa: E402
from training.corpus import clean_originals  # noqa: E402


def one_pass(pipe: FeaturePipeline, texts: list[str]) -> list[float]:
    times = []
    for t in texts:
        t0 = time.perf_counter()
        pipe.run(t)
        times.append(time.perf_counter() - t0)
    return times


def per_extractor(pipe: FeaturePipeline, texts: list[str]) -> dict[str, float]:
    out: dict[str, float] = {"document": 0.0}
    for t in texts:
        t0 = time.perf_counter()
        doc = Document.from_text(t)
        doc.words, doc.lower_words, doc.word_ids, doc.lines, doc.paragraphs  # noqa: B018 - build shared views
        out["document"] += time.perf_counter() - t0
        for ex in pipe._extractors():
            t0 = time.perf_counter()
            ex.extract(doc)
            out[type(ex).__name__] = out.get(type(ex).__name__, 0.0) + time.perf_counter() - t0
    return {k: v * 1000 / len(texts) for k, v in out.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    texts = [a.text for a in clean_originals(args.n)]
    kb = sum(len(t.encode()) for t in texts) / len(texts) / 1024
    pipe = FeaturePipeline()
    pipe.run("Warm up the lazily loaded resources (headline model, word lists).")
    cold = one_pass(pipe, texts)
    warm = min((one_pass(pipe, texts) for _ in range(args.repeat)), key=sum)
    print(f"# in-page extraction, {len(texts)} articles (mean {kb:.1f} KB), "
          f"python {platform.python_version()}, {os.cpu_count()} cpus, one process")
    for name, ts in (("cold", cold), ("warm", warm)):
        ms = sorted(x * 1000 for x in ts)
        print(f"{name}: {len(ts) / sum(ts):,.0f} articles/s; per article p50 "
              f"{statistics.median(ms):.2f} ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.2f} ms")
    print("per stage, ms/article (warm):")
    for k, v in per_extractor(pipe, texts).items():
        print(f"  {k:<28} {v:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
