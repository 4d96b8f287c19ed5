"""The local engine: one process reads the input in chunks, scores them, writes Parquet.

Chunks of ``chunk`` rows are scored by :func:`farmscore.batch.records.score_rows` (one
LightGBM call per chunk) and appended to one Parquet file, so memory stays bounded by a
chunk whatever the input's size; a tqdm bar on stderr shows the rows done.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from farmscore.batch.records import INPUT_COLUMNS, OUTPUT_SCHEMA, Row, parse_jsonl_line, rows_from_arrow, score_rows, to_arrow

CHUNK = 256


@dataclass(slots=True)
class Summary:
    """What a batch run did."""

    rows: int
    refused: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def input_format(path: str, fmt: str | None = None) -> str:
    """"parquet" or "jsonl": ``fmt`` if given, else by suffix, else by the Parquet magic."""
    if fmt:
        return fmt
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if p.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    with open(p, "rb") as fh:
        return "parquet" if fh.read(4) == b"PAR1" else "jsonl"


def count_rows(path: str, fmt: str) -> int | None:
    """Rows in the input, for the progress bar (Parquet: from the footers, free)."""
    if fmt == "parquet":
        import pyarrow.dataset as ds

        return ds.dataset(path, format="parquet").count_rows()
    return None


def iter_chunks(path: str, fmt: str, chunk: int = CHUNK) -> Iterator[list[Row]]:
    """The input as lists of checked :class:`Row` s, in input order."""
    if fmt == "parquet":
        import pyarrow.dataset as ds

        data = ds.dataset(path, format="parquet")
        cols = [c for c in INPUT_COLUMNS if c in data.schema.names]
        for batch in data.to_batches(columns=cols, batch_size=chunk):
            rows = list(rows_from_arrow(batch))
            if rows:
                yield rows
        return
    with open(path, "rb") as fh:
        rows: list[Row] = []
        for line in fh:
            row = parse_jsonl_line(line)
            if row is None:
                continue
            rows.append(row)
            if len(rows) >= chunk:
                yield rows
                rows = []
        if rows:
            yield rows


def run_local(scorer, in_path: str, out_path: str, fmt: str | None = None, chunk: int = CHUNK,
              progress: bool = True) -> Summary:
    """Score ``in_path`` (Parquet file or directory, or JSONL) into the Parquet file
    ``out_path``, one record per input row, in input order."""
    from tqdm import tqdm

    fmt = input_format(in_path, fmt)
    total = count_rows(in_path, fmt)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    n = refused = 0
    t0 = time.perf_counter()
    bar = tqdm(total=total, unit="page", file=sys.stderr, disable=not progress, dynamic_ncols=True)
    with pq.ParquetWriter(out_path, OUTPUT_SCHEMA) as writer:
        for rows in iter_chunks(in_path, fmt, chunk):
            recs = score_rows(scorer, rows)
            writer.write_table(pa.Table.from_batches([to_arrow(recs)]))
            n += len(recs)
            refused += sum("error" in r for r in recs)
            bar.update(len(recs))
            bar.set_postfix(refused=refused, refresh=False)
    bar.close()
    return Summary(n, refused, time.perf_counter() - t0)
