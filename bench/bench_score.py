"""Benchmark: what one ``Scorer.score`` call costs on ~5 KB articles, stage by stage.

    python bench/bench_score.py [--n 60] [--repeat 5] [--min-kb 4.5] [--max-kb 6]

Articles: BBC News articles of ``--min-kb``..``--max-kb`` KB (UTF-8), the size the API's
latency target is stated for. Prints, in ms per article (best of ``--repeat`` passes):
building the :class:`Document` and its shared views, each extractor, ``FeaturePipeline.run``
of the in-page families (all but spinning and originality), the whole ``FeaturePipeline.run``, the whole ``build_scorer().score(text)`` and the part of it that is
not feature extraction (model, calibration, signals, evidence, output). Pin it to one core
(``taskset -c 1``) on an idle machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.document import Document  # noqa: E402
from features.originality import OriginalityExtractor  # noqa: E402
from features.pipeline import FeaturePipeline  # noqa: E402
from features.spinning import SpinningExtractor  # noqa: E402
from scoring.score import build_scorer  # noqa: E402
from training.corpus import bbc_articles  # noqa: E402


def clear_line_cache() -> None:
    """Empty the line classifier's per-line cache: a new page's lines are new to it (only
    chrome repeats across pages), so every pass pays for them as a fresh page does."""
    from features.boilerplate import line_model

    line_model(None).clear_cache()


def best_ms(fn: Callable[[], object], n: int, repeat: int,
            setup: Callable[[], object] | None = None) -> float:
    """Best of ``repeat`` timed calls of ``fn`` (one pass over the articles), ms per article;
    ``setup`` runs untimed before each call (after the line cache is emptied)."""
    best = float("inf")
    for _ in range(repeat):
        clear_line_cache()
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000 / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--min-kb", type=float, default=4.5)
    ap.add_argument("--max-kb", type=float, default=6.0)
    args = ap.parse_args(argv)
    texts = [a.text for a in bbc_articles()
             if args.min_kb * 1000 <= len(a.text.encode()) <= args.max_kb * 1000][: args.n]
    n = len(texts)
    kb = sum(len(t.encode()) for t in texts) / n / 1024
    scorer = build_scorer()
    pipe = scorer.pipeline
    for t in texts:  # warm the per-word caches and lazily loaded resources
        scorer.score(t)

    def document() -> None:
        for t in texts:
            doc = Document.from_text(t)
            doc.words, doc.lower_words, doc.word_ids, doc.lines, doc.line_texts, doc.paragraphs  # noqa: B018

    docs: list[Document] = []

    def fresh_docs() -> None:
        docs[:] = [Document.from_text(t) for t in texts]
        for d in docs:
            d.words, d.lower_words, d.word_ids, d.lines, d.line_texts, d.paragraphs  # noqa: B018

    rows: dict[str, float] = {"document": best_ms(document, n, args.repeat)}
    for ex in pipe._extractors():  # fresh documents each pass: nothing cached from the last
        rows[type(ex).__name__] = best_ms(lambda: [ex.extract(d) for d in docs], n, args.repeat,
                                          setup=fresh_docs)
    inpage = FeaturePipeline(extractors=[ex for ex in pipe._extractors()
                                         if not isinstance(ex, (SpinningExtractor, OriginalityExtractor))])
    # the in-page families as the pipeline runs them: the per-stage rows above build every
    # document first, so each stage also pays for reading views back from memory
    rows["FeaturePipeline.run (in-page)"] = best_ms(lambda: [inpage.run(t) for t in texts], n,
                                                    args.repeat)
    rows["FeaturePipeline.run"] = best_ms(lambda: [pipe.run(t) for t in texts], n, args.repeat)
    rows["Scorer.score"] = best_ms(lambda: [scorer.score(t) for t in texts], n, args.repeat)
    pages = [pipe.run(t) for t in texts]
    rows["score_features (rest)"] = best_ms(lambda: [scorer.score_features(p) for p in pages],
                                            n, args.repeat)
    print(f"# {n} BBC articles, mean {kb:.1f} KB; model {scorer.model_info}; "
          f"ms/article, best of {args.repeat}")
    for k, v in rows.items():
        print(f"  {k:<30} {v:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
