"""Words per sentence in one compiled pass over a text's code points (numba).

``textstats.sentence_lengths`` split the text with a regex and then stripped, split and
counted every piece in Python (~55 us on a 5 KB page). :func:`sentence_word_counts` gives
the same list from the code points, following the regex and the piece rules exactly:

* a sentence end (``_SENT_END_INLINE_RE``) is a full stop, ``!`` or ``?``, any closing
  quotes or brackets, one or more white-space characters other than a line break, then
  (looked ahead, not consumed) an optional opening quote or bracket and a capital letter or
  digit. The sets are disjoint, so the greedy match is the only one possible at a position;
  scanning resumes after a match, as ``re.split`` does;
* each piece between ends is cut at line breaks; every line it ends is a sentence when it
  has visible text; the rest of a piece ended by a full stop is a sentence (left-stripped);
  the text's last piece is one when it has visible text;
* a sentence's words are its ASCII spaces (after stripping white space, ``str.isspace``)
  plus one.

Compiled when this module is imported (one explicit signature; ``cache=True``), never
during a request. The helpers allocate nothing and are compiled without reference counting
(``_nrt=False``, as numba's own string helpers are): inlined by numba, ``_cls`` took and
released a reference to both arrays for every character (atomic operations, a third of the
pass's time).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

#: Class bits of a code point below 65536 (:func:`sentence_classes`).
S_END, S_CLOSE, S_SPACE, S_OPEN, S_CAP, S_NL = 1, 2, 4, 8, 16, 32
TABLE_SIZE = 65536


def sentence_classes() -> np.ndarray:
    """Class bits: ``S_END`` ``.!?``, ``S_CLOSE`` closing quotes and brackets, ``S_SPACE``
    white space (``str.isspace``, what ``\\s`` matches; there is none beyond the Basic
    Multilingual Plane), ``S_OPEN`` opening quotes and brackets, ``S_CAP`` ``A-Z0-9``,
    ``S_NL`` the line break."""
    t = np.zeros(TABLE_SIZE, dtype=np.uint8)
    for c in range(TABLE_SIZE):
        if chr(c).isspace():
            t[c] |= S_SPACE
    for ch in ".!?":
        t[ord(ch)] |= S_END
    for ch in "\"'”’)]":
        t[ord(ch)] |= S_CLOSE
    for ch in "\"'“‘([":
        t[ord(ch)] |= S_OPEN
    for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789":
        t[ord(ch)] |= S_CAP
    t[ord("\n")] |= S_NL
    return t


@njit(types.uint8(types.Array(types.uint32, 1, "C", readonly=True), types.uint8[::1],
                  types.int64), cache=True, nogil=True, _nrt=False)
def _cls(cp, table, k):
    """Class bits of character ``k`` (0 beyond the Basic Multilingual Plane)."""
    c = cp[k]
    return table[c] if c < 65536 else np.uint8(0)


@njit(types.int64(types.Array(types.uint32, 1, "C", readonly=True), types.uint8[::1],
                  types.int64), cache=True, nogil=True, _nrt=False)
def end_match(cp, table, k):
    """End of the sentence-end match starting at ``k`` (a full stop), or -1."""
    n = len(cp)
    j = k + 1
    while j < n and _cls(cp, table, j) & S_CLOSE:
        j += 1
    ws = j
    while j < n and (_cls(cp, table, j) & (S_SPACE | S_NL)) == S_SPACE:
        j += 1
    if j == ws or j >= n:
        return -1
    b = _cls(cp, table, j)
    if b & S_CAP:
        return j
    if b & S_OPEN and j + 1 < n and _cls(cp, table, j + 1) & S_CAP:
        return j
    return -1


@njit(types.int64(types.Array(types.uint32, 1, "C", readonly=True), types.uint8[::1],
                  types.int64, types.int64, types.boolean),
      cache=True, nogil=True, _nrt=False)
def _words(cp, table, a, b, strip_right):
    """ASCII spaces + 1 of ``[a, b)`` stripped of white space (on the left; on the right
    too when ``strip_right``), or 0 when nothing is left."""
    while a < b and _cls(cp, table, a) & S_SPACE:
        a += 1
    if strip_right:
        while b > a and _cls(cp, table, b - 1) & S_SPACE:
            b -= 1
        if a == b:
            return 0
    count = 1
    for j in range(a, b):
        if cp[j] == 32:
            count += 1
    return count


@njit(types.int64[::1](types.Array(types.uint32, 1, "C", readonly=True), types.uint8[::1]),
      cache=True, nogil=True)
def sentence_word_counts(cp, table):
    """Words of each sentence, in order (see the module docstring)."""
    n = len(cp)
    out = np.empty(n + 1, dtype=np.int64)
    m = 0
    start = 0  # of the current piece
    k = 0
    while k <= n:
        end = -1
        if k < n:
            if not _cls(cp, table, k) & S_END:
                k += 1
                continue
            end = end_match(cp, table, k)
            if end < 0:
                k += 1
                continue
        # the piece [start, k), ended by a full stop (k < n) or by the text's end
        line = start
        for j in range(start, k):
            if cp[j] == 10:
                c = _words(cp, table, line, j, True)
                if c:
                    out[m] = c
                    m += 1
                line = j + 1
        if k < n:
            out[m] = _words(cp, table, line, k, False)
            m += 1
            start = end
            k = end
        else:
            c = _words(cp, table, line, n, True)
            if c:
                out[m] = c
                m += 1
            break
    return out[:m].copy()


CLASSES = sentence_classes()
