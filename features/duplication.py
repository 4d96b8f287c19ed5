"""Duplication: Gopher-style repetition measures, and a body pasted twice.

The repetition measures follow Rae et al. 2021 (Gopher, table A1) as datatrove's
``GopherRepetitionFilter`` computes them: duplicate lines and paragraphs (by count and by
character share), the character share of the most frequent 2/3/4-gram, and the character
share of duplicate 5..10-grams. They catch a page pasted twice verbatim, but say nothing of
*where* the repeat starts and break on small edits between the copies.

What no public filter has: :class:`DuplicationExtractor` also finds a body pasted twice,
whole or in part, tolerant to edits between the copies, and reports the repeat's offsets.
Every 5-word shingle that already occurred earlier marks its words as "repeated"; the
longest run of repeated words (small gaps for edits allowed) is the second copy, kept only
when its earlier twin lies before it (a copy, not a stutter such as "ha ha ha").

Words are ``\\w+`` tokens (datatrove counts punctuation tokens as words too, so its
fractions differ slightly; the thresholds of the Gopher baseline live with the baseline).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from statistics import median
from typing import ClassVar

import numpy as np

from features.base import Extraction, Span
from features.document import Document
from features.ngram_repeats import ngram_repeats

GOPHER_TOP_NGRAMS = (2, 3, 4)
GOPHER_DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
EVIDENCE_TEXT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Repeats:
    """The n-grams of one length n that occur twice or more on a page.

    ``pos``: their positions, ascending; ``gram``: for each, an integer naming its n-gram
    (equal iff the n-grams are equal); ``best``: the count of the most frequent n-gram (1
    when none repeats); ``best_pos``: where an n-gram of that count first occurs (0 when
    none repeats).
    """

    pos: list[int]
    gram: list[int]
    best: int = 1
    best_pos: int = 0


_NO_REPEATS = Repeats([], [])


def repeated_bigrams(ids: np.ndarray, n_vocab: int) -> tuple[Repeats, np.ndarray, np.ndarray]:
    """Bigram repeats in one vectorised pass: with exact word ids (``Document.word_ids``)
    a bigram is the integer ``id * n_vocab + next_id``, and sorting those groups equal
    bigrams. Also returns, per position, whether its bigram repeats and the bigram's group."""
    if len(ids) < 2:
        return _NO_REPEATS, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    key = ids[:-1] * n_vocab + ids[1:]
    order = key.argsort()
    s = key[order]
    new = np.empty(len(s), dtype=np.int64)
    new[0] = 0
    np.not_equal(s[1:], s[:-1], out=new[1:])
    group_sorted = new.cumsum()
    gram = np.empty_like(group_sorted)
    gram[order] = group_sorted
    count_at = np.bincount(group_sorted)[gram]
    repeated = count_at > 1
    pos = np.flatnonzero(repeated)
    if not len(pos):
        return _NO_REPEATS, repeated, gram
    best = int(count_at.max())
    rep = Repeats(pos.tolist(), gram[pos].tolist(), best, int(np.argmax(count_at == best)))
    return rep, repeated, gram


def repeated_ngrams(ids: np.ndarray, n_vocab: int, max_n: int) -> dict[int, Repeats]:
    """:class:`Repeats` for n = 2..``max_n``, counted by the compiled
    :func:`features.ngram_repeats.ngram_repeats` (the labels may differ from
    :func:`repeated_ngrams_py`'s; every measure reads them only as equal or not).
    """
    pos, gram, bounds, best, best_pos = ngram_repeats(ids, n_vocab, max_n)
    pos, gram, bounds = pos.tolist(), gram.tolist(), bounds.tolist()
    best, best_pos = best.tolist(), best_pos.tolist()
    out = {}
    for n in range(2, max_n + 1):
        a, b = bounds[n], bounds[n + 1]
        out[n] = Repeats(pos[a:b], gram[a:b], best[n], best_pos[n]) if a < b else _NO_REPEATS
    return out


