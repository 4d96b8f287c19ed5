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

#: Bit offsets of the per-word counts packed into one int (see :func:`word_code`): a page's
#: sums are then one C-level ``sum`` over its words. Each field below the last holds < 2**32.
_ALPHA_SHIFT, _COMPLEX_SHIFT, _SYL_SHIFT = 32, 64, 96
_FIELD = (1 << 32) - 1
#: Distinct words kept in :data:`_WORD_CODES` before it is emptied (bounds a server's memory).
MAX_CACHED_WORDS = 200_000


def syllables(word: str) -> int:
    """Syllables of one lower-case word, by textstat (at least 1)."""
    import textstat

    return max(1, textstat.syllable_count(word))


def word_code(word: str) -> int:
    """A lower-case word's readability counts packed into one int: is a stop word (bit 0),
    is alphabetic (``_ALPHA_SHIFT``), alphabetic with 3+ syllables (``_COMPLEX_SHIFT``), and
    its syllables when alphabetic, else 0 (``_SYL_SHIFT``, the unbounded top field)."""
    syl = syllables(word) if word.isalpha() else 0
    return ((word in STOP_WORDS) | (bool(syl) << _ALPHA_SHIFT) | ((syl >= 3) << _COMPLEX_SHIFT)
            | (syl << _SYL_SHIFT))


class _WordCodes(dict):
    """word -> :func:`word_code`, computed on first sight (textstat costs ~40 us a word)."""

    def __missing__(self, word: str) -> int:
        code = self[word] = word_code(word)
        return code


_WORD_CODES = _WordCodes()


def readability_counts(words: list[str]) -> tuple[int, int, int, int]:
    """(stop words, alphabetic words, their syllables, those of 3+ syllables) of lower-case
    ``words``: one cached look-up per word, summed in C."""
    if len(_WORD_CODES) > MAX_CACHED_WORDS:
        _WORD_CODES.clear()
    total = sum(map(_WORD_CODES.__getitem__, words))
    return (total & _FIELD, (total >> _ALPHA_SHIFT) & _FIELD, total >> _SYL_SHIFT,
            (total >> _COMPLEX_SHIFT) & _FIELD)


def sentence_lengths(text: str) -> list[int]:
    """Approximate words per sentence (space-delimited; cheap and good enough for shape).

    Sentences end at a line break or at :data:`_SENT_END_RE` (the punctuation stays with the
    sentence it ends)."""
    out = []
    for line in text.split("\n"):
        pos = 0
        for m in _SENT_END_RE.finditer(line):
            s = line[pos:m.start() + 1].strip()
            if s:
                out.append(s.count(" ") + 1)
            pos = m.end()
        s = line[pos:].strip()
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
