"""Issue 19 item 1: the syllable counter's cost and memory are bounded.

textstat's hyphenator (pyphen) caches every word it sees, forever, and costs ~18 us per
character of a new word: pages of long distinct words grew a server by hundreds of MB and
cost seconds each. These tests drive the real textstat and pyphen."""

from __future__ import annotations

import random
import string

import numpy as np
import pyphen

from features import textstats
from features.document import Document
from features.textstats import (MAX_SYLLABLE_WORD_CHARS, SYLLABLE_CHAR_BUDGET, TextStatsExtractor,
                                estimated_syllables, readability_counts)


def _pyphen_words() -> list[str]:
    return [w for hd in pyphen.hdcache.values() for w in hd.cache]


def _words(n: int, length: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(string.ascii_lowercase, k=length)) for _ in range(n)]


def test_pyphen_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(textstats, "MAX_PYPHEN_CACHE", 500, raising=False)  # default 1,000
    for hd in pyphen.hdcache.values():
        hd.cache.clear()
    for seed in range(6):  # 6 pages of 300 new distinct words
        vocab = _words(300, 9, seed)
        readability_counts(vocab, np.ones(len(vocab), dtype=np.int64))
        assert len(_pyphen_words()) <= 500 + 300
    assert len(_pyphen_words()) <= 800  # old code: 1,800 and growing with every page


def test_one_long_word_costs_no_hyphenation():
    word = "ab" * 100_000  # 200,000 letters: ~3.6 s in pyphen, cached forever
    counts = np.array([3], dtype=np.int64)
    stop, alpha, syl, complex_words = readability_counts([word], counts)
    assert (alpha, syl) == (3, 3 * estimated_syllables(word))
    assert all(len(w) <= MAX_SYLLABLE_WORD_CHARS for w in _pyphen_words())
    assert estimated_syllables(word) == 100_000


def test_the_budget_depends_on_the_page_alone():
    """Past the page's character budget, new words are estimated, whether or not an earlier
    page had them counted exactly: the same page always gets the same features."""
    vocab = _words(SYLLABLE_CHAR_BUDGET // 20 + 500, 20, seed=99)
    counts = np.ones(len(vocab), dtype=np.int64)
    tail = vocab[-400:]
    readability_counts(tail, np.ones(len(tail), dtype=np.int64))  # cached exactly first
    first = readability_counts(vocab, counts)
    textstats._WORD_INFO.clear()
    assert readability_counts(vocab, counts) == first


def test_ordinary_pages_are_counted_exactly(seeds):
    """Below both limits nothing changes: every seed's syllables are textstat's own."""
    import textstat

    ex = TextStatsExtractor()
    for text in seeds.values():
        doc = Document.from_text(text)
        ids, vocab = doc.word_ids
        counts = np.bincount(ids[:ex.max_readability_words])
        vocab = vocab[:len(counts)]
        assert sum(map(len, vocab)) < SYLLABLE_CHAR_BUDGET
        _stop, _alpha, syl, _c = readability_counts(vocab, counts)
        want = sum(int(c) * max(1, textstat.syllable_count(w)) for w, c in zip(vocab, counts) if w.isalpha())
        assert syl == want
