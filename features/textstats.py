"""Text statistics: readability, sentence and word shape, vocabulary, compressibility.

Farm filler reads differently from reporting: spun text has odd word lengths and rare
words, generated rewrites have uniform sentences, keyword-stuffed pages compress too well
(Ntoulas et al., "Detecting spam web pages through content analysis", WWW 2006).

Readability uses textstat's syllable counter (``textstat==0.7.8``; later versions fetch
NLTK data at import). Counting costs ~40 us a word, so it runs once per distinct word
(cached) and the Flesch / Flesch-Kincaid / Gunning-fog formulas are computed here from the
counts, which is what textstat itself does, without re-tokenising the text three times.

Bounded cost and memory (issue 19): textstat's hyphenator (pyphen) costs ~18 us per
character of a word it has not seen and caches every word forever, so pages of long
distinct words cost seconds of CPU each and grew a server by hundreds of MB. Here a word
longer than :data:`MAX_SYLLABLE_WORD_CHARS`, or past :data:`SYLLABLE_CHAR_BUDGET` characters
of a page's distinct words (in order of first occurrence, so the rule depends on the page
alone, never on what was cached before), gets a vowel-group estimate instead; pyphen's
cache is emptied past :data:`MAX_PYPHEN_CACHE` words. Real news pages are inside both limits
(the golden in-page check: every page's features unchanged).
"""

from __future__ import annotations

import math
import re
import zlib
from itertools import repeat
from typing import ClassVar

import numpy as np

from features.base import Extraction
from features.document import Document
from features.lexicon import STOP_WORDS
from features.sentences import CLASSES as SENTENCE_CLASSES
from features.sentences import sentence_word_counts

#: A sentence end inside a line: the full stop, closing quotes or brackets, white space, then
#: what starts a sentence. Starting with the punctuation lets the regex engine jump between
#: candidate positions (a leading look-behind would be tried at every character).
_SENT_END_RE = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
#: The same over a whole text: the white space after a full stop stays inside its line
#: (``[^\S\n]``), so no match crosses a line break.
_SENT_END_INLINE_RE = re.compile(r"[.!?][\"'”’)\]]*[^\S\n]+(?=[\"'“‘(\[]?[A-Z0-9])")
_BULLET_RE = re.compile(r"^[•\-*–·▪►✓✔]\s")

#: Distinct words kept in :data:`_WORD_INFO` before it is emptied (bounds a server's memory).
MAX_CACHED_WORDS = 50_000
#: Longest word whose syllables textstat counts (the longest English words have ~30 letters).
MAX_SYLLABLE_WORD_CHARS = 40
#: Characters of a page's distinct words (first occurrences, in order) whose syllables
#: textstat counts; later new words are estimated. A long news article has ~15,000.
SYLLABLE_CHAR_BUDGET = 40_000
#: Words pyphen's own (unbounded) cache may hold before it is emptied: small, because
#: :data:`_WORD_INFO` already keeps every result pyphen would give again.
MAX_PYPHEN_CACHE = 1_000
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """Syllables of one lower-case word, by textstat (at least 1); a word longer than
    :data:`MAX_SYLLABLE_WORD_CHARS` gets :func:`estimated_syllables` (bounded cost)."""
    if len(word) > MAX_SYLLABLE_WORD_CHARS:
        return estimated_syllables(word)
    import textstat

    return max(1, textstat.syllable_count(word))


def estimated_syllables(word: str) -> int:
    """Vowel groups of a word (at least 1): the classic cheap syllable estimate, linear in
    the word, used where textstat would cost too much."""
    return max(1, len(_VOWEL_GROUPS.findall(word)))


def _estimated_info(word: str) -> int:
    """:func:`word_info` with :func:`estimated_syllables` (not cached: cheap)."""
    syl = estimated_syllables(word) if word.isalpha() else 0
    return 8 * syl + 4 * (syl >= 3) + 2 * (syl > 0) + (word in STOP_WORDS)


def bound_pyphen_cache() -> None:
    """Empty pyphen's per-dictionary word cache once it passes :data:`MAX_PYPHEN_CACHE`
    (pyphen keeps every word it hyphenated, forever; textstat exposes no bound)."""
    import pyphen

    for hd in pyphen.hdcache.values():
        cache = getattr(hd, "cache", None)
        if cache is not None and len(cache) > MAX_PYPHEN_CACHE:
            cache.clear()


#: Lower-case word -> :func:`word_info`. A plain dict: ``dict.get`` through ``map`` is the
#: cheapest look-up; misses are filled in by :func:`readability_counts`.
_WORD_INFO: dict[str, int] = {}


#: ``code & 7`` of :func:`word_info` -> (is stop word, is alphabetic, has 3+ syllables) as
#: 21-bit fields of one integer, so that one dot product with the counts sums all three.
_FIELD_BITS = 21
_SPREAD = np.array([(k & 1) | ((k >> 1) & 1) << _FIELD_BITS | ((k >> 2) & 1) << 2 * _FIELD_BITS
                    for k in range(8)], dtype=np.int64)


