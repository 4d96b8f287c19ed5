"""Text -> the scored record of the ``farmscore score`` JSONL contract.

Output, one object per input, in input order::

    {"id", "originality", "quality", "verdict", "signals": {name: score},
     "evidence": [{"signal", "start", "end", "text", "detail"}], "source": null | {...},
     "model": {"name", "version"}}

or, for input farmscore refuses, ``{"id", "error": {"code", "reason"}}``, so nothing is lost.
Offsets index the input ``text`` as a Python string (code points).
"""

from __future__ import annotations

from features.document import InputError
from features.pipeline import FeaturePipeline, PageFeatures
from scoring.rules import RuleScorer


class Scorer:
    """A feature pipeline and a scorer; one per process, reused for every page."""

    def __init__(self, pipeline: FeaturePipeline | None = None, scorer=None):
        self.pipeline = pipeline or FeaturePipeline()
        self.scorer = scorer or RuleScorer()

    def score_features(self, page: PageFeatures, page_id=None, with_features: bool = False) -> dict:
        s = self.scorer.score(page.features)
        rec = {"id": page_id, **s,
               "evidence": [sp.to_dict() for sp in page.evidence],
               "source": page.meta.get("source"),
               "model": self.scorer.model_info}
        if with_features:
            rec["features"] = {k: round(v, 6) for k, v in page.features.items()}
        return rec

    def score(self, text: str | bytes, page_id=None, with_features: bool = False) -> dict:
        """Score one page; raises :class:`InputError` for input it refuses."""
        return self.score_features(self.pipeline.run(text), page_id, with_features)

    def score_or_error(self, text, page_id=None, with_features: bool = False) -> dict:
        """Like :meth:`score`, but refused input becomes an ``error`` record."""
        try:
            return self.score(text, page_id, with_features)
        except InputError as exc:
            return {"id": page_id, "error": exc.to_dict()}
