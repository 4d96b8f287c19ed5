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

from typing import ClassVar

import numpy as np

from features.base import Extraction, Span
from features.document import Document

_PRIME = np.uint64(1_000_003)
GOPHER_TOP_NGRAMS = (2, 3, 4)
GOPHER_DUP_NGRAMS = (5, 6, 7, 8, 9, 10)
EVIDENCE_TEXT_CHARS = 300


def ngram_hash_table(ids: np.ndarray, max_n: int) -> dict[int, np.ndarray]:
    """Polynomial hashes of every window of 1..``max_n`` word ids, built incrementally
    (wrapping uint64 arithmetic; collisions are negligible at page scale)."""
    out = {1: ids}
    h = ids
    with np.errstate(over="ignore"):
        for n in range(2, max_n + 1):
            if len(h) <= 1:
                h = h[:0]
            else:
                h = h[:-1] * _PRIME + ids[n - 1:]
            out[n] = h
    return out


def repeated_positions(hashes: np.ndarray) -> np.ndarray:
    """Boolean mask of positions whose hash occurs more than once."""
    mask = np.zeros(len(hashes), dtype=bool)
    if len(hashes) < 2:
        return mask
    order = np.argsort(hashes, kind="stable")
    s = hashes[order]
    same = np.flatnonzero(s[1:] == s[:-1])
    mask[order[same]] = True
    mask[order[same + 1]] = True
    return mask


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


def top_ngram_chars(hashes: np.ndarray, char_len: np.ndarray) -> int:
    """Characters covered by the most frequent n-gram: its length times its count.

    Of several equally frequent n-grams the one that occurs first counts, as in datatrove
    (``Counter.most_common`` keeps insertion order), so the result never depends on the
    process's string-hash seed.
    """
    if not len(hashes):
        return 0
    order = np.argsort(hashes, kind="stable")  # equal hashes stay in text order
    s = hashes[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(np.append(starts, len(s)))
    best = counts.max()
    pos = int(order[starts[counts == best]].min())
    return int(char_len[pos]) * int(best)


def duplicate_ngram_chars(hashes: np.ndarray, char_len: np.ndarray, n: int,
                          candidates: np.ndarray) -> int:
    """datatrove's ``find_all_duplicate``: scan left to right; an n-gram seen before adds
    its characters and the scan jumps ``n`` words ahead.

    Only n-grams that occur twice or more can ever count; ``candidates`` (a superset of
    their positions, ascending) is all the scan needs to visit, so the result is identical
    to the full scan and near-free on clean pages.
    """
    if not len(candidates):
        return 0
    cand_hashes = hashes[candidates].tolist()
    counts: dict[int, int] = {}
    for h in cand_hashes:
        counts[h] = counts.get(h, 0) + 1
    seen: set[int] = set()
    total = 0
    nxt = 0
    for p, h in zip(candidates.tolist(), cand_hashes):
        if p < nxt or counts[h] < 2:
            continue
        if h in seen:
            total += int(char_len[p])
            nxt = p + n
        else:
            seen.add(h)
    return total


def repeated_word_mask(shingles: np.ndarray, k: int, n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """Mark words covered by a shingle that occurred earlier on the page.

    Returns (mask over words, ``src`` = for each shingle position, the position of its
    first earlier occurrence or -1).
    """
    mask = np.zeros(n_words, dtype=bool)
    src = np.full(len(shingles), -1, dtype=np.int64)
    if not len(shingles):
        return mask, src
    order = np.argsort(shingles, kind="stable")
    s = shingles[order]
    same = np.concatenate(([False], s[1:] == s[:-1]))
    # first position of each run of equal hashes, propagated along the run
    run_start = np.maximum.accumulate(np.where(~same, np.arange(len(s)), 0))
    later = order[same]
    src[later] = order[run_start[same]]
    cover = np.zeros(n_words + 1, dtype=np.int64)  # +1 where a repeat starts, -1 past its end
    np.add.at(cover, later, 1)
    np.add.at(cover, np.minimum(later + k, n_words), -1)
    mask = np.cumsum(cover[:n_words]) > 0
    return mask, src


def longest_run(mask: np.ndarray, max_gap: int) -> tuple[int, int, int]:
    """Longest stretch of True allowing gaps of at most ``max_gap`` False.

    Returns (start, end, covered) in word indices; (0, 0, 0) when there is none.
    """
    idx = np.flatnonzero(mask)
    if not len(idx):
        return 0, 0, 0
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(idx) - 1]))
    covered = ends - starts + 1
    b = int(np.argmax(covered))
    return int(idx[starts[b]]), int(idx[ends[b]]) + 1, int(covered[b])