def repeated_ngrams_py(ids: np.ndarray, n_vocab: int, max_n: int) -> dict[int, Repeats]:
    """:class:`Repeats` for n = 2..``max_n``, in numpy and Python: the reference
    :func:`repeated_ngrams` (compiled, ~10x faster) is tested against.

    An n-gram can only repeat where the (n-1)-grams at ``p`` and ``p + 1`` both repeat, and
    it is the (n-1)-gram at ``p`` followed by word ``p + n - 1``: so each length counts,
    exactly and as integers, only the few candidates the shorter length left (on a clean
    page a few dozen trigram candidates and usually no 5-gram). Every Gopher measure and the
    paste detector need nothing else.
    """
    out = dict.fromkeys(range(2, max_n + 1), _NO_REPEATS)
    rep, repeated, gram = repeated_bigrams(ids, n_vocab)
    out[2] = rep
    if max_n < 3 or not rep.pos:
        return out
    first = np.flatnonzero(repeated[:-1] & repeated[1:])  # trigram candidates, vectorised
    cands = first.tolist()
    keys = (gram[first] * n_vocab + ids[first + 2]).tolist()
    word = ids.item
    for n in range(3, max_n + 1):
        if n > 3:
            prev = dict(zip(rep.pos, rep.gram))
            cands = [p for p in rep.pos if p + 1 in prev]
            last = n - 1
            keys = [prev[p] * n_vocab + word(p + last) for p in cands]
        if not cands:  # nothing repeats at this length, so nothing longer does
            break
        counts = Counter(keys)
        best = max(counts.values())
        if best < 2:
            break
        rank = {k: i for i, k in enumerate(counts)}
        kept = [(p, k) for p, k in zip(cands, keys) if counts[k] > 1]
        rep = out[n] = Repeats([p for p, _ in kept], [rank[k] for _, k in kept], best,
                               next(p for p, k in kept if counts[k] == best))
    return out


def duplicate_elements(items: list[str]) -> tuple[int, int]:
    """(number of repeated items, their characters): every occurrence after the first."""
    seen: set[str] = set()
    n = chars = 0
    for it in items:
        if it in seen:
            n += 1
            chars += len(it)
        else:
            seen.add(it)
    return n, chars


def char_offsets(lengths: np.ndarray) -> list[int]:
    """Prefix sums of word lengths: words ``p`` to ``q`` (exclusive) hold
    ``cum[q] - cum[p]`` characters, without slicing or measuring any word string."""
    cum = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=cum[1:])
    return cum.tolist()


def top_ngram_chars(cum: list[int], n: int, rep: Repeats) -> int:
    """Characters of the most frequent n-gram, joined with spaces, times its count
    (``cum``: :func:`char_offsets` of the words).

    Of several equally frequent n-grams the one that occurs first counts, as in datatrove
    (``Counter.most_common`` keeps insertion order); with no repeat at all that is the
    page's first n-gram.
    """
    if len(cum) - 1 < n:
        return 0
    p = rep.best_pos
    return (cum[p + n] - cum[p] + n - 1) * rep.best


def duplicate_ngram_chars(cum: list[int], n: int, rep: Repeats) -> int:
    """datatrove's ``find_all_duplicate``: scan left to right; an n-gram seen before adds
    its characters (joined without spaces) and the scan jumps ``n`` words ahead (``cum``:
    :func:`char_offsets` of the words).

    An n-gram that occurs once never counts and never changes where the scan jumps, so
    visiting only the repeated ones gives the full scan's result.
    """
    seen: set[int] = set()
    total = 0
    nxt = 0
    for p, g in zip(rep.pos, rep.gram):
        if p < nxt:
            continue
        if g in seen:
            total += cum[p + n] - cum[p]
            nxt = p + n
        else:
            seen.add(g)
    return total


def later_repeats(rep: Repeats) -> list[tuple[int, int]]:
    """(position, position of its first earlier occurrence) of every shingle that already
    occurred on the page, ascending."""
    first: dict[int, int] = {}
    out = []
    for p, g in zip(rep.pos, rep.gram):
        src = first.setdefault(g, p)
        if src != p:
            out.append((p, src))
    return out


def covered_intervals(starts: list[int], k: int, n_words: int) -> list[tuple[int, int]]:
    """Words covered by the shingles starting at ``starts`` (ascending), as disjoint, sorted
    (start, end) word intervals; touching intervals are merged."""
    out: list[tuple[int, int]] = []
    for p in starts:
        e = min(p + k, n_words)
        if out and p <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((p, e))
    return out


def longest_run(intervals: list[tuple[int, int]], max_gap: int) -> tuple[int, int, int]:
    """Longest stretch of covered words allowing gaps of at most ``max_gap`` uncovered words.

    Returns (start, end, covered) in word indices, the first of equally long stretches;
    (0, 0, 0) when nothing is covered.
    """
    best = (0, 0, 0)
    cur_start = cur_end = cur_cov = 0
    for i, (s, e) in enumerate(intervals):
        if i and s - cur_end <= max_gap:
            cur_end, cur_cov = e, cur_cov + e - s
        else:
            cur_start, cur_end, cur_cov = s, e, e - s
        if cur_cov > best[2]:
            best = (cur_start, cur_end, cur_cov)
    return best


