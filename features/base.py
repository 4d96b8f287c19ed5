"""The contract every extractor honours.

An extractor is a small class: thresholds are named constructor arguments stored as plain
attributes (scikit-learn style, no work in ``__init__`` beyond that), ``FEATURES`` names
what it returns, in order, and ``extract(doc)`` returns an :class:`Extraction`. Evidence
spans carry character offsets into ``doc.norm``; the pipeline maps them back to the text
the caller gave, so every offset a user sees indexes their own string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from features.document import Document


#: Default refusal size (``--max-chars``): a news article is 2-20 KB; a megabyte is already
#: 200 articles. Here, not in ``features.document``,
#: so that the CLI's parser can show it without importing numba and the word tables.
DEFAULT_MAX_CHARS = 1_000_000

#: Evidence ``text`` is the span's text cut to this many characters (the README's contract:
#: a span can be a whole copied article; its offsets say where it ends).
EVIDENCE_TEXT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Span:
    """One piece of evidence: which signal, where, and why.

    ``start``/``end`` are character offsets (Python ``str`` indices, end exclusive).
    """

    signal: str
    start: int
    end: int
    text: str
    detail: str = ""

    def to_dict(self) -> dict:
        """The fields as a dict, in order (``dataclasses.asdict`` deep-copies: ~10x slower)."""
        return {"signal": self.signal, "start": self.start, "end": self.end, "text": self.text,
                "detail": self.detail}


@dataclass(slots=True)
class Extraction:
    """What one extractor found: named float features and the spans behind them."""

    features: dict[str, float]
    evidence: list[Span] = field(default_factory=list)
    #: Structured findings that are neither features nor spans (e.g. the matched source).
    meta: dict = field(default_factory=dict)


class Extractor(Protocol):
    """Structural type of an extractor (see module docstring)."""

    family: ClassVar[str]
    FEATURES: ClassVar[tuple[str, ...]]

    def extract(self, doc: "Document") -> Extraction:  # pragma: no cover - protocol
        ...


def get_params(obj: object) -> dict:
    """The constructor arguments of an extractor, as scikit-learn's ``get_params`` does."""
    import inspect

    names = [p for p in inspect.signature(type(obj).__init__).parameters if p != "self"]
    return {n: getattr(obj, n) for n in names}
