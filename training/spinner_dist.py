"""A second spinner whose synonyms come from word contexts, not from WordNet.

The spinning detector's reference holds WordNet synonyms, and so does our first spinner
(``training.spinner``): a test made with it measures whether the detector knows WordNet.
Spinners in the wild use other thesauri. This one takes its "synonyms" from distributional
similarity: words that occur in the same contexts in the BBC News collection (positive PMI
of +-2-word windows over the 3,000 most frequent words, reduced by truncated SVD, nearest
neighbours by cosine). Such neighbours are what a cheap spinner's list holds: true synonyms,
but also co-hyponyms and related words ("minister" -> "secretary", "profits" -> "earnings",
"rose" -> "fell"), which is why spun text reads wrong.

Usage::

    from training.spinner_dist import DistributionalSpinner
    DistributionalSpinner().fit().spin(text, rate=0.2, seed=7).text

Same interface and same rules for which words are replaced as :class:`training.spinner.Spinner`
(content words, case kept); a word's neighbours must have its inflectional ending, so plural
stays plural and past stays past. The thesaurus is cached in ``.cache/`` (a few seconds to build).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from farmscore.config import REPO_ROOT
from training.spinner import STOPWORDS, Spinner

CACHE = REPO_ROOT / ".cache" / "distributional-thesaurus-v1.json"
_WORD = re.compile(r"[a-z]+")


def _ending(w: str) -> str:
    for suf in ("ing", "ed", "ly", "s"):
        if w.endswith(suf):
            return suf
    return ""


def build_thesaurus(texts: list[str], vocab_size: int = 6000, contexts: int = 3000,
                    dims: int = 100, k: int = 8, min_cos: float = 0.45) -> dict[str, list[str]]:
    """word -> up to ``k`` distributional neighbours with the same ending."""
    from scipy.sparse import coo_matrix
    from sklearn.decomposition import TruncatedSVD

    docs = [_WORD.findall(t.lower()) for t in texts]
    counts = Counter(w for d in docs for w in d)
    ctx_words = [w for w, _ in counts.most_common(contexts)]
    targets = [w for w, c in counts.most_common() if c >= 5 and len(w) >= 3 and w not in STOPWORDS][:vocab_size]
    ti = {w: i for i, w in enumerate(targets)}
    ci = {w: i for i, w in enumerate(ctx_words)}
    pairs: Counter = Counter()
    for d in docs:
        for i, w in enumerate(d):
            t = ti.get(w)
            if t is None:
                continue
            for j in range(max(0, i - 2), min(len(d), i + 3)):
                if j != i and (c := ci.get(d[j])) is not None:
                    pairs[(t, c)] += 1
    rows, cols = zip(*pairs)
    m = coo_matrix((np.fromiter(pairs.values(), float), (rows, cols)),
                   shape=(len(targets), len(ctx_words))).tocsr()
    total = m.sum()
    pt = np.asarray(m.sum(axis=1)).ravel() / total
    pc = np.asarray(m.sum(axis=0)).ravel() / total
    m = m.tocoo()
    pmi = np.log((m.data / total) / (pt[m.row] * pc[m.col]))
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (m.row[keep], m.col[keep])), shape=m.shape).tocsr()
    emb = TruncatedSVD(dims, random_state=0).fit_transform(ppmi)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12
    out: dict[str, list[str]] = {}
    for i in range(0, len(targets), 1000):
        sims = emb[i:i + 1000] @ emb.T
        for r, row in enumerate(sims):
            w = targets[i + r]
            order = np.argsort(-row)[1:60]
            nb = [targets[j] for j in order if row[j] >= min_cos and _ending(targets[j]) == _ending(w)
                  and targets[j][:4] != w[:4]][:k]
            if nb:
                out[w] = nb
    return out


def load_thesaurus() -> dict[str, list[str]]:
    if CACHE.exists():
        return json.loads(CACHE.read_text())
    from training.corpus import bbc_articles

    th = build_thesaurus([a.text for a in bbc_articles()])
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_text(json.dumps(th))
    return th


@dataclass
class DistributionalSpinner(Spinner):
    """A :class:`Spinner` whose candidates are distributional neighbours (see module doc)."""

    _thesaurus: dict = field(default_factory=dict, init=False, repr=False)

    def fit(self, texts=None) -> "DistributionalSpinner":
        self._thesaurus = load_thesaurus()
        return self

    def synonyms(self, word: str) -> list[tuple[str, str, str]]:
        if not self._thesaurus:
            self.fit()
        return [(w, "?", "?") for w in self._thesaurus.get(word, ())]


_DEFAULT: DistributionalSpinner | None = None


def spin(text: str, rate: float = 0.2, seed: int = 0) -> str:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = DistributionalSpinner().fit()
    return _DEFAULT.spin(text, rate, seed).text
