"""Originality features: how much of this page an already-seen page explains, and which.

The work happens in :mod:`originality` (the index); this extractor turns the best match
into features and evidence so originality sits beside the in-page families. Without an
index every feature is 0 and there is no source: "we know of no source" is not the same
as "original", and the model must learn that from ``orig_has_match`` being 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

from features.base import Extraction, Span

if TYPE_CHECKING:  # pragma: no cover
    from features.document import Document
    from originality.index import Index


class OriginalityExtractor:
    """Match a page against an :class:`originality.Index` of seen pages.

    ``index`` is an open Index, a location for :func:`originality.open_index` (opened on
    first use), or None. Thresholds override the index's defaults for what is a match.
    """

    family: ClassVar[str] = "originality"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "orig_has_match",
        "orig_similarity",  # the source's score under the method that matched
        "orig_shingle_jaccard",
        "orig_shingle_containment",  # share of the page's word shingles in the source
        "orig_immutables",
        "orig_names_numbers_quotes",
        "orig_page_in_source",  # containment of the page's facts in the source
        "orig_source_in_page",  # containment of the source's shingles in the page
        "orig_coverage",  # share of the page's words the source explains
        "orig_near_matches",  # how many indexed older pages match
        # schema 2: what tells a rewrite from another story on the same events. A rewrite
        # keeps its source's facts *together* (pairs) and has few facts of its own; a
        # follow-up story shares some names but brings its own facts.
        "orig_fact_pairs",  # weighted share of the page's nearby fact pairs in the source
        "orig_source_facts_in_page",  # share of the source's facts the page repeats
        "orig_facts_weight",  # log(1 + rarity weight of the shared facts)
        "orig_quotes_in_source",  # share of the page's quoted-speech 3-grams in the source
        "orig_quote_shingles",  # log(1 + the page's quote 3-grams): is the share above telling?
        # schema 3: numbers apart from names. A rewrite keeps its source's numbers; a story
        # on the same subject but other events shares names and few numbers.
        "orig_numbers_in_source",  # share of the page's distinct numbers in the source
        "orig_numbers_shared",  # log(1 + how many): is the share above telling?
        # schema 4: a rewrite retells its source, reusing most of its content vocabulary in
        # new sentences; a follow-up story reuses the words of its background only
        "orig_source_terms_in_page",  # share of the source's rarer content words on the page
    )

    def __init__(self, index: "Index | str | None" = None, copy_threshold: float = 0.5,
                 spin_threshold: float = 0.2, paraphrase_threshold: float = 0.25,
                 paraphrase_min_weight: float = 40.0, max_evidence: int = 10):
        self.index = index
        self.copy_threshold = copy_threshold
        self.spin_threshold = spin_threshold
        self.paraphrase_threshold = paraphrase_threshold
        self.paraphrase_min_weight = paraphrase_min_weight
        self.max_evidence = max_evidence

    def _open(self) -> "Index | None":
        if isinstance(self.index, str):
            from originality import open_index

            self.index = open_index(self.index, create=False)
            self._opened = self.index
        return self.index

    def close(self) -> None:
        """Close the index if this extractor opened it from a location (an index passed in
        open belongs to the caller, who closes it)."""
        opened = getattr(self, "_opened", None)
        if opened is not None:
            opened.close()
            self._opened = None

    def _thresholds(self):
        from dataclasses import replace

        from originality.matching import Thresholds

        return replace(Thresholds(), copy=self.copy_threshold, spin=self.spin_threshold,
                       paraphrase=self.paraphrase_threshold,
                       paraphrase_min_weight=self.paraphrase_min_weight)

    def extract(self, doc: "Document", page_id: str | None = None,
                published: str | None = None) -> Extraction:
        """Features of the source (the first match of :meth:`originality.Index.query`: the
        strongest evidence, the earliest among near-equals). ``meta["source"]["others"]``
        lists the other matches, strongest first, with their method and similarity.

        ``page_id`` (default ``doc.page_id``) keeps a page from matching itself or a later
        copy of itself; ``published`` (default ``doc.published``) does the same by date.
        """
        feats = dict.fromkeys(self.FEATURES, 0.0)
        index = self._open()
        if index is None:
            return Extraction(features=feats, meta={"source": None})
        # the page's identity: explicit arguments, else what the Document carries
        page_id = page_id if page_id is not None else getattr(doc, "page_id", None)
        published = published if published is not None else getattr(doc, "published", None)
        matches = index.query(doc, page_id=page_id, published=published,
                              thresholds=self._thresholds())
        if not matches:
            return Extraction(features=feats, meta={"source": None})
        src = matches[0]
        s = src.scores
        feats.update({
            "orig_has_match": 1.0,
            "orig_similarity": src.similarity,
            "orig_shingle_jaccard": s.shingle_jaccard,
            "orig_shingle_containment": s.shingle_in_source,
            "orig_immutables": s.immutables,
            "orig_names_numbers_quotes": s.nnq,
            "orig_page_in_source": s.facts,
            "orig_source_in_page": s.source_in_page,
            "orig_coverage": src.coverage,
            "orig_near_matches": float(len(matches)),
            "orig_fact_pairs": s.fact_pairs,
            "orig_source_facts_in_page": s.facts_both_ways,
            "orig_facts_weight": math.log1p(s.facts_shared_weight),
            "orig_quotes_in_source": s.quotes_in_source,
            "orig_quote_shingles": math.log1p(s.quote_shingles),
            "orig_numbers_in_source": s.numbers_in_source,
            "orig_numbers_shared": math.log1p(s.numbers_shared),
            "orig_source_terms_in_page": s.source_terms_in_page,
        })
        source = src.to_source()
        source["matched"] = source["matched"][: self.max_evidence]
        source["others"] = [{"id": m.id, "method": m.method, "similarity": round(m.similarity, 4)}
                            for m in matches[1:]]
        evidence = [Span("copied_from_source", m["start"], m["end"], m["text"],
                         f"{src.method} of {src.id} (similarity {src.similarity:.2f})")
                    for m in source["matched"]]
        return Extraction(features=feats, evidence=evidence, meta={"source": source})
