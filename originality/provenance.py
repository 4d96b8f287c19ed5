"""Which of the matching pages a page is derived from: the ranking rule.

A page can match several indexed pages: its source, copies of its source, and older
stories on the same event that share names, numbers and a background paragraph. Naming
the *earliest* match (the rule before issue 15) hands a verbatim copy of story X to an
older story Y that matches it only weakly. The rule here:

1. **Strength of the derivation evidence first.** A candidate's strength is the largest of
   its method scores (:func:`originality.matching.method_scores`): word-shingle
   containment either way, immutable-shingle containment, fact containment. All three are
   shares in [0, 1] of the text one page takes from the other, so they compare across
   methods: a verbatim copy scores ~1.0 as a copy (and as a spin), a same-event story
   0.2-0.45 as a spin or a paraphrase.
2. **Publication order only among near-equal candidates.** Candidates within
   :data:`NEAR_EQUAL` of the strongest are "about equally derived": copies of one
   original, or a copy and the copy it was made from. Among them the earliest published
   (then the earliest added) is the source, because the copy of a copy is derived from
   the original too, and the original is the page to credit.
3. The other matches follow, strongest first, each with its method and similarity.

Why 0.1: it must cover the difference between an original and a copy of it, and stay
under the difference between a page's source and the next candidate. Measured on the
``dev`` events (``python -m training.eval_provenance --split dev --margins``): for 900
copies of copies (a copy, double or tail of an indexed article, indexed after it, then a
copy, double or tail of that) the farm copy is never stronger than the original (largest
difference 0.000: copying keeps every shingle of the original), while for farm pages made
from articles with indexed siblings the right source is at least 0.19 stronger than any
other candidate (copies 0.24, spins 0.19). 0.1 sits between: wide enough for the noise of
a lightly edited copy (a dropped sentence, a spun word), narrow enough that a sibling at
0.2-0.45 never ties with a copy. A copy of a *spin* is the chain it does not join: it is
credited to the spin, whose text it carries (the original matches it 0.2-0.5 weaker).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from originality.fingerprints import Fingerprint
from originality.matching import Scores, method_scores

#: Candidates this close to the strongest one are ranked by publication order.
NEAR_EQUAL = 0.1

T = TypeVar("T")


def strength(s: Scores) -> float:
    """How strongly the page is derived from a candidate: its largest method score."""
    return max(method_scores(s).values())


def rank(items: Sequence[T], strength_of: Callable[[T], float],
         order_of: Callable[[T], tuple], margin: float = NEAR_EQUAL) -> list[T]:
    """``items`` with the source first (see the module docstring), then the rest.

    ``strength_of`` gives an item's derivation strength, ``order_of`` its publication
    order key (smaller is earlier). The near-equal group (strength within ``margin`` of
    the best) comes first in publication order; then the others, strongest first (ties
    in publication order).
    """
    if not items:
        return []
    best = max(strength_of(x) for x in items)
    near = [x for x in items if strength_of(x) >= best - margin]
    rest = [x for x in items if strength_of(x) < best - margin]
    near.sort(key=order_of)
    rest.sort(key=lambda x: (-strength_of(x), order_of(x)))
    return near + rest


# ---- derived, or another article on the same event? --------------------------------------
#: What :func:`derivation_features` measures of a candidate.
MEASURED = ("facts", "fact_pairs", "source_facts", "source_terms", "numbers",
            "attributed_quotes", "aligned_sentences", "log_weight", "immutables", "own_facts")
#: The logistic regression's inputs, in the order the model file lists its weights: the
#: measures whose sign means the same for every kind of derived page. Left out: the share
#: of the source retold (``source_facts``, ``source_terms``: high for a full retelling, low
#: for a GPT summary, so no one sign; the figures rule uses ``source_terms`` with the
#: numbers), attributed quotes (GPT rephrasings drop most quotes; on the dev pairs its
#: fitted weight came out negative) and immutables (what the spin method measures).
DERIVATION_FEATURES = ("facts", "fact_pairs", "numbers", "aligned_sentences", "log_weight",
                       "own_facts")
#: A sentence needs this many words to count in :func:`aligned_sentences`.
MIN_SENTENCE_WORDS = 6


def _pair_hashes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The stored hash of unordered fact pairs (as ``fingerprints.nnq_pairs`` makes them)."""
    from originality.fingerprints import _mix64

    a, b = a.astype(np.uint64), b.astype(np.uint64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    with np.errstate(over="ignore"):
        h = _mix64((lo << np.uint64(32)) ^ hi ^ np.uint64(0xA5A5A5A5))
    return (h >> np.uint64(32)).astype(np.uint32)


def attributed_quotes(fp: Fingerprint, c: dict[str, np.ndarray]) -> float:
    """Quotes attributed the same way: of the page's (quote, name) pairs (a quoted-speech
    3-gram within a few facts of a name: "... tariffs," Bessent said), the share the
    candidate has too, smoothed towards 1/2 ((shared + 1/2) / (pairs + 1)), so that a page
    without quotes is neither evidence for nor against.

    A retelling keeps who said what; another article on the event quotes other people, or
    the same person saying something else.
    """
    from originality.fingerprints import PAIR_WINDOW

    occ = fp.nnq_occ
    items = occ.items
    if fp.quotes is None or not len(fp.quotes) or len(items) < 2:
        return 0.5
    quote = np.isin(items, fp.quotes)
    name = ~quote & ~np.isin(items, fp.numbers if fp.numbers is not None else [])
    hashes = []
    for d in range(1, PAIR_WINDOW + 1):
        if len(items) <= d:
            break
        a, b = items[:-d], items[d:]
        keep = (quote[:-d] & name[d:]) | (name[:-d] & quote[d:])
        hashes.append(_pair_hashes(a[keep], b[keep]))
    pairs = np.unique(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint32)
    shared = int(np.isin(pairs, c["pairs"], assume_unique=True).sum()) if len(pairs) else 0
    return (shared + 0.5) / (len(pairs) + 1)


def aligned_sentences(fp: Fingerprint, c: dict[str, np.ndarray]) -> float:
    """Share of the page's sentences (of 6+ words) that line up with a passage of the
    candidate: a shared word 5-shingle, two shared immutable shingles, or two shared facts
    that are at least half the sentence's fact weight.

    A retelling goes through its source sentence by sentence, so nearly every sentence
    keeps something of one; another article on the event shares a background paragraph
    and a few names, and most of its sentences are its own.
    """
    tok = fp.tokens
    n = fp.n_words
    if not n:
        return 0.0
    sent = np.cumsum(tok.initial) - 1  # sentence of every word
    n_sent = int(sent[-1]) + 1
    words = np.bincount(sent, minlength=n_sent)
    sh = np.zeros(n_sent)
    if len(fp.sh_seq):
        hit = np.flatnonzero(np.isin(fp.sh_seq, c["shingles"]))
        np.add.at(sh, sent[np.minimum(hit, n - 1)], 1)
    im = np.zeros(n_sent)
    if len(fp.im_seq):
        hit = np.flatnonzero(np.isin(fp.im_seq, c["immutables"]))
        np.add.at(im, sent[fp.im_words[hit]], 1)
    occ = fp.nnq_occ
    fw = np.zeros(n_sent)
    fs = np.zeros(n_sent)
    fk = np.zeros(n_sent)
    if len(occ.items):
        at = np.minimum(np.searchsorted(tok.starts, occ.spans[:, 0], side="right") - 1, n - 1)
        s_of = sent[np.maximum(at, 0)]
        shared = np.isin(occ.items, c["nnq"])
        np.add.at(fw, s_of, occ.weights)
        np.add.at(fs, s_of, occ.weights * shared)
        np.add.at(fk, s_of, shared)
    aligned = (sh >= 1) | (im >= 2) | ((fk >= 2) & (fs >= 0.5 * fw))
    counted = words >= MIN_SENTENCE_WORDS
    return float(aligned[counted].mean()) if counted.any() else float(aligned.mean())


def derivation_features(fp: Fingerprint, c: dict[str, np.ndarray], s: Scores) -> dict[str, float]:
    """What a derived page keeps of its source, for :class:`DerivationModel` (see
    :data:`MEASURED`). ``fp`` is the page (with positions), ``c`` a candidate."""
    return {
        "facts": s.facts,
        "fact_pairs": s.fact_pairs,
        "source_facts": s.facts_both_ways,  # share of the source's facts retold
        "source_terms": s.source_terms_in_page,  # share of the source's vocabulary retold
        "numbers": (s.numbers_shared + 0.5) / (s.numbers + 1),
        "attributed_quotes": attributed_quotes(fp, c),
        "aligned_sentences": aligned_sentences(fp, c),
        "log_weight": math.log1p(s.facts_shared_weight),
        "immutables": s.immutables,
        # a retelling has little of its own; another article brings its own people and figures
        "own_facts": math.log1p(max(0.0, float(fp.nnq_w.sum()) - s.facts_shared_weight)),
    }


MODEL_FILE = "provenance.json"


class DerivationModel:
    """Is a ``paraphrase`` candidate the page's source ("retold from this page"), or another
    article on the same event? Two explicit routes, either is enough:

    * **keeps the source's figures and retells it**: at least ``rule["numbers"]`` of the
      page's numbers (smoothed) are the candidate's, at least ``rule["source_terms"]`` of
      the candidate's vocabulary is on the page, and at least ``rule["fact_pairs"]`` of the
      page's nearby fact pairs: a farm rewrite keeps every date, amount and score while
      padding the page with facts of its own (captions, frames, tails). Another article on
      the event has figures of its own (the next day's count, another match's score).
    * **a tiny logistic regression** over :data:`DERIVATION_FEATURES` at ``threshold``:
      fitted on the ``dev`` events of real same-event pairs (BBC News, Reuters-21578) as
      negatives and real GPT-3.5 rephrasings as positives; it says "derived" when the page
      has almost nothing of its own and keeps its facts together and in aligned sentences.

    ``copy`` candidates are not gated. A ``spin`` candidate keeps the source's function
    words, names and numbers in order (immutable shingles); it is gated only when it is a
    *weak* spin (``spin["clear"]``: immutable containment below it) that keeps fewer than
    ``spin["min_shared"]`` immutable shingles in all: that is what a same-event article
    sharing one background paragraph looks like (3 of the 363 dev articles matched a sibling
    so, at 0.20-0.28 with 35-87 shingles), while a spinner rewrites the whole article
    (synthetic dev spins of 40 % of content words keep >= 0.46; the real spins of seeds 001 and
    004 keep 0.27 but 134 and 136 shingles). A gated weak spin must pass the paraphrase
    decision below. Shipped as JSON
    (``models/provenance.json``, ``python -m training.train_provenance``) and scored in
    plain numpy: no pickle, no scikit-learn at query time.
    """

    def __init__(self, spec: dict):
        if tuple(spec.get("features", ())) != DERIVATION_FEATURES:
            raise ValueError(f"derivation model features {spec.get('features')} are not "
                             f"{list(DERIVATION_FEATURES)}; refit it (training.train_provenance)")
        self.spec = spec
        self.mean = np.asarray(spec["mean"], dtype=float)
        self.scale = np.asarray(spec["scale"], dtype=float)
        self.coef = np.asarray(spec["coef"], dtype=float)
        self.intercept = float(spec["intercept"])
        self.threshold = float(spec["threshold"])
        self.rule = dict(spec["rule"])
        self.methods = frozenset(spec["methods"])
        #: the weak-spin gate (absent in a model file from before it: spins not gated)
        self.spin = dict(spec.get("spin") or {})

    @classmethod
    def load(cls, path=None) -> "DerivationModel":
        import json
        from pathlib import Path

        if path is None:
            from farmscore.config import models_dir

            path = models_dir() / MODEL_FILE
        path = Path(path)
        try:
            spec = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FileNotFoundError(f"no derivation model at {path}; fit one with "
                                    "`python -m training.train_provenance`") from None
        return cls(spec)

    def probability(self, feats: dict[str, float]) -> float:
        """P(derived) of one candidate's features under the logistic regression."""
        x = np.fromiter((feats[k] for k in DERIVATION_FEATURES), float, len(DERIVATION_FEATURES))
        z = float(((x - self.mean) / self.scale) @ self.coef) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))

    def keeps_figures(self, feats: dict[str, float]) -> bool:
        """The first route: the source's numbers kept, its vocabulary retold."""
        r = self.rule
        return (feats["numbers"] >= r["numbers"] and feats["source_terms"] >= r["source_terms"]
                and feats["fact_pairs"] >= r["fact_pairs"])

    def decide(self, feats: dict[str, float]) -> bool:
        return self.keeps_figures(feats) or self.probability(feats) >= self.threshold

    def derived(self, fp: Fingerprint, c: dict[str, np.ndarray], s: Scores, method: str) -> bool:
        """Is the page derived from candidate ``c``, matched by ``method``?"""
        if method not in self.methods:
            return True
        if method == "spin" and not self.weak_spin(s):
            return True
        return self.decide(derivation_features(fp, c, s))

    def weak_spin(self, s: Scores) -> bool:
        """A spin match that looks like a shared background paragraph rather than a spun
        article: low immutable containment *and* few shared immutable shingles."""
        if not self.spin:
            return False
        return s.immutables < self.spin["clear"] and s.immutables_shared < self.spin["min_shared"]
