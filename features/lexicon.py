"""Shared word statistics: stop words and word rarity from ``wordfreq`` (data ships in the
package, so nothing is fetched at run time). Cached per distinct word."""

from __future__ import annotations

from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

STOP_WORDS: frozenset[str] = frozenset(ENGLISH_STOP_WORDS) | {"s", "t", "said", "says", "mr", "mrs"}


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """Zipf frequency of a lower-case word in English (0 = unseen, 7+ = "the")."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def idf_weight(word: str) -> float:
    """How much a shared word says about topic: rare words weigh more (0.5..8)."""
    return max(0.5, 8.0 - zipf(word))


def content_words(words: list[str]) -> list[str]:
    """Lower-case words that carry topic: no stop words, no 1-letter words or numbers."""
    return [w for w in words if len(w) > 1 and w not in STOP_WORDS and not w.isdigit()]