def covered_between(intervals: list[tuple[int, int]], start: int, end: int) -> int:
    """Covered words in ``[start, end)``."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in intervals)


class DuplicationExtractor:
    """Repetition on the page, and a second pasted copy of the body.

    Parameters
    ----------
    shingle_size:
        Words per shingle for the paste detector (2 or more). 5 tolerates an edit every
        ~10 words.
    max_gap:
        Unmatched words allowed inside the second copy (edits, an inserted line).
    min_paste_words, min_paste_frac:
        A repeat is a paste when it has at least this many words *and* this share of the
        page; repeated quotes or a repeated caption are shorter.
    """

    family: ClassVar[str] = "duplication"
    FEATURES: ClassVar[tuple[str, ...]] = (
        "dup_line_frac",
        "dup_line_char_frac",
        "dup_para_frac",
        "dup_para_char_frac",
        *(f"top_{n}gram_char_frac" for n in GOPHER_TOP_NGRAMS),
        *(f"dup_{n}gram_char_frac" for n in GOPHER_DUP_NGRAMS),
        "dup_repeated_word_frac",
        "dup_paste_frac",
        "dup_paste_start_rel",
        "dup_paste_detected",
    )

    def __init__(self, shingle_size: int = 5, max_gap: int = 25,
                 min_paste_words: int = 40, min_paste_frac: float = 0.15):
        self.shingle_size = shingle_size
        self.max_gap = max_gap
        self.min_paste_words = min_paste_words
        self.min_paste_frac = min_paste_frac

    def _as_copy(self, intervals: list[tuple[int, int]], later: list[tuple[int, int]], start: int,
                 end: int, covered: int, n_words: int) -> tuple[int, int, int, int, bool]:
        """Keep the run only if it is a second copy of earlier text.

        A copy's shingles all sit about one displacement ``D`` after their twins, and ``D``
        is at least about the copy's length (the copy does not overlap its source). Periodic
        text ("ha ha ha", a templated list) has a small ``D``. Marks at the run's start whose
        displacement differs from ``D`` (an earlier in-article repeat merged through a gap)
        are trimmed. Returns (start, end, covered, first-copy start, is_paste).
        """
        if not covered:
            return 0, 0, 0, 0, False
        inside = [(p, src) for p, src in later if start <= p < end]
        if not inside:
            return start, end, covered, 0, False
        d = float(median([p - src for p, src in inside]))
        ok = [(p, src) for p, src in inside if abs((p - src) - d) <= 0.25 * d + self.max_gap]
        if not ok:  # no consistent displacement: scattered repeats, not a copy
            return start, end, covered, 0, False
        start = ok[0][0]
        covered = covered_between(intervals, start, end)
        is_paste = (d >= 0.8 * covered and covered >= self.min_paste_words
                    and covered / n_words >= self.min_paste_frac)
        return start, end, covered, min(src for _, src in ok), is_paste

    def extract(self, doc: Document) -> Extraction:
        f: dict[str, float] = {}
        n_chars = max(1, len(doc.norm))
        lines = doc.line_texts
        paras = [doc.norm[s:e] for s, e in doc.paragraphs]
        dl, dlc = duplicate_elements(lines)
        dp, dpc = duplicate_elements(paras)
        f["dup_line_frac"] = dl / max(1, len(lines))
        f["dup_line_char_frac"] = dlc / n_chars
        f["dup_para_frac"] = dp / max(1, len(paras))
        f["dup_para_char_frac"] = dpc / n_chars

        ids, vocab = doc.word_ids
        cum = char_offsets(doc.lower_word_lengths)
        n_words = len(cum) - 1
        k = self.shingle_size
        reps = repeated_ngrams(ids, len(vocab), max(GOPHER_DUP_NGRAMS[-1], k))
        for n in GOPHER_TOP_NGRAMS:
            f[f"top_{n}gram_char_frac"] = top_ngram_chars(cum, n, reps[n]) / n_chars
        for n in GOPHER_DUP_NGRAMS:
            f[f"dup_{n}gram_char_frac"] = duplicate_ngram_chars(cum, n, reps[n]) / n_chars

        evidence: list[Span] = []
        later = later_repeats(reps[k])
        intervals = covered_intervals([p for p, _ in later], k, n_words)
        n_words = max(1, n_words)
        f["dup_repeated_word_frac"] = float(sum(e - s for s, e in intervals)) / n_words
        start, end, covered = longest_run(intervals, self.max_gap)
        start, end, covered, first, is_paste = self._as_copy(intervals, later, start, end, covered,
                                                             n_words)
        f["dup_paste_frac"] = covered / n_words if is_paste else 0.0
        f["dup_paste_start_rel"] = start / n_words if is_paste else 0.0
        f["dup_paste_detected"] = float(is_paste)
        if is_paste:
            cs, ce = doc.word_span(start, end)
            fs, _ = doc.word_span(first, first + 1)
            evidence.append(Span(
                "pasted_twice", cs, ce, doc.norm[cs:ce][:EVIDENCE_TEXT_CHARS],
                f"{covered} of {n_words} words repeat earlier text (first copy from offset {fs})",
            ))
        return Extraction(f, evidence)
