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
from typing import ClassVar

from features.base import Extraction
from features.document import Document
from features.lexicon import STOP_WORDS

#: A sentence end inside a line: the full stop, closing quotes or brackets, white space, then
#: what starts a sentence. Starting with the punctuation lets the regex engine jump between
#: candidate positions (a leading look-behind would be tried at every character).
_SENT_END_RE = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_BULLET_RE = re.compile(r"^[•\-*–·▪►✓✔]\s")

#: Distinct words kept in :data:`_SYLLABLES` before it is emptied (bounds a server's memory).
MAX_CACHED_WORDS = 200_000


def syllables(word: str) -> int:
    """Syllables of one lower-case word, by textstat (at least 1)."""
    import textstat

    return max(1, textstat.syllable_count(word))


class _SyllableCache(dict):
    """Lower-case word -> its syllables, or 0 when it is not alphabetic (no readability
    weight), computed on first sight: textstat costs ~40 us a word."""

    def __missing__(self, word: str) -> int:
        n = self[word] = syllables(word) if word.isalpha() else 0
        return n


_SYLLABLES = _SyllableCache()


def readability_counts(words: list[str]) -> tuple[int, int, int, int]:
    """(stop words, alphabetic words, their syllables, those of 3+ syllables) of lower-case
    ``words``: a cached look-up per word, counted by C-level ``map``/``sum``/``count``."""
    if len(_SYLLABLES) > MAX_CACHED_WORDS:
        _SYLLABLES.clear()
    syl = list(map(_SYLLABLES.__getitem__, words))
    alpha = len(syl) - syl.count(0)
    return (sum(map(STOP_WORDS.__contains__, words)), alpha, sum(syl),
            alpha - syl.count(1) - syl.count(2))


def sentence_lengths(text: str) -> list[int]:
    """Approximate words per sentence (space-delimited; cheap and good enough for shape).

    Sentences end at a line break or at :data:`_SENT_END_RE`. The punctuation belongs to the
    sentence it ends, so such a sentence is never empty and white space before its full stop
    is inside it: its words are the spaces of its left-stripped text, plus one."""
    out = []
    for line in text.split("\n"):
        *ended, last = _SENT_END_RE.split(line)
        out.extend(p.lstrip().count(" ") + 1 for p in ended)
        last = last.strip()
        if last:
            out.append(last.count(" ") + 1)
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
            short = self.short_line_words  # a line has <= short words iff splitting stops early
            f["ts_short_line_frac"] = sum(len(l.split(None, short)) <= short for l in lines) / len(lines)
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
        f["ts_upper_word_frac"] = sum(len(w) > 1 for w in filter(str.isupper, words)) / n
        sample = lower if n <= self.max_readability_words else lower[: self.max_readability_words]
        stop, alpha, syl, complex_words = readability_counts(sample)
        f["ts_stopword_frac"] = stop / len(sample)
        if alpha:
            wps = mean_sl  # words per sentence
            spw = syl / alpha
            f["ts_flesch_reading_ease"] = 206.835 - 1.015 * wps - 84.6 * spw
            f["ts_fk_grade"] = 0.39 * wps + 11.8 * spw - 15.59
            f["ts_gunning_fog"] = 0.4 * (wps + 100 * complex_words / alpha)
        return Extraction(f)
