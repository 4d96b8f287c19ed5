"""The words of a page and their exact lower-case ids in one compiled pass (numba).

``Document.word_ids`` used to split the text into Python strings, lower-case each word and
number the distinct ones through a dict: ~0.19 ms of a 5 KB page, all of it per-word Python
objects. :func:`word_table` does the same over the text's code points and returns arrays:
each word's start, end and id (the rank of its lower-case form by first occurrence), whether
it is upper case (``str.isupper``), and the lower-case vocabulary as one space-separated
code-point buffer (a single ``str.split`` gives the ``vocab`` strings).

Exactness rests on two facts checked per code point when the tables are built:

* a word is what ``WORD_RE`` (``\\w+(?:['’]\\w+)*``) matches: runs of word characters
  (``str.isalnum`` or ``_``, per character) in which an apostrophe is kept only between two
  word characters;
* ``str.lower`` maps a word character by character, except U+03A3 (final sigma depends on
  the neighbours) and characters whose lower case is not one character (U+0130). A word
  containing one of those makes :func:`word_table` give up (``ok`` False) and the caller
  takes the Python path. Texts beyond the Basic Multilingual Plane do too.

``str.isupper`` of a word: no lower- or title-case character and at least one upper-case one.

Compiled when this module is imported (one explicit signature; ``cache=True`` keeps the
machine code between processes), never during a request.
"""

from __future__ import annotations

import unicodedata

import numpy as np
from numba import njit, types

#: Class bits of a code point (:func:`char_tables`).
C_WORD, C_APOS, C_LOWER, C_UPPER = 1, 2, 4, 8
#: :data:`lower_table` value of a character whose lower case breaks the per-character rule.
NO_LOWER = 0xFFFFFFFF
#: Fibonacci hashing multiplier (a signed int64: numba keeps the arithmetic in int64)
_MULT = -7046029254386353131  # 0x9E3779B97F4A7C15 - 2**64
#: Code points covered by the tables (the Basic Multilingual Plane).
TABLE_SIZE = 65536


def char_tables() -> tuple[np.ndarray, np.ndarray]:
    """(class bits, lower case) of every code point below 65536.

    Class bits: ``C_WORD`` what ``\\w`` matches in a str pattern (``isalnum`` or ``_``),
    ``C_APOS`` the two apostrophes of ``WORD_RE``, ``C_LOWER`` lower or title case
    (``Py_UNICODE_ISLOWER``/``ISTITLE``: what makes ``str.isupper`` false), ``C_UPPER``
    ``isupper``. Lower case: the one code point ``chr(c).lower()`` is, or :data:`NO_LOWER`
    (longer or empty lower case, white space, U+03A3). ASCII is done by numpy; the rest of
    the plane one character at a time (~40 ms, once per process).
    """
    cls = np.zeros(TABLE_SIZE, dtype=np.uint8)
    low = np.full(TABLE_SIZE, NO_LOWER, dtype=np.uint32)
    for c in range(TABLE_SIZE):
        ch = chr(c)
        bits = 0
        if ch.isalnum() or ch == "_":
            bits |= C_WORD
        if ch.islower() or unicodedata.category(ch) == "Lt":
            bits |= C_LOWER
        if ch.isupper():
            bits |= C_UPPER
        cls[c] = bits
        lo = ch.lower()
        if len(lo) == 1 and c != 0x03A3 and not lo.isspace():
            low[c] = ord(lo)
    cls[ord("'")] |= C_APOS
    cls[0x2019] |= C_APOS
    return cls, low


_CP = types.Array(types.uint32, 1, "C", readonly=True)
_SIG = types.Tuple((types.int64[::1], types.int64[::1], types.int64[::1], types.uint8[::1],
                    types.uint32[::1], types.boolean))(_CP, types.uint8[::1], types.uint32[::1])


@njit(_SIG, cache=True, nogil=True)
def word_table(cp, cls, low):
    """(starts, ends, ids, is_upper, vocab buffer, ok) of the words of a text given as code
    points (all below 65536); see the module docstring. ``ok`` is False, and the other
    outputs meaningless, when a word holds a character without a per-character lower case.

    Ids come from an open-addressing hash table over the lower-case code points (each
    word hashed while it is read, not in a second pass), compared exactly with the first
    occurrence's: equal ids iff equal lower-case words."""
    n = len(cp)
    cap = n // 2 + 1
    starts = np.empty(cap, dtype=np.int64)
    ends = np.empty(cap, dtype=np.int64)
    upper = np.empty(cap, dtype=np.uint8)
    hashes = np.empty(cap, dtype=np.int64)
    nw = 0
    k = 0
    while k < n:
        if not cls[cp[k]] & C_WORD:
            k += 1
            continue
        starts[nw] = k
        has_low = False
        has_up = False
        h = 0
        while k < n:
            c = cp[k]
            b = cls[c]
            if b & C_WORD:
                pass
            elif b & C_APOS and k + 1 < n and cls[cp[k + 1]] & C_WORD:
                pass  # the previous character is a word character: it is in the word
            else:
                break
            if b & C_LOWER:
                has_low = True
            elif b & C_UPPER:
                has_up = True
            lc = low[c]
            if lc == NO_LOWER:
                return (starts[:0], ends[:0], starts[:0], upper[:0], np.empty(0, np.uint32),
                        False)
            h = h * 1000003 + np.int64(lc)
            k += 1
        ends[nw] = k
        upper[nw] = 1 if (has_up and not has_low) else 0
        hashes[nw] = h
        nw += 1
    size = 16
    while size < 2 * nw:
        size *= 2
    mask = size - 1
    slot_word = np.full(size, -1, dtype=np.int64)  # the first word with that lower case
    slot_id = np.empty(size, dtype=np.int64)
    ids = np.empty(nw, dtype=np.int64)
    first = np.empty(nw, dtype=np.int64)
    n_vocab = 0
    vocab_len = 0
    for w in range(nw):
        s = starts[w]
        e = ends[w]
        slot = ((hashes[w] * _MULT) >> 32) & mask
        while True:
            other = slot_word[slot]
            if other == -1:
                slot_word[slot] = w
                slot_id[slot] = n_vocab
                ids[w] = n_vocab
                first[n_vocab] = w
                n_vocab += 1
                vocab_len += e - s + 1
                break
            os = starts[other]
            if ends[other] - os == e - s:
                same = True
                for j in range(e - s):
                    if low[cp[s + j]] != low[cp[os + j]]:
                        same = False
                        break
                if same:
                    ids[w] = slot_id[slot]
                    break
            slot = (slot + 1) & mask
    vocab = np.empty(vocab_len, dtype=np.uint32)
    q = 0
    for v in range(n_vocab):
        w = first[v]
        for j in range(starts[w], ends[w]):
            vocab[q] = low[cp[j]]
            q += 1
        vocab[q] = 32
        q += 1
    return starts[:nw].copy(), ends[:nw].copy(), ids, upper[:nw].copy(), vocab, True


CLASSES, LOWER = char_tables()