class DuplicationExtractor:
    """Repetition on the page, and a second pasted copy of the body.

    Parameters
    ----------
    shingle_size:
        Words per shingle for the paste detector. 5 tolerates an edit every ~10 words.
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

    def _as_copy(self, mask: np.ndarray, src: np.ndarray, start: int, end: int, covered: int,
                 n_words: int) -> tuple[int, int, int, int, bool]:
        """Keep the run only if it is a second copy of earlier text.

        A copy's shingles all sit about one displacement ``D`` after their twins, and ``D``
        is at least about the copy's length (the copy does not overlap its source). Periodic
        text ("ha ha ha", a templated list) has a small ``D``. Marks at the run's start whose
        displacement differs from ``D`` (an earlier in-article repeat merged through a gap)
        are trimmed. Returns (start, end, covered, first-copy start, is_paste).
        """
        if not covered:
            return 0, 0, 0, 0, False
        pos = np.arange(start, min(end, len(src)))
        pos = pos[src[pos] >= 0] if len(pos) else pos
        if not len(pos):
            return start, end, covered, 0, False
        disp = pos - src[pos]
        d = float(np.median(disp))
        ok = np.abs(disp - d) <= 0.25 * d + self.max_gap
        pos = pos[ok]
        if not len(pos):  # no consistent displacement: scattered repeats, not a copy
            return start, end, covered, 0, False
        start = int(pos[0])
        covered = int(mask[start:end].sum())
        is_paste = (d >= 0.8 * covered and covered >= self.min_paste_words
                    and covered / n_words >= self.min_paste_frac)
        return start, end, covered, int(src[pos].min()), is_paste

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

        words = doc.lower_words
        ids = np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
        wlen = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        csum = np.concatenate(([0], np.cumsum(wlen)))
        k = self.shingle_size
        lo = GOPHER_DUP_NGRAMS[0]
        table = ngram_hash_table(ids, max(lo, k))
        dup_lo = repeated_positions(table[lo])
        any_repeat = bool(dup_lo.any())
        if any_repeat:  # longer n-grams can only repeat where 5-grams do
            table = ngram_hash_table(ids, max(GOPHER_DUP_NGRAMS[-1], k))
        for n in (*GOPHER_TOP_NGRAMS, *GOPHER_DUP_NGRAMS):
            if n in GOPHER_DUP_NGRAMS and not any_repeat:
                f[f"dup_{n}gram_char_frac"] = 0.0
                continue
            h = table[n]
            joined = csum[n:] - csum[:-n] if len(h) else np.zeros(0, dtype=np.int64)
            if n in GOPHER_TOP_NGRAMS:  # datatrove joins these with spaces
                f[f"top_{n}gram_char_frac"] = top_ngram_chars(h, joined + (n - 1)) / n_chars
            else:
                # a repeated n-gram starts and ends with repeated `lo`-grams
                m = len(h)
                cand = np.flatnonzero(dup_lo[:m] & dup_lo[n - lo:n - lo + m]) if m else dup_lo[:0]
                f[f"dup_{n}gram_char_frac"] = duplicate_ngram_chars(h, joined, n, cand) / n_chars

        evidence: list[Span] = []
        shingles = table[k]
        mask, src = repeated_word_mask(shingles, k, len(words))
        n_words = max(1, len(words))
        f["dup_repeated_word_frac"] = float(mask.sum()) / n_words
        start, end, covered = longest_run(mask, self.max_gap)
        start, end, covered, first, is_paste = self._as_copy(mask, src, start, end, covered, n_words)
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
