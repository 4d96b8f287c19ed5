"""The clickbait-headline classifier, scored without scikit-learn or pickle.

Trained by ``training/train_headline_model.py`` (TF-IDF over word 1-2-grams, logistic
regression) on the stop-clickbait headlines (Chakraborty et al., ASONAM 2016) and shipped
as JSON: for each term its IDF and its coefficient. Scoring reproduces scikit-learn's
``TfidfVectorizer`` (lowercase, ``\\b\\w+\\b`` tokens, L2 norm) and ``predict_proba``
exactly; the training script checks that parity before it writes the file.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from farmscore.config import models_dir

TOKEN_RE = re.compile(r"(?u)\b\w+\b")
MODEL_FILE = "headline_clickbait.json"


def headline_terms(text: str, ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    """The n-gram terms scikit-learn's analyzer would produce (lowercased)."""
    toks = TOKEN_RE.findall(text.lower())
    lo, hi = ngram_range
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1))
    return out


class HeadlineModel:
    """P(clickbait | headline) from the shipped JSON weights."""

    def __init__(self, terms: dict[str, tuple[float, float]], intercept: float,
                 ngram_range: tuple[int, int] = (1, 2), sublinear_tf: bool = False,
                 meta: dict | None = None):
        self.terms = terms
        self.intercept = intercept
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = sublinear_tf
        self.meta = meta or {}

    @classmethod
    def load(cls, path: Path | None = None) -> "HeadlineModel":
        path = path or models_dir() / MODEL_FILE
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(
            terms={t: (float(v[0]), float(v[1])) for t, v in raw["terms"].items()},
            intercept=float(raw["intercept"]),
            ngram_range=tuple(raw["ngram_range"]),
            sublinear_tf=bool(raw.get("sublinear_tf", False)),
            meta={k: v for k, v in raw.items() if k not in ("terms",)},
        )

    def decision(self, headline: str) -> float:
        counts = Counter(t for t in headline_terms(headline, self.ngram_range) if t in self.terms)
        if not counts:
            return self.intercept
        dot = norm2 = 0.0
        for term, c in counts.items():
            idf, coef = self.terms[term]
            tf = 1.0 + math.log(c) if self.sublinear_tf else float(c)
            w = tf * idf
            dot += w * coef
            norm2 += w * w
        return self.intercept + dot / math.sqrt(norm2)

    def score(self, headline: str) -> float:
        """Probability that ``headline`` is clickbait."""
        z = self.decision(headline)
        return 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0


@lru_cache(maxsize=1)
def default_headline_model() -> HeadlineModel:
    return HeadlineModel.load()
