"""Exact scoring of a few candidate pages against the page being checked, and the verdict.

Pure functions over hash sets: no storage, no I/O, so every threshold can be tested and
calibrated on its own (training/eval_originality.py).

The three methods and why each is scored the way it is:

* **copy**: word 5-shingles. Containment both ways, because a farm page is often the
  source plus padding (page-in-source falls, source-in-page stays high) or a part of it.
* **spin**: immutable 5-shingles (function words, capitalised words, numbers; DSpin).
  A spinner swaps content words, so word shingles die but these survive.
* **paraphrase**: weighted names/numbers/quotes. The score is the geometric mean of two
  weighted containments of the page in the candidate: single facts and facts that occur
  together (pairs). A related article on the same story shares many single facts but few
  pairs; a paraphrase shares both. Requiring a minimum shared weight stops two short
  pages that both mention "London" and "2" from matching.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from originality.fingerprints import Fingerprint

METHODS = ("copy", "spin", "paraphrase")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a candidate counts as a match (defaults calibrated on BBC and the seeds)."""

    copy: float = 0.5  # shingle containment, either way
    copy_min_shared: int = 8
    spin: float = 0.2  # immutable-shingle containment, either way
    spin_min_shared: int = 25
    #: Paraphrase floors are loose since issue 15: a paraphrase candidate must also pass
    #: the derivation check (``originality.provenance.DerivationModel``), which tells a
    #: retelling from another article on the event far better than a higher floor did.
    paraphrase: float = 0.25  # geometric mean of weighted fact / fact-pair containment
    paraphrase_min_weight: float = 40.0  # shared fact weight (a rare name weighs ~6)
    #: A short rewrite (a summary) shares little weight in total but nearly all of its
    #: facts come from the source: a higher score buys a lower weight floor.
    rewrite: float = 0.45
    rewrite_min_weight: float = 5.0


@dataclass(slots=True)
class Scores:
    """Similarities of the page (q) and one candidate (c) under every method."""

    shingle_jaccard: float = 0.0
    shingle_in_source: float = 0.0  # share of the page's shingles found in the candidate
    source_in_page: float = 0.0  # share of the candidate's shingles found in the page
    shingle_shared: int = 0
    immutables: float = 0.0  # max containment either way
    immutables_shared: int = 0
    facts: float = 0.0  # weighted share of the page's names/numbers/quotes in the candidate
    fact_pairs: float = 0.0
    facts_both_ways: float = 0.0  # unweighted share of the candidate's facts in the page
    nnq: float = 0.0  # geometric mean of facts and fact_pairs
    facts_shared_weight: float = 0.0
    quote_shingles: int = 0  # distinct quote 3-grams on the page (query side only)
    quotes_in_source: float = 0.0  # share of them the candidate has
    numbers: int = 0  # distinct numbers on the page (query side only)
    numbers_shared: int = 0  # how many of them the candidate has
    numbers_in_source: float = 0.0  # their share
    source_terms_in_page: float = 0.0  # share of the candidate's content terms on the page

    def to_dict(self) -> dict:
        return asdict(self)


