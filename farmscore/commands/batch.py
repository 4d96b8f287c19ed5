"""``farmscore batch IN OUT [--engine local|spark] [--index LOC] [--corpus PARQUET]``.

Scores a crawl: IN is Parquet (a file or a directory) or JSONL with ``id``, ``text`` or
``html``, and optionally ``url`` and ``published``; OUT is Parquet with the fields of
``farmscore score`` (:data:`farmscore.batch.records.OUTPUT_SCHEMA`). A row farmscore
refuses gets its ``error`` struct in its place; the run never stops for one page.

* ``--engine local`` (default): this process, a tqdm progress bar on stderr; OUT is a file.
* ``--engine spark``: Apache Spark (``--master``, default ``local[2]``; under
  ``spark-submit`` the session it made); OUT is a directory of part files.
* ``--index LOC``: an originality index every worker can open (path or ``redis://``).
* ``--corpus PARQUET`` (Spark): a stored corpus of earlier crawls joined in the job
  (:mod:`farmscore.batch.dedup`), pages (``id``, ``text``, ...) or the fingerprint rows
  ``--fingerprint-corpus`` writes.
* ``--fingerprint-corpus`` (Spark): fingerprint the pages of IN into OUT, once, for later
  ``--corpus`` runs.

Exit status: 0 when every row was scored, 1 when some were refused, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from features.base import DEFAULT_MAX_CHARS


def register(subparsers) -> None:
    """Add the ``batch`` command to a CLI's subparsers."""
    p = subparsers.add_parser("batch", help="score a crawl: Parquet/JSONL in, Parquet out (local or Spark)")
    p.add_argument("input", metavar="IN", help="Parquet file or directory, or JSONL")
    p.add_argument("output", metavar="OUT", help="Parquet output (a file locally, a directory on Spark)")
    p.add_argument("--engine", choices=["local", "spark"], default="local")
    p.add_argument("--format", choices=["parquet", "jsonl"], help="input format (default: by name)")
    p.add_argument("--index", default=os.environ.get("FARMSCORE_INDEX"),
                   help="originality index: a path or redis:// URL (default $FARMSCORE_INDEX)")
    p.add_argument("--corpus", metavar="PARQUET",
                   help="Spark: stored corpus of earlier crawls to join for originality")
    p.add_argument("--fingerprint-corpus", action="store_true",
                   help="Spark: write the fingerprints of the pages of IN to OUT (for --corpus)")
    p.add_argument("--master", default=os.environ.get("FARMSCORE_SPARK_MASTER"),
                   help="Spark master when not under spark-submit (default local[2])")
    p.add_argument("--rules", action="store_true", help="score with the rule baseline")
    p.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                   help=f"refuse longer texts (default {DEFAULT_MAX_CHARS:,})")
    p.add_argument("--chunk", type=int, default=256, help="local: rows per chunk")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _refused(out: str) -> tuple[int, int]:
    import pyarrow.dataset as ds

    data = ds.dataset(out, format="parquet")
    return data.count_rows(), data.count_rows(filter=ds.field("error").is_valid())


def run(args: argparse.Namespace) -> int:
    from farmscore.batch.local import input_format

    if not Path(args.input).exists():
        print(f"farmscore batch: {args.input}: no such file or directory", file=sys.stderr)
        return 2
    try:
        fmt = input_format(args.input, args.format)
    except OSError as exc:
        print(f"farmscore batch: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    if args.engine == "local":
        if args.corpus or args.fingerprint_corpus:
            print("farmscore batch: --corpus and --fingerprint-corpus need --engine spark "
                  "(locally, build an index with `farmscore index add` and pass --index)",
                  file=sys.stderr)
            return 2
        from farmscore.batch.local import run_local
        from scoring.score import build_scorer

        scorer = build_scorer(index=args.index, max_chars=args.max_chars, rules=args.rules)
        s = run_local(scorer, args.input, args.output, fmt=fmt, chunk=args.chunk,
                      progress=not args.no_progress)
        print(f"farmscore batch: {s.rows} rows, {s.refused} refused, {s.rate:.0f} pages/s "
              f"-> {args.output}", file=sys.stderr)
        return 1 if s.refused else 0
    return _run_spark(args, fmt)


def _run_spark(args: argparse.Namespace, fmt: str) -> int:
    from farmscore.batch.spark import ScorerConfig, make_session, run_spark

    spark = make_session(args.master)
    t0 = time.perf_counter()
    if args.fingerprint_corpus:
        from farmscore.batch.dedup import write_corpus

        write_corpus(spark, args.input, args.output)
        print(f"farmscore batch: corpus fingerprints -> {args.output} "
              f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        return 0
    models = os.environ.get("FARMSCORE_MODELS")
    cfg = ScorerConfig(index=None if args.corpus else args.index, max_chars=args.max_chars,
                       rules=args.rules, models=models, joined=bool(args.corpus))
    run_spark(spark, args.input, args.output, cfg, fmt, corpus=args.corpus)
    dt = time.perf_counter() - t0
    n, refused = _refused(args.output)
    print(f"farmscore batch: {n} rows, {refused} refused, {n / dt if dt else 0:.0f} pages/s "
          f"(Spark {spark.sparkContext.master}) -> {args.output}", file=sys.stderr)
    return 1 if refused else 0
