"""Scoring of validated pages: synchronous CPU work for a pool thread, never the event loop.

Kept apart from :mod:`serving.app` (no FastAPI here) so benchmarks and other entry points
can score exactly what the API scores.

A batch is scored in its request's one thread. A process pool per batch was measured and
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


def score_item(scorer, item: Item, explain: bool, include_text: bool) -> dict:
    """The record of one page (``model`` removed: the response carries it once), or its
    error record. Input the scorer refuses becomes ``{"id", "error"}`` naming the field."""
    text = item.body
    if item.kind == "html":
        text = html_to_text(item.body)
        if not text.strip():
            return {"id": item.page_id, "error": {
                "code": "empty", "field": item.field,
                "reason": f"{item.field} has no visible text (scripts, styles and markup dropped)"}}
    try:
        rec = scorer.score(text, item.page_id, explain=explain)
    except InputError as exc:
        return {"id": item.page_id, "error": {"code": exc.code, "field": item.field,
                                              "reason": f"{item.field}: {exc.reason}"}}
    rec.pop("model", None)
    if include_text:
        rec["text"] = text
    return rec


def score_items(scorer, items: list[Item], explain: bool, include_text: bool,
                cancelled=None) -> list[dict]:
    """Records of many pages, in order. ``cancelled()`` is polled between pages so a batch
    whose request has timed out stops instead of burning CPU for nobody. An unexpected
    exception on one page becomes that page's ``internal`` error, never the batch's."""
    out: list[dict] = []
    for item in items:
        if cancelled is not None and cancelled():
            out.append({"id": item.page_id, "error": {"code": "timeout", "field": item.field,
                                                      "reason": "not scored: the request timed out"}})
            continue
        try:
            out.append(score_item(scorer, item, explain, include_text))
        except Exception as exc:  # noqa: BLE001 - one bad page must not sink the batch
            out.append({"id": item.page_id, "error": {
                "code": "internal", "field": item.field,
                "reason": f"internal error while scoring this page ({type(exc).__name__}: {exc})"}})
    return out


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
