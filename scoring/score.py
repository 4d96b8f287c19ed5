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

    @property
    def model_info(self) -> dict:
        """Name and version of what turns features into scores."""
        return self.scorer.model_info

    def score_features(self, page: PageFeatures, page_id=None, with_features: bool = False,
                       explain: bool = False) -> dict:
        return self._record(page, page_id, self.scorer.score(page.features), with_features, explain)

    def score_features_many(self, pages: list[PageFeatures], page_ids: list,
                            explain: bool = False, num_threads: int = 0) -> list[dict]:
        """:meth:`score_features` of many pages with one prediction call over all of them
        (LightGBM on ``num_threads`` threads, 0 = its default; the same numbers as one by
        one). For batches: the per-call overhead is paid once, not once per page."""
        many = getattr(self.scorer, "score_many", None)
        scores = (many([p.features for p in pages], num_threads=num_threads) if many is not None
                  else [self.scorer.score(p.features) for p in pages])
        return [self._record(p, i, s, False, explain) for p, i, s in zip(pages, page_ids, scores)]

    def _record(self, page: PageFeatures, page_id, s: dict, with_features: bool,
                explain: bool) -> dict:
        rec = {"id": page_id, **s,
               "evidence": [sp.to_dict() for sp in page.evidence],
               "source": page.meta.get("source"),
               "model": self.scorer.model_info}
        if with_features:
            rec["features"] = {k: round(v, 6) for k, v in page.features.items()}
        if explain:
            rec["contributions"] = self.scorer.explain(page.features)
        return rec

    def score(self, text: str | bytes, page_id=None, with_features: bool = False,
              explain: bool = False, encoding: str = "utf-8") -> dict:
        """Score one page; raises :class:`InputError` for input it refuses.

        ``explain`` adds ``contributions``: {"quality": {name: delta}, "originality": {...}}
        (per feature for the trained model; per signal for the rules). It costs more; ask
        only when a person will read it. ``encoding`` decodes ``text`` when it is bytes.
        """
        page = self.pipeline.run(text, encoding=encoding,
                                 page_id=None if page_id is None else str(page_id))
        return self.score_features(page, page_id, with_features, explain)

    def score_or_error(self, text, page_id=None, with_features: bool = False,
                       explain: bool = False) -> dict:
        """Like :meth:`score`, but refused input becomes an ``error`` record."""
        try:
            return self.score(text, page_id, with_features, explain)
        except InputError as exc:
            return {"id": page_id, "error": exc.to_dict()}


def build_scorer(index=None, max_chars: int | None = None, rules: bool = False) -> Scorer:
    """The scorer every entry point (CLI, API, queue) uses: the shipped model
    (``models/model.json``) unless ``rules`` asks for the transparent baseline or no model
    has been trained, and the originality index ``index`` when given (an open index, a path
    or a ``redis://`` URL)."""
    from features.document import DEFAULT_MAX_CHARS
    from scoring.model import ModelScorer

    pipe = FeaturePipeline(max_chars=max_chars or DEFAULT_MAX_CHARS, index=index)
    model = ModelScorer()
    if rules or not model.path.exists():
        return Scorer(pipe, RuleScorer())
    return Scorer(pipe, model.load())