def _shared(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.intersect1d(a, b, assume_unique=True)


def _ratio(n: float, d: float) -> float:
    return float(n) / d if d else 0.0


def weighted_containment(q: np.ndarray, qw: np.ndarray, c: np.ndarray) -> tuple[float, float]:
    """(weighted share of q found in c, shared weight); q sorted unique, qw aligned."""
    if not len(q):
        return 0.0, 0.0
    hit = np.isin(q, c, assume_unique=True)
    shared = float(qw[hit].sum())
    return _ratio(shared, float(qw.sum())), shared


def score(q: Fingerprint, c: dict[str, np.ndarray]) -> Scores:
    """Exact similarities of query fingerprint ``q`` (with weights) and candidate sets ``c``."""
    s = Scores()
    sh = len(_shared(q.shingles, c["shingles"]))
    union = len(q.shingles) + len(c["shingles"]) - sh
    s.shingle_shared = sh
    s.shingle_jaccard = _ratio(sh, union)
    s.shingle_in_source = _ratio(sh, len(q.shingles))
    s.source_in_page = _ratio(sh, len(c["shingles"]))
    im = len(_shared(q.immutables, c["immutables"]))
    s.immutables_shared = im
    s.immutables = max(_ratio(im, len(q.immutables)), _ratio(im, len(c["immutables"])))
    s.facts, s.facts_shared_weight = weighted_containment(q.nnq, q.nnq_w, c["nnq"])
    s.fact_pairs, _ = weighted_containment(q.pairs, q.pairs_w, c["pairs"])
    s.facts_both_ways = _ratio(len(_shared(q.nnq, c["nnq"])), len(c["nnq"]))
    s.nnq = float(np.sqrt(s.facts * s.fact_pairs))
    # a rewrite keeps its source's quoted speech word for word; another story on the same
    # events quotes other people or other sentences (query side only: empty without it)
    quotes = q.quotes if q.quotes is not None else np.zeros(0, np.uint32)
    s.quote_shingles = len(quotes)
    s.quotes_in_source = _ratio(len(_shared(quotes, c["nnq"])), len(quotes))
    # a rewrite, a summary or a translation keeps its source's numbers (dates, amounts,
    # scores, counts) even where it changes every word and some names; another story on
    # the same subject (a match report beside its preview) shares names, not numbers
    numbers = q.numbers if q.numbers is not None else np.zeros(0, np.uint32)
    s.numbers = len(numbers)
    s.numbers_shared = len(_shared(numbers, c["nnq"]))
    s.numbers_in_source = _ratio(s.numbers_shared, s.numbers)
    # a rewrite retells its source: most of the source's content vocabulary comes back in
    # new sentences; a follow-up story reuses only the words of its background paragraphs
    s.source_terms_in_page = _ratio(len(_shared(q.terms, c["terms"])), len(c["terms"]))
    return s


def method_scores(s: Scores) -> dict[str, float]:
    """The one number per method that its threshold applies to."""
    return {"copy": max(s.shingle_in_source, s.source_in_page),
            "spin": s.immutables, "paraphrase": s.nnq}


def verdict(s: Scores, t: Thresholds) -> tuple[str, float] | None:
    """(method, similarity) of the most literal method that matches, or None.

    Most literal first: a verbatim copy also matches as a spin and a paraphrase, and
    "copied" is the more useful thing to tell a person.
    """
    m = method_scores(s)
    if m["copy"] >= t.copy and s.shingle_shared >= t.copy_min_shared:
        return "copy", m["copy"]
    if m["spin"] >= t.spin and s.immutables_shared >= t.spin_min_shared:
        return "spin", m["spin"]
    p, w = m["paraphrase"], s.facts_shared_weight
    if (p >= t.paraphrase and w >= t.paraphrase_min_weight) or \
            (p >= t.rewrite and w >= t.rewrite_min_weight):
        return "paraphrase", p
    return None


# ---- which parts of the page matched -------------------------------------------------
def _merge(ranges: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    """Merge (start, end) ranges that overlap or are at most ``gap`` apart."""
    out: list[list[int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _merge_sorted(starts: np.ndarray, ends: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """:func:`_merge` of ranges whose starts increase strictly and ends never decrease
    (shingles in page order), in numpy: a range opens a new group when it starts more
    than ``gap`` after the previous range's end (that end is the group's largest)."""
    if not len(starts):
        return []
    new = np.flatnonzero(starts[1:] > ends[:-1] + gap) + 1
    first = np.concatenate([[0], new])
    last = np.concatenate([new - 1, [len(starts) - 1]])
    return list(zip(starts[first].tolist(), ends[last].tolist()))


def matched_word_ranges(q: Fingerprint, c: dict[str, np.ndarray], method: str) -> list[tuple[int, int]]:
    """Word ranges [i, j) of the page that the candidate explains under ``method``."""
    from originality.fingerprints import IMMUTABLE_WORDS, SHINGLE_WORDS

    n = q.n_words
    if method == "copy":
        hit = np.flatnonzero(np.isin(q.sh_seq, c["shingles"]))
        return _merge_sorted(hit, np.minimum(n, hit + SHINGLE_WORDS), gap=0)
    if method == "spin":
        hit = np.flatnonzero(np.isin(q.im_seq, c["immutables"]))
        iw = q.im_words
        k = min(IMMUTABLE_WORDS, len(iw))
        return _merge_sorted(iw[hit], iw[hit + k - 1] + 1, gap=3)
    occ = q.nnq_occ
    hit = np.flatnonzero(np.isin(occ.items, c["nnq"]))
    starts = q.tokens.starts
    ranges = []
    for i in hit:
        a, b = occ.spans[i]
        wi = int(np.searchsorted(starts, a, side="right")) - 1
        wj = int(np.searchsorted(starts, b, side="left"))
        ranges.append((max(wi, 0), max(wj, wi + 1)))
    # facts within a few words of each other describe one matched passage
    return [r for r in _merge(ranges, gap=6) if r[1] - r[0] >= 4] or _merge(ranges, gap=6)


def coverage(ranges: list[tuple[int, int]], n_words: int) -> float:
    """Share of the page's words inside matched ranges."""
    return _ratio(sum(e - s for s, e in ranges), n_words)
