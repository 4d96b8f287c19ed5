"""Text statistics: readability, sentence and word shape, vocabulary, compressibility.

Farm filler reads differently from reporting: spun text has odd word lengths and rare
words, generated rewrites have uniform sentences, keyword-stuffed pages compress too well
(Ntoulas et al., "Detecting spam web pages through content analysis", WWW 2006).

Readability uses textstat's syllable counter (``textstat==0.7.8``; later versions fetch
NLTK data at import). Counting costs ~40 us a word, so it runs once per distinct word
(cached) and the Flesch / Flesch-Kincaid / Gunning-fog formulas are computed here from the
counts, which is what textstat itself does, without re-tokenising the text three times.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from functools import lru_cache
from typing import ClassVar

from features.base import Extraction
from features.document import Document
from features.lexicon import STOP_WORDS

_SENT_SPLIT_RE = re.compile(r"(?<=[.!?])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n+")
_BULLET_RE = re.compile(r"^[•\-*–·▪►✓✔]\s")


@lru_cache(maxsize=200_000)
def syllables(word: str) -> int:
    """Syllables of one lower-case word, by textstat (cached: the text-level call is slow)."""
    import textstat

    return max(1, textstat.syllable_count(word))


@lru_cache(maxsize=200_000)
def word_info(word: str) -> tuple[bool, int]:
    """(is a stop word, syllables or 0 when not alphabetic) of a lower-case word, cached so
    that a page costs one dictionary look-up per distinct word."""
    return word in STOP_WORDS, syllables(word) if word.isalpha() else 0


def sentence_lengths(text: str) -> list[int]:
    """Approximate words per sentence (space-delimited; cheap and good enough for shape)."""
    out = []
    for piece in _SENT_SPLIT_RE.split(text):
        s = piece.strip()
        if s:
            out.append(s.count(" ") + 1)
    return out


def compress_ratio(text: str) -> float:
    """Compressed / raw size; repetitive or keyword-stuffed text compresses far better."""
    raw = text.encode("utf-8", "surrogatepass")
    return len(zlib.compress(raw, 6)) / max(1, len(raw))


class TextStatsExtractor:
    """Readability and shape statistics of the whole page.

    Parameters
    ----------
    ttr_window: words over which the type-token ratio is taken (TTR falls with length, so a
        fixed window keeps pages of different lengths comparable).
    max_readability_words: readability is computed on at most this many words.
    """

    family: ClassVar[str] = "textstats"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "ts_log_words",
        "ts_mean_sentence_words",
        "ts_std_sentence_words",
        "ts_mean_word_len",
        "ts_flesch_reading_ease",
        "ts_fk_grade",
        "ts_gunning_fog",
        "ts_ttr",
        "ts_stopword_frac",
        "ts_compress_ratio",
        "ts_upper_word_frac",
        "ts_short_line_frac",
        "ts_bullet_line_frac",
        "ts_invisible_char_frac",
    )

    def __init__(self, ttr_window: int = 300, max_readability_words: int = 5000,
                 short_line_words: int = 8):
        self.ttr_window = ttr_window
        self.max_readability_words = max_readability_words
        self.short_line_words = short_line_words

    def extract(self, doc: Document) -> Extraction:
        words = doc.words
        lower = doc.lower_words
        n = len(words)
        f = dict.fromkeys(self.FEATURES, 0.0)
        f["ts_log_words"] = math.log10(1 + n)
        f["ts_invisible_char_frac"] = doc.removed_chars / max(1, len(doc.text))
        f["ts_compress_ratio"] = compress_ratio(doc.norm[:200_000])
        lines = doc.line_texts
        if lines:
            f["ts_short_line_frac"] = sum(len(l.split()) <= self.short_line_words for l in lines) / len(lines)
            f["ts_bullet_line_frac"] = sum(bool(_BULLET_RE.match(l)) for l in lines) / len(lines)
        if not n:
            return Extraction(f)
        sl = sentence_lengths(doc.norm)
        n_sent = max(1, len(sl))
        mean_sl = sum(sl) / n_sent if sl else float(n)
        f["ts_mean_sentence_words"] = mean_sl
        f["ts_std_sentence_words"] = math.sqrt(sum((x - mean_sl) ** 2 for x in sl) / n_sent) if sl else 0.0
        f["ts_mean_word_len"] = sum(map(len, words)) / n
        head = lower[: self.ttr_window]
        f["ts_ttr"] = len(set(head)) / len(head)
        f["ts_upper_word_frac"] = sum(c for w, c in Counter(words).items()
                                      if len(w) > 1 and w.isupper()) / n
        stop = alpha = syl = complex_words = 0
        sample = lower if n <= self.max_readability_words else lower[: self.max_readability_words]
        for w, c in Counter(sample).items():
            is_stop, s = word_info(w)
            stop += is_stop * c
            if s:
                alpha += c
                syl += s * c
                complex_words += (s >= 3) * c
        f["ts_stopword_frac"] = stop / len(sample)
        if alpha:
            wps = mean_sl  # words per sentence
            spw = syl / alpha
            f["ts_flesch_reading_ease"] = 206.835 - 1.015 * wps - 84.6 * spw
            f["ts_fk_grade"] = 0.39 * wps + 11.8 * spw - 15.59
            f["ts_gunning_fog"] = 0.4 * (wps + 100 * complex_words / alpha)
        return Extraction(f)
