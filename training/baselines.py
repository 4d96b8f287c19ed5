"""Baselines the model must beat, on the same pages.

* **Gopher rules** as datatrove applies them (``GopherRepetitionFilter`` and
  ``GopherQualityFilter`` with their default thresholds, Rae et al. 2021): the score is the
  number of rules a page fails, so it ranks pages and a threshold of 1 is the filter itself.
* **TF-IDF + logistic regression** over the page text (word 1-2-grams), trained on the
  training pages to tell farm from clean.
"""

from __future__ import annotations

import re

import numpy as np

from features.document import Document
from features.duplication import DuplicationExtractor

# datatrove GopherRepetitionFilter defaults
REPETITION_RULES = {
    "dup_line_frac": 0.3, "dup_para_frac": 0.3, "dup_line_char_frac": 0.2, "dup_para_char_frac": 0.2,
    "top_2gram_char_frac": 0.2, "top_3gram_char_frac": 0.18, "top_4gram_char_frac": 0.16,
    "dup_5gram_char_frac": 0.15, "dup_6gram_char_frac": 0.14, "dup_7gram_char_frac": 0.13,
    "dup_8gram_char_frac": 0.12, "dup_9gram_char_frac": 0.11, "dup_10gram_char_frac": 0.10,
}
# datatrove GopherQualityFilter defaults
STOP_WORDS_GOPHER = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
_BULLET_RE = re.compile(r"^\s*[•\-*–·]")


def gopher_failures(text: str) -> int:
    """How many Gopher repetition and quality rules ``text`` fails (0 = it passes)."""
    doc = Document.from_text(text)
    f = DuplicationExtractor().extract(doc).features
    fails = sum(f[k] > t for k, t in REPETITION_RULES.items())
    words = doc.words
    n = len(words)
    fails += not (50 <= n <= 100_000)
    if n:
        avg = sum(map(len, words)) / n
        fails += not (3 <= avg <= 10)
        symbols = text.count("#") + text.count("...") + text.count("…")
        fails += symbols / n > 0.1
        fails += sum(any(c.isalpha() for c in w) for w in words) / n < 0.8
        fails += sum(w.lower() in STOP_WORDS_GOPHER for w in words) < 2
    lines = doc.line_texts
    if lines:
        fails += sum(bool(_BULLET_RE.match(ln)) for ln in lines) / len(lines) > 0.9
        fails += sum(ln.rstrip().endswith(("...", "…")) for ln in lines) / len(lines) > 0.3
    return int(fails)


def gopher_scores(texts: list[str]) -> np.ndarray:
    return np.array([gopher_failures(t) for t in texts], dtype=float)


class TfidfBaseline:
    """TF-IDF (word 1-2-grams) + logistic regression, scikit-learn style."""

    def __init__(self, max_features: int = 100_000, c: float = 4.0):
        self.max_features = max_features
        self.c = c

    def fit(self, texts: list[str], y: np.ndarray) -> "TfidfBaseline":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self.pipe_ = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), max_features=self.max_features, sublinear_tf=True,
                            min_df=2),
            LogisticRegression(C=self.c, max_iter=2000))
        self.pipe_.fit(texts, y)
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.pipe_.predict_proba(texts)[:, 1]
