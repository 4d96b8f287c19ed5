"""The Spark engine: the same records as the local engine, computed by Spark executors.

The scorer runs inside ``DataFrame.mapInArrow``: every task gets its partition as Arrow
record batches and returns Arrow record batches of :data:`~farmscore.batch.records.OUTPUT_SCHEMA`.
(``mapInArrow`` is ``mapInPandas``'s Arrow-native form: nested columns, the evidence list of
structs and the signals map, cross the JVM/Python boundary as Arrow without a pandas
object column in between.) The scorer is built once per Python worker process
(:func:`worker_scorer`, a module-level cache; Spark reuses its Python workers across tasks)
and never once per row or per batch: loading the model, the spin reference and the numba
code costs about a second.

With ``corpus`` (a stored corpus, see :mod:`farmscore.batch.dedup`) each row arrives with
its originality candidates already joined to it, and the scorer's originality index is a
:class:`~farmscore.batch.dedup.JoinedIndex` that verifies them with ``originality``'s code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from farmscore.batch.records import INPUT_COLUMNS, Row, check_row, parse_jsonl_line, score_rows, to_arrow

#: :data:`~farmscore.batch.records.OUTPUT_SCHEMA` as Spark DDL.
OUTPUT_DDL = (
    "id string, originality double, quality double, verdict string, "
    "signals map<string,double>, "
    "evidence array<struct<signal:string,start:bigint,`end`:bigint,text:string,detail:string>>, "
    "source struct<id:string,url:string,published:string,similarity:double,method:string,"
    "matched:array<struct<start:bigint,`end`:bigint,text:string>>>, "
    "model struct<name:string,version:string>, "
    "error struct<code:string,reason:string,field:string>"
)


@dataclass(frozen=True, slots=True)
class ScorerConfig:
    """What a worker needs to build the driver's scorer: plain values, cheap to pickle.

    ``models`` is the model directory as the driver resolved it (``FARMSCORE_MODELS``); on a
    cluster it must be readable at that path on every executor (or unset: the copy inside
    the installed package). ``index`` is an index location every worker can open (a Redis
    URL, or a path on a shared file system); ``joined`` means a stored corpus is joined in
    the job instead.
    """

    index: str | None = None
    max_chars: int | None = None
    rules: bool = False
    models: str | None = None
    joined: bool = False


_WORKER: dict[ScorerConfig, object] = {}


def worker_scorer(cfg: ScorerConfig):
    """This process's scorer for ``cfg``, built on first use (once per Python worker).

    ``FARMSCORE_BATCH_LOAD_LOG``, when set, names a file that gets one line (the process
    id) per scorer built: the tests read it to check the once-per-worker promise.
    """
    scorer = _WORKER.get(cfg)
    if scorer is None:
        if cfg.models:
            os.environ["FARMSCORE_MODELS"] = cfg.models
        from scoring.score import build_scorer

        index = None
        if cfg.joined:
            from farmscore.batch.dedup import JoinedIndex

            index = JoinedIndex()
        elif cfg.index:
            index = cfg.index
        scorer = build_scorer(index=index, max_chars=cfg.max_chars, rules=cfg.rules)
        from serving.batch import WARMUP_TEXT

        scorer.score(WARMUP_TEXT)  # load the lazily loaded parts now, not on a page
        log = os.environ.get("FARMSCORE_BATCH_LOAD_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{os.getpid()}\n")
        _WORKER[cfg] = scorer
    return scorer


def _rows_of(batch: pa.RecordBatch) -> list[Row]:
    """Checked rows of an input batch: input columns, or a JSONL ``value`` line column."""
    names = batch.schema.names
    if "value" in names and not any(c in names for c in INPUT_COLUMNS):
        return [r for r in map(parse_jsonl_line, batch.column("value").to_pylist()) if r is not None]
    cols = [c for c in INPUT_COLUMNS if c in names]
    data = {c: batch.column(c).to_pylist() for c in cols}
    return [check_row({c: data[c][i] for c in cols}) for i in range(batch.num_rows)]


def score_partition(cfg: ScorerConfig, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: scored records of every input batch of a partition."""
    scorer = worker_scorer(cfg)
    for batch in batches:
        if cfg.joined:
            from farmscore.batch.dedup import joined_rows

            rows, before = joined_rows(scorer, batch)
        else:
            rows, before = _rows_of(batch), None
        if rows:
            yield to_arrow(score_rows(scorer, rows, before_page=before))


def read_input(spark, path: str, fmt: str):
    """The input as a DataFrame: Parquet's input columns, or JSONL as raw lines (parsed on
    the executors by the same code as the local engine, so a malformed line becomes its
    error record instead of a null row)."""
    if fmt == "parquet":
        df = spark.read.parquet(path)
        return df.select(*[c for c in INPUT_COLUMNS if c in df.columns])
    return spark.read.text(path)


def run_spark(spark, in_path: str, out_path: str, cfg: ScorerConfig, fmt: str,
              corpus: str | None = None) -> None:
    """Score ``in_path`` into the Parquet directory ``out_path`` (overwritten)."""
    from functools import partial

    df = read_input(spark, in_path, fmt)
    if corpus:
        from farmscore.batch.dedup import attach_candidates, load_corpus

        df = attach_candidates(spark, df, load_corpus(spark, corpus), max_chars=cfg.max_chars)
    out = df.mapInArrow(partial(score_partition, cfg), OUTPUT_DDL)
    out.write.mode("overwrite").parquet(out_path)


def make_session(master: str | None = "local[2]", app: str = "farmscore-batch", conf: dict | None = None):
    """A SparkSession whose Python workers run this interpreter. Under ``spark-submit``
    (which starts the JVM first and sets ``PYSPARK_GATEWAY_PORT``) the submitted master and
    configuration are used, and ``master`` is ignored."""
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    if not submitted:
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app)
    if not submitted:
        b = (b.master(master or "local[2]")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "true")
             .config("spark.sql.shuffle.partitions", "8"))
    b = (b.config("spark.python.worker.reuse", "true")
         .config("spark.sql.execution.arrow.maxRecordsPerBatch", "256"))
    for k, v in (conf or {}).items():
        b = b.config(k, v)
    return b.getOrCreate()