def word_info(word: str) -> int:
    """``8 * syllables + 4 * (syllables >= 3) + 2 * is_alphabetic + is_stop_word`` of one
    lower-case word (syllables 0 when it is not alphabetic: no readability weight)."""
    syl = syllables(word) if word.isalpha() else 0
    return 8 * syl + 4 * (syl >= 3) + 2 * (syl > 0) + (word in STOP_WORDS)


def readability_counts(vocab: list[str], counts: np.ndarray) -> tuple[int, int, int, int]:
    """(stop words, alphabetic words, their syllables, those of 3+ syllables) of a text
    whose distinct lower-case words are ``vocab``, ``counts[i]`` times ``vocab[i]``.

    One cached look-up per distinct word (textstat costs ~40 us a word), then integer sums
    weighted by the counts: exactly the numbers counting word by word gives (the three
    flag counts share one dot product while the words number under 2**21)."""
    if len(_WORD_INFO) > MAX_CACHED_WORDS:
        _WORD_INFO.clear()
    # straight into an array (-1: not cached yet), without an intermediate list
    code = np.fromiter(map(_WORD_INFO.get, vocab, repeat(-1)), dtype=np.int64, count=len(vocab))
    # words past the page's budget of characters (counted over all its distinct words,
    # cached or not, so the rule depends on the page alone) are estimated
    if sum(map(len, vocab)) > SYLLABLE_CHAR_BUDGET:
        lengths = np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab))
        past = int(np.searchsorted(np.cumsum(lengths), SYLLABLE_CHAR_BUDGET, side="right"))
        code[past:] = [_estimated_info(w) for w in vocab[past:]]
    if len(code) and code.min() < 0:
        for i in np.flatnonzero(code < 0).tolist():
            w = vocab[i]
            if len(w) > MAX_SYLLABLE_WORD_CHARS:
                code[i] = _estimated_info(w)
            else:
                code[i] = _WORD_INFO[w] = word_info(w)
        bound_pyphen_cache()
    syl = int(counts @ (code >> 3))
    if counts.sum() < 1 << _FIELD_BITS:
        flags = int(counts @ _SPREAD[code & 7])
        mask = (1 << _FIELD_BITS) - 1
        return flags & mask, (flags >> _FIELD_BITS) & mask, syl, flags >> 2 * _FIELD_BITS
    return (int(counts @ (code & 1)), int(counts @ ((code >> 1) & 1)), syl,
            int(counts @ ((code >> 2) & 1)))


def sentence_lengths(text: str) -> list[int]:
    """Approximate words per sentence (space-delimited; cheap and good enough for shape).
    The reference of the compiled :func:`features.sentences.sentence_word_counts`, which
    the extractor calls (same list, ~10x faster).

    Sentences end at a line break or at :data:`_SENT_END_RE`. The punctuation belongs to the
    sentence it ends, so such a sentence is never empty and white space before its full stop
    is inside it: its words are the spaces of its left-stripped text, plus one.

    One split of the whole text by :data:`_SENT_END_INLINE_RE` gives the pieces splitting
    each line would, in order, except that a piece may hold line breaks: each line it ends
    is a sentence of its own."""
    parts = _SENT_END_INLINE_RE.split(text)
    last = len(parts) - 1
    out = []
    for i, piece in enumerate(parts):
        if "\n" in piece:
            *lines, piece = piece.split("\n")
            for line in lines:
                line = line.strip()
                if line:
                    out.append(line.count(" ") + 1)
        if i < last:  # ended by a full stop
            out.append(piece.lstrip().count(" ") + 1)
        else:
            piece = piece.strip()
            if piece:
                out.append(piece.count(" ") + 1)
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
        n = doc.n_words
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
        sl = sentence_word_counts(doc.code_points, SENTENCE_CLASSES).tolist()
        n_sent = max(1, len(sl))
        mean_sl = sum(sl) / n_sent if sl else float(n)
        f["ts_mean_sentence_words"] = mean_sl
        f["ts_std_sentence_words"] = math.sqrt(sum((x - mean_sl) ** 2 for x in sl) / n_sent) if sl else 0.0
        ids, vocab = doc.word_ids
        counts = np.bincount(ids)
        if "\u0130" in doc.norm:  # the one character whose lower case is longer (two)
            f["ts_mean_word_len"] = sum(map(len, doc.words)) / n
        else:  # a word's length is its lower-case form's
            f["ts_mean_word_len"] = int(doc.lower_word_lengths.sum()) / n
        # ids number distinct words in order of first occurrence: the first k words hold
        # max(ids[:k]) + 1 distinct ones, all at the start of vocab
        head = min(n, self.ttr_window)
        f["ts_ttr"] = (int(ids[:head].max()) + 1) / head
        f["ts_upper_word_frac"] = doc.upper_word_count / n
        m = min(n, self.max_readability_words)
        if m < n:
            counts = np.bincount(ids[:m])
        stop, alpha, syl, complex_words = readability_counts(vocab[:len(counts)], counts)
        f["ts_stopword_frac"] = stop / m
        if alpha:
            wps = mean_sl  # words per sentence
            spw = syl / alpha
            f["ts_flesch_reading_ease"] = 206.835 - 1.015 * wps - 84.6 * spw
            f["ts_fk_grade"] = 0.39 * wps + 11.8 * spw - 15.59
            f["ts_gunning_fog"] = 0.4 * (wps + 100 * complex_words / alpha)
        return Extraction(f)
