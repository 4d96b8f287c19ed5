"""The feature pipeline: a plain list of extractors run over one :class:`Document`.

``FeaturePipeline().run(text)`` validates the text, runs every extractor, checks each
returned exactly the features it declares, and maps evidence offsets back to the caller's
string. The default list defines the feature schema (``features.schema``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from features.base import EVIDENCE_TEXT_CHARS, Extraction, Span
from features.boilerplate import BoilerplateExtractor
from features.clickbait import ClickbaitTailExtractor
from features.document import DEFAULT_MAX_CHARS, Document
from features.duplication import DuplicationExtractor
from features.foreign_script import ForeignScriptExtractor
from features.originality import OriginalityExtractor
from features.spinning import SpinningExtractor
from features.template_headings import TemplateHeadingExtractor
from features.textstats import TextStatsExtractor


def default_extractors(index=None) -> list:
    """The extractors, in schema order. ``index`` (an open originality index or its
    location) is for the originality family; without it those features are 0."""
    return [
        DuplicationExtractor(),
        ClickbaitTailExtractor(),
        BoilerplateExtractor(),
        TemplateHeadingExtractor(),
        ForeignScriptExtractor(),
        TextStatsExtractor(),
        SpinningExtractor(),
        OriginalityExtractor(index=index),
    ]


@dataclass
class PageFeatures:
    """Features (schema order), evidence (offsets into the caller's text), extra findings."""

    features: dict[str, float]
    evidence: list[Span]
    meta: dict = field(default_factory=dict)
    doc: Document | None = None

    def vector(self, names: tuple[str, ...]) -> np.ndarray:
        return np.fromiter((self.features[n] for n in names), dtype=np.float64, count=len(names))


class FeaturePipeline:
    """Runs extractors in order. ``extractors=None`` means :func:`default_extractors`."""

    def __init__(self, extractors: list | None = None, max_chars: int = DEFAULT_MAX_CHARS,
                 index=None):
        self.extractors = extractors
        self.max_chars = max_chars
        self.index = index

    def _extractors(self) -> list:
        if self.extractors is None:
            self.extractors = default_extractors(index=self.index)
        return self.extractors

    def close(self) -> None:
        """Release what the extractors opened themselves (an index opened from a location)."""
        for ex in self.extractors or ():
            close = getattr(ex, "close", None)
            if close is not None:
                close()

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(n for ex in self._extractors() for n in ex.FEATURES)

    def document(self, text: str | bytes, encoding: str = "utf-8") -> Document:
        if isinstance(text, (bytes, bytearray)):
            return Document.from_bytes(bytes(text), encoding=encoding, max_chars=self.max_chars)
        return Document.from_text(text, max_chars=self.max_chars)

    def run(self, text: str | bytes | Document, encoding: str = "utf-8", page_id: str | None = None,
            published: str | None = None) -> PageFeatures:
        """Features of one page. ``page_id``/``published`` identify it to the originality
        index (a page never matches itself)."""
        doc = text if isinstance(text, Document) else self.document(text, encoding)
        if page_id is not None:
            doc.page_id = str(page_id)
        if published is not None:
            doc.published = published
        features: dict[str, float] = {}
        evidence: list[Span] = []
        meta: dict = {}
        for ex in self._extractors():
            out: Extraction = ex.extract(doc)
            if tuple(out.features) != ex.FEATURES:
                raise RuntimeError(f"{type(ex).__name__} returned features out of schema: "
                                   f"{sorted(set(out.features) ^ set(ex.FEATURES))}")
            features.update(out.features)
            evidence.extend(out.evidence)
            meta.update(out.meta)
        source = meta.get("source")
        if source and doc.offset_map is not None:
            for m in source.get("matched", []):
                m["start"], m["end"] = doc.to_original(m["start"], m["end"])
                m["text"] = doc.text[m["start"]:m["end"]][:EVIDENCE_TEXT_CHARS]
        return PageFeatures(features, [self._to_original(doc, s) for s in evidence], meta, doc)

    @staticmethod
    def _to_original(doc: Document, span: Span) -> Span:
        if doc.offset_map is None:
            return span
        s, e = doc.to_original(span.start, span.end)
        return Span(span.signal, s, e, doc.text[s:e][:EVIDENCE_TEXT_CHARS], span.detail)
