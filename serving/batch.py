"""Scoring of validated pages: synchronous CPU work for a pool thread, never the event loop.

Kept apart from :mod:`serving.app` (no FastAPI here) so benchmarks and other entry points
can score exactly what the API scores.

A batch is scored in its request's one thread: features page by page, then one LightGBM
prediction over the whole batch (``FARMSCORE_BATCH_THREADS`` threads; single pages are one
row on one thread). A process pool per batch was measured and
rejected: on this 2-core machine it cut batch throughput from 683 to 267 articles/s
(pickling pages out and records back, and no idle core to win); parallelism comes from
``farmscore serve --workers N`` serving concurrent requests instead.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import orjson

from features.document import InputError
from serving.html import html_to_text

#: orjson options for every response: numpy scalars and arrays as JSON numbers/lists.
ORJSON_OPTS = orjson.OPT_SERIALIZE_NUMPY


def orjson_default(obj: Any) -> Any:
    """numpy scalars (``np.float64`` is a float subclass orjson refuses) and other oddities."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=orjson_default, option=ORJSON_OPTS)


class Item(NamedTuple):
    """One validated page: where its field is (for error messages) and what to score."""

    field: str  # "text", "html", "pages[3].text", ...
    page_id: Any
    kind: str  # "text" or "html"
    body: str


def _text_of(item: Item) -> str | dict:
    """The text to score, or the error record of an HTML page with no visible text."""
    if item.kind != "html":
        return item.body
    text = html_to_text(item.body)
    if not text.strip():
        return {"id": item.page_id, "error": {
            "code": "empty", "field": item.field,
            "reason": f"{item.field} has no visible text (scripts, styles and markup dropped)"}}
    return text


def _features(scorer, item: Item) -> tuple[str, object] | dict:
    """(text, page features) of one page, or its error record naming the field."""
    text = _text_of(item)
    if isinstance(text, dict):
        return text
    try:
        page = scorer.pipeline.run(text, page_id=None if item.page_id is None else str(item.page_id))
    except InputError as exc:
        return {"id": item.page_id, "error": {"code": exc.code, "field": item.field,
                                              "reason": f"{item.field}: {exc.reason}"}}
    return text, page


def _finish(rec: dict, text: str, include_text: bool) -> dict:
    rec.pop("model", None)  # the response carries it once
    if include_text:
        rec["text"] = text
    return rec


def score_item(scorer, item: Item, explain: bool, include_text: bool) -> dict:
    """The record of one page (``model`` removed: the response carries it once), or its
    error record. Input the scorer refuses becomes ``{"id", "error"}`` naming the field.
    One row, predicted on one thread."""
    got = _features(scorer, item)
    if isinstance(got, dict):
        return got
    text, page = got
    return _finish(scorer.score_features(page, item.page_id, explain=explain), text, include_text)


def _internal(item: Item, exc: Exception) -> dict:
    return {"id": item.page_id, "error": {
        "code": "internal", "field": item.field,
        "reason": f"internal error while scoring this page ({type(exc).__name__}: {exc})"}}


def score_items(scorer, items: list[Item], explain: bool, include_text: bool,
                cancelled=None, num_threads: int = 0) -> list[dict]:
    """Records of many pages, in order: features page by page, then one prediction over
    all of them on ``num_threads`` threads. ``cancelled()`` is polled between pages so a
    batch whose request has timed out stops instead of burning CPU for nobody. An
    unexpected exception on one page becomes that page's ``internal`` error, never the
    batch's."""
    out: list[dict | None] = [None] * len(items)
    ready: list[tuple[int, str, object]] = []
    for i, item in enumerate(items):
        if cancelled is not None and cancelled():
            out[i] = {"id": item.page_id, "error": {"code": "timeout", "field": item.field,
                                                    "reason": "not scored: the request timed out"}}
            continue
        try:
            got = _features(scorer, item)
        except Exception as exc:  # noqa: BLE001 - one bad page must not sink the batch
            out[i] = _internal(item, exc)
            continue
        if isinstance(got, dict):
            out[i] = got
        else:
            ready.append((i, *got))
    if ready:
        try:
            recs = scorer.score_features_many([p for _, _, p in ready], [items[i].page_id for i, _, _ in ready],
                                              explain=explain, num_threads=num_threads)
        except Exception:  # noqa: BLE001 - then page by page, so one bad page is only its own error
            recs = []
            for i, _, page in ready:
                try:
                    recs.append(scorer.score_features(page, items[i].page_id, explain=explain))
                except Exception as exc:  # noqa: BLE001
                    recs.append(_internal(items[i], exc))
        for (i, text, _), rec in zip(ready, recs):
            out[i] = rec if "error" in rec else _finish(rec, text, include_text)
    return out  # type: ignore[return-value]


#: A small page that exercises every extractor once, so lazily loaded models (headline
#: classifier, boilerplate templates, spin reference) load at startup, not on the first
#: crawler request.
WARMUP_TEXT = (
    "Officials met on Tuesday to discuss the new trade agreement between the two countries.\n\n"
    "The talks, which lasted several hours, covered tariffs on steel and rare earth metals. "
    "Both sides said they expected a final text by the end of the year.\n\n"
    "You may also like\n"
    "10 Celebrities Who Look Completely Different Now\n"
    "You Won't Believe What This Dog Did Next\n\n"
    "Disclaimer: this content is for information only and is not financial advice.\n"
    "Leave a Reply\nYour email address will not be published.\n"
)
