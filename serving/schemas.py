"""Request and response models of the scoring API.

They are the API's documented contract (they appear in ``/openapi.json`` and ``/docs``)
and validate each page of a request. Responses are built as plain dicts and encoded with
orjson, not re-validated through these models: the records come from
:meth:`scoring.score.Scorer.score`, whose contract ``tests/test_api.py`` checks, and
response validation would cost more than scoring a small page.
"""

from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

#: A page id: a string or an integer, never a boolean (``true`` would silently become 1).
PageId = Union[StrictStr, StrictInt]


class PageIn(BaseModel):
    """One page to score: its ``text``, or its ``html`` (turned into text first)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"id": "https://example.com/a/1", "text": "Officials met on Tuesday ...\n\nYou may also like\n...",
         "url": "https://example.com/a/1"}]})

    id: PageId = Field(description="Your identifier of the page; echoed back in its record.")
    text: str | None = Field(None, description="The page's text. Evidence offsets index this "
                                               "string (Python code points).")
    html: str | None = Field(None, description="The page's HTML, instead of text. Everything a "
                                               "reader sees is kept (related-links lists, disclaimers, "
                                               "comment forms); scripts and styles are dropped. Evidence "
                                               "offsets then index the extracted text (ask for it with "
                                               "include_text=true).")
    url: str | None = Field(None, max_length=8192, description="Where the page was crawled; "
                                                               "informational.")

    @model_validator(mode="after")
    def _one_body(self) -> "PageIn":
        if (self.text is None) == (self.html is None):
            raise ValueError("give exactly one of 'text' or 'html'")
        return self


class BatchIn(BaseModel):
    """Many pages in one request (at most ``FARMSCORE_MAX_BATCH``). A refused page gets an
    error record in its place; the other pages are still scored."""

    model_config = ConfigDict(extra="ignore")

    pages: list[PageIn] = Field(min_length=1, description="The pages, scored in this order.")


class ModelInfo(BaseModel):
    """What produced the scores; reported once per response."""

    name: str
    version: str
    kind: str | None = None
    feature_schema_hash: str = Field(description="Hash of the feature schema (names, order, "
                                                 "version); `farmscore schema` prints it.")


class Evidence(BaseModel):
    """A span of the page's text that supports a signal."""

    signal: str
    start: int = Field(description="Start offset (code points) into the scored text.")
    end: int = Field(description="End offset, exclusive.")
    text: str = Field(description="The span, cut to 300 characters.")
    detail: str | None = None


class Contributions(BaseModel):
    """How much each signal (rules) or feature (trained model) moved each score."""

    quality: dict[str, float]
    originality: dict[str, float]


class ScoredPage(BaseModel):
    """A page's scores: the record of ``farmscore score`` (without ``model``)."""

    id: PageId | None
    originality: float = Field(ge=0, le=1, description="1 = its own work, 0 = a copy/spin.")
    quality: float = Field(ge=0, le=1, description="1 = a clean article, 0 = farm filler.")
    verdict: Literal["ok", "suspect", "farm"]
    signals: dict[str, float] = Field(description="Per-technique strength in [0, 1].")
    evidence: list[Evidence]
    source: dict | None = Field(None, description="The matched earlier source, when the "
                                                  "originality index knows one.")
    contributions: Contributions | None = Field(None, description="Only with explain=true.")
    text: str | None = Field(None, description="The scored text; only with include_text=true "
                                               "(useful for html input, whose offsets index it).")


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable: empty, too_large, binary, encoding, type, "
                                  "field, json, content_type, overloaded, timeout, ...")
    reason: str = Field(description="What is wrong and, where it helps, what to do.")
    field: str | None = Field(None, description="The request field at fault, when one is.")


class PageError(BaseModel):
    """A refused page, in the place its scores would have been."""

    id: PageId | None
    error: ErrorDetail


class ScoreResponse(ScoredPage):
    """Response to a single-page request."""

    model: ModelInfo


class BatchResponse(BaseModel):
    """Response to a batch request: one record per page, in request order."""

    model: ModelInfo
    results: list[Union[ScoredPage, PageError]]
    scored: int = Field(description="Pages scored.")
    refused: int = Field(description="Pages refused (their records carry an error).")


class ErrorResponse(BaseModel):
    """Every refused request: ``{"error": {"code", "reason", "field"?}}``."""

    error: ErrorDetail


class CheckResult(BaseModel):
    ok: bool
    detail: str | None = None


class ReadyResponse(BaseModel):
    ready: bool
    checks: dict[str, CheckResult]
    model: ModelInfo | None = None
