"""Rows in, scored records out: the part of batch scoring both engines share.

Input rows have ``id``, ``text`` or ``html``, and optionally ``url`` and ``published``
(an ISO date string, or a date/timestamp column). Output records are what
``farmscore score`` writes, as one Arrow schema (:data:`OUTPUT_SCHEMA`): ``evidence`` a list
of structs, ``signals`` a map, ``source`` a struct or null, and for a row farmscore refuses
only ``id`` and the ``error`` struct, so no row is ever lost and no row stops the job.

Ids are written as strings (a Parquet column has one type; a JSON id may be a number).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from features.document import InputError

#: Arrow schema of the output (Parquet) records.
EVIDENCE_TYPE = pa.struct([("signal", pa.string()), ("start", pa.int64()), ("end", pa.int64()),
                           ("text", pa.string()), ("detail", pa.string())])
MATCHED_TYPE = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("text", pa.string())])
SOURCE_TYPE = pa.struct([("id", pa.string()), ("url", pa.string()), ("published", pa.string()),
                         ("similarity", pa.float64()), ("method", pa.string()),
                         ("matched", pa.list_(MATCHED_TYPE))])
ERROR_TYPE = pa.struct([("code", pa.string()), ("reason", pa.string()), ("field", pa.string())])
MODEL_TYPE = pa.struct([("name", pa.string()), ("version", pa.string())])
OUTPUT_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("originality", pa.float64()),
    ("quality", pa.float64()),
    ("verdict", pa.string()),
    ("signals", pa.map_(pa.string(), pa.float64())),
    ("evidence", pa.list_(EVIDENCE_TYPE)),
    ("source", SOURCE_TYPE),
    ("model", MODEL_TYPE),
    ("error", ERROR_TYPE),
])

#: Input columns farmscore reads; others are ignored.
INPUT_COLUMNS = ("id", "text", "html", "url", "published")


@dataclass(slots=True)
class Row:
    """One input row, checked: what to score, or the error that replaces it."""

    id: str | None
    kind: str = "text"  # "text" or "html"
    body: str | None = None
    url: str | None = None
    published: str | None = None
    error: dict | None = None


def _err(code: str, reason: str, field: str | None = None) -> dict:
    return {"code": code, "reason": reason, "field": field}


def _as_id(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bytes, float)) or isinstance(value, bool):
        return None
    s = str(value)
    return s if s.strip() else None


def _as_published(value: Any) -> str | None:
    """An ISO date string, or ValueError saying why not (the index's own check)."""
    from originality.index import _normalise_date

    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _normalise_date(value)


def check_row(rec: Any) -> Row:
    """A :class:`Row` from one input record (a dict of the input columns); never raises."""
    if not isinstance(rec, dict):
        return Row(None, error=_err("type", f"expected an object, got {type(rec).__name__}"))
    raw_id = rec.get("id")
    pid = _as_id(raw_id)
    if pid is None:
        return Row(None, error=_err("field", "'id' is required (a non-empty string or an integer)", "id"))
    text, html = rec.get("text"), rec.get("html")
    if text is not None and not isinstance(text, str):
        return Row(pid, error=_err("field", "'text' must be a string", "text"))
    if html is not None and not isinstance(html, str):
        return Row(pid, error=_err("field", "'html' must be a string", "html"))
    if text is None and html is None:
        return Row(pid, error=_err("field", "'text' or 'html' is required", "text"))
    url = rec.get("url")
    if url is not None and not isinstance(url, str):
        return Row(pid, error=_err("field", "'url' must be a string", "url"))
    try:
        published = _as_published(rec.get("published"))
    except ValueError as exc:
        return Row(pid, error=_err("field", str(exc), "published"))
    if text is not None:
        return Row(pid, "text", text, url or None, published)
    return Row(pid, "html", html, url or None, published)


def parse_jsonl_line(line: str | bytes) -> Row | None:
    """The :class:`Row` of one JSONL line (None for a blank line); never raises."""
    if isinstance(line, (bytes, bytearray)):
        try:
            line = bytes(line).decode("utf-8")
        except UnicodeDecodeError as exc:
            return Row(None, error=_err("encoding", f"line is not valid UTF-8 at byte {exc.start}"))
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Row(None, error=_err("json", f"malformed JSON ({exc})"))
    return check_row(obj)


# ---- scoring ---------------------------------------------------------------------------
def _text_of(scorer, row: Row) -> str:
    """The text to score (HTML reduced to what a reader sees); InputError when none."""
    if row.kind != "html":
        return row.body
    from serving.html import html_to_text

    text = html_to_text(row.body)
    if not text.strip():
        raise InputError("empty", "html has no visible text (scripts, styles and markup dropped)")
    return text


def score_rows(scorer, rows: list[Row], before_page=None) -> list[dict]:
    """Records of ``rows``, in order: features page by page, then one LightGBM prediction
    over the chunk (the same numbers as page by page). Refused input and any unexpected
    exception on one page become that row's ``error``; the chunk always completes.

    ``before_page(i, row)`` is called before row ``i`` is scored (the Spark engine hands
    the page's joined originality candidates to the scorer there).
    """
    out: list[dict | None] = [None] * len(rows)
    ready: list[tuple[int, object]] = []
    for i, row in enumerate(rows):
        if row.error is not None:
            out[i] = {"id": row.id, "error": row.error}
            continue
        field = row.kind
        try:
            if before_page is not None:
                before_page(i, row)
            page = scorer.pipeline.run(_text_of(scorer, row), page_id=row.id, published=row.published)
        except InputError as exc:
            out[i] = {"id": row.id, "error": _err(exc.code, exc.reason, field)}
            continue
        except Exception as exc:  # noqa: BLE001 - one bad page must not sink the job
            out[i] = {"id": row.id, "error": _err(
                "internal", f"internal error while scoring this page ({type(exc).__name__}: {exc})", field)}
            continue
        ready.append((i, page))
    if ready:
        try:
            recs = scorer.score_features_many([p for _, p in ready], [rows[i].id for i, _ in ready],
                                              num_threads=1)
        except Exception:  # noqa: BLE001 - then page by page: a bad page is only its own error
            recs = []
            for i, page in ready:
                try:
                    recs.append(scorer.score_features(page, rows[i].id))
                except Exception as exc:  # noqa: BLE001
                    recs.append({"id": rows[i].id, "error": _err(
                        "internal", f"internal error while scoring this page ({type(exc).__name__}: {exc})",
                        rows[i].kind)})
        for (i, _), rec in zip(ready, recs):
            out[i] = rec
    return out  # type: ignore[return-value]


def to_arrow(records: Iterable[dict]) -> pa.RecordBatch:
    """Records as one Arrow batch of :data:`OUTPUT_SCHEMA` (missing fields are null)."""
    cols: dict[str, list] = {name: [] for name in OUTPUT_SCHEMA.names}
    for r in records:
        for name, col in cols.items():
            col.append(r.get(name))
    return pa.RecordBatch.from_pydict(cols, schema=OUTPUT_SCHEMA)


def rows_from_arrow(batch: pa.RecordBatch | pa.Table) -> Iterator[Row]:
    """:func:`check_row` of every row of an Arrow batch with (some of) the input columns."""
    names = [n for n in INPUT_COLUMNS if n in batch.schema.names]
    data = {n: batch.column(n).to_pylist() for n in names}
    for i in range(batch.num_rows):
        yield check_row({n: data[n][i] for n in names})
